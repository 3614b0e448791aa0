"""emergency command roll-ups

Revision ID: 0018_emergency_command
Revises: 0017_emergency_campaigns
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityos.core.db

revision: str = "0018_emergency_command"
down_revision: str | None = "0017_emergency_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PATH = sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql")
_ROW_FIGURES = ("residents", "households", "special", "reached", "tasks_open", "tasks_done", "supplied")
_DAY_FIGURES = ("reported", "abnormal", "staff_reported", "staff_abnormal")


def _counts(names: Sequence[str]) -> list[sa.Column]:
    out = []
    for name in names:
        out.append(sa.Column(f"own_{name}", sa.Integer(), nullable=False))
        out.append(sa.Column(name, sa.Integer(), nullable=False))
    return out


def upgrade() -> None:
    op.create_table(
        "emergency_rollup_build",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("scope_path", _PATH, nullable=False),
        sa.Column("built_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reach_id", _ID, nullable=False),
        sa.Column("supplies_id", _ID, nullable=False),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("watermark", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reconcile_path", _PATH, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_emergency_rollup_build_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_emergency_rollup_build")),
    )
    op.create_table(
        "emergency_rollup",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("region_path", _PATH, nullable=False),
        sa.Column("own_hi", _PATH, nullable=False),
        sa.Column("in_scope", sa.Boolean(), nullable=False),
        *_counts(_ROW_FIGURES),
        sa.Column("refreshed_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_emergency_rollup_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_emergency_rollup_region_id_region"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_rollup")),
        sa.UniqueConstraint("campaign_id", "region_id", name="uq_emergency_rollup_campaign_region"),
    )
    op.create_index("ix_emergency_rollup_campaign_parent", "emergency_rollup", ["campaign_id", "parent_id"])
    op.create_index("ix_emergency_rollup_campaign_path", "emergency_rollup", ["campaign_id", "region_path"])
    op.create_table(
        "emergency_rollup_day",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("region_path", _PATH, nullable=False),
        *_counts(_DAY_FIGURES),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_emergency_rollup_day_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_emergency_rollup_day_region_id_region"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_rollup_day")),
        sa.UniqueConstraint("campaign_id", "day", "region_id", name="uq_emergency_rollup_day_campaign_day_region"),
    )
    op.create_index(
        "ix_emergency_rollup_day_campaign_day_parent", "emergency_rollup_day", ["campaign_id", "day", "parent_id"]
    )
    op.create_index(
        "ix_emergency_rollup_day_campaign_day_path", "emergency_rollup_day", ["campaign_id", "day", "region_path"]
    )


def downgrade() -> None:
    op.drop_index("ix_emergency_rollup_day_campaign_day_path", table_name="emergency_rollup_day")
    op.drop_index("ix_emergency_rollup_day_campaign_day_parent", table_name="emergency_rollup_day")
    op.drop_table("emergency_rollup_day")
    op.drop_index("ix_emergency_rollup_campaign_path", table_name="emergency_rollup")
    op.drop_index("ix_emergency_rollup_campaign_parent", table_name="emergency_rollup")
    op.drop_table("emergency_rollup")
    op.drop_table("emergency_rollup_build")
