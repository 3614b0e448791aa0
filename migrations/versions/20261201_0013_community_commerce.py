"""neighbourhood commerce

Revision ID: 0013_community_commerce
Revises: 0012_community_property
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

revision: str = "0013_community_commerce"
down_revision: str | None = "0012_community_property"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
