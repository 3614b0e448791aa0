"""mobility commute trips

Revision ID: 0029_mobility_commute
Revises: 0028_mobility_transit
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0029_mobility_commute"
down_revision: str | None = "0028_mobility_transit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PATH = sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "commute_trip",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("trip_key", sa.String(length=160), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("started_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_lon", sa.Float(), nullable=False),
        sa.Column("origin_lat", sa.Float(), nullable=False),
        sa.Column("dest_lon", sa.Float(), nullable=False),
        sa.Column("dest_lat", sa.Float(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("origin_district_id", sa.Integer(), nullable=True),
        sa.Column("dest_district_id", sa.Integer(), nullable=True),
        sa.Column("origin_path", _PATH, nullable=True),
        sa.Column("dest_path", _PATH, nullable=True),
        sa.Column("origin_h3", sa.String(length=16), nullable=False),
        sa.Column("dest_h3", sa.String(length=16), nullable=False),
        sa.Column(
            "segment_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dest_district_id"], ["region.id"], name=op.f("fk_commute_trip_dest_district_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["origin_district_id"], ["region.id"], name=op.f("fk_commute_trip_origin_district_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commute_trip")),
        sa.UniqueConstraint("trip_key", name=op.f("uq_commute_trip_trip_key")),
    )
    with op.batch_alter_table("commute_trip", schema=None) as batch_op:
        batch_op.create_index("ix_commute_trip_od", ["origin_district_id", "dest_district_id"], unique=False)
        batch_op.create_index("ix_commute_trip_started_at", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("commute_trip", schema=None) as batch_op:
        batch_op.drop_index("ix_commute_trip_started_at")
        batch_op.drop_index("ix_commute_trip_od")
    op.drop_table("commute_trip")
