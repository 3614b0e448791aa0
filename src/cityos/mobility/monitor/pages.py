"""Pages of mobility.monitor, the traffic operations centre (交通运行监测, TOCC):

``/tocc`` the board — the map of segment states, the five vital signs with their 24-hour lines,
the alerts panel, refreshed every 30 s; ``/tocc/segments/{id}`` one segment's history, sources
and forecasts; ``/tocc/corridors`` defining the corridors watched as one (traffic:manage).
Templates in ``web/templates/mobility/monitor/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.settings import get_settings
from cityos.mobility.monitor import corridors, queries
from cityos.mobility.monitor.models import HORIZONS_MIN, TrafficCorridor, VitalSign
from cityos.mobility.monitor.schemas import CorridorCreate, CorridorUpdate
from cityos.mobility.network import service as network
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

REFRESH_S = 30
STATE_TITLES: tuple[str, ...] = (
    N_("Free flow"),
    N_("Basically free"),
    N_("Light congestion"),
    N_("Moderate congestion"),
    N_("Severe congestion"),
)
MODEL_TITLES: dict[str, str] = {
    "learned": N_("Learned model"),
    "historical_average": N_("Historical average"),
    "last_value": N_("Last value"),
}
CLASS_TITLES: dict[str, str] = {
    "expressway": N_("Expressway"),
    "arterial": N_("Arterial"),
    "secondary": N_("Secondary road"),
    "branch": N_("Branch road"),
}


def when(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _series(rows: list[VitalSign], attr: str) -> list[list[Any]]:
    return [[when(r.bin_start, "%H:%M"), getattr(r, attr)] for r in rows]


def vital_tiles(rows: list[VitalSign]) -> list[dict[str, Any]]:
    """The five tiles: the latest bin's values and the 24-hour line of each."""
    last = rows[-1] if rows else None

    def val(attr: str) -> Any:
        return getattr(last, attr) if last is not None else None

    band = val("tpi_band")
    return [
        {
            "key": "volume",
            "title": translate(N_("Traffic volume")),
            "value": _num(val("vkt_km"), 0),
            "unit": translate(N_("vehicle-km")),
            "detail": translate(
                N_("{vehicles} vehicles counted, {probes} probe fixes"),
                vehicles=_num(val("vehicles"), 0),
                probes=_num(val("probe_points"), 0),
            ),
            "series": _series(rows, "vkt_km"),
        },
        {
            "key": "tpi",
            "title": translate(N_("Congestion")),
            "value": _num(val("tpi")),
            "unit": "TPI",
            "detail": translate(N_("TTI {tti}, {band}"), tti=_num(val("tti"), 2), band=_band(band)),
            "band": band,
            "series": _series(rows, "tpi"),
        },
        {
            "key": "arterial",
            "title": translate(N_("Arterial mean speed")),
            "value": _num(val("arterial_speed_kmh")),
            "unit": "km/h",
            "detail": "",
            "series": _series(rows, "arterial_speed_kmh"),
        },
        {
            "key": "expressway",
            "title": translate(N_("Expressway mean speed")),
            "value": _num(val("expressway_speed_kmh")),
            "unit": "km/h",
            "detail": "",
            "series": _series(rows, "expressway_speed_kmh"),
        },
        {
            "key": "safety",
            "title": translate(N_("Safety index")),
            "value": _num(val("safety_index"), 2),
            "unit": translate(N_("incidents per million vehicle-km")),
            "detail": translate(N_("{n} traffic incidents in the bin"), n=_num(val("incidents"), 0)),
            "series": _series(rows, "safety_index"),
        },
    ]


def _band(band: int | None) -> str:
    return translate(STATE_TITLES[band - 1]) if band else "—"


def _board(session: Session, actor: Actor, level: str | None, area: str | None) -> dict[str, Any]:
    actor.require(queries.PERMISSION)
    choices = queries.area_choices(session, actor)
    try:
        level, area = queries.check_area(session, actor, level, area)
    except Invalid:
        level, area = "city", "city"  # an unknown area on the page: the whole city
    rows = queries.vitals(session, actor, level=level, area=area, hours=24)
    net = network.active_network(session)
    latest = queries.latest_bin(session, net.code) if net is not None else None
    return {
        "choices": choices,
        "level": level,
        "area": area,
        "tiles": vital_tiles(rows),
        "latest": latest,
        "network": net,
        "refresh_s": REFRESH_S,
        "state_titles": STATE_TITLES,
        "state_colours": queries.STATE_COLOURS,
        "no_data_colour": queries.NO_DATA_COLOUR,
        "when": when,
    }


