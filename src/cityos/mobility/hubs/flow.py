"""A hub's passenger flow over a window: the rows the kernels need read from ``video_count`` and
``probe_point``, the kernels' tables, and the other ends of taxi and ride-hailing trips located
to districts with the places service's point locate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.mobility.ingest.models import ProbePoint, VideoCount
from cityos.mobility.network.schema import M_PER_DEG_LAT
from cityos.places import service as places
from cityos.places.models import Region, RegionLevel

from . import kernels
from .models import TransportHub
from .service import READ, get_hub

MAX_WINDOW = timedelta(days=2)
DEFAULT_WINDOW = timedelta(hours=24)
TRIP_REACH = timedelta(hours=2)  # fixes read before and after the window to find a trip's other end
_CHUNK = 500

MSG_WINDOW_ORDER = N_("The end must be after the start.")
MSG_WINDOW_LONG = N_("A window of at most 2 days.")
MSG_TZ = N_("Give times with a time zone.")

PLACE_SCHEMA: dict[str, pl.DataType] = {
    "region_id": pl.Int64(),
    "name": pl.String(),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "trips": pl.Int64(),
    "taxi": pl.Int64(),
    "ridehail": pl.Int64(),
}


@dataclass
class HubFlow:
    hub: TransportHub
    start: datetime
    end: datetime
    arrivals: pl.DataFrame  # kernels.ARRIVALS_SCHEMA, per minute and mode
    supply: pl.DataFrame  # minute, empty_taxis, waiting, ratio, shortage
    mode_share: pl.DataFrame  # mode, source, arrivals, departures, total, share
    origins: pl.DataFrame  # PLACE_SCHEMA: districts passengers arriving by taxi / ride-hailing came from
    destinations: pl.DataFrame  # PLACE_SCHEMA: districts passengers leaving by taxi / ride-hailing went to
    unlocated: dict[str, int]  # trip ends outside the actor's area, or with no known other end


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
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


def video_rows(session: Session, hub: TransportHub, start: datetime, end: datetime) -> pl.DataFrame:
    """The hub's camera counts overlapping the window (by hub code or one of its cameras)."""
    match = VideoCount.hub_code == hub.code
    if hub.camera_ids:
        match = or_(match, VideoCount.camera_id.in_(hub.camera_ids))
    q = select(
        VideoCount.camera_id,
        VideoCount.ts,
        VideoCount.interval_s,
        VideoCount.mode,
        VideoCount.direction,
        VideoCount.count,
    ).where(match, VideoCount.ts >= start - timedelta(days=1), VideoCount.ts < end)
    v = pl.DataFrame(session.execute(q).all(), schema=kernels.VIDEO_SCHEMA, orient="row")
    # an interval that started before the window but runs into it counts for its minutes inside
    return v.filter(pl.col("ts") + pl.duration(seconds=pl.col("interval_s")) > start)


def probe_rows(session: Session, hub: TransportHub, start: datetime, end: datetime) -> pl.DataFrame:
    """All fixes, from two hours before the window to two hours after, of the taxis and
    ride-hailing cars seen within the hub's radius (its bounding box in SQL) in the window."""
    dlat = hub.radius_m / M_PER_DEG_LAT
    dlon = dlat / max(0.01, math.cos(math.radians(hub.lat)))
    near = session.execute(
        select(ProbePoint.kind, ProbePoint.vehicle_key)
        .where(
            ProbePoint.kind.in_(kernels.PROBE_MODES),
            ProbePoint.ts >= start,
            ProbePoint.ts < end,
            ProbePoint.lon.between(hub.lon - dlon, hub.lon + dlon),
            ProbePoint.lat.between(hub.lat - dlat, hub.lat + dlat),
        )
        .distinct()
    ).all()
    rows: list[tuple[object, ...]] = []
    for kind in kernels.PROBE_MODES:
        keys = sorted(k.vehicle_key for k in near if k.kind == kind)
        for i in range(0, len(keys), _CHUNK):
            rows.extend(
                session.execute(
                    select(
                        ProbePoint.kind,
                        ProbePoint.vehicle_key,
                        ProbePoint.ts,
                        ProbePoint.lon,
                        ProbePoint.lat,
                        ProbePoint.occupied,
                    ).where(
                        ProbePoint.kind == kind,
                        ProbePoint.vehicle_key.in_(keys[i : i + _CHUNK]),
                        ProbePoint.ts >= start - TRIP_REACH,
                        ProbePoint.ts < end + TRIP_REACH,
                    )
                ).all()
            )
    return pl.DataFrame(rows, schema=kernels.PROBE_SCHEMA, orient="row")


