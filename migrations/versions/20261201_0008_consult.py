"""consultation

Revision ID: 0008_consult
Revises: 0007_applications
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

revision: str = "0008_consult"
down_revision: str | None = "0007_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
