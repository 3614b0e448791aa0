"""property operations

Revision ID: 0012_community_property
Revises: 0011_community_access
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

revision: str = "0012_community_property"
down_revision: str | None = "0011_community_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
