"""observations and attribute history

Revision ID: 0021_hub_temporal
Revises: 0020_hub_subscriptions
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

revision: str = "0021_hub_temporal"
down_revision: str | None = "0020_hub_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the part's owner with its tables."""


def downgrade() -> None:
    """Filled by the part's owner with its tables."""
