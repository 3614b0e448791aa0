"""Segment states at every breakpoint of every road class, and configuration as data."""

from __future__ import annotations

import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.indicators.config import IndicatorConfig, state_name
from cityos.mobility.indicators.states import classify

CASES = {
    # speed → state: each band's upper end is inclusive (65 is 基本畅通, 20 is 严重拥堵).
    "expressway": [(65.01, 1), (65, 2), (50.01, 2), (50, 3), (35.01, 3), (35, 4), (20.01, 4), (20, 5), (0, 5)],
    "arterial": [(40.01, 1), (40, 2), (30.01, 2), (30, 3), (20.01, 3), (20, 4), (15.01, 4), (15, 5)],
    "secondary": [(35.01, 1), (35, 2), (25.01, 2), (25, 3), (15.01, 3), (15, 4), (10.01, 4), (10, 5)],
    "branch": [(35.01, 1), (35, 2), (25.01, 2), (25, 3), (15.01, 3), (15, 4), (10.01, 4), (10, 5)],
}


@pytest.mark.parametrize("road_class", list(CASES))
def test_state_at_each_breakpoint(road_class: str) -> None:
    speeds, expected = zip(*CASES[road_class], strict=True)
    df = pl.DataFrame({"road_class": [road_class] * len(speeds), "speed_kmh": [float(s) for s in speeds]})
    out = classify(df)
    assert out["state"].to_list() == list(expected)
    assert out["state_name"].to_list() == [state_name(s) for s in expected]


def test_unknown_class_or_speed_has_no_state() -> None:
    df = pl.DataFrame({"road_class": ["footpath", "arterial"], "speed_kmh": [30.0, None]})
    assert classify(df)["state"].to_list() == [None, None]


def test_breakpoints_come_from_configuration() -> None:
    cfg = IndicatorConfig.from_dict({"breakpoints": {"arterial": [50, 40, 30, 20]}})
    df = pl.DataFrame({"road_class": ["arterial", "expressway"], "speed_kmh": [45.0, 45.0]})
    assert classify(df, cfg)["state"].to_list() == [2, 3]
    assert state_name(3) == "轻度拥堵"
    assert state_name(3, lang="en") == "light"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"breakpoints": {"branch": [10, 20, 30, 40]}}, "breakpoints.branch"),
        ({"breakpoints": {"branch": [30, 20]}}, "breakpoints.branch"),
        ({"tpi_ratios": [0.0, 0.1, 0.05], "tpi_values": [0, 5, 10]}, "tpi_ratios"),
        ({"congested_from_state": 6}, "congested_from_state"),
        ({"speed_limit": 3}, "speed_limit"),
        ({"interval": "1mo"}, "interval"),
        ({"interval": "0m"}, "interval"),
    ],
)
def test_bad_configuration_is_refused(data: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as err:
        IndicatorConfig.from_dict(data)
    assert field in {d.field for d in err.value.details}
