"""Polars kernels of a hub's passenger flow (综合交通枢纽客流), over camera counts and probe fixes.

**Arrivals by mode, per minute.** Camera counts (``video_count``, direction ``in`` = into the
hub, ``out`` = out of it) are spread evenly over the minutes of their interval. Taxi and
ride-hailing trips are also read from the vehicles' fixes: an ``occupied`` true→false change at a
fix inside the hub's radius is a *drop-off* (an arrival), false→true a *pick-up* (a departure);
a change across a gap of over 15 minutes is not counted (the state in between is unknown). For
each mode the cameras are used when they counted that mode in the window, the fixes otherwise
(``source``), so nobody is counted twice. Fixes count vehicle trips, cameras people.

**Taxi supply against waiting passengers.** Per minute, the distinct empty taxis with a fix
inside the radius (the rank and the kerb) and the people in the taxi queue (``queue`` counts of
mode taxi: a snapshot, held over its interval; the cameras of several queues are added). The
ratio is supply / waiting; a minute is short of taxis when at least ``MIN_QUEUE`` people wait and
the ratio is under ``SHORTAGE_RATIO``.

**Where passengers come from and go.** A drop-off at the hub ends an occupied run: its first fix
(the pick-up) is where the passenger came from. A pick-up at the hub starts one: its last fix is
where the passenger went. A run that began before (or ended after) the fixes read has no known
other end and is left out; ``flow.py`` locates the ends to districts.
"""

from __future__ import annotations

import math
from datetime import datetime

import polars as pl

from cityos.mobility.network.schema import M_PER_DEG_LAT

GAP_S = 900
SHORTAGE_RATIO = 0.5
MIN_QUEUE = 5
MODES: tuple[str, ...] = ("metro", "bus", "taxi", "ridehail", "car", "pedestrian")
PROBE_MODES: tuple[str, ...] = ("taxi", "ridehail")

VIDEO_SCHEMA: dict[str, pl.DataType] = {
    "camera_id": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "interval_s": pl.Int64(),
    "mode": pl.String(),
    "direction": pl.String(),
    "count": pl.Int64(),
}
PROBE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "vehicle_key": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "occupied": pl.Boolean(),
}
ARRIVALS_SCHEMA: dict[str, pl.DataType] = {
    "minute": pl.Datetime("us", "UTC"),
    "mode": pl.String(),
    "source": pl.String(),
    "arrivals": pl.Float64(),
    "departures": pl.Float64(),
}
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "vehicle_key": pl.String(),
    "event": pl.String(),  # dropoff | pickup
    "ts": pl.Datetime("us", "UTC"),
    "other_lon": pl.Float64(),
    "other_lat": pl.Float64(),
}


def distance_m(lon: float, lat: float) -> pl.Expr:
    """Metres from (lon, lat) to each row's position (flat within a hub's few kilometres)."""
    kx = M_PER_DEG_LAT * math.cos(math.radians(lat))
    return (((pl.col("lon") - lon) * kx) ** 2 + ((pl.col("lat") - lat) * M_PER_DEG_LAT) ** 2).sqrt()


