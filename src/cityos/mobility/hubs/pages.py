"""Pages of mobility.hubs (traffic:read): ``/tocc/hubs`` the hubs in the actor's area on a map;
``/tocc/hubs/{code}`` a hub's last 24 hours: stacked per-minute arrivals by mode, empty taxis
against the taxi queue, mode share, and where taxi and ride-hailing passengers came from and
went. Templates in ``web/templates/mobility/hubs/``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.settings import get_settings
from cityos.mobility.hubs import flow, kernels, service
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

KIND_TITLES: dict[str, str] = {
    "rail": N_("Railway station"),
    "airport": N_("Airport"),
    "coach": N_("Coach station"),
    "metro": N_("Metro station"),
}
MODE_TITLES: dict[str, str] = {
    "metro": N_("Metro"),
    "bus": N_("Bus"),
    "taxi": N_("Taxi"),
    "ridehail": N_("Ride-hailing"),
    "car": N_("Private car"),
    "pedestrian": N_("On foot"),
}
MODE_COLOURS = {
    "metro": "#0b5cad",
    "bus": "#12805c",
    "taxi": "#edc948",
    "ridehail": "#f28e2b",
    "car": "#8a8f98",
    "pedestrian": "#b07aa1",
}


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%m-%d %H:%M")


@router.get("/tocc/hubs", response_class=HTMLResponse)
def hubs_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    hubs = service.list_hubs(session, actor)
    points = [
        {"code": h.code, "name": h.name, "kind": translate(KIND_TITLES[h.kind]), "lon": h.lon, "lat": h.lat}
        for h in hubs
    ]
    return render(
        request,
        "mobility/hubs/list.html",
        {"hubs": hubs, "kind_titles": KIND_TITLES, "data": {"points": points}},
    )


def _minutes(f: flow.HubFlow) -> dict[str, Any]:
    """A dense minute axis in the city's time and, per mode, the arrivals of each minute."""
    tz = get_settings().timezone
    count = int((f.end - f.start).total_seconds() // 60)
    first = f.start.replace(second=0, microsecond=0)
    axis = pl.DataFrame({"minute": pl.datetime_range(first, first + timedelta(minutes=count - 1), "1m", eager=True)})
    axis = axis.with_columns(pl.col("minute").dt.cast_time_unit("us").dt.convert_time_zone("UTC"))
    series = []
    for mode in kernels.MODES:
        rows = f.arrivals.filter(pl.col("mode") == mode)
        if rows.is_empty():
            continue
        dense = axis.join(rows.select("minute", "arrivals"), on="minute", how="left").fill_null(0.0)
        series.append(
            {
                "name": translate(MODE_TITLES[mode]),
                "colour": MODE_COLOURS[mode],
                "data": [round(v, 2) for v in dense["arrivals"].to_list()],
            }
        )
    supply = axis.join(f.supply.select("minute", "empty_taxis", "waiting"), on="minute", how="left").fill_null(0)
    labels = axis["minute"].dt.convert_time_zone(tz).dt.strftime("%H:%M").to_list()
    return {
        "labels": labels,
        "series": series,
        "supply": {"empty": supply["empty_taxis"].to_list(), "waiting": supply["waiting"].to_list()},
    }


def day_window(day: str | None) -> tuple[datetime | None, datetime | None]:
    """``YYYY-MM-DD``: that whole day in the city's time; anything else: the last 24 hours."""
    try:
        chosen = date.fromisoformat(day) if day else None
    except ValueError:
        chosen = None
    if chosen is None:
        return None, None
    start = datetime.combine(chosen, datetime.min.time(), tzinfo=ZoneInfo(get_settings().timezone))
    return start, start + timedelta(days=1)


@router.get("/tocc/hubs/{code}", response_class=HTMLResponse)
def hub_page(
    request: Request, code: str, session: DbSession, actor: PageActor, day: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    start, end = day_window(day)
    f = flow.flow(session, actor, hub_code=code, start=start, end=end)
    share = [
        {
            "name": translate(MODE_TITLES.get(r["mode"], r["mode"])),
            "value": round(r["total"]),
            "colour": MODE_COLOURS.get(r["mode"], "#4e79a7"),
        }
        for r in f.mode_share.iter_rows(named=True)
    ]
    places = {
        "origins": f.origins.head(12).to_dicts(),
        "destinations": f.destinations.head(12).to_dicts(),
    }
    shortage = f.supply.filter(pl.col("shortage"))
    data = {
        **_minutes(f),
        "share": share,
        "places": places,
        "hub": {"lon": f.hub.lon, "lat": f.hub.lat, "name": f.hub.name, "radius_m": f.hub.radius_m},
    }
    return render(
        request,
        "mobility/hubs/hub.html",
        {
            "hub": f.hub,
            "flow": f,
            "kind_titles": KIND_TITLES,
            "mode_titles": MODE_TITLES,
            "shares": f.mode_share.to_dicts(),
            "shortage_minutes": shortage.height,
            "peak_waiting": int(f.supply["waiting"].cast(pl.Int64).max() or 0) if f.supply.height else 0,  # type: ignore[arg-type]
            "when": when,
            "data": data,
        },
    )
