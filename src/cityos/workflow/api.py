"""JSON routes of the process engine: definitions and the working-day calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import Response

from cityos.core.errors import NotFound
from cityos.core.http import DbSession
from cityos.identity.deps import CurrentActor
from cityos.workflow import service
from cityos.workflow.models import ProcessDefinition
from cityos.workflow.schemas import CalendarDayIn, CalendarDayRead, CalendarYearRead, DefinitionRead

router = APIRouter(prefix="/api/v1", tags=["workflow"])


@router.get("/processes", response_model=list[DefinitionRead])
def list_definitions(session: DbSession, actor: CurrentActor) -> list[ProcessDefinition]:
    """Every version of every process definition, newest first per key."""
    return service.list_definitions(session, actor)


@router.post("/processes", response_model=DefinitionRead, status_code=201)
def save_definition(
    session: DbSession, actor: CurrentActor, spec: Annotated[dict[str, Any], Body()]
) -> ProcessDefinition:
    """Store a new version; unreachable states, dead ends and unknown states are refused (422)."""
    return service.save_definition(session, actor, spec)


@router.get("/processes/{key}", response_model=DefinitionRead)
def get_definition(
    key: Annotated[str, Path(max_length=64)], session: DbSession, actor: CurrentActor
) -> ProcessDefinition:
    actor.require("process:read")
    row = service.active_definition(session, key)
    if row is None:
        raise NotFound()
    return row


@router.get("/calendar/{year}", response_model=CalendarYearRead)
def get_calendar(
    year: Annotated[int, Path(ge=2000, le=2100)], session: DbSession, actor: CurrentActor
) -> CalendarYearRead:
    days, official = service.calendar_year(session, actor, year)
    return CalendarYearRead(year=year, official=official, exceptions=[CalendarDayRead.model_validate(d) for d in days])


@router.put("/calendar/days/{day}", response_model=CalendarDayRead | None)
def set_calendar_day(
    day: date, body: CalendarDayIn, session: DbSession, actor: CurrentActor
) -> CalendarDayRead | Response:
    """Make a day a working day or a day off (for a notice not yet in the shipped data)."""
    row = service.set_calendar_day(session, actor, day=day, workday=body.workday, name=body.name)
    if row is None:
        return Response(status_code=204)
    return CalendarDayRead.model_validate(row)
