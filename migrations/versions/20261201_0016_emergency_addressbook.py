"""cloud address book and broadcasts

Revision ID: 0016_emergency_addressbook
Revises: 0015_community_dashboard
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

revision: str = "0016_emergency_addressbook"
down_revision: str | None = "0015_community_dashboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
