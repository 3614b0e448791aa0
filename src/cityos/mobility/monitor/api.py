"""JSON routes of mobility.monitor: the map's segment states, the vital signs, a segment's
history and forecasts (traffic:read), and corridors (reading: traffic:read; writing: traffic:manage)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from cityos.core.errors import FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.identity.deps import CurrentActor
from cityos.mobility.monitor import corridors, queries
from cityos.mobility.monitor.models import TrafficCorridor
from cityos.mobility.monitor.schemas import (
    CorridorCreate,
    CorridorRead,
    CorridorUpdate,
    ForecastRead,
    SegmentDetail,
    StateRead,
    VitalRead,
)

router = APIRouter(prefix="/api/v1/mobility", tags=["mobility"])
# Path parameters carry the record's kind in their name (the permission matrix maps them by name).

MSG_AT = N_("Give a time in ISO 8601, e.g. 2026-12-01T08:00:00+08:00.")


def parse_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(details=[FieldError("at", MSG_AT)]) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@router.get("/states")
def segment_states(session: DbSession, actor: CurrentActor, at: Annotated[str | None, Query()] = None) -> JSONResponse:
    body = queries.states_geojson(session, actor, at=parse_at(at))
    return JSONResponse(body, media_type="application/geo+json", headers={"Cache-Control": "private, max-age=30"})


@router.get("/vitals", response_model=list[VitalRead])
def vital_signs(
    session: DbSession,
    actor: CurrentActor,
    level: Annotated[str, Query()] = "city",
    area: Annotated[str | None, Query()] = None,
    hours: Annotated[int, Query()] = 24,
) -> list[Any]:
    return queries.vitals(session, actor, level=level, area=area, hours=hours)


@router.get("/segments/{road_segment_id}", response_model=SegmentDetail)
def segment(
    road_segment_id: str, session: DbSession, actor: CurrentActor, hours: Annotated[int, Query()] = 24
) -> SegmentDetail:
    view = queries.segment_detail(session, actor, segment_id=road_segment_id, hours=hours)
    s = view.segment
    return SegmentDetail(
        network_code=view.network_code,
        segment_id=s["segment_id"],
        road_class=s["road_class"],
        length_m=s["length_m"],
        lanes=s["lanes"],
        free_speed_kmh=s["free_speed_kmh"],
        history=[StateRead.model_validate(h) for h in view.history],
        forecasts=[ForecastRead.model_validate(f) for f in view.forecasts],
        mae_kmh={h: v[0] for h, v in view.mae.items()},
        mae_samples={h: v[1] for h, v in view.mae.items()},
    )


@router.get("/corridors", response_model=list[CorridorRead])
def list_corridors(session: DbSession, actor: CurrentActor) -> list[TrafficCorridor]:
    return corridors.list_corridors(session, actor)


@router.post("/corridors", response_model=CorridorRead, status_code=201)
def create_corridor(body: CorridorCreate, session: DbSession, actor: CurrentActor) -> TrafficCorridor:
    return corridors.create_corridor(session, actor, data=body)


@router.get("/corridors/{corridor_code}", response_model=CorridorRead)
def get_corridor(corridor_code: str, session: DbSession, actor: CurrentActor) -> TrafficCorridor:
    return corridors.get_corridor(session, actor, corridor_code)


@router.patch("/corridors/{corridor_code}", response_model=CorridorRead)
def update_corridor(
    corridor_code: str, body: CorridorUpdate, session: DbSession, actor: CurrentActor
) -> TrafficCorridor:
    return corridors.update_corridor(session, actor, code=corridor_code, data=body)


@router.delete("/corridors/{corridor_code}", status_code=204)
def delete_corridor(corridor_code: str, session: DbSession, actor: CurrentActor) -> Response:
    corridors.delete_corridor(session, actor, code=corridor_code)
    return Response(status_code=204)
