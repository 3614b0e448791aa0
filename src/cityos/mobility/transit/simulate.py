"""A small synthetic bus network on a road network, for tests and the demo.

``plan_routes`` lays routes across the network (west–east and south–north through its middle,
following arterials where the grid has them: the path search prefers them); ``write_feed``
writes them as a GTFS zip (stops every ~400 m each way, trips every few minutes, a scheduled
speed with dwell) that ``service.import_gtfs`` reads like any feed; ``bus_positions`` drives
the feed's trips as probe fixes (kind ``bus``) with a delay per trip, drift between stops,
occasional bunching and GPS noise in metres, and returns the true stop arrivals alongside.
"""

from __future__ import annotations

import csv
import heapq
import io
import math
import random
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from cityos.mobility.network.schema import M_PER_DEG_LAT, haversine_m

CLASS_WEIGHT = {"arterial": 0.7, "secondary": 0.85, "expressway": 1.4, "branch": 1.2}
PROBE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "vehicle_key": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "speed_kmh": pl.Float64(),
    "heading_deg": pl.Float64(),
    "occupied": pl.Boolean(),
    "route_id": pl.String(),
    "trip_id": pl.String(),
}


@dataclass
class SimStop:
    stop_id: str
    name: str
    lon: float
    lat: float
    at_m: float  # distance along the direction's path


@dataclass
class SimRoute:
    route_id: str
    short_name: str
    long_name: str
    lons: list[float]  # direction 0's path; direction 1 runs it backwards
    lats: list[float]
    stops: dict[int, list[SimStop]] = field(default_factory=dict)  # direction -> stops in order

    def path(self, direction: int) -> tuple[list[float], list[float]]:
        return (self.lons, self.lats) if direction == 0 else (self.lons[::-1], self.lats[::-1])


@dataclass
class SimTrip:
    trip_id: str
    route_id: str
    direction: int
    vehicle: str
    times: list[int]  # scheduled arrival at each stop, seconds after midnight


def _graph(
    segments: pl.DataFrame,
) -> tuple[dict[str, list[tuple[str, float, list[float], list[float]]]], dict[str, tuple[float, float]]]:
    graph: dict[str, list[tuple[str, float, list[float], list[float]]]] = {}
    pos: dict[str, tuple[float, float]] = {}
    for s in segments.iter_rows(named=True):
        w = s["length_m"] * CLASS_WEIGHT.get(s["road_class"], 1.0)
        graph.setdefault(s["from_node"], []).append((s["to_node"], w, s["lons"], s["lats"]))
        pos[s["from_node"]] = (s["lons"][0], s["lats"][0])
        pos[s["to_node"]] = (s["lons"][-1], s["lats"][-1])
    return graph, pos


