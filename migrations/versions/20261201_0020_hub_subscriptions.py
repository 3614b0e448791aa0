"""NGSI-LD subscriptions and notifications

Revision ID: 0020_hub_subscriptions
Revises: 0019_hub_ngsi
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0020_hub_subscriptions"
down_revision: str | None = "0019_hub_ngsi"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TS = cityos.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("subscription_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("spec", _JSON, nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("throttling", sa.Float(), nullable=True),
        sa.Column("time_interval", sa.Float(), nullable=True),
        sa.Column("endpoint_uri", sa.String(length=1024), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("times_sent", sa.Integer(), nullable=False),
        sa.Column("times_failed", sa.Integer(), nullable=False),
        sa.Column("last_queued_at", _TS, nullable=True),
        sa.Column("last_notification", _TS, nullable=True),
        sa.Column("last_success", _TS, nullable=True),
        sa.Column("last_failure", _TS, nullable=True),
        sa.Column("last_failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("modified_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_subscription")),
        sa.UniqueConstraint("tenant", "subscription_id", name="uq_hub_subscription_tenant_sid"),
    )
    op.create_index("ix_hub_subscription_tenant_active", "hub_subscription", ["tenant", "is_active"])
    op.create_table(
        "hub_notification",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subscription_pk", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("endpoint_uri", sa.String(length=1024), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_pk"],
            ["hub_subscription.id"],
            name=op.f("fk_hub_notification_subscription_pk_hub_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_notification")),
    )
    op.create_index("ix_hub_notification_status_next", "hub_notification", ["status", "next_attempt_at"])
    op.create_index("ix_hub_notification_subscription", "hub_notification", ["subscription_pk", "id"])


def downgrade() -> None:
    op.drop_index("ix_hub_notification_subscription", table_name="hub_notification")
    op.drop_index("ix_hub_notification_status_next", table_name="hub_notification")
    op.drop_table("hub_notification")
    op.drop_index("ix_hub_subscription_tenant_active", table_name="hub_subscription")
    op.drop_table("hub_subscription")
