"""JSON routes of places: the region tree, its shapes and locate(point)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cityos.core.http import DbSession
from cityos.core.pagination import PageQuery
from cityos.identity.deps import CurrentActor
from cityos.places import service
from cityos.places.models import Region, RegionLevel
from cityos.places.schemas import GeometryIn, RegionChild, RegionCreate, RegionPage, RegionRead, RegionUpdate

router = APIRouter(prefix="/api/v1", tags=["places"])


@router.get("/regions/locate", response_model=RegionRead)
def locate_region(
    session: DbSession,
    actor: CurrentActor,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> Region:
    """The deepest region of your area containing the point; 404 when none does."""
    return service.locate(session, actor, lon=lon, lat=lat)


@router.get("/regions/search", response_model=list[RegionRead])
def search_regions(
    session: DbSession,
    actor: CurrentActor,
    q: Annotated[str, Query(min_length=1, max_length=64)],
    level: RegionLevel | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Region]:
    return service.search(session, actor, q, level=level.value if level else None, limit=limit)


@router.post("/regions", response_model=RegionRead, status_code=201)
def create_region(body: RegionCreate, session: DbSession, actor: CurrentActor) -> Region:
    return service.create_region(
        session,
        actor,
        parent_id=body.parent_id,
        level=body.level.value,
        code=body.code,
        name=body.name,
        geometry=body.geometry.model_dump() if body.geometry else None,
        attrs=body.attrs,
    )


@router.get("/regions/{region_id}", response_model=RegionRead)
def get_region(region_id: int, session: DbSession, actor: CurrentActor) -> Region:
    return service.get_region(session, actor, region_id)


@router.patch("/regions/{region_id}", response_model=RegionRead)
def update_region(region_id: int, body: RegionUpdate, session: DbSession, actor: CurrentActor) -> Region:
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = body.name
    if "attrs" in given:
        changes["attrs"] = body.attrs
    if "geometry" in given:
        changes["geometry"] = body.geometry.model_dump() if body.geometry else None
    return service.update_region(session, actor, region_id=region_id, **changes)


@router.put("/regions/{region_id}/geometry", response_model=RegionRead)
def put_geometry(region_id: int, body: GeometryIn, session: DbSession, actor: CurrentActor) -> Region:
    return service.set_geometry(session, actor, region_id=region_id, geometry=body.model_dump())


@router.delete("/regions/{region_id}/geometry", response_model=RegionRead)
def delete_geometry(region_id: int, session: DbSession, actor: CurrentActor) -> Region:
    return service.set_geometry(session, actor, region_id=region_id, geometry=None)


@router.get("/regions/{region_id}/children", response_model=RegionPage)
def list_children(region_id: int, session: DbSession, actor: CurrentActor, params: PageQuery) -> RegionPage:
    page = service.children(session, actor, region_id, params)
    items = [
        RegionChild.model_validate(r).model_copy(update={"child_count": page.child_counts[r.id]}) for r in page.items
    ]
    return RegionPage(items=items, page=params.page, size=params.size, total=page.total)


@router.get("/regions/{region_id}/ancestors", response_model=list[RegionRead])
def list_ancestors(region_id: int, session: DbSession, actor: CurrentActor) -> list[Region]:
    """The region's ancestors inside your area, root first (the breadcrumb)."""
    return service.visible_ancestors(session, actor, region_id)


@router.get("/regions/{region_id}/geojson")
def region_geojson(region_id: int, session: DbSession, actor: CurrentActor) -> JSONResponse:
    """A FeatureCollection of the region (``focus: true``) and its children, for maps."""
    return JSONResponse(service.children_geojson(session, actor, region_id), media_type="application/geo+json")