def _shortest(
    graph: dict[str, list[tuple[str, float, list[float], list[float]]]], a: str, b: str
) -> tuple[list[float], list[float]] | None:
    best: dict[str, float] = {a: 0.0}
    back: dict[str, tuple[str, list[float], list[float]]] = {}
    heap = [(0.0, a)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == b:
            break
        if d > best.get(u, math.inf):
            continue
        for v, w, lo, la in graph.get(u, []):
            if d + w < best.get(v, math.inf):
                best[v] = d + w
                back[v] = (u, lo, la)
                heapq.heappush(heap, (d + w, v))
    if b not in back:
        return None
    parts: list[tuple[list[float], list[float]]] = []
    node = b
    while node != a:
        u, lo, la = back[node]
        parts.append((lo, la))
        node = u
    lons: list[float] = []
    lats: list[float] = []
    for lo, la in reversed(parts):
        start = 1 if lons else 0
        lons.extend(lo[start:])
        lats.extend(la[start:])
    return lons, lats


def _nearest(pos: dict[str, tuple[float, float]], lon: float, lat: float) -> str:
    return min(pos, key=lambda n: (pos[n][0] - lon) ** 2 + (pos[n][1] - lat) ** 2)


def plan_routes(
    segments: pl.DataFrame, *, count: int = 3, stop_spacing_m: float = 400.0, prefix: str = "B"
) -> list[SimRoute]:
    """``count`` routes across the network: west–east and south–north in turn, through the middle
    first, then at a quarter and three quarters of its extent."""
    graph, pos = _graph(segments)
    if len(pos) < 2:
        raise ValueError("the network has too few nodes for a bus route")
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    fractions = [0.5, 0.5, 0.25, 0.75, 0.75, 0.25]
    routes: list[SimRoute] = []
    for k in range(count):
        f = fractions[k % len(fractions)]
        inset = 0.08  # start just inside the outer ring
        if k % 2 == 0:  # west–east
            a = _nearest(pos, x0 + inset * (x1 - x0), y0 + f * (y1 - y0))
            b = _nearest(pos, x1 - inset * (x1 - x0), y0 + f * (y1 - y0))
        else:
            a = _nearest(pos, x0 + f * (x1 - x0), y0 + inset * (y1 - y0))
            b = _nearest(pos, x0 + f * (x1 - x0), y1 - inset * (y1 - y0))
        found = _shortest(graph, a, b) if a != b else None
        if found is None:
            continue
        n = len(routes) + 1
        rid = f"{prefix}{n}"
        route = SimRoute(rid, f"{n}", f"{a} – {b}", found[0], found[1])
        for direction in (0, 1):
            route.stops[direction] = _stops(route, direction, stop_spacing_m)
        routes.append(route)
    return routes


def _cumulative(lons: list[float], lats: list[float]) -> list[float]:
    out = [0.0]
    for i in range(len(lons) - 1):
        out.append(out[-1] + haversine_m(lons[i], lats[i], lons[i + 1], lats[i + 1]))
    return out


def point_at(lons: list[float], lats: list[float], cum: list[float], s: float) -> tuple[float, float, float]:
    """(lon, lat, heading°) at distance ``s`` along the polyline."""
    s = min(max(s, 0.0), cum[-1])
    i = max(0, min(len(cum) - 2, next((j for j in range(1, len(cum)) if cum[j] >= s), len(cum) - 1) - 1))
    span = cum[i + 1] - cum[i]
    t = 0.0 if span <= 0 else (s - cum[i]) / span
    lon = lons[i] + t * (lons[i + 1] - lons[i])
    lat = lats[i] + t * (lats[i + 1] - lats[i])
    kx = M_PER_DEG_LAT * math.cos(math.radians(lat))
    heading = math.degrees(math.atan2((lons[i + 1] - lons[i]) * kx, (lats[i + 1] - lats[i]) * M_PER_DEG_LAT)) % 360
    return lon, lat, heading


def _stops(route: SimRoute, direction: int, spacing: float) -> list[SimStop]:
    lons, lats = route.path(direction)
    cum = _cumulative(lons, lats)
    count = max(1, round(cum[-1] / spacing))
    stops = []
    for k in range(count + 1):
        s = cum[-1] * k / count
        lon, lat, heading = point_at(lons, lats, cum, s)
        # The kerb on the right of the travel direction, 8 m off the centre line.
        kx = M_PER_DEG_LAT * math.cos(math.radians(lat))
        right = math.radians(heading + 90)
        lon += 8 * math.sin(right) / kx
        lat += 8 * math.cos(right) / M_PER_DEG_LAT
        stops.append(SimStop(f"{route.route_id}-{direction}-{k:02d}", f"{route.short_name}路 {k + 1}", lon, lat, s))
    return stops


def schedule(
    routes: list[SimRoute],
    *,
    start_s: int = 6 * 3600,
    end_s: int = 22 * 3600,
    headway_s: int = 600,
    speed_kmh: float = 20.0,
    dwell_s: int = 20,
) -> list[SimTrip]:
    trips: list[SimTrip] = []
    for route in routes:
        for direction, stops in route.stops.items():
            run_s = [round(st.at_m / (speed_kmh / 3.6)) + k * dwell_s for k, st in enumerate(stops)]
            fleet = math.ceil((run_s[-1] + 300) / headway_s) + 1
            for i, t0 in enumerate(range(start_s, end_s, headway_s)):
                trips.append(
                    SimTrip(
                        f"{route.route_id}-{direction}-{t0 // 3600:02d}{t0 % 3600 // 60:02d}",
                        route.route_id,
                        direction,
                        f"{route.route_id}-{direction}-v{i % fleet}",
                        [t0 + r for r in run_s],
                    )
                )
    return trips


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def write_feed(
    path: Path | str,
    routes: list[SimRoute],
    trips: list[SimTrip],
    *,
    timezone: str = "Asia/Shanghai",
    agency: str = "城市公交",
) -> Path:
    """The routes and trips as a GTFS zip at ``path`` (every day of 2026–2027 in service)."""
    tables: dict[str, list[list[object]]] = {
        "agency.txt": [
            ["agency_id", "agency_name", "agency_url", "agency_timezone"],
            ["BUS", agency, "https://example.org", timezone],
        ],
        "routes.txt": [["route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "route_color"]],
        "stops.txt": [["stop_id", "stop_name", "stop_lat", "stop_lon"]],
        "trips.txt": [["route_id", "service_id", "trip_id", "direction_id", "shape_id", "trip_headsign"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]],
        "calendar.txt": [
            [
                "service_id",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
                "start_date",
                "end_date",
            ],
            ["DAILY", 1, 1, 1, 1, 1, 1, 1, "20260101", "20271231"],
        ],
        "shapes.txt": [["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"]],
    }
    colours = ["1f77b4", "d62728", "2ca02c", "9467bd", "ff7f0e", "17becf"]
    by_id = {r.route_id: r for r in routes}
    for n, r in enumerate(routes):
        tables["routes.txt"].append([r.route_id, "BUS", r.short_name, r.long_name, 3, colours[n % len(colours)]])
        for direction, stops in r.stops.items():
            for st in stops:
                tables["stops.txt"].append([st.stop_id, st.name, f"{st.lat:.7f}", f"{st.lon:.7f}"])
            lons, lats = r.path(direction)
            for k, (x, y) in enumerate(zip(lons, lats, strict=True)):
                tables["shapes.txt"].append([f"{r.route_id}-{direction}", f"{y:.7f}", f"{x:.7f}", k])
    for t in trips:
        last = by_id[t.route_id].stops[t.direction][-1].name
        tables["trips.txt"].append([t.route_id, "DAILY", t.trip_id, t.direction, f"{t.route_id}-{t.direction}", last])
        for k, (st, s) in enumerate(zip(by_id[t.route_id].stops[t.direction], t.times, strict=True)):
            tables["stop_times.txt"].append([t.trip_id, _hms(s), _hms(s), st.stop_id, k + 1])
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, rows in tables.items():
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            z.writestr(name, buf.getvalue())
    return path


def bus_positions(
    routes: list[SimRoute],
    trips: list[SimTrip],
    *,
    service_date: date,
    rng: random.Random,
    timezone: str = "Asia/Shanghai",
    interval_s: int = 30,
    noise_m: float = 6.0,
    dwell_s: int = 20,
    window: tuple[datetime, datetime] | None = None,
    bunching: float = 0.12,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(probe fixes as ``PROBE_SCHEMA``, true arrivals: trip_id, stop_id, stop_sequence, arrived_at).

    Each trip starts up to a minute early or four late, drifts by up to ±40 s between stops, and
    one trip in ``1 / bunching`` leaves half a headway late (the next bus catches it up)."""
    midnight = datetime.combine(service_date, datetime.min.time(), tzinfo=ZoneInfo(timezone))
    by_id = {r.route_id: r for r in routes}
    rows: dict[str, list[object]] = {c: [] for c in PROBE_SCHEMA}
    truth: dict[str, list[object]] = {"trip_id": [], "stop_id": [], "stop_sequence": [], "arrived_at": []}
    for t in trips:
        if window is not None and (
            midnight + timedelta(seconds=t.times[-1] + 900) < window[0]
            or midnight + timedelta(seconds=t.times[0] - 300) >= window[1]
        ):
            continue  # a trip wholly outside the window
        route = by_id[t.route_id]
        stops = route.stops[t.direction]
        lons, lats = route.path(t.direction)
        cum = _cumulative(lons, lats)
        delay = rng.uniform(-60, 240)
        if rng.random() < bunching:
            delay += 300
        knots: list[tuple[float, float]] = []  # (seconds after midnight, metres along)
        for k, (st, s) in enumerate(zip(stops, t.times, strict=True)):
            if k:
                delay += rng.uniform(-40, 40)
            arrive = s + delay
            knots.append((arrive, st.at_m))
            knots.append((arrive + dwell_s, st.at_m))
            truth["trip_id"].append(t.trip_id)
            truth["stop_id"].append(st.stop_id)
            truth["stop_sequence"].append(k + 1)
            truth["arrived_at"].append(midnight + timedelta(seconds=arrive))
        begin = knots[0][0] - rng.uniform(0, interval_s)
        tick = begin
        j = 0
        while tick <= knots[-1][0]:
            while j < len(knots) - 2 and knots[j + 1][0] < tick:
                j += 1
            (ta, sa), (tb, sb) = knots[j], knots[j + 1]
            along = sa if tb <= ta or tick <= ta else sa + (sb - sa) * min(1.0, (tick - ta) / (tb - ta))
            speed = 0.0 if tb <= ta or sb == sa else (sb - sa) / (tb - ta) * 3.6
            lon, lat, heading = point_at(lons, lats, cum, along)
            kx = M_PER_DEG_LAT * math.cos(math.radians(lat))
            at = midnight + timedelta(seconds=tick)
            if window is None or window[0] <= at < window[1]:
                rows["kind"].append("bus")
                rows["vehicle_key"].append(t.vehicle)
                rows["ts"].append(at.astimezone(ZoneInfo("UTC")).replace(microsecond=0))
                rows["lon"].append(lon + rng.gauss(0, noise_m) / kx)
                rows["lat"].append(lat + rng.gauss(0, noise_m) / M_PER_DEG_LAT)
                rows["speed_kmh"].append(round(speed, 1))
                rows["heading_deg"].append(round(heading, 1))
                rows["occupied"].append(None)
                rows["route_id"].append(t.route_id)
                rows["trip_id"].append(t.trip_id)
            tick += interval_s
    fixes = pl.DataFrame(rows, schema=PROBE_SCHEMA).unique(
        ["kind", "vehicle_key", "ts"], keep="first", maintain_order=True
    )
    real = pl.DataFrame(
        truth,
        schema={
            "trip_id": pl.String,
            "stop_id": pl.String,
            "stop_sequence": pl.Int64,
            "arrived_at": pl.Datetime("us", "UTC"),
        },
    )
    return fixes, real
