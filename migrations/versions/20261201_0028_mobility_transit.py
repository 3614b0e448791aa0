"""mobility transit and hub passenger flow

Revision ID: 0028_mobility_transit
Revises: 0027_mobility_ingest
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

revision: str = "0028_mobility_transit"
down_revision: str | None = "0027_mobility_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
