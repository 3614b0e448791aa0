"""Permission-matrix entries of community.dashboard (see tests/matrix_parts/base.py).

Both routes need ``community:read`` over the region; the "outside" variants point at grid 2 and
at the building of grid 2's estate, which no matrix account (all scoped to grid 1) may see.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.places.models import Region
from tests.factories import World
from tests.matrix_parts.base import Case

CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/community-dashboard", "community:read", query=lambda i: {"region_id": i["grid"]}),
    Case("GET", "/api/v1/community-dashboard/buildings/{building_id}", "community:read"),
)
PATH_PARAMS: dict[str, str] = {"building_id": "dashboard_building"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """The test world's buildings: 1栋 in grid 1, 2栋 (the parent of grid 2's room's unit) outside."""
    inside["dashboard_building"] = world.building.id
    unit = session.get(Region, world.other_room.parent_id)
    assert unit is not None
    outside["dashboard_building"] = unit.parent_id
