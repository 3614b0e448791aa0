"""A synthetic day at a transport hub, for tests and the demo.

Camera counts every five minutes by mode into and out of the hub (metro, bus, car, on foot) with a
morning and an evening peak; a taxi rank simulated minute by minute (passengers join the queue,
empty taxis join the rank — fewer late in the evening, so the queue grows — and each pick-up
leaves occupied for a place of ``ends``), its queue counted by a camera; taxis and ride-hailing
cars dropping passengers off from places of ``ends``. Vehicles move along an L-shaped path (east–
west, then north–south: the streets of a grid) with a fix every ``fix_s`` seconds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from cityos.mobility.network.schema import M_PER_DEG_LAT

PEOPLE_PER_DAY = {"metro": 5200, "bus": 2300, "car": 700, "pedestrian": 400}  # in and out each
TAXI_PER_DAY = 420  # taxi drop-offs and queue pick-ups, each
RIDEHAIL_PER_DAY = 260
SPEED_M_PER_S = 8.0  # about 30 km/h in town
START_H, END_H = 6, 24
RANK_SIZE = 10
PATIENCE_S = 20 * 60


def _supply(hour: float) -> float:
    """Empty taxis coming to the rank, per passenger wanting one: few in the morning peak and
    late in the evening, when the queue grows."""
    if 7.5 <= hour < 9.0:
        return 0.3
    if 20.5 <= hour < 23.0:
        return 0.1
    return 0.9


VIDEO_SCHEMA: dict[str, pl.DataType] = {
    "camera_id": pl.String(),
    "hub_code": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "interval_s": pl.Int64(),
    "mode": pl.String(),
    "direction": pl.String(),
    "count": pl.Int64(),
}
PROBE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "vehicle_id": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "speed_kmh": pl.Float64(),
    "occupied": pl.Boolean(),
}


@dataclass(frozen=True)
class HubDay:
    video: pl.DataFrame  # VIDEO_SCHEMA (the video feed's records)
    probes: pl.DataFrame  # PROBE_SCHEMA (the probe feed's records)


def profile(hour: float) -> float:
    """Relative demand at a local hour: a morning and an evening peak over a daytime base."""
    if hour < START_H:
        return 0.0
    return 0.35 + 1.6 * math.exp(-((hour - 8.2) ** 2) / 1.0) + 1.4 * math.exp(-((hour - 18.0) ** 2) / 2.0)


def _weights() -> list[float]:
    return [profile(START_H + m / 60) for m in range((END_H - START_H) * 60)]


class _Fleet:
    def __init__(
        self, hub_lon: float, hub_lat: float, rng: random.Random, fix_s: int, tz: ZoneInfo, day: date, spread_m: float
    ) -> None:
        self.lon, self.lat, self.rng, self.fix_s, self.spread_m = hub_lon, hub_lat, rng, fix_s, spread_m
        self.midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        self.kx = M_PER_DEG_LAT * math.cos(math.radians(hub_lat))
        self.rows: dict[str, list[object]] = {c: [] for c in PROBE_SCHEMA}
        self.count = 0

    def new_id(self, kind: str) -> str:
        self.count += 1
        return f"{kind}-{self.count:05d}"

    def fix(self, kind: str, vid: str, t: float, lon: float, lat: float, speed: float, occupied: bool) -> None:
        at = (self.midnight + timedelta(seconds=t)).astimezone(ZoneInfo("UTC")).replace(microsecond=0)
        self.rows["kind"].append(kind)
        self.rows["vehicle_id"].append(vid)
        self.rows["ts"].append(at)
        self.rows["lon"].append(lon)
        self.rows["lat"].append(lat)
        self.rows["speed_kmh"].append(round(speed * 3.6, 1))
        self.rows["occupied"].append(occupied)

    def at_hub(self, share: float = 1.0) -> tuple[float, float]:
        spread_m = self.spread_m * share
        return (
            self.lon + self.rng.uniform(-spread_m, spread_m) / self.kx,
            self.lat + self.rng.uniform(-spread_m, spread_m) / M_PER_DEG_LAT,
        )

    def drive(
        self, kind: str, vid: str, t0: float, a: tuple[float, float], b: tuple[float, float], occupied: bool
    ) -> float:
        """Fixes from a to b (east–west first); returns the arrival time."""
        corner = (b[0], a[1])
        legs = [(a, corner), (corner, b)]
        lengths = [abs(corner[0] - a[0]) * self.kx, abs(b[1] - corner[1]) * M_PER_DEG_LAT]
        total = sum(lengths)
        duration = max(total / SPEED_M_PER_S, 1.0)
        t = t0
        while t < t0 + duration:
            s = (t - t0) * SPEED_M_PER_S
            (p, q), run = (legs[0], s) if s <= lengths[0] else (legs[1], s - lengths[0])
            span = lengths[0] if s <= lengths[0] else lengths[1]
            f = 0.0 if span <= 0 else min(1.0, run / span)
            self.fix(kind, vid, t, p[0] + f * (q[0] - p[0]), p[1] + f * (q[1] - p[1]), SPEED_M_PER_S, occupied)
            t += self.fix_s
        self.fix(kind, vid, t0 + duration, b[0], b[1], 0.0, occupied)
        return t0 + duration


def simulate_day(
    *,
    hub_code: str,
    lon: float,
    lat: float,
    day: date,
    ends: list[tuple[float, float]],
    rng: random.Random,
    timezone: str = "Asia/Shanghai",
    scale: float = 1.0,
    fix_s: int = 60,
    until: datetime | None = None,
    spread_m: float = 60.0,
) -> HubDay:
    """One day (06:00–24:00 local) at the hub; ``until`` drops what would lie after it. Vehicles
    at the hub stand within ``spread_m`` of its point (east and north)."""
    if not ends:
        raise ValueError("a hub's day needs places its passengers come from and go to")
    tz = ZoneInfo(timezone)
    weights = _weights()
    whole = sum(weights)
    video: dict[str, list[object]] = {c: [] for c in VIDEO_SCHEMA}
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz)

    def count(camera: str, minute: int, mode: str, direction: str, n: int) -> None:
        video["camera_id"].append(camera)
        video["hub_code"].append(hub_code)
        video["ts"].append((midnight + timedelta(minutes=START_H * 60 + minute)).astimezone(ZoneInfo("UTC")))
        video["interval_s"].append(300)
        video["mode"].append(mode)
        video["direction"].append(direction)
        video["count"].append(n)

    for mode, per_day in PEOPLE_PER_DAY.items():
        for direction, shift in (("in", 0), ("out", 20)):  # people leave a little after the trains arrive
            for m in range(0, len(weights), 5):
                w = sum(weights[max(0, m - shift) : max(0, m - shift) + 5])
                count(f"{hub_code}-{mode}", m, mode, direction, _poisson(rng, per_day * scale * w / whole))

    fleet = _Fleet(lon, lat, rng, fix_s, tz, day, spread_m)
    queue: list[float] = []  # passengers waiting (their arrival times)
    rank: list[str] = []  # empty taxis waiting, first in first out
    for m, w in enumerate(weights):
        t = (START_H * 60 + m) * 60.0
        hour = START_H + m / 60
        for _ in range(_poisson(rng, TAXI_PER_DAY * scale * w / whole)):  # a taxi brings a passenger
            vid = fleet.new_id("taxi")
            start_at = rng.choice(ends)
            leave = t - _trip_s(fleet, start_at)
            fleet.fix("taxi", vid, leave - 60, *start_at, 0.0, False)  # empty until the passenger gets in
            arrive = fleet.drive("taxi", vid, leave, start_at, fleet.at_hub(), True)
            x, y = fleet.at_hub()
            fleet.fix("taxi", vid, arrive + 30, x, y, 0.0, False)  # the flag goes off: a drop-off
            if rng.random() < 0.5 and len(rank) < RANK_SIZE:
                rank.append(vid)
        for _ in range(_poisson(rng, _supply(hour) * TAXI_PER_DAY * scale * w / whole)):
            if len(rank) < RANK_SIZE:  # a full rank sends the taxi away
                rank.append(fleet.new_id("taxi"))
        queue.extend(t + rng.uniform(0, 60) for _ in range(_poisson(rng, TAXI_PER_DAY * scale * w / whole)))
        while queue and queue[0] < t - PATIENCE_S:  # tired of waiting: gone to the metro or a bus
            queue.pop(0)
        while queue and rank:  # pick-ups: one passenger party per taxi
            queue.pop(0)
            vid = rank.pop(0)
            x, y = fleet.at_hub()
            fleet.fix("taxi", vid, t + 5, x, y, 0.0, False)
            end_at = rng.choice(ends)
            there = fleet.drive("taxi", vid, t + 35, (x, y), end_at, True)
            fleet.fix("taxi", vid, there + 30, *end_at, 0.0, False)  # the passenger gets out
        for vid in rank:  # the rank's empty taxis
            x, y = fleet.at_hub(0.7)
            fleet.fix("taxi", vid, t + rng.uniform(0, 50), x, y, 0.0, False)
        if m % 5 == 0:
            count(f"{hub_code}-taxi-queue", m, "taxi", "queue", len(queue))
        for _ in range(_poisson(rng, RIDEHAIL_PER_DAY * scale * w / whole)):  # ride-hailing drop-off
            vid = fleet.new_id("ridehail")
            start_at = rng.choice(ends)
            leave = t - _trip_s(fleet, start_at)
            fleet.fix("ridehail", vid, leave - 60, *start_at, 0.0, False)
            arrive = fleet.drive("ridehail", vid, leave, start_at, fleet.at_hub(), True)
            x, y = fleet.at_hub()
            fleet.fix("ridehail", vid, arrive + 30, x, y, 0.0, False)
        for _ in range(_poisson(rng, RIDEHAIL_PER_DAY * scale * w / whole)):  # ride-hailing pick-up
            vid = fleet.new_id("ridehail")
            x, y = fleet.at_hub()
            fleet.fix("ridehail", vid, t - 60, x, y, 5.0, False)
            end_at = rng.choice(ends)
            there = fleet.drive("ridehail", vid, t, (x, y), end_at, True)
            fleet.fix("ridehail", vid, there + 30, *end_at, 0.0, False)
    probes = pl.DataFrame(fleet.rows, schema=PROBE_SCHEMA).unique(["kind", "vehicle_id", "ts"], keep="first")
    frame = pl.DataFrame(video, schema=VIDEO_SCHEMA)
    if until is not None:
        probes = probes.filter(pl.col("ts") < until)
        frame = frame.filter(pl.col("ts") + pl.duration(seconds=pl.col("interval_s")) <= until)
    return HubDay(frame.sort("ts", "camera_id", "direction"), probes.sort("kind", "vehicle_id", "ts"))


def _trip_s(fleet: _Fleet, a: tuple[float, float]) -> float:
    return (abs(a[0] - fleet.lon) * fleet.kx + abs(a[1] - fleet.lat) * M_PER_DEG_LAT) / SPEED_M_PER_S


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def records(day: HubDay) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The day as the ingest's video and probe records."""
    video = [{**r, "ts": r["ts"].isoformat()} for r in day.video.iter_rows(named=True)]
    probes = [{**r, "ts": r["ts"].isoformat()} for r in day.probes.iter_rows(named=True)]
    return video, probes
