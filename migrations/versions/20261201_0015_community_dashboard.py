"""community dashboard: no tables (一屏观社区 reads the people, places, cases, device and
community parts' records)

Revision ID: 0015_community_dashboard
Revises: 0014_community_governance
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

revision: str = "0015_community_dashboard"
down_revision: str | None = "0014_community_governance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
