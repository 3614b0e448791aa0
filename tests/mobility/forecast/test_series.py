from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.forecast.series import prepare
from tests.mobility.forecast.helpers import T0, long_frame


def test_unsorted_input_is_sorted_and_gaps_become_null_rows() -> None:
    frame = long_frame({"a": [10.0, 11.0, 12.0, 13.0], "b": [20.0, 21.0, 22.0, 23.0]})
    frame = frame.filter(~((pl.col("sensor_id") == "a") & (pl.col("ts") == T0 + timedelta(minutes=10))))
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    prepared = prepare(shuffled)
    a = prepared.grid.filter(pl.col("sensor_id") == "a")
    assert a["ts"].to_list() == [T0 + timedelta(minutes=5 * i) for i in range(4)]
    assert a["speed_kmh"].to_list() == [10.0, 11.0, None, 13.0]
    assert prepared.missing_steps == 1
    assert prepared.grid.height == 8
    assert prepared.quarantine.is_empty()


def test_bad_records_are_quarantined_with_reasons() -> None:
    frame = pl.DataFrame(
        {
            "sensor_id": ["a", "a", "a", "a", "a", "", "a", "a"],
            "ts": [
                T0,
                T0,
                T0 + timedelta(minutes=5),
                T0 + timedelta(minutes=10),
                T0 + timedelta(minutes=13),
                T0,
                T0 + timedelta(minutes=15),
                T0 + timedelta(minutes=20),
            ],
            "speed_kmh": [50.0, 99.0, float("nan"), -3.0, 40.0, 30.0, 500.0, None],
        }
    )
    prepared = prepare(frame)
    reasons = dict(
        zip(
            prepared.quarantine["speed_kmh"].fill_nan(-999.0).fill_null(-1.0).to_list(),
            prepared.quarantine["reason"],
            strict=True,
        )
    )
    assert reasons == {
        99.0: "duplicate",
        -999.0: "missing_speed",
        -1.0: "missing_speed",
        -3.0: "negative_speed",
        40.0: "off_grid",
        30.0: "missing_sensor",
        500.0: "implausible_speed",
    }
    # Null speed is also quarantined; nothing is dropped without a row in the quarantine.
    assert prepared.quarantine.height == 7
    assert prepared.grid.filter(pl.col("speed_kmh").is_not_null())["speed_kmh"].to_list() == [50.0]


def test_naive_timestamps_are_taken_as_utc() -> None:
    frame = pl.DataFrame({"sensor_id": ["a"], "ts": [datetime(2026, 3, 2, 8, 0)], "speed_kmh": [30.0]})
    grid = prepare(frame).grid
    assert grid.schema["ts"] == pl.Datetime("us", "UTC")
    assert grid["ts"][0] == T0 + timedelta(hours=8)


def test_missing_column_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        prepare(pl.DataFrame({"sensor_id": ["a"], "speed_kmh": [1.0]}))
    assert [d.field for d in err.value.details] == ["ts"]
