"""applications

Revision ID: 0007_applications
Revises: 0006_service_catalogue
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

revision: str = "0007_applications"
down_revision: str | None = "0006_service_catalogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
