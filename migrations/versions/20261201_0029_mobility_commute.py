"""mobility commute trips

Revision ID: 0029_mobility_commute
Revises: 0028_mobility_transit
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

revision: str = "0029_mobility_commute"
down_revision: str | None = "0028_mobility_transit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
