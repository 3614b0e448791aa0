"""The two baselines every learned forecast must beat, in the common forecast-frame shape.

A forecast frame has one row per ``(sensor_id, ts, horizon_min)``: ``ts`` is when the
forecast is issued (the last observed step), ``target_ts = ts + horizon``, and
``forecast_kmh`` the predicted speed at ``target_ts``.

- **Last value** (持续性): the speed at ``ts`` is the forecast for every horizon.
- **Historical average** (历史均值): the mean speed of that sensor at the target's slot over the
  training days. The slot is the time of week when the training covers at least two weeks
  (each weekday seen twice or more) and the time of day otherwise: with one week of data the
  held-out day's weekday is absent from training, so only time of day is defined.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import polars as pl

from cityos.core.errors import Invalid
from cityos.mobility.forecast import HORIZONS_MIN, STEP_MIN

ProfileKind = Literal["time_of_day", "time_of_week"]

FORECAST_SCHEMA = pl.Schema(
    {
        "sensor_id": pl.String(),
        "ts": pl.Datetime("us", "UTC"),
        "horizon_min": pl.Int32(),
        "target_ts": pl.Datetime("us", "UTC"),
        "forecast_kmh": pl.Float64(),
    }
)

TIME_OF_WEEK_MIN_DAYS = 14


def choose_profile(train: pl.DataFrame) -> ProfileKind:
    """Time of week when the training spans two weeks or more, time of day otherwise."""
    if train.is_empty():
        raise Invalid("No training data for the historical average.")
    span = train["ts"].max() - train["ts"].min()  # type: ignore[operator]
    assert isinstance(span, timedelta)
    return (
        "time_of_week" if span + timedelta(minutes=STEP_MIN) >= timedelta(days=TIME_OF_WEEK_MIN_DAYS) else "time_of_day"
    )


def slot(ts: pl.Expr, kind: ProfileKind) -> pl.Expr:
    """Minute of day, or minute of week from Monday 00:00."""
    minute = ts.dt.hour().cast(pl.Int32) * 60 + ts.dt.minute().cast(pl.Int32)
    if kind == "time_of_week":
        return (ts.dt.weekday().cast(pl.Int32) - 1) * 1440 + minute
    return minute


def historical_profile(train: pl.DataFrame, kind: ProfileKind | None = None) -> tuple[pl.DataFrame, ProfileKind]:
    """Per ``(sensor_id, slot)`` the mean training speed (missing steps ignored)."""
    chosen = kind or choose_profile(train)
    profile = (
        train.filter(pl.col("speed_kmh").is_not_null())
        .group_by("sensor_id", slot(pl.col("ts"), chosen).alias("slot"))
        .agg(pl.col("speed_kmh").mean().alias("forecast_kmh"))
    )
    return profile, chosen


def issue_frame(issues: pl.DataFrame, horizons: Sequence[int] = HORIZONS_MIN) -> pl.DataFrame:
    """``(sensor_id, ts)`` × horizons, with ``target_ts``: the rows a forecast method fills in."""
    hz = pl.DataFrame({"horizon_min": list(horizons)}, schema={"horizon_min": pl.Int32()})
    return (
        issues.select("sensor_id", "ts")
        .join(hz, how="cross")
        .with_columns((pl.col("ts") + pl.duration(minutes=pl.col("horizon_min"))).alias("target_ts"))
    )


def historical_average(
    train: pl.DataFrame,
    issues: pl.DataFrame,
    horizons: Sequence[int] = HORIZONS_MIN,
    *,
    kind: ProfileKind | None = None,
) -> pl.DataFrame:
    """Forecasts from the training profile at the target's slot (null where the slot was never seen)."""
    profile, chosen = historical_profile(train, kind)
    frame = issue_frame(issues, horizons).with_columns(slot(pl.col("target_ts"), chosen).alias("slot"))
    out = frame.join(profile, on=["sensor_id", "slot"], how="left")
    return out.select(list(FORECAST_SCHEMA)).cast(FORECAST_SCHEMA).sort("sensor_id", "ts", "horizon_min")


def last_value(issues: pl.DataFrame, horizons: Sequence[int] = HORIZONS_MIN) -> pl.DataFrame:
    """The speed observed at the issue time, for every horizon (null where that step is missing)."""
    frame = issue_frame(issues.select("sensor_id", "ts", "speed_kmh"), horizons)
    out = frame.join(
        issues.select("sensor_id", "ts", pl.col("speed_kmh").alias("forecast_kmh")), on=["sensor_id", "ts"]
    )
    return out.select(list(FORECAST_SCHEMA)).cast(FORECAST_SCHEMA).sort("sensor_id", "ts", "horizon_min")
