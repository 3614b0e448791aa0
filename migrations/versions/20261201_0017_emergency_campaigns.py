"""emergency campaigns

Revision ID: 0017_emergency_campaigns
Revises: 0016_emergency_addressbook
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

revision: str = "0017_emergency_campaigns"
down_revision: str | None = "0016_emergency_addressbook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
