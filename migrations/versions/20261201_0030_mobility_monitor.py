"""mobility segment states and vital signs

Revision ID: 0030_mobility_monitor
Revises: 0029_mobility_commute
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

revision: str = "0030_mobility_monitor"
down_revision: str | None = "0029_mobility_commute"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
