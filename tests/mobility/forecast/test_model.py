from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.forecast.backtest import backtest
from cityos.mobility.forecast.baselines import choose_profile, historical_average, last_value
from cityos.mobility.forecast.model import ModelParams
from cityos.mobility.forecast.series import prepare
from tests.mobility.forecast.helpers import T0, long_frame, mean_reverting

FAST = ModelParams(max_iter=60, learning_rate=0.15, max_train_rows=20_000, threads=1)


def test_model_beats_both_baselines_on_a_mean_reverting_series() -> None:
    grid = prepare(mean_reverting(4, 5, seed=1)).grid
    result = backtest(grid, T0 + timedelta(days=4), params=FAST)
    assert result.profile == "time_of_day"
    for h in (15, 30, 60):
        model = result.mae("model", h)
        assert model < result.mae("last_value", h)
        assert model < result.mae("historical_average", h)
    assert result.mae("model", 15) < 0.85 * result.mae("historical_average", 15)
    n = {name: m["n"].to_list() for name, m in result.metrics.items()}
    assert n["model"] == n["last_value"] == n["historical_average"]  # the same rows scored


def test_baselines_on_a_hand_made_series() -> None:
    # Two days of a step pattern: 10 at even steps of day one, 30 on day two at the same slot.
    day1 = [10.0] * 288
    day2 = [30.0] * 288
    grid = prepare(long_frame({"a": day1 + day2 + [50.0] * 24})).grid
    train = grid.filter(pl.col("ts") < T0 + timedelta(days=2))
    issues = grid.filter(pl.col("ts") == T0 + timedelta(days=2))
    ha = historical_average(train, issues, [15, 60])
    assert ha["forecast_kmh"].to_list() == [20.0, 20.0]
    assert ha["target_ts"].to_list() == [T0 + timedelta(days=2, minutes=15), T0 + timedelta(days=2, minutes=60)]
    lv = last_value(issues, [15, 60])
    assert lv["forecast_kmh"].to_list() == [50.0, 50.0]
    assert choose_profile(train) == "time_of_day"
    two_weeks = prepare(long_frame({"a": [1.0] * (14 * 288)})).grid
    assert choose_profile(two_weeks) == "time_of_week"


def test_a_cut_outside_the_data_is_refused() -> None:
    grid = prepare(long_frame({"a": [1.0] * 30})).grid
    with pytest.raises(Invalid):
        backtest(grid, T0 - timedelta(days=1), params=FAST)


def test_gaps_and_bad_values_flow_through_as_counted_misses() -> None:
    frame = mean_reverting(3, 3, seed=2)
    # Every 17th record lost, every 29th a NaN, and the table shuffled.
    frame = frame.with_row_index("i").filter(pl.col("i") % 17 != 5)
    frame = frame.with_columns(
        pl.when(pl.col("i") % 29 == 3).then(float("nan")).otherwise(pl.col("speed_kmh")).alias("speed_kmh")
    ).drop("i")
    prepared = prepare(frame.sample(fraction=1.0, shuffle=True, seed=1))
    assert set(prepared.quarantine["reason"].to_list()) == {"missing_speed"}
    result = backtest(prepared.grid, T0 + timedelta(days=2), params=FAST)
    for method, m in result.metrics.items():
        assert m["missing"].sum() > 0, method
        assert m["mae"].is_not_null().all(), method
    assert result.mae("model", 15) < result.mae("historical_average", 15)


def test_two_weeks_switch_to_time_of_week_with_day_of_week_feature() -> None:
    grid = prepare(mean_reverting(1, 15, seed=3)).grid
    result = backtest(grid, T0 + timedelta(days=14), params=FAST, horizons=[15])
    assert result.profile == "time_of_week"
    assert result.trained is not None
    assert "day_of_week" in result.trained.columns[15]


def test_a_constant_or_empty_feature_is_left_out_and_the_model_still_forecasts() -> None:
    from cityos.mobility.forecast.features import build_features
    from cityos.mobility.forecast.model import fit, predict, training_table

    grid = prepare(mean_reverting(3, 2, seed=3)).grid
    features = build_features(grid).with_columns(
        pl.lit(1.0).alias("flat"),  # e.g. a network without neighbours
        pl.lit(None, dtype=pl.Float64).alias("empty"),
    )
    trained = fit(training_table(features, grid, (15,)), (15,), FAST)
    assert "flat" not in trained.columns[15]
    assert "empty" not in trained.columns[15]
    assert trained.columns[15]  # the informative columns stay
    forecast = predict(trained, features)
    assert forecast.height == features.height
    assert forecast["forecast_kmh"].drop_nulls().len() > 0.9 * features.height
