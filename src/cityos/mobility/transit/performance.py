"""Bus performance against a feed over a time window: the rows the kernels of ``adherence.py``
need, read from ``probe_point`` (kind ``bus``) and the feed's stop times, and their results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.mobility.ingest.models import ProbePoint

from . import adherence
from .models import TransitFeed, TransitStop, TransitStopTime, TransitTrip
from .service import READ, get_feed

MAX_WINDOW = timedelta(days=7)
DEFAULT_WINDOW = timedelta(hours=24)
MSG_WINDOW_ORDER = N_("The end must be after the start.")
MSG_WINDOW_LONG = N_("A window of at most 7 days.")
MSG_NO_STOP = N_("No such stop.")
MSG_TZ = N_("Give times with a time zone.")
_CHUNK = 900


@dataclass
class Performance:
    feed: TransitFeed
    start: datetime
    end: datetime
    arrivals: pl.DataFrame  # adherence.ARRIVAL_SCHEMA
    headways: pl.DataFrame  # per route and stop
    routes: pl.DataFrame  # per route


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The window asked for; the last 24 hours by default. ``Invalid`` when reversed or too long."""
    end = end or utcnow()
    start = start or end - DEFAULT_WINDOW
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid(details=[FieldError("start", MSG_TZ)])
    # Polars compares only times of the same zone: everything in UTC from here on.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise Invalid(details=[FieldError("end", MSG_WINDOW_ORDER)])
    if end - start > MAX_WINDOW:
        raise Invalid(details=[FieldError("start", MSG_WINDOW_LONG)])
    return start, end


def bus_fixes(
    session: Session, feed: TransitFeed, start: datetime, end: datetime, route_id: str | None = None
) -> pl.DataFrame:
    """Bus fixes in the window whose trip is one of the feed's."""
    # Read from a little before the window so a trip under way at its start has its earlier stops.
    q = select(
        ProbePoint.vehicle_key, ProbePoint.ts, ProbePoint.lon, ProbePoint.lat, ProbePoint.route_id, ProbePoint.trip_id
    ).where(
        ProbePoint.kind == "bus",
        ProbePoint.ts >= start - timedelta(hours=1),
        ProbePoint.ts < end,
        ProbePoint.trip_id.is_not(None),
    )
    if route_id is not None:
        q = q.where(ProbePoint.route_id == route_id)
    fixes = pl.DataFrame(session.execute(q).all(), schema=adherence.FIX_SCHEMA, orient="row")
    if fixes.is_empty():
        return fixes
    trips = _trip_ids(session, feed, fixes["trip_id"].unique().to_list())
    return fixes.filter(pl.col("trip_id").is_in(trips.implode()))


def _trip_ids(session: Session, feed: TransitFeed, trip_ids: list[str]) -> pl.Series:
    found: list[str] = []
    for i in range(0, len(trip_ids), _CHUNK):
        found.extend(
            session.scalars(
                select(TransitTrip.trip_id).where(
                    TransitTrip.feed_id == feed.id, TransitTrip.trip_id.in_(trip_ids[i : i + _CHUNK])
                )
            )
        )
    return pl.Series("trip_id", found, dtype=pl.String)


def stop_times(session: Session, feed: TransitFeed, trip_ids: list[str]) -> pl.DataFrame:
    """The stop times of those trips with their route and the stops' positions."""
    rows: list[tuple[object, ...]] = []
    for i in range(0, len(trip_ids), _CHUNK):
        rows.extend(
            session.execute(
                select(
                    TransitStopTime.trip_id,
                    TransitTrip.route_id,
                    TransitStopTime.stop_id,
                    TransitStopTime.stop_sequence,
                    TransitStopTime.arrival_s,
                    TransitStop.lon,
                    TransitStop.lat,
                )
                .join(TransitTrip, (TransitTrip.feed_id == feed.id) & (TransitTrip.trip_id == TransitStopTime.trip_id))
                .join(TransitStop, (TransitStop.feed_id == feed.id) & (TransitStop.stop_id == TransitStopTime.stop_id))
                .where(TransitStopTime.feed_id == feed.id, TransitStopTime.trip_id.in_(trip_ids[i : i + _CHUNK]))
            ).all()
        )
    return pl.DataFrame(rows, schema=adherence.STOP_TIME_SCHEMA, orient="row")


def performance(
    session: Session,
    actor: Actor,
    *,
    feed_code: str,
    start: datetime | None = None,
    end: datetime | None = None,
    route_id: str | None = None,
) -> Performance:
    """Stop arrivals, adherence and headways of the feed's buses in the window (traffic:read)."""
    actor.require(READ)
    feed = get_feed(session, actor, feed_code)
    start, end = window(start, end)
    fixes = bus_fixes(session, feed, start, end, route_id)
    times = stop_times(session, feed, fixes["trip_id"].unique().to_list()) if fixes.height else None
    arrivals = (
        adherence.stop_arrivals(fixes, times, tz=feed.timezone) if times is not None else adherence.empty_arrivals()
    )
    arrivals = arrivals.filter((pl.col("arrived_at") >= start) & (pl.col("arrived_at") < end))
    heads = adherence.headways(arrivals)
    return Performance(feed, start, end, arrivals, heads, adherence.route_summary(arrivals, heads))


def stop_arrivals(
    session: Session,
    actor: Actor,
    *,
    feed_code: str,
    stop_id: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[TransitStop, pl.DataFrame]:
    """The arrivals observed at one stop in the window, latest first."""
    actor.require(READ)
    feed = get_feed(session, actor, feed_code)
    stop = session.scalar(select(TransitStop).where(TransitStop.feed_id == feed.id, TransitStop.stop_id == stop_id))
    if stop is None:
        raise NotFound(MSG_NO_STOP)
    routes = list(
        session.scalars(
            select(TransitTrip.route_id)
            .join(
                TransitStopTime, (TransitStopTime.feed_id == feed.id) & (TransitStopTime.trip_id == TransitTrip.trip_id)
            )
            .where(TransitTrip.feed_id == feed.id, TransitStopTime.stop_id == stop_id)
            .distinct()
        )
    )
    frames = [
        performance(session, actor, feed_code=feed_code, start=start, end=end, route_id=r).arrivals for r in routes
    ]
    arrivals = pl.concat(frames) if frames else adherence.empty_arrivals()
    return stop, arrivals.filter(pl.col("stop_id") == stop_id).sort("arrived_at", descending=True)
