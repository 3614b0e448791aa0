"""entry passes, visitors and gates

Revision ID: 0011_community_access
Revises: 0010_devices
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0011_community_access"
down_revision: str | None = "0010_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "estate_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("max_passes_per_person", sa.Integer(), nullable=False),
        sa.Column("max_passes_per_household", sa.Integer(), nullable=False),
        sa.Column(
            "windows", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("exit_limit", sa.Integer(), nullable=True),
        sa.Column("exit_period_hours", sa.Integer(), nullable=False),
        sa.Column("visitor_max_hours", sa.Integer(), nullable=False),
        sa.Column("visitor_max_entries", sa.Integer(), nullable=False),
        sa.Column("rotation_seconds", sa.Integer(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_access_rules_estate_id_region")),
        sa.ForeignKeyConstraint(["updated_by"], ["account.id"], name=op.f("fk_access_rules_updated_by_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_rules")),
        sa.UniqueConstraint("estate_id", name=op.f("uq_access_rules_estate_id")),
    )
    with op.batch_alter_table("access_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_rules_estate_path"), ["estate_path"], unique=False)

    op.create_table(
        "entry_pass",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "estate_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("room_code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("holder_person_id", sa.Integer(), nullable=True),
        sa.Column("host_person_id", sa.Integer(), nullable=True),
        sa.Column("visitor_name_enc", sa.Text(), nullable=True),
        sa.Column("visitor_phone_enc", sa.Text(), nullable=True),
        sa.Column("link_hash", sa.String(length=64), nullable=True),
        sa.Column("link_enc", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entries_max", sa.Integer(), nullable=True),
        sa.Column("entries_left", sa.Integer(), nullable=True),
        sa.Column("revoked_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=255), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_entry_pass_estate_id_region")),
        sa.ForeignKeyConstraint(
            ["holder_person_id"], ["person.id"], name=op.f("fk_entry_pass_holder_person_id_person")
        ),
        sa.ForeignKeyConstraint(["host_person_id"], ["person.id"], name=op.f("fk_entry_pass_host_person_id_person")),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_entry_pass_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_pass")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_entry_pass_link_hash")),
    )
    with op.batch_alter_table("entry_pass", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_pass_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index("ix_entry_pass_estate_id_kind_status", ["estate_id", "kind", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_entry_pass_estate_path"), ["estate_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_entry_pass_holder_person_id"), ["holder_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_entry_pass_host_person_id"), ["host_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_entry_pass_revoked_at"), ["revoked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_entry_pass_room_id"), ["room_id"], unique=False)
        batch_op.create_index("ix_entry_pass_status_valid_until", ["status", "valid_until"], unique=False)

    op.create_table(
        "access_blocked_room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("room_code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("blocked_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["blocked_by"], ["account.id"], name=op.f("fk_access_blocked_room_blocked_by_account")),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_access_blocked_room_estate_id_region")),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_access_blocked_room_room_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_blocked_room")),
        sa.UniqueConstraint("room_id", name="uq_access_blocked_room_room_id"),
    )
    with op.batch_alter_table("access_blocked_room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_blocked_room_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "goods_slip",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "estate_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_gate_id", sa.Integer(), nullable=True),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["checked_by"], ["account.id"], name=op.f("fk_goods_slip_checked_by_account")),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_goods_slip_estate_id_region")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_goods_slip_person_id_person")),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_goods_slip_room_id_region")),
        sa.ForeignKeyConstraint(["used_gate_id"], ["device.id"], name=op.f("fk_goods_slip_used_gate_id_device")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_slip")),
        sa.UniqueConstraint("code", name=op.f("uq_goods_slip_code")),
    )
    with op.batch_alter_table("goods_slip", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goods_slip_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_goods_slip_estate_path"), ["estate_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_goods_slip_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_goods_slip_status_valid_until", ["status", "valid_until"], unique=False)

    op.create_table(
        "access_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "estate_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("gate_id", sa.Integer(), nullable=True),
        sa.Column("pass_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("slip_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_offline", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["estate_id"], ["region.id"], name=op.f("fk_access_event_estate_id_region")),
        sa.ForeignKeyConstraint(["gate_id"], ["device.id"], name=op.f("fk_access_event_gate_id_device")),
        sa.ForeignKeyConstraint(["pass_id"], ["entry_pass.id"], name=op.f("fk_access_event_pass_id_entry_pass")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_access_event_person_id_person")),
        sa.ForeignKeyConstraint(["room_id"], ["region.id"], name=op.f("fk_access_event_room_id_region")),
        sa.ForeignKeyConstraint(["slip_id"], ["goods_slip.id"], name=op.f("fk_access_event_slip_id_goods_slip")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_event")),
        sa.UniqueConstraint("gate_id", "client_id", name="uq_access_event_gate_id_client_id"),
    )
    with op.batch_alter_table("access_event", schema=None) as batch_op:
        batch_op.create_index("ix_access_event_estate_path_at", ["estate_path", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_event_pass_id"), ["pass_id"], unique=False)
        batch_op.create_index("ix_access_event_room_id_direction_at", ["room_id", "direction", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_event", schema=None) as batch_op:
        batch_op.drop_index("ix_access_event_room_id_direction_at")
        batch_op.drop_index(batch_op.f("ix_access_event_pass_id"))
        batch_op.drop_index("ix_access_event_estate_path_at")

    op.drop_table("access_event")
    with op.batch_alter_table("goods_slip", schema=None) as batch_op:
        batch_op.drop_index("ix_goods_slip_status_valid_until")
        batch_op.drop_index(batch_op.f("ix_goods_slip_person_id"))
        batch_op.drop_index(batch_op.f("ix_goods_slip_estate_path"))
        batch_op.drop_index(batch_op.f("ix_goods_slip_estate_id"))

    op.drop_table("goods_slip")
    with op.batch_alter_table("access_blocked_room", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_blocked_room_estate_id"))

    op.drop_table("access_blocked_room")
    with op.batch_alter_table("entry_pass", schema=None) as batch_op:
        batch_op.drop_index("ix_entry_pass_status_valid_until")
        batch_op.drop_index(batch_op.f("ix_entry_pass_room_id"))
        batch_op.drop_index(batch_op.f("ix_entry_pass_revoked_at"))
        batch_op.drop_index(batch_op.f("ix_entry_pass_host_person_id"))
        batch_op.drop_index(batch_op.f("ix_entry_pass_holder_person_id"))
        batch_op.drop_index(batch_op.f("ix_entry_pass_estate_path"))
        batch_op.drop_index("ix_entry_pass_estate_id_kind_status")
        batch_op.drop_index(batch_op.f("ix_entry_pass_estate_id"))

    op.drop_table("entry_pass")
    with op.batch_alter_table("access_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_rules_estate_path"))

    op.drop_table("access_rules")
