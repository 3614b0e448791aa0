"""mobility traffic alerts and guidance

Revision ID: 0031_mobility_alerts
Revises: 0030_mobility_monitor
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

revision: str = "0031_mobility_alerts"
down_revision: str | None = "0030_mobility_monitor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
