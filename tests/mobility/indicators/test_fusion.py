"""Fusion: inverse-variance weights by sample size, disagreement flags, quarantine reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.indicators.config import IndicatorConfig
from cityos.mobility.indicators.fusion import check, fuse, observations, split_checked
from tests.mobility.indicators.data import at, segments

CFG = IndicatorConfig()


def _fused(probes=None, loops=None, nav=None) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    obs = observations(probes, loops, nav)
    good, bad = split_checked(check(obs, segments()["segment_id"].to_list(), CFG))
    assert bad.is_empty(), bad
    return fuse(good, segments(), CFG)


def test_weights_follow_sample_size_and_variance() -> None:
    # Probes: 4 points 30,34,38,42 → mean 36, sample var 26.67 < prior 144 → s² = 144, w = 4/144.
    # Loop: one record of 36 vehicles at 24 → s² = prior 64, w = 36/64. Nav: 1 value at 40, w = 1/100.
    probes = pl.DataFrame({"segment_id": ["a1"] * 4, "ts": [at(1)] * 4, "speed": [30.0, 34.0, 38.0, 42.0]})
    loops = pl.DataFrame({"segment_id": ["a1"], "ts": [at(2)], "count": [36], "occupancy": [0.2], "speed": [24.0]})
    nav = pl.DataFrame({"segment_id": ["a1"], "ts": [at(3)], "speed": [40.0]})
    row = _fused(probes, loops, nav).row(0, named=True)
    wp, wl, wn = 4 / 144, 36 / 64, 1 / 100
    assert row["probe_weight"] == pytest.approx(wp)
    assert row["loop_weight"] == pytest.approx(wl)
    assert row["nav_weight"] == pytest.approx(wn)
    assert row["speed_kmh"] == pytest.approx((wp * 36 + wl * 24 + wn * 40) / (wp + wl + wn))
    assert row["speed_sd_kmh"] == pytest.approx((wp + wl + wn) ** -0.5)
    assert row["flow_veh"] == 36
    assert row["sources"] == 3
    # 36 vs 24 vs 40: spread 16 > 15 km/h and > 35 % of the fused ~25 km/h → flagged.
    assert row["disagree"] is True
    assert row["disagree_reason"] == "sources disagree by 16.0 km/h: probe=36.0 loop=24.0 nav=40.0"


def test_spread_in_a_large_sample_raises_its_variance() -> None:
    speeds = [10.0, 70.0] * 10  # sample sd ≈ 30.8 > prior 12: the sample variance is used
    probes = pl.DataFrame({"segment_id": ["a1"] * 20, "ts": [at(0)] * 20, "speed": speeds})
    row = _fused(probes).row(0, named=True)
    var = float(pl.Series(speeds).var())  # type: ignore[arg-type]
    assert row["probe_weight"] == pytest.approx(20 / var)
    assert row["speed_kmh"] == pytest.approx(40.0)
    assert row["disagree"] is False
    assert row["disagree_reason"] is None


def test_close_sources_are_not_flagged_and_bins_are_five_minutes() -> None:
    probes = pl.DataFrame({"segment_id": ["e1", "e1"], "ts": [at(4.9), at(5.0)], "speed": [70.0, 50.0]})
    nav = pl.DataFrame({"segment_id": ["e1"], "ts": [at(0)], "speed": [60.0]})
    out = _fused(probes, None, nav).sort("bin_start")
    assert out["bin_start"].to_list() == [at(0), at(5)]
    first = out.row(0, named=True)
    assert first["sources"] == 2
    assert first["disagree"] is False
    assert first["flow_veh"] is None  # no loop: flow unknown, not zero


def test_zone_aware_timestamps_are_binned_in_utc() -> None:
    ts = datetime(2026, 3, 2, 16, 3, tzinfo=UTC).astimezone()  # any zone
    probes = pl.DataFrame({"segment_id": ["a1"], "ts": [ts], "speed": [30.0]}).with_columns(
        pl.col("ts").dt.convert_time_zone("Asia/Shanghai")
    )
    out = _fused(probes)
    assert out["bin_start"].to_list() == [datetime(2026, 3, 2, 16, 0)]


def test_a_loop_that_counted_nobody_gives_flow_zero_and_no_speed() -> None:
    loops = pl.DataFrame(
        {"segment_id": ["s1"], "ts": [at(1)], "count": [0], "occupancy": [0.0], "speed": [None]},
        schema_overrides={"speed": pl.Float64},
    )
    nav = pl.DataFrame({"segment_id": ["s1"], "ts": [at(1)], "speed": [33.0]})
    row = _fused(None, loops, nav).row(0, named=True)
    assert row["flow_veh"] == 0
    assert row["loop_speed"] is None
    assert row["speed_kmh"] == pytest.approx(33.0)


def test_bad_records_are_quarantined_with_reasons() -> None:
    probes = pl.DataFrame(
        {
            "segment_id": ["a1", "nope", None, "a1", "a1", "a1"],
            "ts": [at(0), at(0), at(0), None, at(0), at(0)],
            "speed": [30.0, 30.0, 30.0, 30.0, -1.0, None],
        }
    )
    loops = pl.DataFrame(
        {
            "segment_id": ["a1", "a1", "a1", "a1"],
            "ts": [at(0)] * 4,
            "count": [10, -1, 10, None],
            "occupancy": [0.1, 0.1, 1.5, 0.1],
            "speed": [30.0, 30.0, 30.0, 30.0],
        }
    )
    nav = pl.DataFrame({"segment_id": ["a1", "a1"], "ts": [at(0), at(0)], "speed": [30.0, 250.0]})
    checked = check(observations(probes, loops, nav), segments()["segment_id"].to_list(), CFG)
    good, bad = split_checked(checked)
    assert good.height == 3  # one per source
    assert sorted(bad["reason"].to_list()) == sorted(
        [
            "unknown segment",
            "missing segment_id",
            "missing ts",
            "speed out of range",
            "missing speed",
            "count missing or negative",
            "occupancy outside 0..1",
            "count missing or negative",
            "speed out of range",
        ]
    )
    assert good.height + bad.height == checked.height  # nothing dropped


def test_a_source_table_without_its_columns_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        observations(loops=pl.DataFrame({"segment_id": ["a1"], "ts": [at(0)], "speed": [3.0]}))
    assert {d.field for d in err.value.details} == {"loop.count", "loop.occupancy"}
