"""The forecaster reads the Los-loop week through the scenario part's loader."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.forecast.data import NOMINAL_START, load_los_loop
from cityos.mobility.scenario.los_loop import DEFAULT_DIR


@pytest.mark.skipif(not (DEFAULT_DIR / "los_speed.csv").is_file(), reason="the shared Los-loop data is not here")
def test_los_loop_week_from_the_nominal_start() -> None:
    long, edges = load_los_loop(DEFAULT_DIR)
    assert long.columns == ["sensor_id", "ts", "speed_kmh"]
    assert long["sensor_id"].n_unique() == 207
    assert long.height == 207 * 2016
    assert long["ts"].min() == NOMINAL_START
    assert long["ts"].max() == NOMINAL_START + timedelta(minutes=5 * 2015)
    assert long.sort("sensor_id", "ts").equals(long)
    assert edges.columns == ["sensor_id", "neighbour_id", "weight"]
    assert edges.height > 0
    assert edges.filter(pl.col("sensor_id") == pl.col("neighbour_id")).is_empty()
    assert set(edges["sensor_id"]) <= set(long["sensor_id"])


def test_missing_directory_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(Invalid):
        load_los_loop(tmp_path / "nowhere")
