"""Pages of mobility.transit (traffic:read): ``/tocc/transit`` the feed's routes on a map with
their shapes and stops and a per-route on-time and headway chart; ``/tocc/transit/routes/{id}``
one route's stops with delays and headways and its day by the hour. Templates in
``web/templates/mobility/transit/``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.mobility.hubs.pages import day_window
from cityos.mobility.transit import adherence, performance, service
from cityos.mobility.transit.api import route_stats
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

TITLE = N_("Buses")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def when(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value / 60:.1f}"


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _colour(color: str | None, n: int) -> str:
    return f"#{color}" if color and len(color) == 6 else PALETTE[n % len(PALETTE)]


HELPERS: dict[str, Any] = {"when": when, "pct": pct, "minutes": minutes, "number": number}


@router.get("/tocc/transit", response_class=HTMLResponse)
def transit_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    feed: Annotated[str | None, Query()] = None,
    day: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    feeds = service.list_feeds(session, actor)
    chosen = next((f for f in feeds if f.code == feed), feeds[-1] if feeds else None)
    context: dict[str, Any] = {"feeds": feeds, "feed": chosen, "routes": [], "data": {}, **HELPERS}
    if chosen is not None:
        start, end = day_window(day)
        perf = performance.performance(session, actor, feed_code=chosen.code, start=start, end=end)
        rows = route_stats(perf, service.list_routes(session, actor, chosen))
        shapes = service.route_shapes(session, chosen)
        colours = {r.route_id: _colour(r.color, n) for n, r in enumerate(rows)}
        features = [
            {
                "type": "Feature",
                "geometry": g,
                "properties": {"id": r.id, "name": r.short_name or r.route_id, "colour": colours[r.route_id]},
            }
            for r in rows
            for g in shapes.get(r.route_id, [])
        ]
        stops = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                "properties": {"name": s.name},
            }
            for s in service.feed_stops(session, chosen)[:3000]
        ]
        charted = [r for r in rows if r.arrivals]
        context.update(
            routes=rows,
            colours=colours,
            start=perf.start,
            end=perf.end,
            data={
                "lines": {"type": "FeatureCollection", "features": features},
                "stops": {"type": "FeatureCollection", "features": stops},
                "chart": {
                    "names": [r.short_name or r.route_id for r in charted],
                    "on_time": [None if r.on_time_share is None else round(r.on_time_share * 100, 1) for r in charted],
                    "cv": [None if r.headway_cv is None else round(r.headway_cv, 3) for r in charted],
                },
            },
        )
    return render(request, "mobility/transit/transit.html", context)


@router.get("/tocc/transit/routes/{route_pk}", response_class=HTMLResponse)
def route_page(
    request: Request, route_pk: int, session: DbSession, actor: PageActor, day: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    feed, route = service.get_route(session, actor, route_pk)
    start, end = day_window(day)
    perf = performance.performance(session, actor, feed_code=feed.code, route_id=route.route_id, start=start, end=end)
    stops = service.route_stops(session, feed, route.route_id)
    delays = {
        r["stop_id"]: r
        for r in perf.arrivals.group_by("stop_id")
        .agg(
            pl.len().alias("arrivals"),
            pl.col("delay_s").mean().alias("mean_delay_s"),
            pl.col("on_time").mean().alias("on_time_share"),
        )
        .iter_rows(named=True)
    }
    heads = {r["stop_id"]: r for r in perf.headways.iter_rows(named=True)}
    summary = next(iter(perf.routes.iter_rows(named=True)), {})
    hours = adherence.hourly(perf.arrivals, get_settings().timezone)
    colour = _colour(route.color, 0)
    shapes = service.route_shapes(session, feed, [route.route_id]).get(route.route_id, [])
    data = {
        "lines": {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": g, "properties": {"colour": colour}} for g in shapes],
        },
        "stops": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                    "properties": {"name": s["name"]},
                }
                for s in stops
            ],
        },
        "hours": {
            "labels": [h.strftime("%H:%M") for h in hours["hour"].to_list()],
            "on_time": [round(v * 100, 1) for v in hours["on_time_share"].to_list()],
            "delay": [round(v / 60, 2) for v in hours["mean_delay_s"].to_list()],
        },
    }
    return render(
        request,
        "mobility/transit/route.html",
        {
            "feed": feed,
            "route": route,
            "stops": stops,
            "delays": delays,
            "heads": heads,
            "summary": summary,
            "start": perf.start,
            "end": perf.end,
            "data": data,
            **HELPERS,
        },
    )
