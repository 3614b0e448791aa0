"""NGSI-LD entity store

Revision ID: 0019_hub_ngsi
Revises: 0018_emergency_command
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0019_hub_ngsi"
down_revision: str | None = "0018_emergency_command"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_UTC = cityos.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_ngsi_tenant",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_ngsi_tenant")),
        sa.UniqueConstraint("name", name=op.f("uq_hub_ngsi_tenant_name")),
    )
    op.create_table(
        "hub_ngsi_entity",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=512), nullable=False),
        sa.Column("type", sa.String(length=512), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("modified_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_ngsi_entity")),
        sa.UniqueConstraint("tenant", "entity_id", name="uq_hub_ngsi_entity_tenant_entity_id"),
    )
    op.create_index("ix_hub_ngsi_entity_tenant_type", "hub_ngsi_entity", ["tenant", "type"])
    op.create_index("ix_hub_ngsi_entity_tenant_lon_lat", "hub_ngsi_entity", ["tenant", "lon", "lat"])
    op.create_table(
        "hub_ngsi_context",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_ngsi_context")),
        sa.UniqueConstraint("key", name=op.f("uq_hub_ngsi_context_key")),
    )


def downgrade() -> None:
    op.drop_table("hub_ngsi_context")
    op.drop_index("ix_hub_ngsi_entity_tenant_lon_lat", table_name="hub_ngsi_entity")
    op.drop_index("ix_hub_ngsi_entity_tenant_type", table_name="hub_ngsi_entity")
    op.drop_table("hub_ngsi_entity")
    op.drop_table("hub_ngsi_tenant")
