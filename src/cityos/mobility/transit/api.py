"""JSON routes of mobility.transit: feeds (list: traffic:read; import by upload: traffic:manage),
routes with their on-time and headway statistics, a stop's observed arrivals (traffic:read)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from cityos.core.errors import FieldError, Invalid
from cityos.core.http import DbSession
from cityos.identity.deps import CurrentActor
from cityos.mobility.transit import performance, service
from cityos.mobility.transit.adherence import finite
from cityos.mobility.transit.models import TransitFeed, TransitRoute
from cityos.mobility.transit.schemas import ArrivalRead, FeedRead, RouteStatsRead, StopArrivalsRead, StopRead

router = APIRouter(prefix="/api/v1/mobility/transit", tags=["mobility"])

MAX_UPLOAD = 200 * 1024 * 1024
Start = Annotated[datetime | None, Query(description="ISO 8601 with a zone; default: 24 hours before end")]
End = Annotated[datetime | None, Query(description="ISO 8601 with a zone; default: now")]


@router.get("/feeds", response_model=list[FeedRead])
def list_feeds(session: DbSession, actor: CurrentActor) -> list[TransitFeed]:
    return service.list_feeds(session, actor)


@router.post("/feeds", response_model=FeedRead, status_code=201)
def import_feed(
    session: DbSession,
    actor: CurrentActor,
    file: Annotated[UploadFile | None, File()] = None,
    code: Annotated[str | None, Form()] = None,
    name: Annotated[str | None, Form()] = None,
) -> TransitFeed:
    """Imports (or replaces) the feed ``code`` from an uploaded GTFS zip (multipart form)."""
    actor.require(service.MANAGE)  # before looking at the form: a refusal does not depend on it
    if file is None:  # every missing part at once
        errors = [FieldError("file", service.MSG_NO_FILE)]
        if not service.CODE_RE.match(code or ""):
            errors.append(FieldError("code", service.MSG_CODE))
        raise Invalid(details=errors)
    with tempfile.TemporaryDirectory(prefix="cityos-gtfs-") as tmp:
        path = Path(tmp) / "feed.zip"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, length=1024 * 1024)
        if path.stat().st_size > MAX_UPLOAD:
            raise Invalid(details=[FieldError("file", service.MSG_TOO_LARGE)])
        return service.import_gtfs(session, actor, path=path, code=code or "", name=name, source_ref=file.filename)


@router.get("/feeds/{feed_code}", response_model=FeedRead)
def get_feed(feed_code: str, session: DbSession, actor: CurrentActor) -> TransitFeed:
    return service.get_feed(session, actor, feed_code)


@router.get("/feeds/{feed_code}/routes", response_model=list[RouteStatsRead])
def routes(
    feed_code: str, session: DbSession, actor: CurrentActor, start: Start = None, end: End = None
) -> list[RouteStatsRead]:
    perf = performance.performance(session, actor, feed_code=feed_code, start=start, end=end)
    return route_stats(perf, service.list_routes(session, actor, perf.feed))


def route_stats(perf: performance.Performance, routes: list[TransitRoute]) -> list[RouteStatsRead]:
    stats = {r["route_id"]: r for r in perf.routes.iter_rows(named=True)}
    out = []
    for r in routes:
        s = stats.get(r.route_id, {})
        out.append(
            RouteStatsRead(
                id=r.id,
                route_id=r.route_id,
                short_name=r.short_name,
                long_name=r.long_name,
                route_type=r.route_type,
                color=r.color,
                arrivals=int(s.get("arrivals") or 0),
                trips=int(s.get("trips") or 0),
                on_time_share=finite(s.get("on_time_share")),
                mean_delay_s=finite(s.get("mean_delay_s")),
                p90_delay_s=finite(s.get("p90_delay_s")),
                mean_headway_s=finite(s.get("mean_headway_s")),
                headway_cv=finite(s.get("headway_cv")),
                bunched_share=finite(s.get("bunched_share")),
            )
        )
    return out


@router.get("/feeds/{feed_code}/stops/{stop_id}/arrivals", response_model=StopArrivalsRead)
def stop_arrivals(
    feed_code: str, stop_id: str, session: DbSession, actor: CurrentActor, start: Start = None, end: End = None
) -> StopArrivalsRead:
    start, end = performance.window(start, end)
    stop, rows = performance.stop_arrivals(session, actor, feed_code=feed_code, stop_id=stop_id, start=start, end=end)
    return StopArrivalsRead(
        stop=StopRead.model_validate(stop),
        start=start,
        end=end,
        arrivals=[ArrivalRead.model_validate(r) for r in rows.iter_rows(named=True)],
    )
