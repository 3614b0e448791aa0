"""mobility transit and hub passenger flow

Revision ID: 0028_mobility_transit
Revises: 0027_mobility_ingest
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0028_mobility_transit"
down_revision: str | None = "0027_mobility_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transit_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source_ref", sa.String(length=512), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("imported_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("routes", sa.Integer(), nullable=False),
        sa.Column("stops", sa.Integer(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("stop_times", sa.Integer(), nullable=False),
        sa.Column("shapes", sa.Integer(), nullable=False),
        sa.Column(
            "warnings", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transit_feed")),
        sa.UniqueConstraint("code", name=op.f("uq_transit_feed_code")),
    )
    op.create_table(
        "transit_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.String(length=64), nullable=False),
        sa.Column("short_name", sa.String(length=64), nullable=False),
        sa.Column("long_name", sa.String(length=256), nullable=False),
        sa.Column("route_type", sa.SmallInteger(), nullable=False),
        sa.Column("color", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["transit_feed.id"], name=op.f("fk_transit_route_feed_id_transit_feed"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transit_route")),
        sa.UniqueConstraint("feed_id", "route_id", name=op.f("uq_transit_route_feed_id")),
    )
    op.create_table(
        "transit_shape",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("shape_id", sa.String(length=64), nullable=False),
        sa.Column(
            "geometry", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("derived", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["transit_feed.id"], name=op.f("fk_transit_shape_feed_id_transit_feed"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transit_shape")),
        sa.UniqueConstraint("feed_id", "shape_id", name=op.f("uq_transit_shape_feed_id")),
    )
    op.create_table(
        "transit_stop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("h3_cell", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["transit_feed.id"], name=op.f("fk_transit_stop_feed_id_transit_feed"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transit_stop")),
        sa.UniqueConstraint("feed_id", "stop_id", name=op.f("uq_transit_stop_feed_id")),
    )
    with op.batch_alter_table("transit_stop", schema=None) as batch_op:
        batch_op.create_index("ix_transit_stop_h3", ["h3_cell"], unique=False)
    op.create_table(
        "transit_stop_time",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.String(length=128), nullable=False),
        sa.Column("stop_id", sa.String(length=64), nullable=False),
        sa.Column("stop_sequence", sa.Integer(), nullable=False),
        sa.Column("arrival_s", sa.Integer(), nullable=False),
        sa.Column("departure_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["transit_feed.id"], name=op.f("fk_transit_stop_time_feed_id_transit_feed"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transit_stop_time")),
        sa.UniqueConstraint("feed_id", "trip_id", "stop_sequence", name=op.f("uq_transit_stop_time_feed_id")),
    )
    with op.batch_alter_table("transit_stop_time", schema=None) as batch_op:
        batch_op.create_index("ix_transit_stop_time_stop", ["feed_id", "stop_id"], unique=False)
    op.create_table(
        "transit_trip",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.String(length=128), nullable=False),
        sa.Column("route_id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("direction_id", sa.SmallInteger(), nullable=True),
        sa.Column("shape_id", sa.String(length=64), nullable=True),
        sa.Column("headsign", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["transit_feed.id"], name=op.f("fk_transit_trip_feed_id_transit_feed"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transit_trip")),
        sa.UniqueConstraint("feed_id", "trip_id", name=op.f("uq_transit_trip_feed_id")),
    )
    with op.batch_alter_table("transit_trip", schema=None) as batch_op:
        batch_op.create_index("ix_transit_trip_route", ["feed_id", "route_id"], unique=False)
    op.create_table(
        "transport_hub",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "camera_ids", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_transport_hub_region_id_region"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_hub")),
        sa.UniqueConstraint("code", name=op.f("uq_transport_hub_code")),
    )
    with op.batch_alter_table("transport_hub", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transport_hub_region_path"), ["region_path"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transport_hub", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transport_hub_region_path"))
    op.drop_table("transport_hub")
    with op.batch_alter_table("transit_trip", schema=None) as batch_op:
        batch_op.drop_index("ix_transit_trip_route")
    op.drop_table("transit_trip")
    with op.batch_alter_table("transit_stop_time", schema=None) as batch_op:
        batch_op.drop_index("ix_transit_stop_time_stop")
    op.drop_table("transit_stop_time")
    with op.batch_alter_table("transit_stop", schema=None) as batch_op:
        batch_op.drop_index("ix_transit_stop_h3")
    op.drop_table("transit_stop")
    op.drop_table("transit_shape")
    op.drop_table("transit_route")
    op.drop_table("transit_feed")
