"""JSON routes of 一屏观社区: the dashboard of a region and the drill-down to a building."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from cityos.community.dashboard import service
from cityos.community.dashboard.schemas import BuildingRead, DashboardRead
from cityos.core.http import DbSession
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1", tags=["community"])


@router.get("/community-dashboard", response_model=DashboardRead)
def get_dashboard(
    session: DbSession,
    actor: CurrentActor,
    region_id: Annotated[int | None, Query(ge=1, description="Default: your scope")] = None,
) -> DashboardRead:
    """人地事物情 of a region in your area (``community:read``): population structure and special
    groups (counts), buildings for the 3D map, open cases, device states and the parts' KPIs."""
    return DashboardRead.model_validate(service.dashboard(session, actor, region_id=region_id))


@router.get("/community-dashboard/buildings/{building_id}", response_model=BuildingRead)
def get_building(building_id: Annotated[int, Path(ge=1)], session: DbSession, actor: CurrentActor) -> BuildingRead:
    """A building's units and rooms with occupancy; residents by masked name for ``person:read``
    holders. Audited."""
    return BuildingRead.model_validate(service.building(session, actor, building_id=building_id))
