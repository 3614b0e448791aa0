"""Permission-matrix entries of emergency.command (see tests/matrix_parts/base.py).

The roll-ups read the campaigns part's records: its "inside" campaign covers grid 1 (the matrix's
accounts act there), its "outside" one grid 2, which no matrix account can see (404)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.factories import World
from tests.matrix_parts.base import Case

CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/campaigns/{campaign_id}/rollup", "campaign:read"),
    Case("GET", "/api/v1/campaigns/{campaign_id}/unreached", "campaign:read"),
    Case("GET", "/api/v1/campaigns/{campaign_id}/overdue-help", "campaign:read"),
    Case("GET", "/api/v1/campaigns/{campaign_id}/rollup-map", "campaign:read"),
    Case("GET", "/api/v1/campaigns/{campaign_id}/daily-report.xlsx", "campaign:read"),
    Case("GET", "/api/v1/campaigns/{campaign_id}/daily-report.pdf", "campaign:read"),
)
PATH_PARAMS: dict[str, str] = {"campaign_id": "campaign"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """The campaigns part has made the campaigns (``inside["campaign"]``); nothing to add."""
    assert "campaign" in inside
    assert "campaign" in outside
