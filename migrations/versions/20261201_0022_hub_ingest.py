"""IoT ingest profiles and message de-duplication

Revision ID: 0022_hub_ingest
Revises: 0021_hub_temporal
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityos.core.db

revision: str = "0022_hub_ingest"
down_revision: str | None = "0021_hub_temporal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = cityos.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ingest_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("device_kind", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=128), nullable=False),
        sa.Column("mapping", cityos.core.db.JSONType, nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_profile")),
        sa.UniqueConstraint("code", name=op.f("uq_ingest_profile_code")),
    )
    op.create_table(
        "ingest_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("profile_code", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("entity_type", sa.String(length=128), nullable=False),
        sa.Column("key_enc", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_ingest_binding_device_id_device"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["profile_code"], ["ingest_profile.code"], name=op.f("fk_ingest_binding_profile_code_ingest_profile")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_binding")),
        sa.UniqueConstraint("device_id", name=op.f("uq_ingest_binding_device_id")),
        sa.UniqueConstraint("tenant", "entity_id", name="uq_ingest_binding_tenant_entity"),
    )
    op.create_index(op.f("ix_ingest_binding_profile_code"), "ingest_binding", ["profile_code"])
    op.create_table(
        "ingest_message",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("mid", sa.String(length=64), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_message")),
        sa.UniqueConstraint("device_id", "mid", name="uq_ingest_message_device_mid"),
    )
    op.create_index(op.f("ix_ingest_message_received_at"), "ingest_message", ["received_at"])
    op.create_table(
        "ingest_tally",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("minute", _TS, nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_tally")),
    )
    op.create_index("ix_ingest_tally_minute_outcome", "ingest_tally", ["minute", "outcome"])
    op.create_table(
        "ingest_rejection",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("device_code", sa.String(length=64), nullable=True),
        sa.Column("mid", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("fields", cityos.core.db.JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_rejection")),
    )
    op.create_index(op.f("ix_ingest_rejection_at"), "ingest_rejection", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ingest_rejection_at"), table_name="ingest_rejection")
    op.drop_table("ingest_rejection")
    op.drop_index("ix_ingest_tally_minute_outcome", table_name="ingest_tally")
    op.drop_table("ingest_tally")
    op.drop_index(op.f("ix_ingest_message_received_at"), table_name="ingest_message")
    op.drop_table("ingest_message")
    op.drop_index(op.f("ix_ingest_binding_profile_code"), table_name="ingest_binding")
    op.drop_table("ingest_binding")
    op.drop_table("ingest_profile")
