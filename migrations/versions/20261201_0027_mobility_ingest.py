"""mobility ingest

Revision ID: 0027_mobility_ingest
Revises: 0026_mobility_network
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0027_mobility_ingest"
down_revision: str | None = "0026_mobility_network"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "nav_speed",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("segment_id", sa.String(length=128), nullable=False),
        sa.Column("ts", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=True),
        sa.Column("received_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nav_speed")),
        sa.UniqueConstraint("provider", "segment_id", "ts", name="uq_nav_speed_key"),
    )
    with op.batch_alter_table("nav_speed", schema=None) as batch_op:
        batch_op.create_index("ix_nav_speed_ts", ["ts"], unique=False)

    op.create_table(
        "probe_point",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("vehicle_key", sa.String(length=64), nullable=False),
        sa.Column("ts", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("occupied", sa.Boolean(), nullable=True),
        sa.Column("route_id", sa.String(length=64), nullable=True),
        sa.Column("trip_id", sa.String(length=128), nullable=True),
        sa.Column("segment_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_point")),
        sa.UniqueConstraint("kind", "vehicle_key", "ts", name="uq_probe_point_key"),
    )
    with op.batch_alter_table("probe_point", schema=None) as batch_op:
        batch_op.create_index("ix_probe_point_segment_ts", ["segment_id", "ts"], unique=False)
        batch_op.create_index("ix_probe_point_ts", ["ts"], unique=False)

    op.create_table(
        "traffic_observation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("detector_id", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=128), nullable=True),
        sa.Column("lane", sa.SmallInteger(), nullable=False),
        sa.Column("ts", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("occupancy", sa.Float(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("received_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_observation")),
        sa.UniqueConstraint("detector_id", "lane", "ts", name="uq_traffic_observation_key"),
    )
    with op.batch_alter_table("traffic_observation", schema=None) as batch_op:
        batch_op.create_index("ix_traffic_observation_segment_ts", ["segment_id", "ts"], unique=False)
        batch_op.create_index("ix_traffic_observation_ts", ["ts"], unique=False)

    op.create_table(
        "traffic_feed_stat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("hour", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_feed_stat")),
        sa.UniqueConstraint("source", "hour", "outcome", name="uq_traffic_feed_stat_key"),
    )

    op.create_table(
        "traffic_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.Column("record", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("batch_ref", sa.String(length=64), nullable=True),
        sa.Column("received_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_quarantine")),
    )
    with op.batch_alter_table("traffic_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_traffic_quarantine_source_at", ["source", "received_at"], unique=False)

    op.create_table(
        "video_count",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("hub_code", sa.String(length=64), nullable=True),
        sa.Column("ts", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("received_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_count")),
        sa.UniqueConstraint("camera_id", "mode", "direction", "ts", name="uq_video_count_key"),
    )
    with op.batch_alter_table("video_count", schema=None) as batch_op:
        batch_op.create_index("ix_video_count_hub_ts", ["hub_code", "ts"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("video_count", schema=None) as batch_op:
        batch_op.drop_index("ix_video_count_hub_ts")

    op.drop_table("video_count")
    with op.batch_alter_table("traffic_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_traffic_quarantine_source_at")

    op.drop_table("traffic_quarantine")
    op.drop_table("traffic_feed_stat")
    with op.batch_alter_table("traffic_observation", schema=None) as batch_op:
        batch_op.drop_index("ix_traffic_observation_ts")
        batch_op.drop_index("ix_traffic_observation_segment_ts")

    op.drop_table("traffic_observation")
    with op.batch_alter_table("probe_point", schema=None) as batch_op:
        batch_op.drop_index("ix_probe_point_ts")
        batch_op.drop_index("ix_probe_point_segment_ts")

    op.drop_table("probe_point")
    with op.batch_alter_table("nav_speed", schema=None) as batch_op:
        batch_op.drop_index("ix_nav_speed_ts")

    op.drop_table("nav_speed")
