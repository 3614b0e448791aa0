"""proactive services

Revision ID: 0009_proactive
Revises: 0008_consult
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0009_proactive"
down_revision: str | None = "0008_consult"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "proactive_rule",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("targets", _JSON, nullable=False),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by_account_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_account_id"], ["account.id"], name=op.f("fk_proactive_rule_updated_by_account_id_account")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_proactive_rule")),
    )
    op.create_table(
        "proactive_offer",
        sa.Column("id", _ID, nullable=False),
        sa.Column("rule_key", sa.String(length=32), nullable=False),
        sa.Column("subject_key", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=48), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=True),
        sa.Column("bundle_code", sa.String(length=32), nullable=True),
        sa.Column("occasion", sa.String(length=48), nullable=False),
        sa.Column("reason_msgid", sa.Text(), nullable=False),
        sa.Column("reason_params", _JSON, nullable=False),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("application_id", _ID, nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_proactive_offer_application_id_application"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_proactive_offer_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_proactive_offer_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_key"], ["proactive_rule.key"], name=op.f("fk_proactive_offer_rule_key_proactive_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proactive_offer")),
        sa.UniqueConstraint("subject_key", "rule_key", "target", "occasion", name="uq_proactive_offer_once"),
    )
    with op.batch_alter_table("proactive_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proactive_offer_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proactive_offer_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proactive_offer_rule_key"), ["rule_key"], unique=False)
        batch_op.create_index("ix_proactive_offer_rule_status", ["rule_key", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("proactive_offer", schema=None) as batch_op:
        batch_op.drop_index("ix_proactive_offer_rule_status")
        batch_op.drop_index(batch_op.f("ix_proactive_offer_rule_key"))
        batch_op.drop_index(batch_op.f("ix_proactive_offer_person_id"))
        batch_op.drop_index(batch_op.f("ix_proactive_offer_organisation_id"))
    op.drop_table("proactive_offer")
    op.drop_table("proactive_rule")
