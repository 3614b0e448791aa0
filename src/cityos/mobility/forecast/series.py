"""Cleaning a long speed table onto a regular 5-minute grid, with quarantine for bad records.

Every later kernel (lags, baselines, targets) reads "the value k steps earlier" as "the row
k places earlier for the same sensor", which is only true on a gap-free, sorted, deduplicated
grid. ``prepare`` makes that grid: missing steps become explicit rows with a null speed (so a
lag across a gap is null rather than silently the value from further back), and every record
that cannot be used is kept in the quarantine table with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from cityos.core.errors import FieldError, Invalid
from cityos.mobility.forecast import STEP_MIN

REQUIRED_COLUMNS: dict[str, type[pl.DataType]] = {
    "sensor_id": pl.String,
    "ts": pl.Datetime,
    "speed_kmh": pl.Float64,
}

# Above this the record is a detector fault, not a car (the fastest expressway limit is 120 km/h).
MAX_PLAUSIBLE_KMH = 200.0

QUARANTINE_SCHEMA = pl.Schema(
    {
        "sensor_id": pl.String(),
        "ts": pl.Datetime("us", "UTC"),
        "speed_kmh": pl.Float64(),
        "reason": pl.String(),
    }
)


@dataclass(frozen=True)
class PreparedSeries:
    """The regular grid (``speed_kmh`` null where a step is missing) and the refused records."""

    grid: pl.DataFrame
    quarantine: pl.DataFrame

    @property
    def missing_steps(self) -> int:
        return int(self.grid["speed_kmh"].null_count())


def _check_columns(frame: pl.DataFrame) -> None:
    problems = [
        FieldError(field=name, message="Column is missing.") for name in REQUIRED_COLUMNS if name not in frame.columns
    ]
    if problems:
        raise Invalid("The speed table lacks required columns.", details=problems)
    if not isinstance(frame.schema["ts"], pl.Datetime):
        raise Invalid("ts must be a datetime column.", details=[FieldError(field="ts", message="Not a datetime.")])


def normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """The three columns with their canonical types: string ids, UTC microsecond datetimes, f64 speeds."""
    _check_columns(frame)
    ts = pl.col("ts")
    dtype = frame.schema["ts"]
    assert isinstance(dtype, pl.Datetime)
    # Naive timestamps are taken as UTC (the storage convention); aware ones are converted.
    ts_utc = ts.dt.replace_time_zone("UTC") if dtype.time_zone is None else ts.dt.convert_time_zone("UTC")
    return frame.select(
        pl.col("sensor_id").cast(pl.String),
        ts_utc.dt.cast_time_unit("us").alias("ts"),
        pl.col("speed_kmh").cast(pl.Float64),
    )


def prepare(frame: pl.DataFrame) -> PreparedSeries:
    """Sort, deduplicate, quarantine bad speeds and fill missing steps with nulls.

    Reasons: ``missing_sensor``, ``missing_ts``, ``off_grid`` (not on a 5-minute boundary),
    ``missing_speed`` (null or NaN), ``negative_speed``, ``implausible_speed`` (> 200 km/h),
    ``duplicate`` (a second record for the same sensor and step; the first one kept).
    """
    data = normalise(frame).with_row_index("_row")
    speed = pl.col("speed_kmh")
    step_us = STEP_MIN * 60 * 1_000_000
    reason = (
        pl.when(pl.col("sensor_id").is_null() | (pl.col("sensor_id") == ""))
        .then(pl.lit("missing_sensor"))
        .when(pl.col("ts").is_null())
        .then(pl.lit("missing_ts"))
        .when(pl.col("ts").dt.epoch("us") % step_us != 0)
        .then(pl.lit("off_grid"))
        .when(speed.is_null() | speed.is_nan())
        .then(pl.lit("missing_speed"))
        .when(speed < 0)
        .then(pl.lit("negative_speed"))
        .when(speed > MAX_PLAUSIBLE_KMH)
        .then(pl.lit("implausible_speed"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    data = data.with_columns(reason.alias("reason"))
    # Among the usable records, a repeated (sensor, ts) keeps the first one in input order.
    dup = (
        pl.col("reason").is_null()
        & pl.struct("sensor_id", "ts").is_duplicated()
        & (pl.col("_row") != pl.col("_row").min().over("sensor_id", "ts"))
    )
    data = data.with_columns(pl.when(dup).then(pl.lit("duplicate")).otherwise(pl.col("reason")).alias("reason"))
    quarantine = data.filter(pl.col("reason").is_not_null()).select(list(QUARANTINE_SCHEMA)).cast(QUARANTINE_SCHEMA)
    good = data.filter(pl.col("reason").is_null()).select("sensor_id", "ts", "speed_kmh")
    if good.is_empty():
        return PreparedSeries(grid=good.sort("sensor_id", "ts"), quarantine=quarantine)
    # One common time axis for all sensors, so a row index is a time step and neighbours line up.
    start = good["ts"].min()
    end = good["ts"].max()
    assert isinstance(start, datetime)
    assert isinstance(end, datetime)
    axis = pl.DataFrame({"ts": pl.datetime_range(start, end, timedelta(minutes=STEP_MIN), eager=True, time_zone="UTC")})
    axis = axis.with_columns(pl.col("ts").dt.cast_time_unit("us"))
    sensors = good.select("sensor_id").unique().sort("sensor_id")
    grid = sensors.join(axis, how="cross").join(good, on=["sensor_id", "ts"], how="left").sort("sensor_id", "ts")
    return PreparedSeries(grid=grid, quarantine=quarantine)
