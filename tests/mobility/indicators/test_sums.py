"""The per-cell source sums: the dense (bincount) and sparse (group-by) paths agree, and bins
follow the configured length."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cityos.mobility.indicators import sums
from cityos.mobility.indicators.config import IndicatorConfig
from cityos.mobility.indicators.fusion import check, fuse, observations, split_checked
from tests.mobility.indicators.data import at, many_observations, segments

CFG = IndicatorConfig()
KEYS = ["segment_id", "bin_start"]


def _checked() -> pl.DataFrame:
    return check(many_observations(), segments()["segment_id"].to_list(), CFG)


def test_dense_and_sparse_paths_give_the_same_fusion(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = _checked()
    dense = fuse(checked, segments(), CFG)
    monkeypatch.setattr(sums, "DENSE_MAX_KEYS", 0)
    sparse = fuse(checked, segments(), CFG)
    assert dense.height > 30
    assert_frame_equal(dense.sort(KEYS), sparse.sort(KEYS), rel_tol=1e-12)


def test_a_checked_table_and_its_good_rows_fuse_alike() -> None:
    checked = _checked()
    good, _ = split_checked(checked)
    raw = good.drop("seg_idx", "src_idx")  # codes looked up inside fuse
    a = fuse(checked, segments(), CFG).sort(KEYS)
    assert_frame_equal(a, fuse(good, segments(), CFG).sort(KEYS), rel_tol=1e-12)
    assert_frame_equal(a, fuse(raw, segments(), CFG).sort(KEYS), rel_tol=1e-12)


def test_bins_follow_the_configured_length() -> None:
    probes = pl.DataFrame({"segment_id": ["a1"] * 3, "ts": [at(1), at(14), at(16)], "speed": [30.0, 40.0, 50.0]})
    obs = observations(probes)
    cfg = IndicatorConfig(interval="15m")
    good, _ = split_checked(check(obs, segments()["segment_id"].to_list(), cfg))
    out = fuse(good, segments(), cfg).sort("bin_start")
    assert out["bin_start"].to_list() == [at(0), at(15)]
    assert out["probe_n"].to_list() == [2.0, 1.0]
    assert out["speed_kmh"].to_list() == pytest.approx([35.0, 50.0])
    assert out["occupancy"].to_list() == [None, None]  # no loop: no occupancy, not NaN
