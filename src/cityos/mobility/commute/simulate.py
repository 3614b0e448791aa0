"""Synthetic commute trips for tests and the demo: people live in home zones and work in work
zones; each commuter drives (or rides) to work in the AM peak and back in the PM peak, plus a
share of off-peak trips.

Where both ends lie within ``SNAP_M`` of the road network, a car, taxi, ride-hailing or bus trip
follows the fastest free-flow path and its path is kept as the matched segments; its duration
is the path's free-flow time slowed by peak congestion (speeds 45–80 % of free flow) plus a few
minutes at each end. Elsewhere (and for metro, bike and walk) the distance is the straight line
× 1.3 and the speed the network's mean speed slowed the same way (metro, bike, walk: their own
speeds). So lengths and durations agree with the network the trips run on.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from cityos.mobility.commute import config
from cityos.mobility.commute.derive import TRIP_COLUMNS
from cityos.mobility.commute.paths import RoadGraph
from cityos.mobility.network.schema import M_PER_DEG_LAT, haversine_m

SNAP_M = 400.0
MODE_SHARE: dict[str, float] = {"car": 0.45, "bus": 0.15, "metro": 0.15, "taxi": 0.08, "ridehail": 0.1, "bike": 0.07}
ROAD_MODES = frozenset({"car", "taxi", "ridehail", "bus"})
OWN_SPEED_KMH: dict[str, float] = {"metro": 35.0, "bike": 14.0, "walk": 4.5}
BUS_FACTOR = 0.7  # buses stop: 70 % of the traffic's speed


@dataclass(frozen=True)
class Zone:
    """Where people live (``homes``) and work (``jobs``): a disc of ``radius_m`` around a centre."""

    key: str
    lon: float
    lat: float
    radius_m: float
    homes: float
    jobs: float


@dataclass(frozen=True)
class SimConfig:
    commuters: int = 500
    off_peak_share: float = 0.2  # off-peak trips per commuter
    am_centre_h: float = 8.0  # local clock
    pm_centre_h: float = 18.0
    spread_h: float = 0.5  # σ of the departure times
    stay_home_p: float = 0.15  # a commuter who works in the home zone


def _point(rng: random.Random, zone: Zone) -> tuple[float, float]:
    r = zone.radius_m * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    dlat = r * math.sin(a) / M_PER_DEG_LAT
    dlon = r * math.cos(a) / (M_PER_DEG_LAT * math.cos(math.radians(zone.lat)))
    return zone.lon + dlon, zone.lat + dlat


def _departure(rng: random.Random, day: date, tz: ZoneInfo, centre_h: float, spread_h: float) -> datetime:
    hours = min(max(rng.gauss(centre_h, spread_h), centre_h - 2.5), centre_h + 2.5)
    start = datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=hours)
    return start.astimezone(ZoneInfo("UTC")).replace(microsecond=0)


def simulate_day(
    zones: list[Zone],
    *,
    day: date,
    rng: random.Random,
    graph: RoadGraph | None = None,
    cfg: SimConfig | None = None,
    timezone: str = "Asia/Shanghai",
) -> pl.DataFrame:
    """One day of trips (a ``derive.TRIP_COLUMNS`` frame, ``source = imported``, keys ``sim:…``)."""
    cfg = cfg or SimConfig()
    if not zones:
        raise ValueError("give at least one zone")
    tz = ZoneInfo(timezone)
    homes = [z.homes for z in zones]
    jobs = [z.jobs for z in zones]
    modes, shares = list(MODE_SHARE), list(MODE_SHARE.values())
    plans: list[dict[str, Any]] = []
    for c in range(cfg.commuters):
        home = rng.choices(zones, weights=homes)[0]
        work = home if rng.random() < cfg.stay_home_p else rng.choices(zones, weights=jobs)[0]
        h, w = _point(rng, home), _point(rng, work)
        mode = rng.choices(modes, weights=shares)[0]
        am = _departure(rng, day, tz, cfg.am_centre_h, cfg.spread_h)
        pm = _departure(rng, day, tz, cfg.pm_centre_h, cfg.spread_h)
        plans.append({"key": f"sim:{day.isoformat()}:{c}:am", "mode": mode, "o": h, "d": w, "at": am})
        plans.append({"key": f"sim:{day.isoformat()}:{c}:pm", "mode": mode, "o": w, "d": h, "at": pm})
    for c in range(int(cfg.commuters * cfg.off_peak_share)):
        a, b = rng.choices(zones, weights=homes)[0], rng.choices(zones, weights=jobs)[0]
        centre = rng.choice((11.0, 14.0, 20.5))
        at = _departure(rng, day, tz, centre, 1.0)
        mode = rng.choices(modes, weights=shares)[0]
        plans.append(
            {"key": f"sim:{day.isoformat()}:x{c}", "mode": mode, "o": _point(rng, a), "d": _point(rng, b), "at": at}
        )
    return _realise(plans, rng, graph)


def _realise(plans: list[dict[str, Any]], rng: random.Random, graph: RoadGraph | None) -> pl.DataFrame:
    routed: list[tuple[int, int, int, float]] = []  # (plan, from node, to node, access metres)
    if graph is not None and not graph.empty:
        for k, p in enumerate(plans):
            if p["mode"] not in ROAD_MODES:
                continue
            (u, du), (v, dv) = graph.nearest(*p["o"]), graph.nearest(*p["d"])
            if du <= SNAP_M and dv <= SNAP_M and u != v:
                routed.append((k, u, v, du + dv))
    paths: dict[int, tuple[list[int], float]] = {}
    if graph is not None and routed:
        for (k, _, _, access), path in zip(routed, graph.shortest([(u, v) for _, u, v, _ in routed]), strict=True):
            if path:
                paths[k] = (path, access)
    mean_kmh = graph.mean_speed_kmh if graph is not None and not graph.empty else 40.0
    rows: list[dict[str, Any]] = []
    for k, p in enumerate(plans):
        slow = rng.uniform(0.45, 0.8)  # peak congestion: share of free-flow speed
        if p["mode"] == "bus":
            slow *= BUS_FACTOR
        terminal_s = rng.uniform(120, 420)
        segment_ids: list[str] = []
        if k in paths and graph is not None:
            path, access = paths[k]
            distance = graph.length_m(path) + access
            moving = graph.time_s(path) / slow + access / (mean_kmh * slow / 3.6)
            segment_ids = [graph.segment_ids[i] for i in path]
        else:
            distance = haversine_m(*p["o"], *p["d"]) * config.DETOUR_FACTOR
            speed = OWN_SPEED_KMH.get(p["mode"], mean_kmh * slow)
            moving = distance / (speed / 3.6)
        duration = round(moving + terminal_s)
        rows.append(
            {
                "trip_key": p["key"],
                "mode": p["mode"],
                "source": "imported",
                "started_at": p["at"],
                "ended_at": p["at"] + timedelta(seconds=duration),
                "origin_lon": p["o"][0],
                "origin_lat": p["o"][1],
                "dest_lon": p["d"][0],
                "dest_lat": p["d"][1],
                "distance_m": max(distance, 50.0),
                "duration_s": float(duration),
                "segment_ids": segment_ids,
            }
        )
    return pl.DataFrame(rows, schema=TRIP_COLUMNS)
