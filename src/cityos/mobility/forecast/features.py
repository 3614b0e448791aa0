"""Feature kernels for the learned forecast: Polars functions over a long table.

Input is the regular grid from ``series.prepare``: ``(sensor_id, ts, speed_kmh)`` sorted by
sensor then time, one row per 5-minute step, null where a step is missing. Every feature at
row ``t`` reads only rows ``<= t`` of the same sensor (``shift(k)`` with ``k >= 0``) or of its
neighbours at the same or earlier steps, so nothing from the future leaks in; the targets
(``target_<h>``, the value ``h`` minutes ahead) are the only columns that look forward and are
kept apart by name (``TARGET_PREFIX``). The same functions run on one process or inside a
Spark ``applyInArrow`` partition (a partition must hold whole sensors and their neighbours).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from cityos.core.errors import FieldError, Invalid
from cityos.mobility.forecast import HORIZONS_MIN, STEP_MIN

N_LAGS = 12
"""Own lags 0..11: the last hour of the sensor's speeds."""

N_NEIGHBOUR_LAGS = 3
"""Neighbours' weighted-mean speed at lags 0..2 (the last 15 minutes)."""

TARGET_PREFIX = "target_"

EDGE_SCHEMA: dict[str, pl.DataType] = {"sensor_id": pl.String(), "neighbour_id": pl.String(), "weight": pl.Float64()}


def edges_from_adjacency(matrix: np.ndarray, sensor_ids: Sequence[str], *, min_weight: float = 0.0) -> pl.DataFrame:
    """The adjacency matrix as an edge table ``(sensor_id, neighbour_id, weight)``, self-loops left out.

    Row ``i`` lists the neighbours of sensor ``i`` (the Los-loop ``los_adj.csv`` convention).
    """
    adj = np.asarray(matrix, dtype=np.float64)
    n = len(sensor_ids)
    if adj.shape != (n, n):
        raise Invalid(
            "The adjacency matrix does not match the sensors.",
            details=[
                FieldError(field="adjacency", message="Shape mismatch.", params={"shape": list(adj.shape), "n": n})
            ],
        )
    if not np.isfinite(adj).all() or (adj < 0).any():
        raise Invalid("Adjacency weights must be finite and non-negative.")
    rows, cols = np.nonzero((adj > min_weight) & ~np.eye(n, dtype=bool))
    ids = np.asarray(list(sensor_ids), dtype=object)
    return pl.DataFrame(
        {"sensor_id": ids[rows].tolist(), "neighbour_id": ids[cols].tolist(), "weight": adj[rows, cols]},
        schema=EDGE_SCHEMA,
    )


def own_features(grid: pl.DataFrame, *, with_day_of_week: bool = False) -> pl.DataFrame:
    """Own lags, differences, the last hour's mean and spread, and the time of day (and week)."""
    speed = pl.col("speed_kmh")
    lags = [speed.shift(k).over("sensor_id").alias(f"lag_{k}") for k in range(N_LAGS)]
    out = grid.sort("sensor_id", "ts").with_columns(lags)
    minute = pl.col("ts").dt.hour().cast(pl.Int32) * 60 + pl.col("ts").dt.minute().cast(pl.Int32)
    angle = minute.cast(pl.Float64) * (2.0 * np.pi / 1440.0)
    cols = [
        (pl.col("lag_0") - pl.col("lag_1")).alias("diff_5"),
        (pl.col("lag_0") - pl.col("lag_3")).alias("diff_15"),
        (pl.col("lag_0") - pl.col(f"lag_{N_LAGS - 1}")).alias("diff_55"),
        pl.mean_horizontal([pl.col(f"lag_{k}") for k in range(N_LAGS)]).alias("mean_60"),
        (
            pl.max_horizontal([pl.col(f"lag_{k}") for k in range(N_LAGS)])
            - pl.min_horizontal([pl.col(f"lag_{k}") for k in range(N_LAGS)])
        ).alias("range_60"),
        minute.alias("minute_of_day"),
        angle.sin().alias("tod_sin"),
        angle.cos().alias("tod_cos"),
    ]
    if with_day_of_week:
        # Only meaningful when training covers each weekday more than once (see docs).
        cols.append(pl.col("ts").dt.weekday().cast(pl.Int32).alias("day_of_week"))
    return out.with_columns(cols)


