"""Behaviour of the HMM matcher on a 5 × 5 grid (300 m blocks)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.matching import MatchConfig, SegmentIndex, match, match_traces
from cityos.mobility.network.schema import grid_network
from tests.mobility.matching.traces import drive


@pytest.fixture(scope="module")
def grid() -> pl.DataFrame:
    return grid_network(5, 5, 300.0)


@pytest.fixture(scope="module")
def index(grid: pl.DataFrame) -> SegmentIndex:
    return SegmentIndex.build(grid)


def share_true(out: pl.DataFrame, truth: list[str]) -> float:
    got = out["segment_id"].to_list()
    return float(np.mean([g == t for g, t in zip(got, truth, strict=True)]))


def test_straight_drive_is_on_its_segments(index: SegmentIndex) -> None:
    pts, truth = drive_grid(index, ["n1_0-n1_1", "n1_1-n1_2", "n1_2-n1_3"])
    out = match_traces(pts, index)
    assert out["matched"].all()
    assert share_true(out, truth) == 1.0
    assert float(out["distance_m"].max() or 0.0) < 1.0  # type: ignore[arg-type]
    # offsets grow along each segment
    first = out.filter(pl.col("segment_id") == "n1_0-n1_1")["offset_m"].to_numpy()
    assert (np.diff(first) > 0).all()


def drive_grid(index: SegmentIndex, path: list[str], **kw: object) -> tuple[pl.DataFrame, list[str]]:
    return drive(GRID, path, **kw)  # type: ignore[arg-type]


GRID = grid_network(5, 5, 300.0)


def test_turn_with_noise(index: SegmentIndex) -> None:
    path = ["n1_0-n1_1", "n1_1-n1_2", "n1_2-n2_2", "n2_2-n3_2", "n3_2-n3_3"]
    pts, truth = drive(GRID, path, noise_m=10.0, seed=3)
    out = match_traces(pts, index)
    assert out["matched"].all()
    assert share_true(out, truth) >= 0.9


def test_u_turn_takes_the_opposite_carriageway(index: SegmentIndex) -> None:
    # the two directions share one polyline: only direction can tell them apart
    path = ["n2_0-n2_1", "n2_1-n2_2", "n2_2-n2_1", "n2_1-n2_0"]
    pts, truth = drive(GRID, path, noise_m=5.0, seed=1)
    out = match_traces(pts, index)
    assert share_true(out, truth) >= 0.9
    back = out.filter(pl.col("segment_id") == "n2_2-n2_1")
    assert back.height > 0


def test_heading_picks_direction_without_movement(index: SegmentIndex) -> None:
    pts = pl.DataFrame(
        {
            "vehicle_id": ["a", "b"],
            "ts": [0.0, 0.0],
            "lon": [0.0, 0.0],
            "lat": [0.0, 0.0],
            "speed": [8.0, 8.0],
            "heading": [0.0, 0.0],
        }
    )
    seg = GRID.filter(pl.col("segment_id") == "n1_2-n2_2").row(0, named=True)
    mid_lon, mid_lat = sum(seg["lons"]) / 2, sum(seg["lats"]) / 2
    pts = pts.with_columns(
        pl.lit(mid_lon).alias("lon"), pl.lit(mid_lat).alias("lat"), pl.Series("heading", [0.0, 180.0])
    )
    out = match_traces(pts, index)
    assert out["segment_id"].to_list() == ["n1_2-n2_2", "n2_2-n1_2"]


def test_stopped_vehicle_stays_on_its_segment(index: SegmentIndex) -> None:
    pts, truth = drive(GRID, ["n1_0-n1_1", "n1_1-n1_2"], noise_m=0.0)
    stop = pts[5]
    rng = np.random.default_rng(7)
    standing = pl.DataFrame(
        {
            "vehicle_id": ["v1"] * 20,
            "ts": [float(stop["ts"][0]) + 0.5 + i for i in range(20)],
            "lon": stop["lon"][0] + rng.normal(0, 4e-5, 20),  # ~4 m of jitter
            "lat": stop["lat"][0] + rng.normal(0, 4e-5, 20),
            "speed": [0.0] * 20,
            "heading": [float(h) for h in rng.uniform(0, 360, 20)],  # heading is noise when stopped
        }
    )
    out = match_traces(pl.concat([pts, standing]), index)
    stood = out.filter(pl.col("ts") > float(stop["ts"][0]) - 0.1).head(21)
    assert set(stood["segment_id"].to_list()) == {truth[5]}


def test_gap_breaks_the_chain_and_both_parts_match(index: SegmentIndex) -> None:
    a, ta = drive(GRID, ["n0_1-n1_1", "n1_1-n2_1"])
    b, tb = drive(GRID, ["n3_3-n3_4"], t0=10_000.0)
    out = match_traces(pl.concat([a, b]), index)
    assert out["matched"].all()
    assert share_true(out, ta + tb) == 1.0


def test_bad_input_is_counted_with_reasons(index: SegmentIndex) -> None:
    pts, truth = drive(GRID, ["n1_0-n1_1", "n1_1-n1_2"])
    bad = pl.DataFrame(
        {
            "vehicle_id": ["v1", "v1", "v1", None, "v1"],
            "ts": [1.5, 2.5, 3.5, 4.5, float(pts["ts"][3])],
            "lon": [math.nan, 200.0, 0.0, 104.0, float(pts["lon"][3])],
            "lat": [30.6, 30.6, 0.0, 30.6, float(pts["lat"][3])],
            "speed": [1.0] * 5,
            "heading": [0.0] * 5,
        }
    )
    shuffled = pl.concat([pts, bad]).reverse()
    res = match(shuffled, index)
    assert res.points.height == shuffled.height
    assert res.counts["bad_coordinates"] == 1
    assert res.counts["out_of_range"] == 1
    assert res.counts["no_candidate"] == 1  # (0, 0) is far from the city
    assert res.counts["missing_field"] == 1
    assert res.counts["duplicate_ts"] == 1
    assert res.counts["unsorted"] > 0
    assert res.counts["matched"] == pts.height
    good = res.points.filter(pl.col("matched"))
    assert good["reason"].null_count() == good.height
    assert good["ts"].is_sorted()
    assert share_true(good, truth) == 1.0
    unmatched = res.points.filter(~pl.col("matched"))
    assert unmatched["segment_id"].null_count() == unmatched.height


def test_several_vehicles_and_datetime_ts(index: SegmentIndex) -> None:
    a, ta = drive(GRID, ["n1_0-n1_1", "n1_1-n1_2"], vehicle_id="a", noise_m=8.0, seed=2)
    b, tb = drive(GRID, ["n3_4-n3_3", "n3_3-n3_2"], vehicle_id="b", noise_m=8.0, seed=4)
    pts = pl.concat([a, b]).with_columns(pl.from_epoch(pl.col("ts").cast(pl.Int64), time_unit="s").alias("ts"))
    out = match_traces(pts, index, MatchConfig(sigma_m=8.0))
    assert out.schema["ts"] == pl.Datetime("us")
    assert share_true(out, ta + tb) >= 0.9


def test_missing_columns_are_invalid(grid: pl.DataFrame) -> None:
    with pytest.raises(Invalid):
        match_traces(pl.DataFrame({"vehicle_id": ["a"]}), grid)
    with pytest.raises(Invalid):
        SegmentIndex.build(grid.drop("lons"))


def test_lazy_distance_rows_agree_with_the_dense_table(grid: pl.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ["n1_0-n1_1", "n1_1-n1_2", "n1_2-n2_2", "n2_2-n3_2"]
    pts, _ = drive(GRID, path, noise_m=10.0, seed=5)
    dense = match_traces(pts, SegmentIndex.build(grid))
    monkeypatch.setattr("cityos.mobility.matching.index.DENSE_SEGMENTS", 0)
    lazy_index = SegmentIndex.build(grid)
    lazy = match_traces(pts, lazy_index)
    assert lazy_index._dense is None
    assert lazy_index._rows
    assert lazy["segment_id"].to_list() == dense["segment_id"].to_list()


def test_points_all_far_from_the_network_are_no_candidate(index: SegmentIndex) -> None:
    # a table (or a Spark group) in which no point has a candidate is answered, not a crash
    pts = pl.DataFrame({"vehicle_id": ["far", "far"], "ts": [0.0, 30.0], "lon": [0.0, 0.001], "lat": [0.0, 0.0]})
    res = match(pts, index)
    assert res.points["reason"].to_list() == ["no_candidate", "no_candidate"]
    assert res.counts["matched"] == 0
