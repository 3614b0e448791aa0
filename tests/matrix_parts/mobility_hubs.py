"""Permission-matrix entries of mobility.hubs (see tests/matrix_parts/base.py).

Hubs are data-scoped by the region they lie in: one in grid 1, one in grid 2. Reads need
traffic:read, writes traffic:manage in the caller's area (a hub created at a point outside it
is refused with a field error)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.mobility.hubs.models import TransportHub
from tests.factories import World
from tests.matrix_parts.base import Case

READ, MANAGE = "traffic:read", "traffic:manage"
API = "/api/v1/mobility/hubs"


def _body(ids: dict[str, Any]) -> dict[str, Any]:
    return {"code": "MATRIX-NEW", "name": "矩阵枢纽", "kind": "rail", "lon": ids["lon"], "lat": 30.05, "radius_m": 300}


CASES: tuple[Case, ...] = (
    Case("GET", API, READ, list_key="", kind="transport_hub"),
    Case("POST", API, MANAGE, body=_body),
    Case("GET", f"{API}/{{hub_code}}", READ),
    Case("PATCH", f"{API}/{{hub_code}}", MANAGE, body=lambda i: {"name": "矩阵枢纽二"}),
    Case("DELETE", f"{API}/{{hub_code}}", MANAGE),
    Case("GET", f"{API}/{{hub_code}}/flow", READ),
)
PATH_PARAMS: dict[str, str] = {"hub_code": "hub_code"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A hub in grid 1 and one in grid 2."""
    for side, grid, n in ((inside, world.grid1, 1), (outside, world.grid2, 2)):
        hub = TransportHub(
            code=f"MATRIX-{n}",
            name=f"矩阵枢纽{n}",
            kind="rail",
            lon=side["lon"],
            lat=30.05,
            radius_m=300.0,
            region_id=grid.id,
            region_path=grid.path,
            camera_ids=[],
        )
        session.add(hub)
        session.flush()
        side.update(transport_hub=hub.id, hub_code=hub.code)
