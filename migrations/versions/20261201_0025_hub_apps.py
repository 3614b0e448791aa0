"""light apps, rate limits and webhooks

Revision ID: 0025_hub_apps
Revises: 0024_hub_catalogue
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

revision: str = "0025_hub_apps"
down_revision: str | None = "0024_hub_catalogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the part's owner with its tables."""


def downgrade() -> None:
    """Filled by the part's owner with its tables."""
