"""hub device alarm rules

Revision ID: 0023_hub_devices
Revises: 0022_hub_ingest
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

revision: str = "0023_hub_devices"
down_revision: str | None = "0022_hub_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the part's owner with its tables."""


def downgrade() -> None:
    """Filled by the part's owner with its tables."""