def _districts(session: Session, actor: Actor, points: pl.DataFrame) -> pl.DataFrame:
    """lon, lat -> region_id of the district (the deepest region when it lies in no district);
    null outside the actor's area. One point locate per distinct ~10 m point."""
    keys = points.select(pl.col("other_lon").round(4).alias("x"), pl.col("other_lat").round(4).alias("y")).unique()
    found: dict[tuple[float, float], Region] = {}
    for x, y in keys.iter_rows():
        try:
            found[(x, y)] = places.locate(session, actor, lon=x, lat=y)
        except NotFound:
            continue
    path_ids = {int(p) for r in found.values() for p in r.path.strip("/").split("/") if p}
    districts: dict[int, Region] = {}
    ids = sorted(path_ids)
    for i in range(0, len(ids), _CHUNK):
        for r in session.scalars(
            select(Region).where(Region.id.in_(ids[i : i + _CHUNK]), Region.level == RegionLevel.DISTRICT)
        ):
            districts[r.id] = r
    mapping: list[tuple[float, float, int, str, float | None, float | None]] = []
    for (x, y), region in found.items():
        chosen = next(
            (districts[int(p)] for p in region.path.strip("/").split("/") if p and int(p) in districts), region
        )
        mapping.append((x, y, chosen.id, chosen.name, chosen.lon, chosen.lat))
    return pl.DataFrame(
        mapping,
        schema={
            "x": pl.Float64,
            "y": pl.Float64,
            "region_id": pl.Int64,
            "name": pl.String,
            "lon": pl.Float64,
            "lat": pl.Float64,
        },
        orient="row",
    )


def _places(events: pl.DataFrame, located: pl.DataFrame) -> pl.DataFrame:
    if events.is_empty():
        return pl.DataFrame(schema=PLACE_SCHEMA)
    e = events.with_columns(pl.col("other_lon").round(4).alias("x"), pl.col("other_lat").round(4).alias("y")).join(
        located, on=["x", "y"], how="inner"
    )
    return (
        e.group_by("region_id", "name", "lon", "lat")
        .agg(
            pl.len().cast(pl.Int64).alias("trips"),
            (pl.col("kind") == "taxi").sum().cast(pl.Int64).alias("taxi"),
            (pl.col("kind") == "ridehail").sum().cast(pl.Int64).alias("ridehail"),
        )
        .select(list(PLACE_SCHEMA))
        .sort("trips", "name", descending=[True, False])
    )


def flow(
    session: Session, actor: Actor, *, hub_code: str, start: datetime | None = None, end: datetime | None = None
) -> HubFlow:
    """The hub's per-minute arrivals by mode, taxi supply against the queue, mode share, and the
    districts its taxi and ride-hailing passengers come from and go to (traffic:read)."""
    actor.require(READ)
    hub = get_hub(session, actor, hub_code)
    start, end = window(start, end)
    video = video_rows(session, hub, start, end)
    probes = probe_rows(session, hub, start, end)
    events = kernels.hub_events(probes, lon=hub.lon, lat=hub.lat, radius_m=hub.radius_m, start=start, end=end)
    per_minute = kernels.arrivals(video, events, start=start, end=end)
    supply = kernels.taxi_supply(video, probes, lon=hub.lon, lat=hub.lat, radius_m=hub.radius_m, start=start, end=end)
    ends = events.filter(pl.col("other_lon").is_not_null())
    located = _districts(session, actor, ends)
    drop, pick = ends.filter(pl.col("event") == "dropoff"), ends.filter(pl.col("event") == "pickup")
    origins, destinations = _places(drop, located), _places(pick, located)
    unlocated = {
        "unknown_end": events.height - ends.height,
        "outside_area": ends.height - int(origins["trips"].sum()) - int(destinations["trips"].sum()),
    }
    return HubFlow(
        hub, start, end, per_minute, supply, kernels.mode_share(per_minute), origins, destinations, unlocated
    )
