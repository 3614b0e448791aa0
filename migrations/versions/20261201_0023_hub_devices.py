"""hub device alarm rules

Revision ID: 0023_hub_devices
Revises: 0022_hub_ingest
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0023_hub_devices"
down_revision: str | None = "0022_hub_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PATH = sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hub_alarm_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("device_kind", sa.String(length=32), nullable=True),
        sa.Column("profile_code", sa.String(length=64), nullable=True),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=2), nullable=False),
        sa.Column("threshold", _JSON, nullable=False),
        sa.Column("clear_threshold", _JSON, nullable=True),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("region_path", _PATH, nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_hub_alarm_rule_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_alarm_rule")),
        sa.UniqueConstraint("code", name=op.f("uq_hub_alarm_rule_code")),
    )
    with op.batch_alter_table("hub_alarm_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_alarm_rule_device_kind"), ["device_kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_alarm_rule_profile_code"), ["profile_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_alarm_rule_region_path"), ["region_path"], unique=False)

    op.create_table(
        "hub_alarm_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("device_code", sa.String(length=64), nullable=False),
        sa.Column("region_path", _PATH, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.String(length=64), nullable=True),
        sa.Column("value", _JSON, nullable=True),
        sa.Column("last_value", _JSON, nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("since", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_hub_alarm_state_device_id_device"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["hub_alarm_rule.id"],
            name=op.f("fk_hub_alarm_state_rule_id_hub_alarm_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_alarm_state")),
        sa.UniqueConstraint("rule_id", "device_id", name=op.f("uq_hub_alarm_state_rule_id")),
    )
    with op.batch_alter_table("hub_alarm_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_alarm_state_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_alarm_state_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_alarm_state_region_path"), ["region_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_alarm_state_rule_id"), ["rule_id"], unique=False)


def downgrade() -> None:
    op.drop_table("hub_alarm_state")
    op.drop_table("hub_alarm_rule")