@router.get("/tocc", response_class=HTMLResponse)
def board(
    request: Request,
    session: DbSession,
    actor: PageActor,
    level: Annotated[str | None, Query()] = None,
    area: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    return render(request, "mobility/monitor/board.html", _board(session, actor, level, area))


@router.get("/tocc/live", response_class=HTMLResponse)
def board_live(
    request: Request,
    session: DbSession,
    actor: PageActor,
    level: Annotated[str | None, Query()] = None,
    area: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The refreshed part of the board (tiles and the latest bin), swapped in by htmx."""
    return render(request, "mobility/monitor/_live.html", _board(session, actor, level, area))


@router.get("/tocc/segments/{segment_id}", response_class=HTMLResponse)
def segment_page(segment_id: str, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    view = queries.segment_detail(session, actor, segment_id=segment_id, hours=24)
    history = [
        {
            "t": when(h.bin_start, "%H:%M"),
            "speed": h.speed_kmh,
            "state": h.state,
            "probe": h.probe_speed,
            "loop": h.loop_speed,
            "nav": h.nav_speed,
        }
        for h in view.history
    ]
    return render(
        request,
        "mobility/monitor/segment.html",
        {
            "view": view,
            "seg": view.segment,
            "history": history,
            "last": next((h for h in reversed(view.history) if h.speed_kmh is not None), None),
            "horizons": HORIZONS_MIN,
            "state_titles": STATE_TITLES,
            "state_colours": queries.STATE_COLOURS,
            "model_titles": MODEL_TITLES,
            "class_titles": CLASS_TITLES,
            "when": when,
            "num": _num,
        },
    )


def _ids(text: str) -> list[Any]:
    return [p for p in text.replace(",", " ").replace("，", " ").split() if p]


def _corridors_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    editing: TrafficCorridor | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor.require("traffic:manage")
    if values is None and editing is not None:
        values = {
            "code": editing.code,
            "name": editing.name,
            "name_en": editing.name_en or "",
            "segment_ids": " ".join(editing.segment_ids),
            "active": "1" if editing.active else "",
        }
    return render(
        request,
        "mobility/monitor/corridors.html",
        {
            "corridors": corridors.list_corridors(session, actor),
            "editing": editing,
            "values": values or {"active": "1"},
            "errors": errors or {},
            "when": when,
        },
        status_code=status_code,
    )


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


@router.get("/tocc/corridors", response_class=HTMLResponse)
def corridor_list(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _corridors_page(request, session, actor)


@router.post("/tocc/corridors", response_class=HTMLResponse)
async def corridor_create(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    try:
        corridors.create_corridor(
            session,
            actor,
            data=CorridorCreate(
                code=raw.get("code", "").strip(),
                name=raw.get("name", ""),
                name_en=raw.get("name_en") or None,
                segment_ids=_ids(raw.get("segment_ids", "")),
                active=bool(raw.get("active")),
            ),
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        errors = {k.split(".")[0]: v for k, v in reversed(list(errors.items()))}
        return _corridors_page(request, session, actor, values=raw, errors=errors, status_code=exc.status_code)
    return RedirectResponse("/tocc/corridors", status_code=303)


@router.get("/tocc/corridors/{code}", response_class=HTMLResponse)
def corridor_edit(code: str, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _corridors_page(request, session, actor, editing=corridors.get_corridor(session, actor, code))


@router.post("/tocc/corridors/{code}", response_class=HTMLResponse)
async def corridor_update(code: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    if raw.get("delete"):
        corridors.delete_corridor(session, actor, code=code)
        return RedirectResponse("/tocc/corridors", status_code=303)
    try:
        corridors.update_corridor(
            session,
            actor,
            code=code,
            data=CorridorUpdate(
                name=raw.get("name", ""),
                name_en=raw.get("name_en", ""),
                segment_ids=_ids(raw.get("segment_ids", "")),
                active=bool(raw.get("active")),
            ),
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        errors = {k.split(".")[0]: v for k, v in reversed(list(errors.items()))}
        editing = corridors.get_corridor(session, actor, code)
        return _corridors_page(
            request, session, actor, editing=editing, values=raw, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse("/tocc/corridors", status_code=303)
