from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.forecast.features import (
    build_features,
    edges_from_adjacency,
    feature_columns,
    neighbour_features,
    sensor_kernel,
    targets,
)
from cityos.mobility.forecast.series import prepare
from tests.mobility.forecast.helpers import T0, long_frame, mean_reverting


def test_lags_and_differences_read_the_past() -> None:
    grid = prepare(long_frame({"a": [float(v) for v in range(20)]})).grid
    feats = build_features(grid)
    row = feats.filter(pl.col("ts") == T0 + timedelta(minutes=5 * 15)).row(0, named=True)
    assert [row[f"lag_{k}"] for k in range(12)] == [15.0 - k for k in range(12)]
    assert row["diff_5"] == 1.0
    assert row["diff_15"] == 3.0
    assert row["diff_55"] == 11.0
    assert row["mean_60"] == pytest.approx(np.mean([15.0 - k for k in range(12)]))
    assert row["minute_of_day"] == 75
    first = feats.row(0, named=True)
    assert first["lag_0"] == 0.0
    assert first["lag_1"] is None


def test_a_gap_gives_a_null_lag_not_an_older_value() -> None:
    frame = long_frame({"a": [1.0, 2.0, 3.0, 4.0]}).filter(pl.col("speed_kmh") != 2.0)
    feats = build_features(prepare(frame).grid)
    row = feats.filter(pl.col("ts") == T0 + timedelta(minutes=10)).row(0, named=True)
    assert row["lag_0"] == 3.0
    assert row["lag_1"] is None
    assert row["lag_2"] == 1.0


def test_no_feature_sees_future_values() -> None:
    """Changing every value after step t (own and neighbours') leaves all features up to t unchanged."""
    base = mean_reverting(3, 1)
    adj = np.ones((3, 3))
    edges = edges_from_adjacency(adj, ["s0", "s1", "s2"])
    cut = T0 + timedelta(minutes=5 * 100)
    changed = base.with_columns(
        pl.when(pl.col("ts") > cut).then(pl.col("speed_kmh") * 3.0 + 17.0).otherwise(pl.col("speed_kmh"))
    )
    a = build_features(prepare(base).grid, edges).filter(pl.col("ts") <= cut)
    b = build_features(prepare(changed).grid, edges).filter(pl.col("ts") <= cut)
    assert a.equals(b)
    assert not any(c.startswith("target_") for c in feature_columns(a))
    # The targets, and only they, do look ahead.
    ta = targets(prepare(base).grid).filter(pl.col("ts") == cut)
    tb = targets(prepare(changed).grid).filter(pl.col("ts") == cut)
    assert not ta.equals(tb)


def test_targets_are_the_values_h_minutes_ahead() -> None:
    grid = prepare(long_frame({"a": [float(v) for v in range(15)]})).grid
    t = targets(grid).row(0, named=True)
    assert (t["target_15"], t["target_30"], t["target_60"]) == (3.0, 6.0, 12.0)
    last = targets(grid).row(-1, named=True)
    assert last["target_15"] is None
    with pytest.raises(Invalid):
        targets(grid, horizons=[7])


def test_neighbour_mean_is_weighted_and_skips_missing() -> None:
    frame = long_frame({"a": [10.0, 10.0], "b": [20.0, 20.0], "c": [50.0, None]})
    edges = edges_from_adjacency(np.array([[1.0, 1.0, 3.0], [0, 1, 0], [0, 0, 1]]), ["a", "b", "c"])
    assert edges.height == 2  # self-loops left out
    nb = neighbour_features(prepare(frame).grid, edges).sort("ts")
    assert nb["nb_lag_0"].to_list() == [pytest.approx((20 + 3 * 50) / 4), 20.0]
    assert nb["nb_lag_1"].to_list() == [None, pytest.approx((20 + 3 * 50) / 4)]


def test_adjacency_must_match_the_sensors() -> None:
    with pytest.raises(Invalid):
        edges_from_adjacency(np.ones((2, 3)), ["a", "b"])
    with pytest.raises(Invalid):
        edges_from_adjacency(np.array([[1.0, np.nan], [0.0, 1.0]]), ["a", "b"])


def test_sensor_kernel_gives_the_same_rows_on_any_split_into_whole_sensors() -> None:
    """What a Spark ``applyInArrow`` per sensor does: run the kernel per partition, concatenate."""
    grid = prepare(mean_reverting(4, 1, seed=5)).grid
    whole = pl.from_arrow(sensor_kernel(grid.to_arrow()))
    parts = [pl.from_arrow(sensor_kernel(part.to_arrow())) for part in grid.partition_by("sensor_id")]
    split = pl.concat([p for p in parts if isinstance(p, pl.DataFrame)]).sort("sensor_id", "ts")
    assert isinstance(whole, pl.DataFrame)
    assert whole.height == grid.height
    assert split.equals(whole)
