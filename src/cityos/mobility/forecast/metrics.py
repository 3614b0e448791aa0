"""Forecast accuracy per horizon: MAE, RMSE and MAPE.

With ``e = forecast - actual`` over the n rows where both are known:
``MAE = Σ|e| / n``, ``RMSE = sqrt(Σe² / n)``, ``MAPE = 100 · Σ(|e| / actual) / m`` over the m
rows whose actual speed is at least ``mape_floor_kmh`` (a near-zero speed would make one
row's percentage error unbounded; those rows still count in MAE and RMSE).
"""

from __future__ import annotations

import polars as pl

from cityos.core.errors import FieldError, Invalid

DEFAULT_MAPE_FLOOR_KMH = 1.0

METRICS_SCHEMA = pl.Schema(
    {
        "horizon_min": pl.Int32(),
        "n": pl.UInt32(),
        "mae": pl.Float64(),
        "rmse": pl.Float64(),
        "mape": pl.Float64(),
        "missing": pl.UInt32(),
    }
)


def actuals(grid: pl.DataFrame) -> pl.DataFrame:
    """The observed speed keyed by ``(sensor_id, target_ts)`` for joining onto forecasts."""
    return grid.select("sensor_id", pl.col("ts").alias("target_ts"), pl.col("speed_kmh").alias("actual_kmh"))


def score(
    forecasts: pl.DataFrame,
    grid: pl.DataFrame,
    *,
    mape_floor_kmh: float = DEFAULT_MAPE_FLOOR_KMH,
) -> pl.DataFrame:
    """Join forecasts to what was observed and compute the metrics per horizon.

    ``missing`` counts forecast rows left out because the forecast or the observation is null
    (a gap) — they are reported, never silently dropped.
    """
    for name in ("sensor_id", "target_ts", "horizon_min", "forecast_kmh"):
        if name not in forecasts.columns:
            raise Invalid("Not a forecast frame.", details=[FieldError(field=name, message="Column is missing.")])
    joined = forecasts.join(actuals(grid), on=["sensor_id", "target_ts"], how="left")
    return errors_by_horizon(joined, mape_floor_kmh=mape_floor_kmh)


def errors_by_horizon(joined: pl.DataFrame, *, mape_floor_kmh: float = DEFAULT_MAPE_FLOOR_KMH) -> pl.DataFrame:
    """Metrics per horizon from a frame with ``horizon_min``, ``forecast_kmh`` and ``actual_kmh``."""
    f = pl.col("forecast_kmh").fill_nan(None)
    a = pl.col("actual_kmh").fill_nan(None)
    known = f.is_not_null() & a.is_not_null()
    err = (f - a).abs()
    pct = pl.when(known & (a >= mape_floor_kmh)).then(err / a)
    return (
        joined.group_by("horizon_min")
        .agg(
            known.sum().alias("n"),
            err.filter(known).mean().alias("mae"),
            (err.filter(known) ** 2).mean().sqrt().alias("rmse"),
            (pct.mean() * 100.0).alias("mape"),
            (~known).sum().alias("missing"),
        )
        .cast(METRICS_SCHEMA)
        .sort("horizon_min")
    )
