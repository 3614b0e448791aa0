"""The learned forecast: one gradient-boosting model per horizon, trained across sensors.

Each model predicts the change from an anchor (the last observed speed, or the last hour's
mean when the last step is missing) rather than the speed itself: the change is centred on
zero for every sensor, so one model serves fast expressways and slow ramps alike. Features
come from ``features.build_features``; rows whose target or anchor is unknown are not used
for training (counted in ``TrainedForecast.skipped_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from cityos.core.errors import Invalid
from cityos.mobility.forecast import HORIZONS_MIN
from cityos.mobility.forecast.baselines import FORECAST_SCHEMA
from cityos.mobility.forecast.features import TARGET_PREFIX, feature_columns, targets
from cityos.mobility.forecast.profile import profile_columns


@dataclass(frozen=True)
class ModelParams:
    """Gradient-boosting settings; the defaults are what bench/forecast.py reports."""

    max_iter: int = 300
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    max_train_rows: int | None = 400_000
    random_state: int = 0
    # OpenMP threads for fitting; None = all cores. On a shared machine 1 is often faster than
    # oversubscribing (measured: 0.9 s with 1 thread vs 15 s with the default on 2 busy cores).
    threads: int | None = None


@dataclass
class TrainedForecast:
    """One fitted regressor per horizon, the feature order they expect, and what was left out."""

    models: dict[int, HistGradientBoostingRegressor]
    columns: dict[int, list[str]]
    train_rows: dict[int, int] = field(default_factory=dict)
    skipped_rows: dict[int, int] = field(default_factory=dict)
    threads: int | None = None


def _anchor() -> pl.Expr:
    return pl.coalesce(pl.col("lag_0"), pl.col("mean_60"))


def training_table(features: pl.DataFrame, grid: pl.DataFrame, horizons: Sequence[int] = HORIZONS_MIN) -> pl.DataFrame:
    """Features with the forward targets joined on; pass only training-period rows of ``grid``
    so that no target comes from the held-out period."""
    return features.join(targets(grid, horizons), on=["sensor_id", "ts"], how="left")


def horizon_columns(frame: pl.DataFrame, horizon_min: int) -> list[str]:
    """The shared features plus this horizon's profile features when the frame has them."""
    extra = [c for c in profile_columns(horizon_min) if c in frame.columns]
    return feature_columns(frame) + extra


def fit(
    table: pl.DataFrame,
    horizons: Sequence[int] = HORIZONS_MIN,
    params: ModelParams | None = None,
) -> TrainedForecast:
    """Fit one model per horizon on ``training_table`` output."""
    p = params or ModelParams()
    if not feature_columns(table):
        raise Invalid("No feature columns to train on.")
    out = TrainedForecast(models={}, columns={}, threads=p.threads)
    for h in horizons:
        columns = horizon_columns(table, h)
        name = f"{TARGET_PREFIX}{h}"
        if name not in table.columns:
            raise Invalid("The training table lacks a target.", params={"horizon_min": h})
        rows = table.with_columns(_anchor().alias("_anchor")).filter(
            pl.col(name).is_not_null() & pl.col("_anchor").is_not_null()
        )
        out.skipped_rows[h] = table.height - rows.height
        if rows.is_empty():
            raise Invalid("No usable training rows for a horizon.", params={"horizon_min": h})
        if p.max_train_rows is not None and rows.height > p.max_train_rows:
            rows = rows.sample(n=p.max_train_rows, seed=p.random_state)
        x = rows.select(columns).to_numpy().astype(np.float64)
        # A column with fewer than two values (all missing, or constant: a network without
        # neighbours, a profile of one day) gives nothing to split on, and scikit-learn's binning
        # fails on it: such columns are left out of this horizon's model.
        keep = [j for j in range(x.shape[1]) if np.unique(x[~np.isnan(x[:, j]), j]).size >= 2]
        if not keep:
            raise Invalid("No usable training rows for a horizon.", params={"horizon_min": h})
        x = x[:, keep]
        out.columns[h] = [columns[j] for j in keep]
        y = (rows[name] - rows["_anchor"]).to_numpy()
        model = HistGradientBoostingRegressor(
            max_iter=p.max_iter,
            learning_rate=p.learning_rate,
            max_leaf_nodes=p.max_leaf_nodes,
            min_samples_leaf=p.min_samples_leaf,
            l2_regularization=p.l2_regularization,
            early_stopping=rows.height >= 2_000,
            random_state=p.random_state,
        )
        with threadpool_limits(limits=p.threads):
            model.fit(x, y)
        out.models[h] = model
        out.train_rows[h] = rows.height
    return out


def predict(trained: TrainedForecast, features: pl.DataFrame, issues: pl.DataFrame | None = None) -> pl.DataFrame:
    """Forecast frame (see ``baselines``) for the rows of ``features`` (or only those keyed in ``issues``)."""
    rows = features if issues is None else features.join(issues.select("sensor_id", "ts"), on=["sensor_id", "ts"])
    missing = sorted({c for cols in trained.columns.values() for c in cols if c not in rows.columns})
    if missing:
        raise Invalid("The features lack columns the model was trained on.", params={"columns": missing})
    rows = rows.with_columns(_anchor().alias("_anchor"))
    anchor = rows["_anchor"].to_numpy().astype(np.float64)
    parts = []
    for h, model in trained.models.items():
        x = rows.select(trained.columns[h]).to_numpy().astype(np.float64)
        with threadpool_limits(limits=trained.threads):
            pred = anchor + model.predict(x)  # NaN anchor (no recent value at all) stays NaN -> null below
        parts.append(
            rows.select("sensor_id", "ts").with_columns(
                pl.lit(h, dtype=pl.Int32).alias("horizon_min"),
                (pl.col("ts") + pl.duration(minutes=h)).alias("target_ts"),
                pl.Series("forecast_kmh", pred).fill_nan(None),
            )
        )
    return pl.concat(parts).select(list(FORECAST_SCHEMA)).cast(FORECAST_SCHEMA).sort("sensor_id", "ts", "horizon_min")
