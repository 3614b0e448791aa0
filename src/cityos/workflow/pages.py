"""Administration pages of the process engine: definitions (view, upload a new version) and the
working-day calendar."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.core.errors import Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render
from cityos.workflow import service
from cityos.workflow.spec import ProcessSpec

router = APIRouter(include_in_schema=False)

UNIT_LABELS = {
    "working_hours": N_("working hours"),
    "working_days": N_("working days"),
    "hours": N_("hours"),
    "days": N_("days"),
}
MSG_JSON = N_("This is not valid JSON: {error}")


def _list(
    request: Request, session: Any, actor: Any, *, errors: list[str], text: str, status_code: int = 200
) -> HTMLResponse:
    rows = service.list_definitions(session, actor)
    latest: dict[str, Any] = {}
    for row in rows:
        latest.setdefault(row.key, row)
    return render(
        request,
        "workflow/processes.html",
        {
            "definitions": list(latest.values()),
            "all": rows,
            "errors": errors,
            "text": text,
            "can_write": actor.can("process:write"),
        },
        status_code=status_code,
    )


@router.get("/admin/processes", response_class=HTMLResponse)
def processes(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _list(request, session, actor, errors=[], text="")


@router.post("/admin/processes", response_class=HTMLResponse)
def upload(
    request: Request, session: DbSession, actor: PageActor, spec: Annotated[str, Form(max_length=200_000)] = ""
) -> Response:
    """A new version from pasted JSON; every problem is listed and nothing is stored."""
    try:
        raw = json.loads(spec)
    except json.JSONDecodeError as exc:
        return _list(request, session, actor, errors=[translate(MSG_JSON, error=str(exc))], text=spec, status_code=422)
    try:
        row = service.save_definition(session, actor, raw)
    except Invalid as exc:
        refused(request, session, actor, exc)
        messages = [f"{d.field}: {translate(d.message, **d.params)}" for d in exc.details]
        return _list(request, session, actor, errors=messages, text=spec, status_code=422)
    return RedirectResponse(f"/admin/processes/{row.key}", status_code=303)


@router.get("/admin/processes/{key}", response_class=HTMLResponse)
def process_page(key: str, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    actor.require("process:read")
    row = service.active_definition(session, key)
    assert row is not None
    spec = ProcessSpec.model_validate(row.spec)
    versions = [d for d in service.list_definitions(session, actor) if d.key == key]
    return render(
        request,
        "workflow/process.html",
        {
            "definition": row,
            "spec": spec,
            "versions": versions,
            "json": json.dumps(row.spec, ensure_ascii=False, indent=2),
            "unit_labels": UNIT_LABELS,
        },
    )


@router.get("/admin/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    year: Annotated[int, Query(ge=2000, le=2100)] = 0,
) -> HTMLResponse:
    year = year or date.today().year
    days, official = service.calendar_year(session, actor, year)
    return render(
        request,
        "workflow/calendar.html",
        {"year": year, "days": days, "official": official, "can_write": actor.can("process:write"), "errors": {}},
    )


@router.post("/admin/calendar", response_class=HTMLResponse)
def calendar_set(
    request: Request,
    session: DbSession,
    actor: PageActor,
    day: Annotated[str, Form(max_length=10)] = "",
    workday: Annotated[str, Form(max_length=1)] = "0",
    name: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        when = date.fromisoformat(day)
    except ValueError:
        days, official = service.calendar_year(session, actor, date.today().year)
        context = {
            "year": date.today().year,
            "days": days,
            "official": official,
            "can_write": True,
            "errors": {"day": translate("Must be a date like 2024-05-01.")},
        }
        return render(request, "workflow/calendar.html", context, status_code=422)
    service.set_calendar_day(session, actor, day=when, workday=workday == "1", name=name)
    return RedirectResponse(f"/admin/calendar?year={when.year}", status_code=303)
