"""notices, surveys, votes, help and grid tasks

Revision ID: 0014_community_governance
Revises: 0013_community_commerce
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

revision: str = "0014_community_governance"
down_revision: str | None = "0013_community_commerce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
