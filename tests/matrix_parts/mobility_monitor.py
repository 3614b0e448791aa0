"""Permission-matrix entries of mobility.monitor (see tests/matrix_parts/base.py).

The board is the city's: segment states, vital signs and corridors are not data-scoped (any
holder of traffic:read reads them; corridors are written with traffic:manage), so there is no
"outside" variant. The records: a small road network (the active one) and a corridor on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.mobility.monitor.models import TrafficCorridor
from cityos.mobility.network import service as network
from cityos.mobility.network.schema import grid_network
from tests.factories import World
from tests.matrix_parts.base import Case

READ, MANAGE = "traffic:read", "traffic:manage"
SEGMENT = "n0_0-n0_1"


def _corridor_body(ids: dict[str, Any]) -> dict[str, Any]:
    return {"code": "matrix-new", "name": "矩阵新通道", "segment_ids": [SEGMENT, "n0_1-n0_2"]}


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/mobility/states", READ, outside=False),
    Case("GET", "/api/v1/mobility/vitals", READ, outside=False),
    Case("GET", "/api/v1/mobility/segments/{road_segment_id}", READ, outside=False),
    Case("GET", "/api/v1/mobility/corridors", READ, outside=False),
    Case("POST", "/api/v1/mobility/corridors", MANAGE, body=_corridor_body, outside=False),
    Case("GET", "/api/v1/mobility/corridors/{corridor_code}", READ, outside=False),
    Case(
        "PATCH", "/api/v1/mobility/corridors/{corridor_code}", MANAGE, body=lambda i: {"active": False}, outside=False
    ),
    Case("DELETE", "/api/v1/mobility/corridors/{corridor_code}", MANAGE, outside=False),
)
PATH_PARAMS: dict[str, str] = {"road_segment_id": "road_segment", "corridor_code": "corridor_code"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A 3 × 3 grid network in grid 1 (the active network) and a corridor on it."""
    lon = (world.grid1.lon or 104.025) - 0.005
    lat = world.grid1.lat or 30.05
    network.save_segments(session, "matrix-roads", grid_network(3, 3, 200.0, centre_lon=lon, centre_lat=lat))
    session.add(
        TrafficCorridor(
            code="matrix-corridor", name="矩阵通道", network_code="matrix-roads", segment_ids=[SEGMENT, "n0_1-n0_2"]
        )
    )
    session.flush()
    for ids in (inside, outside):
        ids["road_segment"] = SEGMENT
        ids["corridor_code"] = "matrix-corridor"
