"""Hold-out evaluation: train before a cut, forecast after it, score every method on the same rows.

The cut splits the grid in time. Training uses only steps before the cut, and only targets
that fall before the cut (the targets are taken from the truncated grid). Forecasts are
issued at every step from the cut on whose target is still inside the data; features there
may read lags from before the cut, which is what a live forecast would see.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from cityos.core.errors import Invalid
from cityos.mobility.forecast import HORIZONS_MIN, STEP_MIN
from cityos.mobility.forecast.baselines import ProfileKind, choose_profile, historical_average, last_value
from cityos.mobility.forecast.features import build_features
from cityos.mobility.forecast.metrics import score
from cityos.mobility.forecast.model import ModelParams, TrainedForecast, fit, predict, training_table
from cityos.mobility.forecast.profile import add_profile_features


@dataclass
class BacktestResult:
    """Metrics per method (``historical_average``, ``last_value``, ``model``) and what it took."""

    metrics: dict[str, pl.DataFrame]
    profile: ProfileKind
    seconds: dict[str, float] = field(default_factory=dict)
    trained: TrainedForecast | None = None

    def mae(self, method: str, horizon_min: int) -> float:
        row = self.metrics[method].filter(pl.col("horizon_min") == horizon_min)
        return float(row["mae"][0])


def holdout_cut(grid: pl.DataFrame, days: int = 1) -> datetime:
    """The first step of the last ``days`` days of the grid (what ``backtest`` holds out)."""
    last = grid["ts"].max()
    if not isinstance(last, datetime):
        raise Invalid("The series has no usable records.")
    return last - timedelta(days=days) + timedelta(minutes=STEP_MIN)


def backtest(
    grid: pl.DataFrame,
    cut: datetime,
    *,
    edges: pl.DataFrame | None = None,
    horizons: Sequence[int] = HORIZONS_MIN,
    params: ModelParams | None = None,
    profile: ProfileKind | None = None,
    use_profile: bool = True,
) -> BacktestResult:
    """Train on ``ts < cut``, evaluate on ``ts >= cut``; ``grid`` from ``series.prepare``.

    ``use_profile`` adds the leave-one-out profile features (``profile.py``) to the model's inputs.
    """
    train = grid.filter(pl.col("ts") < cut)
    test = grid.filter(pl.col("ts") >= cut)
    if train.is_empty() or test.is_empty():
        raise Invalid("The cut must leave data on both sides.", params={"cut": cut.isoformat()})
    chosen = profile or choose_profile(train)
    # Day of week is a feature only when it can be learned, i.e. on the same rule as the profile.
    with_dow = chosen == "time_of_week"
    last_ts = grid["ts"].max()
    seconds: dict[str, float] = {}

    def inside(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("target_ts") <= last_ts)

    t0 = time.perf_counter()
    ha = inside(historical_average(train, test, horizons, kind=chosen))
    seconds["historical_average"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lv = inside(last_value(test, horizons))
    seconds["last_value"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    features = build_features(grid, edges, with_day_of_week=with_dow)
    if use_profile:
        features = add_profile_features(features, train, chosen, horizons)
    seconds["features"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = training_table(features.filter(pl.col("ts") < cut), train, horizons)
    trained = fit(table, horizons, params)
    seconds["train"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = inside(predict(trained, features.filter(pl.col("ts") >= cut)))
    seconds["predict"] = time.perf_counter() - t0

    metrics = {
        name: score(frame, grid) for name, frame in (("historical_average", ha), ("last_value", lv), ("model", model))
    }
    return BacktestResult(metrics=metrics, profile=chosen, seconds=seconds, trained=trained)
