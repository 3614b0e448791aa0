"""Trips from probe traces (a Polars kernel over the ``probe_point`` columns).

* taxi and ride-hailing: an **occupied run** (consecutive fixes with ``occupied`` true) is a trip;
* other probes (buses, cars): a **stop of more than 5 minutes** (``config.STOP_SPLIT_S``) ends a
  trip and the next one starts when the vehicle leaves; a fix is stopped when slower than 3 km/h,
  or, without a speed, within 25 m of the previous fix. A trip runs from the fix where the vehicle
  left a stop to the fix where it reached the next one.
* for every kind, a gap of more than 5 minutes without a fix ends a trip.

A trip's distance is the sum of the straight steps between its fixes, its duration last fix
minus first, its path the matched segment ids in order (repeats removed). Runs shorter than
200 m or 60 s are dropped (repositioning, GPS noise).
"""

from __future__ import annotations

import math

import polars as pl

from cityos.mobility.commute import config
from cityos.mobility.network.schema import EARTH_RADIUS_M

PROBE_COLUMNS: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "vehicle_key": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "speed_kmh": pl.Float64(),
    "occupied": pl.Boolean(),
    "segment_id": pl.String(),
}

# The trip frame every writer hands to ``service.save_trips``.
TRIP_COLUMNS: dict[str, pl.DataType] = {
    "trip_key": pl.String(),
    "mode": pl.String(),
    "source": pl.String(),
    "started_at": pl.Datetime("us", "UTC"),
    "ended_at": pl.Datetime("us", "UTC"),
    "origin_lon": pl.Float64(),
    "origin_lat": pl.Float64(),
    "dest_lon": pl.Float64(),
    "dest_lat": pl.Float64(),
    "distance_m": pl.Float64(),
    "duration_s": pl.Float64(),
    "segment_ids": pl.List(pl.String()),
}

_VEHICLE = ["kind", "vehicle_key"]


def empty_trips() -> pl.DataFrame:
    return pl.DataFrame(schema=TRIP_COLUMNS)


def haversine(lon1: pl.Expr, lat1: pl.Expr, lon2: pl.Expr, lat2: pl.Expr) -> pl.Expr:
    r = math.pi / 180.0
    dlat = (lat2 - lat1) * r
    dlon = (lon2 - lon1) * r
    a = (dlat / 2).sin() ** 2 + (lat1 * r).cos() * (lat2 * r).cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_RADIUS_M * a.sqrt().clip(upper_bound=1.0).arcsin()


def trips_from_probes(points: pl.DataFrame) -> pl.DataFrame:
    """The trips of probe fixes (columns ``PROBE_COLUMNS``, any order) as a ``TRIP_COLUMNS`` frame."""
    if points.is_empty():
        return empty_trips()
    df = points.select([pl.col(c).cast(t) for c, t in PROBE_COLUMNS.items()]).sort([*_VEHICLE, "ts"])
    prev = {c: pl.col(c).shift(1).over(_VEHICLE) for c in ("ts", "lon", "lat")}
    df = df.with_columns(
        first=pl.col("ts").cum_count().over(_VEHICLE) == 1,
        gap_s=(pl.col("ts") - prev["ts"]).dt.total_seconds(fractional=True).fill_null(0.0),
        step_m=haversine(prev["lon"], prev["lat"], pl.col("lon"), pl.col("lat")).fill_null(0.0),
    )
    occupied_kind = pl.col("kind").is_in(list(config.OCCUPIED_KINDS))
    # Other probes: runs of stopped fixes, and how long each lasts.
    stopped = pl.when(pl.col("speed_kmh").is_not_null()).then(pl.col("speed_kmh") < config.STOPPED_KMH).otherwise(
        pl.col("step_m") < config.STOPPED_M
    ) & ~pl.col("first")
    df = df.with_columns(stopped=stopped)
    df = df.with_columns(
        stop_run=(pl.col("stopped") != pl.col("stopped").shift(1)).fill_null(True).cum_sum().over(_VEHICLE)
    )
    run = [*_VEHICLE, "stop_run"]
    # A stop lasts from the fix before its first stopped fix (where the vehicle arrived) to its last.
    df = df.with_columns(
        long_stop=pl.col("stopped") & (pl.col("gap_s").sum().over(run) > config.STOP_SPLIT_S),
        run_last=pl.col("ts") == pl.col("ts").max().over(run),
    )
    # The fix that ends a long stop (the departure) starts the next trip; its other fixes belong to none.
    in_other = ~pl.col("long_stop") | pl.col("run_last")
    in_occupied = pl.col("occupied").fill_null(False)
    df = df.with_columns(in_trip=pl.when(occupied_kind).then(in_occupied).otherwise(in_other))
    gap = pl.col("gap_s") > config.GAP_SPLIT_S
    prev_in = pl.col("in_trip").shift(1).over(_VEHICLE).fill_null(False)
    boundary = pl.col("in_trip") & (pl.col("first") | gap | ~prev_in)
    df = df.with_columns(boundary=boundary)
    df = df.with_columns(trip_no=pl.col("boundary").cast(pl.Int64).cum_sum().over(_VEHICLE)).filter(
        pl.col("in_trip") & (pl.col("trip_no") > 0)
    )
    trip = [*_VEHICLE, "trip_no"]
    prev_seg = pl.col("segment_id").shift(1).over(trip)
    df = df.with_columns(
        new_seg=pl.col("segment_id").is_not_null() & (prev_seg.is_null() | (pl.col("segment_id") != prev_seg)),
        step_in=pl.when(pl.col("boundary")).then(0.0).otherwise(pl.col("step_m")),
    )
    trips = df.group_by(trip).agg(
        n=pl.len(),
        started_at=pl.col("ts").first(),
        ended_at=pl.col("ts").last(),
        origin_lon=pl.col("lon").first(),
        origin_lat=pl.col("lat").first(),
        dest_lon=pl.col("lon").last(),
        dest_lat=pl.col("lat").last(),
        distance_m=pl.col("step_in").sum(),
        segment_ids=pl.col("segment_id").filter(pl.col("new_seg")),
    )
    trips = trips.with_columns(duration_s=(pl.col("ended_at") - pl.col("started_at")).dt.total_seconds(fractional=True))
    trips = trips.filter(
        (pl.col("n") >= 2) & (pl.col("distance_m") >= config.MIN_TRIP_M) & (pl.col("duration_s") >= config.MIN_TRIP_S)
    )
    out = trips.sort([*_VEHICLE, "started_at"]).select(
        trip_key=pl.format("probe:{}:{}:{}", pl.col("kind"), pl.col("vehicle_key"), pl.col("started_at").dt.epoch("s")),
        mode=pl.col("kind").replace_strict(config.PROBE_MODES, default="other"),
        source=pl.lit("derived"),
        **{c: pl.col(c) for c in list(TRIP_COLUMNS)[3:]},
    )
    return out.select([pl.col(c).cast(t) for c, t in TRIP_COLUMNS.items()])
