"""Which areas a segment belongs to (the city, its district, the corridors through it) and which
areas a traffic incident counts for.

A segment's district is the district whose polygon holds the segment's midpoint (places' point
locate). Locating every segment each minute would waste the minute, so the answer is cached per
network import and refreshed when the network is re-imported or after ``_TTL_S``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.mobility.indicators.vitals import membership
from cityos.mobility.network import service as network
from cityos.mobility.network.index import SegmentIndex
from cityos.mobility.network.models import RoadNetwork
from cityos.places import index as places_index
from cityos.places.models import Region

CITY_AREA = "city"
_TTL_S = 3600.0
# An incident counts for a corridor when it lies this close to one of the corridor's segments.
INCIDENT_REACH_M = 60.0


@dataclass(frozen=True)
class SegmentPlaces:
    segments: pl.DataFrame  # the network's segment table (network.schema contract)
    district: dict[str, str]  # segment id -> district region code
    index: SegmentIndex


_cache: dict[tuple[str, str, str, int], tuple[float, SegmentPlaces]] = {}
_lock = threading.Lock()


def _district_of_paths(session: Session, paths: list[str | None]) -> list[str | None]:
    """The district code above each region path (None where the path has no district)."""
    ids = {int(p) for path in paths if path for p in path.strip("/").split("/") if p}
    if not ids:
        return [None] * len(paths)
    districts = dict(
        session.execute(select(Region.id, Region.code).where(Region.id.in_(ids), Region.level == "district")).all()
    )
    out: list[str | None] = []
    for path in paths:
        found = None
        for part in (path or "").strip("/").split("/"):
            if part and int(part) in districts:
                found = districts[int(part)]
        out.append(found)
    return out


def segment_places(session: Session, net: RoadNetwork) -> SegmentPlaces:
    """The network's segments with their districts and a spatial index, cached per import."""
    key = (str(session.get_bind().engine.url), net.code, net.imported_at.isoformat(), net.segments)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _TTL_S:
        return hit[1]
    segments = network.load_segments(session, net.code)
    mids = segments.select(
        "segment_id",
        ((pl.col("lons").list.first() + pl.col("lons").list.last()) / 2).alias("lon"),
        ((pl.col("lats").list.first() + pl.col("lats").list.last()) / 2).alias("lat"),
    )
    regions = places_index.locate_many(session, zip(mids["lon"].to_list(), mids["lat"].to_list(), strict=True))
    codes = _district_of_paths(session, [r.path if r is not None else None for r in regions])
    district = {sid: code for sid, code in zip(mids["segment_id"].to_list(), codes, strict=True) if code is not None}
    places = SegmentPlaces(segments=segments, district=district, index=SegmentIndex(segments))
    with _lock:
        _cache[key] = (time.monotonic(), places)
    return places


def forget() -> None:
    """Drop the cached districts (tests that rebuild regions call it)."""
    with _lock:
        _cache.clear()


def area_membership(places: SegmentPlaces, corridors: dict[str, list[str]]) -> pl.DataFrame:
    ids = places.segments["segment_id"].to_list()
    frame = pl.DataFrame(
        {"segment_id": ids, "district": [places.district.get(s) for s in ids]},
        schema={"segment_id": pl.String, "district": pl.String},
    )
    return membership(frame, city_id=CITY_AREA, district_col="district", corridors=corridors)


def incident_areas(
    session: Session,
    incidents: list[tuple[datetime, float | None, float | None, str | None]],
    places: SegmentPlaces,
    corridors: dict[str, list[str]],
) -> pl.DataFrame:
    """(ts, lon, lat, region path) per incident → the (area_id, ts, count) rows it counts in."""
    schema: dict[str, pl.DataType] = {"area_id": pl.String(), "ts": pl.Datetime("us", "UTC"), "count": pl.Float64()}
    if not incidents:
        return pl.DataFrame(schema=schema)
    districts = _district_of_paths(session, [path for _, _, _, path in incidents])
    rows: list[tuple[str, datetime, float]] = []
    for (ts, lon, lat, _), district in zip(incidents, districts, strict=True):
        rows.append((CITY_AREA, ts, 1.0))
        if district is not None:
            rows.append((district, ts, 1.0))
        if lon is None or lat is None or not corridors:
            continue
        near = {c.segment_id for c in places.index.nearest(lon, lat, INCIDENT_REACH_M)}
        rows.extend((code, ts, 1.0) for code, members in corridors.items() if near.intersection(members))
    return pl.DataFrame(rows, schema=schema, orient="row")
