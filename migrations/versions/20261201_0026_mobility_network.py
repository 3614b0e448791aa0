"""mobility road network

Revision ID: 0026_mobility_network
Revises: 0025_hub_apps
Create Date: 2026-12-01 10:20:00
"""

from collections.abc import Sequence

revision: str = "0026_mobility_network"
down_revision: str | None = "0025_hub_apps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the network part with its tables."""


def downgrade() -> None:
    """Filled by the network part with its tables."""
