"""Permission-matrix entries of mobility.transit (see tests/matrix_parts/base.py).

Feeds are the city's (not data-scoped): reads need traffic:read, the upload traffic:manage. The
upload is sent without its form here, so an allowed caller gets the field errors (422)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.mobility.transit.models import TransitFeed, TransitStop
from tests.factories import World
from tests.matrix_parts.base import Case

READ, MANAGE = "traffic:read", "traffic:manage"
API = "/api/v1/mobility/transit"

CASES: tuple[Case, ...] = (
    Case("GET", f"{API}/feeds", READ, outside=False),
    Case("POST", f"{API}/feeds", MANAGE, outside=False, allowed_status=(422,)),
    Case("GET", f"{API}/feeds/{{feed_code}}", READ, outside=False),
    Case("GET", f"{API}/feeds/{{feed_code}}/routes", READ, outside=False),
    Case("GET", f"{API}/feeds/{{feed_code}}/stops/{{stop_id}}/arrivals", READ, outside=False),
)
PATH_PARAMS: dict[str, str] = {"feed_code": "transit_feed", "stop_id": "transit_stop"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    feed = TransitFeed(code="matrixfeed", name="矩阵公交", timezone="Asia/Shanghai", warnings=[])
    session.add(feed)
    session.flush()
    session.add(TransitStop(feed_id=feed.id, stop_id="S1", name="矩阵站", lon=104.02, lat=30.05, h3_cell="x"))
    session.flush()
    for side in (inside, outside):
        side.update(transit_feed=feed.code, transit_stop="S1")
