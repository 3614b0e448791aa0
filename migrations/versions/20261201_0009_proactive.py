"""proactive services

Revision ID: 0009_proactive
Revises: 0008_consult
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

revision: str = "0009_proactive"
down_revision: str | None = "0008_consult"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
