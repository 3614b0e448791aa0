from __future__ import annotations

import math
from datetime import timedelta

import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.forecast.metrics import errors_by_horizon, score
from cityos.mobility.forecast.series import prepare
from tests.mobility.forecast.helpers import T0, long_frame


def test_metrics_match_hand_computed_numbers() -> None:
    # errors 2, -4, 1 against actuals 10, 20, 50
    joined = pl.DataFrame(
        {"horizon_min": [15, 15, 15], "forecast_kmh": [12.0, 16.0, 51.0], "actual_kmh": [10.0, 20.0, 50.0]}
    )
    m = errors_by_horizon(joined).row(0, named=True)
    assert m["n"] == 3
    assert m["mae"] == pytest.approx(7 / 3)
    assert m["rmse"] == pytest.approx(math.sqrt((4 + 16 + 1) / 3))
    assert m["mape"] == pytest.approx(100 * (0.2 + 0.2 + 0.02) / 3)
    assert m["missing"] == 0


def test_gaps_are_counted_and_tiny_actuals_left_out_of_mape_only() -> None:
    joined = pl.DataFrame(
        {
            "horizon_min": [30, 30, 30, 30],
            "forecast_kmh": [5.0, None, 20.0, float("nan")],
            "actual_kmh": [0.5, 10.0, 10.0, 10.0],
        }
    )
    m = errors_by_horizon(joined).row(0, named=True)
    assert (m["n"], m["missing"]) == (2, 2)
    assert m["mae"] == pytest.approx((4.5 + 10) / 2)
    assert m["mape"] == pytest.approx(100.0)  # only the 10 km/h row


def test_score_joins_forecasts_to_observations_per_horizon() -> None:
    grid = prepare(long_frame({"a": [10.0, 20.0, 30.0, 40.0]})).grid
    forecasts = pl.DataFrame(
        {
            "sensor_id": ["a", "a"],
            "ts": [T0, T0],
            "horizon_min": [5, 15],
            "target_ts": [T0 + timedelta(minutes=5), T0 + timedelta(minutes=15)],
            "forecast_kmh": [25.0, 40.0],
        }
    )
    m = score(forecasts, grid)
    assert m["horizon_min"].to_list() == [5, 15]
    assert m["mae"].to_list() == [5.0, 0.0]
    with pytest.raises(Invalid):
        score(forecasts.drop("target_ts"), grid)
