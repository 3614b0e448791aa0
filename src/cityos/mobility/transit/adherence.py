"""Polars kernels over bus fixes and a feed's stop times: stop arrivals, schedule adherence, headways.

**Stop arrival.** A bus's fixes of one trip form a *run* (a gap over 30 minutes starts a new
one). Each pair of consecutive fixes is a straight piece of its path; a stop of the trip is
*reached* by a piece that comes within ``radius_m`` (30 m) of it, at the time interpolated at the
piece's closest point (a single fix within 30 m is a piece of length zero). Hits at one stop less
than two minutes apart are one *visit* (a dwell, a slow approach); the visit's first hit is the
arrival. A stop a trip serves twice (a loop) has its visits assigned to its occurrences in order.

**Adherence.** The scheduled time is the service day's midnight in the feed's zone plus the GTFS
arrival time; the service day is the local date of the run's first fix, or the day before when
the trip's times run past 24:00 and the fix is early in the morning. ``delay_s`` = arrival −
schedule; a bus is *on time* when −60 s ≤ delay ≤ +300 s (one minute early to five late).

**Headways.** Per route and stop, arrivals sorted by their scheduled time: the actual headway is
the time since the previous bus's arrival, the scheduled headway the time between the two
schedules. Mean, standard deviation and CV (std / mean) of the actual headways; a pair is
*bunched* when its actual headway is under half the scheduled one. Gaps over two hours (the night,
a missing run) are not headways.
"""

from __future__ import annotations

import math

import polars as pl

from cityos.mobility.network.schema import M_PER_DEG_LAT

RADIUS_M = 30.0
RUN_GAP_S = 1800
VISIT_GAP_S = 120
EARLY_S = -60
LATE_S = 300
MAX_HEADWAY_S = 7200
BUNCHED = 0.5

FIX_SCHEMA: dict[str, pl.DataType] = {
    "vehicle_key": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "route_id": pl.String(),
    "trip_id": pl.String(),
}
STOP_TIME_SCHEMA: dict[str, pl.DataType] = {
    "trip_id": pl.String(),
    "route_id": pl.String(),
    "stop_id": pl.String(),
    "stop_sequence": pl.Int64(),
    "arrival_s": pl.Int64(),
    "stop_lon": pl.Float64(),
    "stop_lat": pl.Float64(),
}
ARRIVAL_SCHEMA: dict[str, pl.DataType] = {
    "vehicle_key": pl.String(),
    "route_id": pl.String(),
    "trip_id": pl.String(),
    "stop_id": pl.String(),
    "stop_sequence": pl.Int64(),
    "service_date": pl.Date(),
    "arrived_at": pl.Datetime("us", "UTC"),
    "scheduled_at": pl.Datetime("us", "UTC"),
    "delay_s": pl.Float64(),
    "on_time": pl.Boolean(),
}


def empty_arrivals() -> pl.DataFrame:
    return pl.DataFrame(schema=ARRIVAL_SCHEMA)


def _runs(fixes: pl.DataFrame) -> pl.DataFrame:
    f = fixes.sort("vehicle_key", "trip_id", "ts")
    gap = pl.col("ts").diff().dt.total_seconds().over("vehicle_key", "trip_id")
    new = (gap.is_null()) | (gap > RUN_GAP_S)
    return f.with_columns(new.cast(pl.Int64).cum_sum().alias("run"))


def _service_dates(runs: pl.DataFrame, times: pl.DataFrame, tz: str) -> pl.DataFrame:
    bounds = times.group_by("trip_id").agg(
        pl.col("arrival_s").min().alias("first_s"), pl.col("arrival_s").max().alias("last_s")
    )
    first = (
        runs.group_by("run")
        .agg(pl.col("ts").min().alias("t0"), pl.col("trip_id").first())
        .join(bounds, on="trip_id")
        .with_columns(pl.col("t0").dt.convert_time_zone(tz).alias("local"))
        .with_columns(
            pl.col("local").dt.date().alias("d"),
            (pl.col("local").dt.hour().cast(pl.Int64) * 3600 + pl.col("local").dt.minute().cast(pl.Int64) * 60).alias(
                "sec"
            ),
        )
    )
    previous_day = (pl.col("sec") < pl.col("first_s") - 3 * 3600) & (
        pl.col("sec") + 86400 <= pl.col("last_s") + 3 * 3600
    )
    return first.select(
        "run",
        pl.when(previous_day).then(pl.col("d") - pl.duration(days=1)).otherwise(pl.col("d")).alias("service_date"),
    )


