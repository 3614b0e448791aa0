"""mobility segment states and vital signs

Revision ID: 0030_mobility_monitor
Revises: 0029_mobility_commute
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0030_mobility_monitor"
down_revision: str | None = "0029_mobility_commute"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segment_state",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("network_code", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=128), nullable=False),
        sa.Column("bin_start", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("speed_sd_kmh", sa.Float(), nullable=True),
        sa.Column("state", sa.SmallInteger(), nullable=True),
        sa.Column("flow_veh", sa.Float(), nullable=True),
        sa.Column("occupancy", sa.Float(), nullable=True),
        sa.Column("sources", sa.SmallInteger(), nullable=False),
        sa.Column("disagree", sa.Boolean(), nullable=False),
        sa.Column("disagree_reason", sa.String(length=256), nullable=True),
        sa.Column("probe_speed", sa.Float(), nullable=True),
        sa.Column("probe_n", sa.Float(), nullable=False),
        sa.Column("loop_speed", sa.Float(), nullable=True),
        sa.Column("loop_n", sa.Float(), nullable=False),
        sa.Column("nav_speed", sa.Float(), nullable=True),
        sa.Column("nav_n", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_state")),
        sa.UniqueConstraint("network_code", "segment_id", "bin_start", name="uq_segment_state_key"),
    )
    with op.batch_alter_table("segment_state", schema=None) as batch_op:
        batch_op.create_index("ix_segment_state_bin_start", ["bin_start"], unique=False)

    op.create_table(
        "traffic_corridor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("network_code", sa.String(length=64), nullable=False),
        sa.Column(
            "segment_ids", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_corridor")),
        sa.UniqueConstraint("code", name=op.f("uq_traffic_corridor_code")),
    )
    op.create_table(
        "traffic_forecast",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("network_code", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=128), nullable=False),
        sa.Column("issued_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("horizon_min", sa.SmallInteger(), nullable=False),
        sa.Column("target_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=True),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_forecast")),
        sa.UniqueConstraint("network_code", "segment_id", "issued_at", "horizon_min", name="uq_traffic_forecast_key"),
    )
    with op.batch_alter_table("traffic_forecast", schema=None) as batch_op:
        batch_op.create_index("ix_traffic_forecast_issued_at", ["issued_at"], unique=False)
        batch_op.create_index("ix_traffic_forecast_segment_target", ["segment_id", "target_at"], unique=False)

    op.create_table(
        "traffic_monitor_cursor",
        sa.Column("network_code", sa.String(length=64), nullable=False),
        sa.Column("last_bin_start", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stats", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("network_code", name=op.f("pk_traffic_monitor_cursor")),
    )
    op.create_table(
        "vital_sign",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.String(length=64), nullable=False),
        sa.Column("bin_start", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("vehicles", sa.Float(), nullable=True),
        sa.Column("probe_points", sa.Float(), nullable=True),
        sa.Column("vkt_km", sa.Float(), nullable=True),
        sa.Column("vkt_coverage", sa.Float(), nullable=True),
        sa.Column("tti", sa.Float(), nullable=True),
        sa.Column("congested_ratio", sa.Float(), nullable=True),
        sa.Column("tpi", sa.Float(), nullable=True),
        sa.Column("tpi_band", sa.SmallInteger(), nullable=True),
        sa.Column("tpi_band_name", sa.String(length=16), nullable=True),
        sa.Column("arterial_speed_kmh", sa.Float(), nullable=True),
        sa.Column("expressway_speed_kmh", sa.Float(), nullable=True),
        sa.Column("incidents", sa.Float(), nullable=False),
        sa.Column("safety_index", sa.Float(), nullable=True),
        sa.Column("disagreements", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_sign")),
        sa.UniqueConstraint("level", "area_id", "bin_start", name="uq_vital_sign_key"),
    )
    with op.batch_alter_table("vital_sign", schema=None) as batch_op:
        batch_op.create_index("ix_vital_sign_bin_start", ["bin_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vital_sign", schema=None) as batch_op:
        batch_op.drop_index("ix_vital_sign_bin_start")

    op.drop_table("vital_sign")
    op.drop_table("traffic_monitor_cursor")
    with op.batch_alter_table("traffic_forecast", schema=None) as batch_op:
        batch_op.drop_index("ix_traffic_forecast_segment_target")
        batch_op.drop_index("ix_traffic_forecast_issued_at")

    op.drop_table("traffic_forecast")
    op.drop_table("traffic_corridor")
    with op.batch_alter_table("segment_state", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_state_bin_start")

    op.drop_table("segment_state")
