"""Peak commute corridors (通勤走廊): the top OD flows of a peak with their paths on the map.

The flows are the OD pairs of ``analysis.od_matrix`` between two different zones whose trips'
origin and destination centroids lie at least ``MIN_SPAN_M`` apart, largest first.
A corridor's path is, in order of preference:

1. ``matched``: the dominant path of its trips, the matched segment sequence most trips share
   (trips with an empty path do not vote);
2. ``shortest``: the fastest free-flow path over the active road network between the nodes
   nearest to the centroids of the trips' origins and of their destinations, when both centroids
   lie within ``SNAP_M`` of the network;
3. ``straight``: a straight line between the two centroids (the network does not cover the pair).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.mobility.commute import analysis, config
from cityos.mobility.commute.derive import haversine
from cityos.mobility.commute.paths import RoadGraph
from cityos.mobility.commute.service import READ
from cityos.mobility.network import service as network

SNAP_M = 1000.0
MIN_SPAN_M = 1000.0  # a flow between places closer than this is local traffic, not a corridor
MAX_TOP = 50
LEVELS = (*config.LEVELS, "auto")


@dataclass
class Corridors:
    level: str
    peak: str
    window: analysis.Window
    network: str | None
    collection: dict[str, Any]  # GeoJSON FeatureCollection


def graph_for(session: Session, code: str | None) -> tuple[str | None, RoadGraph | None]:
    """The active road network (``code``, else the latest imported) as a graph, if there is one."""
    net = network.active_network(session, code)
    if net is None:
        return None, None
    segments = network.load_segments(session, net.code)
    return net.code, (RoadGraph(segments) if segments.height else None)


def _dominant(paths: list[list[str]]) -> list[str]:
    votes = Counter(tuple(p) for p in paths if p)
    if not votes:
        return []
    best, _ = max(votes.items(), key=lambda kv: (kv[1], -len(kv[0]), kv[0]))
    return list(best)


def corridors(
    session: Session,
    actor: Actor,
    *,
    day: date | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    peak: str = "am",
    level: str = "auto",
    top: int = 10,
    network_code: str | None = None,
    peaks: config.Peaks = config.PEAKS,
) -> Corridors:
    """``level = auto``: districts when any trip crosses from one district to another, else H3 cells."""
    actor.require(READ)
    analysis.check_choice("peak", peak, config.PEAK_NAMES)
    analysis.check_choice("level", level, LEVELS)
    top = max(1, min(int(top), MAX_TOP))
    win = analysis.window(session, day=day, start=start, end=end)
    trips = analysis.trips_frame(session, actor, win, peak=peak, peaks=peaks)
    chosen = level
    if level == "auto":
        crossing = analysis.keyed(trips, "district").filter(pl.col("o") != pl.col("d"))
        chosen = "district" if crossing.height else "h3"
    df = analysis.keyed(trips, chosen).filter(pl.col("o") != pl.col("d"))
    flows = (
        df.group_by("o", "d")
        .agg(
            trips=pl.len(),
            mean_minutes=pl.col("duration_s").mean() / 60.0,
            mean_km=pl.col("distance_m").mean() / 1000.0,
            o_lon=pl.col("origin_lon").mean(),
            o_lat=pl.col("origin_lat").mean(),
            d_lon=pl.col("dest_lon").mean(),
            d_lat=pl.col("dest_lat").mean(),
            paths=pl.col("segment_ids"),
        )
        .filter(haversine(pl.col("o_lon"), pl.col("o_lat"), pl.col("d_lon"), pl.col("d_lat")) >= MIN_SPAN_M)
        .sort(["trips", "o", "d"], descending=[True, False, False])
        .head(top)
    )
    rows = list(flows.iter_rows(named=True))
    names = analysis.zones(session, chosen, {r["o"] for r in rows} | {r["d"] for r in rows})
    code, graph = graph_for(session, network_code) if rows else (None, None)
    lines: list[tuple[str, list[list[float]], int]] = [("straight", [], 0)] * len(rows)
    wanted: list[tuple[int, int, int]] = []  # (row, from node, to node) for shortest paths
    for k, r in enumerate(rows):
        straight = [[r["o_lon"], r["o_lat"]], [r["d_lon"], r["d_lat"]]]
        lines[k] = ("straight", straight, 0)
        if graph is None or graph.empty:
            continue
        matched = graph.indexes(_dominant(r["paths"]))
        if matched:
            lines[k] = ("matched", graph.line(matched), len(matched))
            continue
        (u, du), (v, dv) = graph.nearest(r["o_lon"], r["o_lat"]), graph.nearest(r["d_lon"], r["d_lat"])
        if du <= SNAP_M and dv <= SNAP_M and u != v:
            wanted.append((k, u, v))
    if graph is not None and wanted:
        for (k, _, _), path in zip(wanted, graph.shortest([(u, v) for _, u, v in wanted]), strict=True):
            if path:
                lines[k] = ("shortest", graph.line(path), len(path))
    features = []
    for rank, (r, (how, coords, n)) in enumerate(zip(rows, lines, strict=True), start=1):
        o, d = names.get(r["o"]), names.get(r["d"])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {
                    "rank": rank,
                    "origin": r["o"],
                    "origin_name": o.name if o else r["o"],
                    "dest": r["d"],
                    "dest_name": d.name if d else r["d"],
                    "trips": int(r["trips"]),
                    "mean_minutes": round(r["mean_minutes"], 1),
                    "mean_km": round(r["mean_km"], 2),
                    "path": how,
                    "segments": n,
                },
            }
        )
    return Corridors(chosen, peak, win, code, {"type": "FeatureCollection", "features": features})
