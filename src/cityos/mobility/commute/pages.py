"""The commute page ``/tocc/commute`` (traffic:read): the peak corridor map (line width = flow,
AM/PM toggle), the OD heat map and the per-district average commute against the reference.
Templates in ``web/templates/mobility/commute/``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.mobility.commute import analysis, corridors, service
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

HEAT_ZONES = 20  # the OD heat map shows the busiest zones only


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a bad day in the address shows the latest day, as none does


def _heat(m: analysis.OdMatrix) -> dict[str, Any]:
    """The OD matrix as heat-map cells over the busiest zones (ECharts: [x=dest, y=origin, trips])."""
    weight: dict[str, int] = {}
    for p in m.pairs:
        weight[p.origin] = weight.get(p.origin, 0) + p.trips
        weight[p.dest] = weight.get(p.dest, 0) + p.trips
    keys = sorted(weight, key=lambda k: (-weight[k], k))[:HEAT_ZONES]
    index = {k: i for i, k in enumerate(keys)}
    cells = [
        [index[p.dest], index[p.origin], p.trips, p.mean_minutes, p.mean_km]
        for p in m.pairs
        if p.origin in index and p.dest in index
    ]
    names = [m.zones[k].name if k in m.zones else k for k in keys]
    return {"zones": names, "cells": cells, "max": max((c[2] for c in cells), default=0)}


@router.get("/tocc/commute", response_class=HTMLResponse)
def commute_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    day: Annotated[str | None, Query()] = None,
    peak: Annotated[str, Query()] = "am",
) -> HTMLResponse:
    actor.require(service.READ)
    peak = peak if peak in ("am", "pm") else "am"
    chosen = _day(day)
    win = analysis.window(session, day=chosen)
    by_peak: dict[str, Any] = {}
    heat: dict[str, Any] = {}
    level = "district"
    for p in ("am", "pm"):
        c = corridors.corridors(session, actor, day=win.day, peak=p, level="auto")
        level = c.level if p == "am" else level
        by_peak[p] = c.collection
        heat[p] = _heat(analysis.od_matrix(session, actor, day=win.day, peak=p, level=c.level))
    districts = analysis.district_commutes(session, actor, day=win.day)
    ref = districts.reference
    return render(
        request,
        "mobility/commute/commute.html",
        {
            "day": win.day,
            "peak": peak,
            "level": level,
            "corridors": by_peak,
            "heat": heat,
            "districts": [vars(d) for d in districts.districts],
            "reference": {"label": translate(ref.label), "minutes": ref.minutes, "km": ref.km, "source": ref.source},
            "labels": {
                "trips": translate("Trips"),
                "minutes": translate("Mean time (min)"),
                "km": translate("Mean distance (km)"),
                "origin": translate("Origin"),
                "dest": translate("Destination"),
            },
        },
    )