def stop_arrivals(
    fixes: pl.DataFrame, stop_times: pl.DataFrame, *, tz: str, radius_m: float = RADIUS_M
) -> pl.DataFrame:
    """One row per (run, stop occurrence) reached: ``ARRIVAL_SCHEMA``."""
    if fixes.is_empty() or stop_times.is_empty():
        return empty_arrivals()
    times = stop_times.select(list(STOP_TIME_SCHEMA)).filter(
        pl.col("trip_id").is_in(fixes["trip_id"].unique().implode())
    )
    fixes = fixes.filter(pl.col("trip_id").is_in(times["trip_id"].unique().implode()))
    if fixes.is_empty():
        return empty_arrivals()
    runs = _runs(fixes.select(list(FIX_SCHEMA)))
    pieces = runs.with_columns(
        pl.col("lon").shift(-1).over("run").fill_null(pl.col("lon")).alias("lon_b"),
        pl.col("lat").shift(-1).over("run").fill_null(pl.col("lat")).alias("lat_b"),
        pl.col("ts").shift(-1).over("run").fill_null(pl.col("ts")).alias("ts_b"),
    )
    kx = pl.col("stop_lat").radians().cos() * (M_PER_DEG_LAT)
    hits = (
        pieces.join(times.drop("route_id"), on="trip_id")
        .with_columns(
            ((pl.col("lon") - pl.col("stop_lon")) * kx).alias("ax"),
            ((pl.col("lat") - pl.col("stop_lat")) * M_PER_DEG_LAT).alias("ay"),
            ((pl.col("lon_b") - pl.col("lon")) * kx).alias("dx"),
            ((pl.col("lat_b") - pl.col("lat")) * M_PER_DEG_LAT).alias("dy"),
        )
        .with_columns((pl.col("dx") ** 2 + pl.col("dy") ** 2).alias("dd"))
        .with_columns(
            pl.when(pl.col("dd") > 0)
            .then((-(pl.col("ax") * pl.col("dx") + pl.col("ay") * pl.col("dy")) / pl.col("dd")).clip(0.0, 1.0))
            .otherwise(0.0)
            .alias("t")
        )
        .with_columns(
            ((pl.col("ax") + pl.col("t") * pl.col("dx")) ** 2 + (pl.col("ay") + pl.col("t") * pl.col("dy")) ** 2)
            .sqrt()
            .alias("dist")
        )
        .filter(pl.col("dist") <= radius_m)
        .with_columns(
            (
                pl.col("ts")
                + pl.duration(
                    microseconds=((pl.col("ts_b") - pl.col("ts")).dt.total_microseconds() * pl.col("t")).cast(pl.Int64)
                )
            ).alias("hit_at")
        )
    )
    if hits.is_empty():
        return empty_arrivals()
    visits = (
        hits.select("run", "vehicle_key", "route_id", "trip_id", "stop_id", "hit_at")
        .unique()
        .sort("run", "stop_id", "hit_at")
        .with_columns(
            (pl.col("hit_at").diff().dt.total_seconds().over("run", "stop_id").fill_null(VISIT_GAP_S + 1) > VISIT_GAP_S)
            .cast(pl.Int64)
            .cum_sum()
            .over("run", "stop_id")
            .sub(1)
            .alias("visit")
        )
        .group_by("run", "vehicle_key", "route_id", "trip_id", "stop_id", "visit")
        .agg(pl.col("hit_at").min().alias("arrived_at"))
    )
    occurrences = times.sort("trip_id", "stop_sequence").with_columns(
        pl.int_range(pl.len()).over("trip_id", "stop_id").alias("visit")
    )
    dates = _service_dates(runs, times, tz)
    out = (
        visits.join(
            occurrences.select("trip_id", "stop_id", "visit", "stop_sequence", "arrival_s"),
            on=["trip_id", "stop_id", "visit"],
        )
        .join(dates, on="run")
        .with_columns(
            (
                pl.col("service_date")
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
                + pl.duration(seconds=pl.col("arrival_s"))
            )
            .dt.convert_time_zone("UTC")
            .alias("scheduled_at")
        )
        .with_columns(
            ((pl.col("arrived_at") - pl.col("scheduled_at")).dt.total_milliseconds() / 1000.0).alias("delay_s")
        )
        .with_columns(pl.col("delay_s").is_between(EARLY_S, LATE_S).alias("on_time"))
    )
    return out.select([pl.col(c).cast(t) for c, t in ARRIVAL_SCHEMA.items()]).sort(
        "arrived_at", "route_id", "stop_sequence"
    )


