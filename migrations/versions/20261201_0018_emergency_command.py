"""emergency command roll-ups

Revision ID: 0018_emergency_command
Revises: 0017_emergency_campaigns
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

revision: str = "0018_emergency_command"
down_revision: str | None = "0017_emergency_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
