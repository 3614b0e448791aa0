"""NGSI-LD entity store

Revision ID: 0019_hub_ngsi
Revises: 0018_emergency_command
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

revision: str = "0019_hub_ngsi"
down_revision: str | None = "0018_emergency_command"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Filled by the part's owner with its tables."""


def downgrade() -> None:
    """Filled by the part's owner with its tables."""
