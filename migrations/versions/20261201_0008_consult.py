"""consultation: knowledge base articles and consultations (掌上咨询)

Revision ID: 0008_consult
Revises: 0007_applications
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cityos.core.db

revision: str = "0008_consult"
down_revision: str | None = "0007_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=True),
        sa.Column("question", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_article")),
        sa.UniqueConstraint("key", name=op.f("uq_knowledge_article_key")),
    )
    with op.batch_alter_table("knowledge_article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_article_item_code"), ["item_code"], unique=False)

    op.create_table(
        "consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("asker_account_id", sa.Integer(), nullable=True),
        sa.Column("asker_label", sa.String(length=128), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column(
            "region_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_account_id", sa.Integer(), nullable=True),
        sa.Column("answered_by_label", sa.String(length=128), nullable=True),
        sa.Column("answered_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("due_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_account_id"], ["account.id"], name=op.f("fk_consultation_answered_by_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["knowledge_article.id"], name=op.f("fk_consultation_article_id_knowledge_article")
        ),
        sa.ForeignKeyConstraint(
            ["asker_account_id"], ["account.id"], name=op.f("fk_consultation_asker_account_id_account")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_consultation_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation")),
    )
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consultation_asker_account_id"), ["asker_account_id"], unique=False)
        batch_op.create_index("ix_consultation_region_path_status", ["region_path", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consultation", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_region_path_status")
        batch_op.drop_index(batch_op.f("ix_consultation_asker_account_id"))

    op.drop_table("consultation")
    with op.batch_alter_table("knowledge_article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_article_item_code"))

    op.drop_table("knowledge_article")
