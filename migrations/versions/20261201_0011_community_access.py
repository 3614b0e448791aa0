"""entry passes, visitors and gates

Revision ID: 0011_community_access
Revises: 0010_devices
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

revision: str = "0011_community_access"
down_revision: str | None = "0010_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
