"""data catalogue, grants and the read log

Revision ID: 0024_hub_catalogue
Revises: 0023_hub_devices
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

revision: str = "0024_hub_catalogue"
down_revision: str | None = "0023_hub_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the part's owner with its tables."""


def downgrade() -> None:
    """Filled by the part's owner with its tables."""
