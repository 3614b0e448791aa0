"""GTFS feeds in the database: import (idempotent per code), list, read routes, stops and shapes.

The analysis of bus positions against a feed (stop arrivals, schedule adherence, headways) is in
``performance.py``; its kernels in ``adherence.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h3
import polars as pl
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.settings import get_settings

from .gtfs import read_feed
from .models import H3_RESOLUTION, TransitFeed, TransitRoute, TransitShape, TransitStop, TransitStopTime, TransitTrip

READ = "traffic:read"
MANAGE = "traffic:manage"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MSG_CODE = N_("Use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.")
MSG_NAME = N_("Give a name of 1 to 200 characters.")
MSG_NO_FEED = N_("No transit feed with this code.")
MSG_NO_ROUTE = N_("No such route.")
MSG_TOO_LARGE = N_("The file is larger than 200 MB.")
MSG_NO_FILE = N_("Choose a GTFS zip file.")
_CHUNK = 5000

Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def _check_names(code: str, name: str) -> None:
    errors: list[FieldError] = []
    if not CODE_RE.match(code or ""):
        errors.append(FieldError("code", MSG_CODE))
    if not (name or "").strip() or len(name.strip()) > 200:
        errors.append(FieldError("name", MSG_NAME))
    if errors:
        raise Invalid(details=errors)


def import_gtfs(
    session: Session,
    actor: Actor,
    *,
    path: Path | str,
    code: str,
    name: str | None = None,
    source_ref: str | None = None,
    progress: Progress = _no_progress,
) -> TransitFeed:
    """Reads and checks the feed, then stores it under ``code``, replacing that code's rows
    (``name`` None: the stored feed's name, or the code for a new one)."""
    actor.require(MANAGE)
    feed = session.scalar(select(TransitFeed).where(TransitFeed.code == code)) if isinstance(code, str) else None
    if name is None:
        name = feed.name if feed is not None else code
    _check_names(code, name)
    progress("read", 0, 1)
    tables = read_feed(path)
    progress("read", 1, 1)
    if feed is None:
        feed = TransitFeed(code=code, name=name.strip(), timezone="")
        session.add(feed)
    else:
        for model in (TransitStopTime, TransitTrip, TransitStop, TransitRoute, TransitShape):
            session.execute(delete(model).where(model.feed_id == feed.id))
    feed.name = name.strip()
    feed.source_ref = source_ref or Path(path).name
    feed.timezone = tables.timezone or get_settings().timezone
    feed.imported_at = utcnow()
    feed.routes, feed.stops, feed.trips = tables.routes.height, tables.stops.height, tables.trips.height
    feed.stop_times, feed.shapes = tables.stop_times.height, tables.shapes.height
    feed.warnings = tables.warnings
    session.flush()
    fid = feed.id
    stops = tables.stops.with_columns(
        pl.Series(
            "h3_cell",
            [
                h3.latlng_to_cell(la, lo, H3_RESOLUTION)
                for lo, la in zip(tables.stops["lon"], tables.stops["lat"], strict=True)
            ],
            dtype=pl.String,
        )
    )
    shapes = [
        {
            "feed_id": fid,
            "shape_id": r["shape_id"],
            "geometry": {"type": "LineString", "coordinates": r["coordinates"]},
            "length_m": r["length_m"],
            "derived": r["derived"],
        }
        for r in tables.shapes.iter_rows(named=True)
    ]
    progress("shapes", 0, len(shapes))
    for i in range(0, len(shapes), 500):
        session.execute(insert(TransitShape), shapes[i : i + 500])
    progress("shapes", len(shapes), len(shapes))
    steps: list[tuple[str, type[Any], pl.DataFrame]] = [
        ("routes", TransitRoute, tables.routes.with_columns(pl.col("color").replace("", None))),
        ("stops", TransitStop, stops),
        ("trips", TransitTrip, tables.trips),
        ("stop_times", TransitStopTime, tables.stop_times),
    ]
    for step, model, frame in steps:
        rows = frame.with_columns(pl.lit(fid).alias("feed_id"))
        total, done = rows.height, 0
        progress(step, 0, total)
        for chunk in rows.iter_slices(_CHUNK):
            session.execute(insert(model), chunk.to_dicts())
            done += chunk.height
            progress(step, done, total)
    session.flush()
    return feed


def list_feeds(session: Session, actor: Actor) -> list[TransitFeed]:
    actor.require(READ)
    return list(session.scalars(select(TransitFeed).order_by(TransitFeed.code)))


def get_feed(session: Session, actor: Actor, code: str) -> TransitFeed:
    actor.require(READ)
    feed = session.scalar(select(TransitFeed).where(TransitFeed.code == code))
    if feed is None:
        raise NotFound(MSG_NO_FEED)
    return feed


def delete_feed(session: Session, actor: Actor, code: str) -> None:
    actor.require(MANAGE)
    feed = get_feed(session, actor, code)
    for model in (TransitStopTime, TransitTrip, TransitStop, TransitRoute, TransitShape):
        session.execute(delete(model).where(model.feed_id == feed.id))
    session.delete(feed)
    session.flush()


def list_routes(session: Session, actor: Actor, feed: TransitFeed) -> list[TransitRoute]:
    actor.require(READ)
    return list(
        session.scalars(
            select(TransitRoute)
            .where(TransitRoute.feed_id == feed.id)
            .order_by(TransitRoute.short_name, TransitRoute.route_id)
        )
    )


def get_route(session: Session, actor: Actor, route_pk: int) -> tuple[TransitFeed, TransitRoute]:
    actor.require(READ)
    route = session.get(TransitRoute, route_pk)
    if route is None:
        raise NotFound(MSG_NO_ROUTE)
    feed = session.get(TransitFeed, route.feed_id)
    assert feed is not None
    return feed, route


def route_shapes(
    session: Session, feed: TransitFeed, route_ids: list[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """route_id -> the GeoJSON lines of the shapes its trips use."""
    q = (
        select(TransitTrip.route_id, TransitTrip.shape_id)
        .where(TransitTrip.feed_id == feed.id, TransitTrip.shape_id.is_not(None))
        .distinct()
    )
    if route_ids is not None:
        q = q.where(TransitTrip.route_id.in_(route_ids))
    pairs = session.execute(q).all()
    wanted = sorted({p.shape_id for p in pairs})
    geoms: dict[str, dict[str, Any]] = {}
    for i in range(0, len(wanted), 500):
        for s in session.execute(
            select(TransitShape.shape_id, TransitShape.geometry).where(
                TransitShape.feed_id == feed.id, TransitShape.shape_id.in_(wanted[i : i + 500])
            )
        ):
            geoms[s.shape_id] = s.geometry
    out: dict[str, list[dict[str, Any]]] = {}
    for p in pairs:
        if p.shape_id in geoms:
            out.setdefault(p.route_id, []).append(geoms[p.shape_id])
    return out


def route_stops(session: Session, feed: TransitFeed, route_id: str) -> list[dict[str, Any]]:
    """The stops of the route's longest trip in each direction, in order (for the route page)."""
    trips = session.execute(
        select(TransitTrip.trip_id, TransitTrip.direction_id).where(
            TransitTrip.feed_id == feed.id, TransitTrip.route_id == route_id
        )
    ).all()
    if not trips:
        return []
    times = pl.DataFrame(
        session.execute(
            select(TransitStopTime.trip_id, TransitStopTime.stop_id, TransitStopTime.stop_sequence).where(
                TransitStopTime.feed_id == feed.id, TransitStopTime.trip_id.in_([t.trip_id for t in trips[:2000]])
            )
        ).all(),
        schema={"trip_id": pl.String, "stop_id": pl.String, "stop_sequence": pl.Int64},
        orient="row",
    )
    directions = pl.DataFrame(
        [(t.trip_id, t.direction_id if t.direction_id is not None else 0) for t in trips],
        schema={"trip_id": pl.String, "direction_id": pl.Int64},
        orient="row",
    )
    longest = (
        times.group_by("trip_id")
        .len()
        .join(directions, on="trip_id")
        .sort("len", "trip_id", descending=[True, False])
        .unique("direction_id", keep="first")
        .sort("direction_id")
    )
    chosen = times.join(longest.select("trip_id", "direction_id"), on="trip_id").sort("direction_id", "stop_sequence")
    stops = {
        s.stop_id: s
        for s in session.scalars(
            select(TransitStop).where(
                TransitStop.feed_id == feed.id, TransitStop.stop_id.in_(chosen["stop_id"].unique().to_list())
            )
        )
    }
    return [
        {
            "stop_id": r["stop_id"],
            "name": stops[r["stop_id"]].name,
            "lon": stops[r["stop_id"]].lon,
            "lat": stops[r["stop_id"]].lat,
            "direction_id": r["direction_id"],
            "sequence": r["stop_sequence"],
        }
        for r in chosen.iter_rows(named=True)
        if r["stop_id"] in stops
    ]


def feed_stops(session: Session, feed: TransitFeed) -> list[TransitStop]:
    return list(
        session.scalars(select(TransitStop).where(TransitStop.feed_id == feed.id).order_by(TransitStop.stop_id))
    )
