"""mobility road network

Revision ID: 0026_mobility_network
Revises: 0025_hub_apps
Create Date: 2026-12-01 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0026_mobility_network"
down_revision: str | None = "0025_hub_apps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "road_network",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.String(length=512), nullable=True),
        sa.Column("imported_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("rejected", _JSON, nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_network")),
        sa.UniqueConstraint("code", name=op.f("uq_road_network_code")),
    )
    op.create_table(
        "road_segment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.String(length=128), nullable=False),
        sa.Column("from_node", sa.String(length=128), nullable=False),
        sa.Column("to_node", sa.String(length=128), nullable=False),
        sa.Column("road_class", sa.String(length=16), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("lanes", sa.SmallInteger(), nullable=False),
        sa.Column("free_speed_kmh", sa.Float(), nullable=False),
        sa.Column("geometry", _JSON, nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("h3_cell", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["road_network.id"],
            name=op.f("fk_road_segment_network_id_road_network"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_segment")),
        sa.UniqueConstraint("network_id", "segment_id", name=op.f("uq_road_segment_network_id")),
    )
    op.create_index("ix_road_segment_network_h3", "road_segment", ["network_id", "h3_cell"], unique=False)
    op.create_index("ix_road_segment_network_bbox", "road_segment", ["network_id", "min_lon", "min_lat"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_road_segment_network_bbox", table_name="road_segment")
    op.drop_index("ix_road_segment_network_h3", table_name="road_segment")
    op.drop_table("road_segment")
    op.drop_table("road_network")
