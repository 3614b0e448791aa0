"""NGSI-LD subscriptions and notifications

Revision ID: 0020_hub_subscriptions
Revises: 0019_hub_ngsi
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

revision: str = "0020_hub_subscriptions"
down_revision: str | None = "0019_hub_ngsi"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the part's owner with its tables."""


def downgrade() -> None:
    """Filled by the part's owner with its tables."""
