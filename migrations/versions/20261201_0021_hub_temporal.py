"""observations and attribute history

Revision ID: 0021_hub_temporal
Revises: 0020_hub_subscriptions
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cityos.core.db

revision: str = "0021_hub_temporal"
down_revision: str | None = "0020_hub_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sensor_observation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("entity_type", sa.String(length=512), nullable=False),
        sa.Column("attr", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("observed_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column(
            "value_json", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("dataset_id", sa.String(length=256), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=80), nullable=False),
        sa.Column("created_at", cityos.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_observation")),
    )
    with op.batch_alter_table("sensor_observation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sensor_observation_entity_attr_time", ["tenant", "entity_id", "attr", "observed_at"], unique=False
        )
        batch_op.create_index("ix_sensor_observation_type_time", ["tenant", "entity_type", "observed_at"], unique=False)
        batch_op.create_index("ix_sensor_observation_observed_at", ["observed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sensor_observation", schema=None) as batch_op:
        batch_op.drop_index("ix_sensor_observation_observed_at")
        batch_op.drop_index("ix_sensor_observation_type_time")
        batch_op.drop_index("ix_sensor_observation_entity_attr_time")
    op.drop_table("sensor_observation")