def _per_minute(video: pl.DataFrame) -> pl.DataFrame:
    """Each count spread over the minutes of its interval: camera, minute, mode, direction, count."""
    return (
        video.with_columns(((pl.col("interval_s") + 59) // 60).clip(1, 1440).alias("n"))
        .with_columns(pl.int_ranges(0, pl.col("n")).alias("k"))
        .explode("k")
        .with_columns(
            (pl.col("ts").dt.truncate("1m") + pl.duration(minutes=pl.col("k"))).alias("minute"),
            pl.when(pl.col("direction") == "queue")
            .then(pl.col("count").cast(pl.Float64))
            .otherwise(pl.col("count") / pl.col("n"))
            .alias("value"),
        )
    )


def transitions(probes: pl.DataFrame) -> pl.DataFrame:
    """Every pick-up and drop-off in the fixes with the other end of its occupied run when known:
    kind, vehicle_key, event, ts, lon, lat (the fix where the flag changed), other_lon, other_lat."""
    p = (
        probes.filter(pl.col("occupied").is_not_null())
        .sort("kind", "vehicle_key", "ts")
        .with_columns(
            pl.col("occupied").shift(1).over("kind", "vehicle_key").alias("prev"),
            pl.col("ts").diff().dt.total_seconds().over("kind", "vehicle_key").alias("gap"),
        )
        .with_columns(
            (pl.col("gap").is_not_null() & (pl.col("gap") <= GAP_S) & (pl.col("prev") != pl.col("occupied"))).alias(
                "change"
            )
        )
        # an occupied run: consecutive occupied fixes without a long gap
        .with_columns(
            (
                pl.col("occupied")
                & (pl.col("prev").is_null() | ~pl.col("prev").fill_null(False) | (pl.col("gap") > GAP_S))
            )
            .cast(pl.Int64)
            .cum_sum()
            .over("kind", "vehicle_key")
            .alias("run")
        )
    )
    occupied = p.filter(pl.col("occupied"))
    runs = occupied.group_by("kind", "vehicle_key", "run").agg(
        pl.col("lon").first().alias("first_lon"),
        pl.col("lat").first().alias("first_lat"),
        pl.col("change").first().alias("began"),  # the run's first fix is a real pick-up
        pl.col("lon").last().alias("last_lon"),
        pl.col("lat").last().alias("last_lat"),
        pl.col("ts").last().alias("last_ts"),
    )
    # whether the run ended with a real drop-off: the fix after its last one is an empty change
    ended = p.filter(pl.col("change") & ~pl.col("occupied")).select(
        "kind", "vehicle_key", (pl.col("run")).alias("run"), pl.lit(True).alias("ended")
    )
    runs = runs.join(ended.unique(["kind", "vehicle_key", "run"]), on=["kind", "vehicle_key", "run"], how="left")
    changes = p.filter(pl.col("change")).with_columns(
        pl.when(pl.col("occupied")).then(pl.lit("pickup")).otherwise(pl.lit("dropoff")).alias("event")
    )
    joined = changes.join(runs, on=["kind", "vehicle_key", "run"], how="left")
    return joined.select(
        "kind",
        "vehicle_key",
        "event",
        "ts",
        "lon",
        "lat",
        pl.when(pl.col("event") == "dropoff")
        .then(pl.when(pl.col("began")).then(pl.col("first_lon")))
        .otherwise(pl.when(pl.col("ended").fill_null(False)).then(pl.col("last_lon")))
        .alias("other_lon"),
        pl.when(pl.col("event") == "dropoff")
        .then(pl.when(pl.col("began")).then(pl.col("first_lat")))
        .otherwise(pl.when(pl.col("ended").fill_null(False)).then(pl.col("last_lat")))
        .alias("other_lat"),
    )


def hub_events(
    probes: pl.DataFrame, *, lon: float, lat: float, radius_m: float, start: datetime, end: datetime
) -> pl.DataFrame:
    """The pick-ups and drop-offs inside the hub's radius in [start, end): ``EVENT_SCHEMA``."""
    if probes.is_empty():
        return pl.DataFrame(schema=EVENT_SCHEMA)
    t = transitions(probes)
    return (
        t.filter((pl.col("ts") >= start) & (pl.col("ts") < end) & (distance_m(lon, lat) <= radius_m))
        .select([pl.col(c).cast(d) for c, d in EVENT_SCHEMA.items()])
        .sort("ts")
    )


def arrivals(video: pl.DataFrame, events: pl.DataFrame, *, start: datetime, end: datetime) -> pl.DataFrame:
    """Per minute and mode, with the source used for the mode: ``ARRIVALS_SCHEMA``."""
    parts: list[pl.DataFrame] = []
    counted: set[str] = set()
    flows = video.filter(pl.col("direction").is_in(["in", "out"]))
    if flows.height:
        spread = _per_minute(flows).filter((pl.col("minute") >= start) & (pl.col("minute") < end))
        counted = set(spread["mode"].unique().to_list())
        parts.append(
            spread.group_by("minute", "mode")
            .agg(
                pl.col("value").filter(pl.col("direction") == "in").sum().alias("arrivals"),
                pl.col("value").filter(pl.col("direction") == "out").sum().alias("departures"),
            )
            .with_columns(pl.lit("video").alias("source"))
        )
    from_probes = events.filter(~pl.col("kind").is_in(list(counted)))
    if from_probes.height:
        parts.append(
            from_probes.with_columns(pl.col("ts").dt.truncate("1m").alias("minute"))
            .group_by("minute", pl.col("kind").alias("mode"))
            .agg(
                (pl.col("event") == "dropoff").sum().cast(pl.Float64).alias("arrivals"),
                (pl.col("event") == "pickup").sum().cast(pl.Float64).alias("departures"),
            )
            .with_columns(pl.lit("probe").alias("source"))
        )
    if not parts:
        return pl.DataFrame(schema=ARRIVALS_SCHEMA)
    return pl.concat([p.select([pl.col(c).cast(d) for c, d in ARRIVALS_SCHEMA.items()]) for p in parts]).sort(
        "minute", "mode"
    )


def mode_share(per_minute: pl.DataFrame) -> pl.DataFrame:
    """mode, source, arrivals, departures, total, share (of everyone in and out in the window)."""
    m = per_minute.group_by("mode", "source").agg(pl.col("arrivals").sum(), pl.col("departures").sum())
    m = m.with_columns((pl.col("arrivals") + pl.col("departures")).alias("total"))
    whole = m["total"].sum()
    return m.with_columns((pl.col("total") / whole if whole else pl.lit(0.0)).alias("share")).sort(
        "total", "mode", descending=[True, False]
    )


def taxi_supply(
    video: pl.DataFrame,
    probes: pl.DataFrame,
    *,
    lon: float,
    lat: float,
    radius_m: float,
    start: datetime,
    end: datetime,
) -> pl.DataFrame:
    """minute, empty_taxis, waiting, ratio, shortage — for the minutes with either."""
    empty = (
        probes.filter(
            (pl.col("kind") == "taxi")
            & (pl.col("occupied") == False)  # noqa: E712 (a column comparison, not a Python bool)
            & (pl.col("ts") >= start)
            & (pl.col("ts") < end)
            & (distance_m(lon, lat) <= radius_m)
        )
        .group_by(pl.col("ts").dt.truncate("1m").alias("minute"))
        .agg(pl.col("vehicle_key").n_unique().cast(pl.Int64).alias("empty_taxis"))
    )
    queue = video.filter((pl.col("direction") == "queue") & (pl.col("mode") == "taxi"))
    if queue.height:
        waiting = (
            _per_minute(queue)
            .filter((pl.col("minute") >= start) & (pl.col("minute") < end))
            .group_by("camera_id", "minute")
            .agg(pl.col("value").mean())
            .group_by("minute")
            .agg(pl.col("value").sum().round(0).cast(pl.Int64).alias("waiting"))
        )
    else:
        waiting = pl.DataFrame(schema={"minute": pl.Datetime("us", "UTC"), "waiting": pl.Int64})
    both = empty.join(waiting, on="minute", how="full", coalesce=True).with_columns(
        pl.col("empty_taxis").fill_null(0), pl.col("waiting").fill_null(0)
    )
    return (
        both.with_columns(
            pl.when(pl.col("waiting") > 0).then(pl.col("empty_taxis") / pl.col("waiting")).alias("ratio"),
        )
        .with_columns(
            ((pl.col("waiting") >= MIN_QUEUE) & (pl.col("ratio").fill_null(1.0) < SHORTAGE_RATIO)).alias("shortage")
        )
        .sort("minute")
    )