def headways(arrivals: pl.DataFrame) -> pl.DataFrame:
    """Per (route, stop): n headways, mean, std, CV, scheduled mean, bunched share."""
    h = (
        arrivals.sort("route_id", "stop_id", "scheduled_at")
        .with_columns(
            (pl.col("arrived_at").diff().dt.total_seconds().over("route_id", "stop_id")).alias("headway_s"),
            (pl.col("scheduled_at").diff().dt.total_seconds().over("route_id", "stop_id")).alias("scheduled_headway_s"),
        )
        .filter(
            pl.col("headway_s").is_not_null()
            & (pl.col("scheduled_headway_s") > 0)
            & (pl.col("scheduled_headway_s") <= MAX_HEADWAY_S)
        )
    )
    return (
        h.group_by("route_id", "stop_id")
        .agg(
            pl.len().alias("headways"),
            pl.col("headway_s").mean().alias("mean_headway_s"),
            pl.col("headway_s").std().alias("std_headway_s"),
            pl.col("scheduled_headway_s").mean().alias("scheduled_headway_s"),
            (pl.col("headway_s") < BUNCHED * pl.col("scheduled_headway_s")).mean().alias("bunched_share"),
        )
        .with_columns((pl.col("std_headway_s") / pl.col("mean_headway_s")).alias("cv"))
        .sort("route_id", "stop_id")
    )


def route_summary(arrivals: pl.DataFrame, heads: pl.DataFrame) -> pl.DataFrame:
    """Per route: arrivals, on-time share, mean and 90th-percentile delay, headway mean and CV
    (the stops' CVs weighted by their headway counts), bunched share."""
    a = arrivals.group_by("route_id").agg(
        pl.len().alias("arrivals"),
        pl.col("trip_id").n_unique().alias("trips"),
        pl.col("on_time").mean().alias("on_time_share"),
        pl.col("delay_s").mean().alias("mean_delay_s"),
        pl.col("delay_s").quantile(0.9).alias("p90_delay_s"),
    )
    h = (
        heads.filter(pl.col("cv").is_not_null())
        .group_by("route_id")
        .agg(
            ((pl.col("mean_headway_s") * pl.col("headways")).sum() / pl.col("headways").sum()).alias("mean_headway_s"),
            ((pl.col("cv") * pl.col("headways")).sum() / pl.col("headways").sum()).alias("headway_cv"),
            ((pl.col("bunched_share") * pl.col("headways")).sum() / pl.col("headways").sum()).alias("bunched_share"),
        )
    )
    return a.join(h, on="route_id", how="left").sort("route_id")


def hourly(arrivals: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Per local hour: arrivals, on-time share, mean delay (the route page's chart)."""
    return (
        arrivals.with_columns(pl.col("arrived_at").dt.convert_time_zone(tz).dt.truncate("1h").alias("hour"))
        .group_by("hour")
        .agg(
            pl.len().alias("arrivals"),
            pl.col("on_time").mean().alias("on_time_share"),
            pl.col("delay_s").mean().alias("mean_delay_s"),
        )
        .sort("hour")
    )


def finite(value: float | None) -> float | None:
    """JSON has no NaN: a missing statistic is null."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)
