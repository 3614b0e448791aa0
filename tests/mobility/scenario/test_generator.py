from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cityos.mobility.network.index import SegmentIndex
from cityos.mobility.network.schema import grid_network
from cityos.mobility.scenario.generator import GeneratorConfig, generate, peak_factor
from cityos.mobility.scenario.tables import read_scenario

START = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00 local (UTC+8)


@pytest.fixture(scope="module")
def cfg() -> GeneratorConfig:
    return GeneratorConfig(start=START, duration_s=2 * 3600, vehicles=400, gps_noise_m=5.0, seed=3)


@pytest.fixture(scope="module")
def grid() -> pl.DataFrame:
    return grid_network(5, 5, 250.0)


def test_peak_curve(cfg: GeneratorConfig) -> None:
    # 07:00 local at t=0, the 08:00 peak at t=3600
    f = peak_factor(np.array([0.0, 3600.0, 7200.0]), cfg)
    assert f[1] == pytest.approx(1.0)
    assert f[0] < 0.5
    assert f[2] < 0.5


def test_probes_follow_their_true_segment(grid: pl.DataFrame, cfg: GeneratorConfig) -> None:
    sc = generate(grid, cfg)
    p = sc.probes
    assert p.height > 1000
    assert set(p["true_segment_id"].unique()) <= set(grid["segment_id"])
    assert p["ts"].min() >= START  # type: ignore[operator]
    assert p["ts"].max() < START + timedelta(hours=2)  # type: ignore[operator]
    # sampling: 15 s apart within a vehicle
    gaps = p.sort("vehicle_id", "ts").select(pl.col("ts").diff().over("vehicle_id").dt.total_seconds()).drop_nulls()
    assert set(gaps["ts"].unique()) == {15}
    # GPS noise: distance to the true segment ~ |N(0,5 m)| in 2-D (Rayleigh, mean 5·√(π/2)/… ≈ 6.3 m)
    ix = SegmentIndex(grid)
    near = ix.query(p["lon"].to_numpy(), p["lat"].to_numpy(), radius_m=60.0)
    truth = p.with_row_index("point").select(
        pl.col("point").cast(pl.Int64), pl.col("true_segment_id").alias("segment_id")
    )
    d = near.join(truth, on=["point", "segment_id"])["distance_m"]
    assert d.len() > 0.99 * p.height
    assert 2.0 < float(d.mean()) < 6.0  # type: ignore[arg-type]  # mean |perpendicular offset| = σ·√(2/π) ≈ 4 m
    assert p["heading_deg"].is_between(0, 360, closed="left").all()


def test_loops_and_truth_show_the_peak(grid: pl.DataFrame, cfg: GeneratorConfig) -> None:
    sc = generate(grid, cfg)
    assert set(sc.loops["segment_id"]) == set(
        grid.filter(pl.col("road_class").is_in(["arterial", "expressway"]))["segment_id"]
    )
    # every detector reports every 5-minute interval
    assert sc.loop_counts.height == sc.loops.height * 24
    assert (
        sc.loop_counts.filter(pl.col("count") == 0)["speed_kmh"].null_count()
        == sc.loop_counts.filter(pl.col("count") == 0).height
    )
    by_hour = (
        sc.edge_truth.join(grid.select("segment_id", "free_speed_kmh"), on="segment_id")
        .with_columns((pl.col("speed_kmh") / pl.col("free_speed_kmh")).alias("rel"))
        .with_columns(((pl.col("ts") - START).dt.total_minutes() // 20).alias("slot"))
        .group_by("slot")
        .agg(pl.col("rel").mean(), pl.col("entered").sum())
        .sort("slot")
    )
    rel = by_hour["rel"].to_list()
    # slot 3 (08:00-08:20 local) is the slowest band and the busiest, the edges are faster
    assert min(rel) == rel[3] or min(rel) == rel[2]
    assert rel[0] > rel[3] + 0.1
    assert rel[-1] > rel[3] + 0.1
    assert sc.edge_truth["speed_kmh"].max() <= grid["free_speed_kmh"].max() * 1.4  # type: ignore[operator]
    busy = sc.loop_counts.group_by(((pl.col("ts") - START).dt.total_minutes() // 30).alias("h")).agg(
        pl.col("count").sum()
    )
    counts = busy.sort("h")["count"].to_list()
    assert counts[2] > counts[0]


def test_deterministic_and_round_trip(grid: pl.DataFrame, cfg: GeneratorConfig, tmp_path: Path) -> None:
    a = generate(grid, cfg)
    b = generate(grid, cfg)
    assert a.probes.equals(b.probes)
    assert a.loop_counts.equals(b.loop_counts)
    a.write(tmp_path)
    back = read_scenario(tmp_path)
    assert back.probes.equals(a.probes)
    assert back.edge_truth.equals(a.edge_truth)
    assert back.segments.equals(a.segments)
