"""mobility traffic alerts and guidance

Revision ID: 0031_mobility_alerts
Revises: 0030_mobility_monitor
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityos.core.db

revision: str = "0031_mobility_alerts"
down_revision: str | None = "0030_mobility_monitor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "traffic_alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("min_band", sa.SmallInteger(), nullable=True),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("min_weeks", sa.SmallInteger(), nullable=True),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("clear_min", sa.Integer(), nullable=False),
        sa.Column("road_classes", cityos.core.db.JSONType, nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("region_path", cityos.core.db.PathType, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_traffic_alert_rule_region_id_region"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_alert_rule")),
        sa.UniqueConstraint("code", name=op.f("uq_traffic_alert_rule_code")),
    )
    op.create_table(
        "traffic_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_kind", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("network_code", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=128), nullable=False),
        sa.Column("target_name", sa.String(length=200), nullable=False),
        sa.Column("target_name_en", sa.String(length=200), nullable=True),
        sa.Column("road_class", sa.String(length=16), nullable=True),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("max_severity", sa.SmallInteger(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("baseline_kmh", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("region_path", cityos.core.db.PathType, nullable=False),
        sa.Column("started_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["traffic_alert_rule.id"],
            name=op.f("fk_traffic_alert_rule_id_traffic_alert_rule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_alert")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_traffic_alert_alert_id")),
    )
    with op.batch_alter_table("traffic_alert", schema=None) as batch_op:
        batch_op.create_index("ix_traffic_alert_rule_target", ["rule_id", "target_id"], unique=False)
        batch_op.create_index("ix_traffic_alert_status_started", ["status", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_traffic_alert_region_path"), ["region_path"], unique=False)
    op.create_table(
        "guidance_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=True),
        sa.Column("text_zh", sa.String(length=400), nullable=False),
        sa.Column("text_en", sa.String(length=400), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("issued_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidance_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_guidance_message_message_id")),
    )
    with op.batch_alter_table("guidance_message", schema=None) as batch_op:
        batch_op.create_index("ix_guidance_message_expires", ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_guidance_message_alert_id"), ["alert_id"], unique=False)
    op.create_table(
        "traffic_alert_cursor",
        sa.Column("network_code", sa.String(length=64), nullable=False),
        sa.Column("last_bin_start", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("network_code", name=op.f("pk_traffic_alert_cursor")),
    )


def downgrade() -> None:
    op.drop_table("traffic_alert_cursor")
    with op.batch_alter_table("guidance_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guidance_message_alert_id"))
        batch_op.drop_index("ix_guidance_message_expires")
    op.drop_table("guidance_message")
    with op.batch_alter_table("traffic_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traffic_alert_region_path"))
        batch_op.drop_index("ix_traffic_alert_status_started")
        batch_op.drop_index("ix_traffic_alert_rule_target")
    op.drop_table("traffic_alert")
    op.drop_table("traffic_alert_rule")
