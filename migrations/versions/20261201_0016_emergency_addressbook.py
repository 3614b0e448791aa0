"""cloud address book and broadcasts

Revision ID: 0016_emergency_addressbook
Revises: 0015_community_dashboard
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityos.core.db

revision: str = "0016_emergency_addressbook"
down_revision: str | None = "0015_community_dashboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PATH = sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql")
_TS = cityos.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "address_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("auto_key", sa.String(length=40), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("region_path", _PATH, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("synced_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_account_id"],
            ["account.id"],
            name=op.f("fk_address_group_created_by_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_address_group_region_id_region"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_group")),
        sa.UniqueConstraint("auto_key", name=op.f("uq_address_group_auto_key")),
    )
    with op.batch_alter_table("address_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_group_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_address_group_region_path"), ["region_path"], unique=False)

    op.create_table(
        "address_member",
        sa.Column("id", _ID, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("member_key", sa.String(length=24), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("region_path", _PATH, nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_address_member_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["building_id"], ["region.id"], name=op.f("fk_address_member_building_id_region"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["address_group.id"],
            name=op.f("fk_address_member_group_id_address_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_address_member_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_member")),
        sa.UniqueConstraint("group_id", "role", "member_key", name="uq_address_member_group_id"),
    )
    with op.batch_alter_table("address_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_address_member_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_address_member_group_role", ["group_id", "role"], unique=False)

    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_account_id", sa.Integer(), nullable=True),
        sa.Column("sender_label", sa.String(length=128), nullable=False),
        sa.Column("target_region_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("target_path", _PATH, nullable=False),
        sa.Column("target_name", sa.String(length=160), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.Column("sms_count", sa.Integer(), nullable=False),
        sa.Column("sent_at", _TS, nullable=False),
        sa.Column("reminded_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["address_group.id"], name=op.f("fk_broadcast_group_id_address_group"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["sender_account_id"],
            ["account.id"],
            name=op.f("fk_broadcast_sender_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["target_region_id"], ["region.id"], name=op.f("fk_broadcast_target_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast")),
    )
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcast_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broadcast_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broadcast_sender_account_id"), ["sender_account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broadcast_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_broadcast_target_path"), ["target_path"], unique=False)

    op.create_table(
        "broadcast_receipt",
        sa.Column("id", _ID, nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("region_path", _PATH, nullable=True),
        sa.Column("read_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_broadcast_receipt_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcast.id"],
            name=op.f("fk_broadcast_receipt_broadcast_id_broadcast"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["building_id"], ["region.id"], name=op.f("fk_broadcast_receipt_building_id_region"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_receipt")),
        sa.UniqueConstraint("broadcast_id", "account_id", name="uq_broadcast_receipt_broadcast_id"),
    )
    with op.batch_alter_table("broadcast_receipt", schema=None) as batch_op:
        batch_op.create_index("ix_broadcast_receipt_account_broadcast", ["account_id", "broadcast_id"], unique=False)
        batch_op.create_index("ix_broadcast_receipt_broadcast_building", ["broadcast_id", "building_id"], unique=False)


def downgrade() -> None:
    op.drop_table("broadcast_receipt")
    op.drop_table("broadcast")
    op.drop_table("address_member")
    op.drop_table("address_group")
