"""Profile features: what this sensor usually does at this time, from the training days only.

For a row issued at ``ts`` and horizon ``h`` the features are the sensor's mean training
speed at the slot of ``ts`` (``profile_now``) and of ``ts + h`` (``hist_<h>``), each as a
**leave-one-out** mean: if the time itself lies in the training data, its own value is taken
out of the mean, ``(S - v) / (C - 1)``. So a training row never sees its own target through
the profile (which would teach the model to trust the profile too much), while a row in the
held-out period gets the plain mean of the training days, exactly the historical-average
baseline. Slots are time of day or time of week, on the rule in ``baselines.choose_profile``.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cityos.mobility.forecast import HORIZONS_MIN
from cityos.mobility.forecast.baselines import ProfileKind, slot


def profile_columns(horizon_min: int) -> list[str]:
    """The profile feature names the model for one horizon uses."""
    return ["profile_now", "dev_now", f"hist_{horizon_min}", f"hist_gap_{horizon_min}"]


def add_profile_features(
    rows: pl.DataFrame,
    train: pl.DataFrame,
    kind: ProfileKind,
    horizons: Sequence[int] = HORIZONS_MIN,
) -> pl.DataFrame:
    """``rows`` (with ``sensor_id``, ``ts``, ``lag_0``) plus the profile features for each horizon."""
    known = train.filter(pl.col("speed_kmh").is_not_null())
    sums = known.group_by("sensor_id", slot(pl.col("ts"), kind).alias("_slot")).agg(
        pl.col("speed_kmh").sum().alias("_s"), pl.len().cast(pl.Float64).alias("_c")
    )
    own = known.select("sensor_id", pl.col("ts").alias("_at"), pl.col("speed_kmh").alias("_v"))

    def loo(frame: pl.DataFrame, at: pl.Expr, name: str) -> pl.DataFrame:
        keyed = frame.with_columns(at.alias("_at")).with_columns(slot(pl.col("_at"), kind).alias("_slot"))
        keyed = keyed.join(sums, on=["sensor_id", "_slot"], how="left").join(own, on=["sensor_id", "_at"], how="left")
        v = pl.col("_v")
        mean = (pl.col("_s") - v.fill_null(0.0)) / (pl.col("_c") - v.is_not_null().cast(pl.Float64))
        # A slot seen only on the row's own day has no other day to learn from: null, not 0/0.
        return keyed.with_columns(mean.fill_nan(None).alias(name)).drop("_at", "_slot", "_s", "_c", "_v")

    out = loo(rows, pl.col("ts"), "profile_now").with_columns(
        (pl.col("lag_0") - pl.col("profile_now")).alias("dev_now")
    )
    for h in horizons:
        out = loo(out, pl.col("ts") + pl.duration(minutes=h), f"hist_{h}")
        out = out.with_columns((pl.col(f"hist_{h}") - pl.col("lag_0")).alias(f"hist_gap_{h}"))
    return out
