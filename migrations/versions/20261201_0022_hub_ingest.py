"""IoT ingest profiles and message de-duplication

Revision ID: 0022_hub_ingest
Revises: 0021_hub_temporal
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

revision: str = "0022_hub_ingest"
down_revision: str | None = "0021_hub_temporal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the part's owner with its tables."""


def downgrade() -> None:
    """Filled by the part's owner with its tables."""
