"""Map matching at ingest: the active network's segment index, cached per process.

Building the index costs far more than matching a batch (it projects every polyline and grids
its pieces), so it is built once per network and kept until that network is re-imported: the
cache key is the network's id and import time, and a changed key rebuilds it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
from sqlalchemy.orm import Session

from cityos.mobility.matching.hmm import MatchConfig, match
from cityos.mobility.matching.index import SegmentIndex
from cityos.mobility.network.models import RoadNetwork
from cityos.mobility.network.service import load_segments

MATCH_CONFIG = MatchConfig()


@dataclass(frozen=True)
class NetworkView:
    """What ingest needs of a network: its segment ids and the matcher's index."""

    code: str
    segment_ids: frozenset[str]
    index: SegmentIndex


_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, datetime], NetworkView]] = {}


def view(session: Session, net: RoadNetwork) -> NetworkView | None:
    """The cached view of ``net``, rebuilt when it was imported again; None for an empty network."""
    key = (net.id, net.imported_at)
    with _lock:
        hit = _cache.get(net.code)
        if hit is not None and hit[0] == key:
            return hit[1]
    segments = load_segments(session, net.code)
    if segments.height == 0:
        return None
    index = SegmentIndex.build(
        segments,
        radius_m=MATCH_CONFIG.radius_m,
        max_route_m=MATCH_CONFIG.max_route_m,
        uturn_penalty_m=MATCH_CONFIG.uturn_penalty_m,
    )
    built = NetworkView(code=net.code, segment_ids=frozenset(segments["segment_id"].to_list()), index=index)
    with _lock:
        _cache[net.code] = (key, built)
    return built


def clear() -> None:
    """Forget every cached index (tests; a process that deleted networks)."""
    with _lock:
        _cache.clear()


def match_points(
    network: NetworkView,
    vehicle: list[str],
    ts: list[datetime],
    lon: list[float],
    lat: list[float],
    speed_kmh: list[float | None],
    heading_deg: list[float | None],
) -> list[str | None]:
    """The matched segment of each point (None: no segment within the matcher's radius).

    The points are matched as traces per vehicle (HMM); a vehicle with a single point in the
    batch gets its nearest candidate, weighed by its heading when it sent one.
    """
    if not vehicle:
        return []
    points = pl.DataFrame(
        {
            "vehicle_id": vehicle,
            "ts": pl.Series(ts, dtype=pl.Datetime("us", "UTC")),
            "lon": lon,
            "lat": lat,
            "speed": pl.Series([None if s is None else s / 3.6 for s in speed_kmh], dtype=pl.Float64),
            "heading": pl.Series(heading_deg, dtype=pl.Float64),
        }
    ).with_row_index("_in")
    # match() returns its rows sorted by (vehicle, ts, input order); sort the same way to map back
    order = points.sort(["vehicle_id", "ts", "_in"])["_in"].to_numpy()
    result = match(points.drop("_in"), network.index, MATCH_CONFIG).points
    segs = result["segment_id"].to_list()
    out: list[str | None] = [None] * len(vehicle)
    for pos, i in enumerate(np.asarray(order)):
        out[int(i)] = segs[pos]
    return out


def nearest_segment(network: NetworkView, lon: float, lat: float) -> str | None:
    """The segment nearest to a fixed point (a detector without a segment reference) within the
    matcher's radius; of two opposite directions the one listed first wins."""
    x, y = network.index.projection.forward(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64))
    seg = network.index.candidates(x, y, MATCH_CONFIG.radius_m, 1)[1]  # (point, segment, …) nearest first
    return str(network.index.segment_ids[int(seg[0])]) if len(seg) else None
