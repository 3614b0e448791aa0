"""light apps, rate limits and webhooks

Revision ID: 0025_hub_apps
Revises: 0024_hub_catalogue
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0025_hub_apps"
down_revision: str | None = "0024_hub_catalogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "light_app",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("emoji", sa.String(length=16), nullable=True),
        sa.Column("icon", sa.LargeBinary(), nullable=True),
        sa.Column("icon_type", sa.String(length=32), nullable=True),
        sa.Column("homepage_url", sa.String(length=512), nullable=True),
        sa.Column("entry_url", sa.String(length=512), nullable=False),
        sa.Column("developer_id", sa.Integer(), nullable=False),
        sa.Column(
            "home_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column(
            "requested_scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "granted_scopes", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=False),
        sa.Column("scope_region_id", sa.Integer(), nullable=True),
        sa.Column(
            "scope_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("client_pk", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("secret_pending", sa.Text(), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_pk"], ["oauth_client.id"], name=op.f("fk_light_app_client_pk_oauth_client")),
        sa.ForeignKeyConstraint(["developer_id"], ["account.id"], name=op.f("fk_light_app_developer_id_account")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_light_app_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["scope_region_id"], ["region.id"], name=op.f("fk_light_app_scope_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_light_app")),
        sa.UniqueConstraint("client_id", name=op.f("uq_light_app_client_id")),
        sa.UniqueConstraint("client_pk", name=op.f("uq_light_app_client_pk")),
    )
    op.create_index(op.f("ix_light_app_developer_id"), "light_app", ["developer_id"], unique=False)
    op.create_index(op.f("ix_light_app_status"), "light_app", ["status"], unique=False)
    op.create_table(
        "app_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("topics", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("paused_until", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["light_app.id"], name=op.f("fk_app_webhook_app_id_light_app"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_webhook")),
    )
    op.create_index(op.f("ix_app_webhook_app_id"), "app_webhook", ["app_id"], unique=False)
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("delivered_at", cityos.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["app_webhook.id"],
            name=op.f("fk_webhook_delivery_webhook_id_app_webhook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint("webhook_id", "event_id", name=op.f("uq_webhook_delivery_webhook_id")),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_webhook_delivery_webhook_id"), "webhook_delivery", ["webhook_id"], unique=False)
    op.create_table(
        "app_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("limited", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_usage")),
        sa.UniqueConstraint("client_id", "day", name=op.f("uq_app_usage_client_id")),
    )


def downgrade() -> None:
    op.drop_table("app_usage")
    op.drop_index("ix_webhook_delivery_webhook_id", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index("ix_app_webhook_app_id", table_name="app_webhook")
    op.drop_table("app_webhook")
    op.drop_index("ix_light_app_status", table_name="light_app")
    op.drop_index("ix_light_app_developer_id", table_name="light_app")
    op.drop_table("light_app")