def neighbour_features(grid: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Per ``(sensor_id, ts)``: the neighbours' weighted-mean speed at lags 0..2.

    Missing neighbour values drop out of both the numerator and the weight sum; a sensor with
    no neighbour (or none reporting) gets null, which the gradient-boosting model handles natively.
    """
    speed = pl.col("speed_kmh")
    lagged = grid.sort("sensor_id", "ts").select(
        pl.col("sensor_id").alias("neighbour_id"),
        "ts",
        *[speed.shift(k).over("sensor_id").alias(f"_nb{k}") for k in range(N_NEIGHBOUR_LAGS)],
    )
    joined = edges.select("sensor_id", "neighbour_id", "weight").join(lagged, on="neighbour_id", how="inner")
    aggs: list[pl.Expr] = []
    for k in range(N_NEIGHBOUR_LAGS):
        value = pl.col(f"_nb{k}")
        w = pl.when(value.is_not_null()).then(pl.col("weight")).otherwise(0.0)
        aggs.append(((value.fill_null(0.0) * w).sum() / w.sum()).alias(f"nb_lag_{k}"))
    agg = joined.group_by("sensor_id", "ts").agg(aggs)
    # 0/0 (no reporting neighbour) is NaN in Polars; make it null so it reads as "unknown".
    return agg.with_columns([pl.col(f"nb_lag_{k}").fill_nan(None) for k in range(N_NEIGHBOUR_LAGS)])


def targets(grid: pl.DataFrame, horizons: Sequence[int] = HORIZONS_MIN) -> pl.DataFrame:
    """The value ``h`` minutes after each row, per horizon; the only forward-looking columns."""
    steps = {h: _steps(h) for h in horizons}
    return grid.sort("sensor_id", "ts").select(
        "sensor_id",
        "ts",
        *[pl.col("speed_kmh").shift(-s).over("sensor_id").alias(f"{TARGET_PREFIX}{h}") for h, s in steps.items()],
    )


def build_features(
    grid: pl.DataFrame,
    edges: pl.DataFrame | None = None,
    *,
    with_day_of_week: bool = False,
) -> pl.DataFrame:
    """All model inputs per ``(sensor_id, ts)``: own features, then neighbours' when ``edges`` is given."""
    frame = own_features(grid, with_day_of_week=with_day_of_week)
    if edges is not None:
        nb = neighbour_features(grid, edges)
        frame = frame.join(nb, on=["sensor_id", "ts"], how="left")
        frame = frame.with_columns((pl.col("lag_0") - pl.col("nb_lag_0")).alias("nb_gap"))
    return frame.sort("sensor_id", "ts")


def feature_columns(frame: pl.DataFrame) -> list[str]:
    """The model's inputs: everything except the keys, the raw speed and the targets."""
    skip = {"sensor_id", "ts", "speed_kmh", "profile_now", "dev_now"}
    # Targets look ahead; profile columns (``profile.py``) are added per horizon by the model.
    prefixes = (TARGET_PREFIX, "hist_")
    return [c for c in frame.columns if c not in skip and not c.startswith(prefixes)]


def _steps(horizon_min: int) -> int:
    if horizon_min <= 0 or horizon_min % STEP_MIN:
        raise Invalid(
            "A horizon must be a positive multiple of the 5-minute step.",
            details=[FieldError(field="horizon_min", message="Not a multiple of 5.", params={"value": horizon_min})],
        )
    return horizon_min // STEP_MIN


def sensor_kernel(table: pa.Table) -> pa.Table:
    """Own features and targets for the rows of whole sensors, Arrow in and out.

    The face a Spark runner calls per group (``groupBy("sensor_id").applyInArrow``): every
    column here depends only on the same sensor's rows, so any split into whole sensors gives
    the rows of the single-process result. (Neighbour features join across sensors and run
    after, in-process or as a Spark join.) The input must be ``series.prepare`` output.
    """
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    # Only the three series columns: a runner's own columns (a Spark bucket key) stay out.
    grid = frame.select("sensor_id", "ts", "speed_kmh")
    feats = own_features(grid).join(targets(grid), on=["sensor_id", "ts"], how="left")
    out = feats.sort("sensor_id", "ts").to_arrow()
    # Polars writes large_string; Spark's Arrow schemas use string, so give it that.
    schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f for f in out.schema])
    return out.cast(schema)
