"""Permission-matrix entries of services.proactive (see tests/matrix_parts/base.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.factories import World
from tests.matrix_parts.base import Case

CASES: tuple[Case, ...] = (
    # One's own offers; an account without a person or an organisation (and an app) has none.
    Case("GET", "/api/v1/offers", lambda perms, role: True, list_key="", kind="offer", outside=False),
    # Only the person offered may apply or dismiss; the matrix's accounts are offered nothing.
    Case("POST", "/api/v1/offers/{offer_id}/apply", lambda perms, role: False),
    Case("POST", "/api/v1/offers/{offer_id}/dismiss", lambda perms, role: False),
    # Rules are city-wide data: no "outside" variant.
    Case("GET", "/api/v1/proactive-rules", "service:read", outside=False),
    Case("PUT", "/api/v1/proactive-rules/{rule_key}", "service:write", body=lambda i: {"active": False}, outside=False),
)
PATH_PARAMS: dict[str, str] = {"offer_id": "offer", "rule_key": "proactive_rule"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """Creates this module's records inside grid 1 and outside it and adds their ids."""
    from cityos.services.proactive import service
    from cityos.services.proactive.models import Offer

    service.install(session)
    for side in (inside, outside):
        offer = Offer(
            rule_key="elderly60",
            subject_key=f"person:{side['person']}",
            person_id=side["person"],
            target="item:mzj-002",
            item_code="mzj-002",
            occasion="",
            reason_msgid="You turned {age} on {date}, so you can apply for the elderly preferential card.",
            reason_params={"age": 60, "date": "2026-12-01", "title": "老年人优待证办理"},
            status="offered",
        )
        session.add(offer)
        session.flush()
        side.update(offer=offer.id, proactive_rule="elderly60")
