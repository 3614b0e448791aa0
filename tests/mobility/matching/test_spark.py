"""The Spark runner for matching (``applyInArrow`` over vehicles) gives the in-process matches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cityos.core.errors import Invalid
from cityos.mobility.matching import MatchConfig, match_traces
from cityos.mobility.matching.runners import MatchKernel, match_spark
from cityos.mobility.network.schema import grid_network
from tests.mobility.matching.traces import drive

GRID = grid_network(5, 5, 300.0)
PATHS = [
    ["n1_0-n1_1", "n1_1-n1_2", "n1_2-n2_2", "n2_2-n3_2", "n3_2-n3_3"],
    ["n2_0-n2_1", "n2_1-n2_2", "n2_2-n2_1", "n2_1-n2_0"],
    ["n0_3-n1_3", "n1_3-n2_3", "n2_3-n2_2", "n2_2-n2_1"],
    ["n3_3-n3_2", "n3_2-n3_1", "n3_1-n2_1", "n2_1-n1_1"],
]


def _points() -> pl.DataFrame:
    parts = [
        drive(GRID, path, vehicle_id=f"v{i}", noise_m=10.0, seed=i, t0=100.0 * i)[0] for i, path in enumerate(PATHS)
    ]
    pts = pl.concat(parts)
    # bad records travel through the same kernel and come out with the same reasons
    bad = pl.DataFrame(
        {
            "vehicle_id": ["v0", "v1", None, "v9"],
            "ts": [5.5, 7.5, 9.0, 1.0],
            "lon": [None, 200.0, 104.0, 0.0],
            "lat": [30.6, 30.6, 30.6, 0.0],
            "speed": [10.0, 10.0, 10.0, 10.0],
            "heading": [0.0, 0.0, 0.0, 0.0],
        },
        schema=pts.schema,
    )
    return pl.concat([pts, bad]).sample(fraction=1.0, shuffle=True, seed=5)


def _sort(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort("vehicle_id", "ts", nulls_last=True)


@pytest.mark.parametrize("buckets", [None, 3])
def test_spark_matches_equal_local(spark: Any, buckets: int | None) -> None:
    pts = _points()
    cfg = MatchConfig()
    local = match_traces(pts, GRID, cfg)
    remote_df = match_spark(spark.createDataFrame(pts.to_arrow()), GRID, cfg, buckets=buckets)
    remote = pl.from_arrow(remote_df.toArrow())
    assert isinstance(remote, pl.DataFrame)
    assert local["matched"].sum() > 0.9 * local.height
    assert set(local["reason"].drop_nulls().to_list()) == {"missing_field", "out_of_range", "no_candidate"}
    assert_frame_equal(_sort(remote), _sort(local))


def test_spark_keeps_timestamps(spark: Any) -> None:
    pts = _points().with_columns(
        (pl.lit(datetime(2026, 3, 2, tzinfo=UTC)) + pl.duration(milliseconds=(pl.col("ts") * 1000).cast(pl.Int64)))
        .dt.cast_time_unit("us")
        .alias("ts")
    )
    local = match_traces(pts, GRID)
    remote = pl.from_arrow(match_spark(spark.createDataFrame(pts.to_arrow()), GRID, buckets=2).toArrow())
    assert isinstance(remote, pl.DataFrame)
    remote = remote.with_columns(pl.col("ts").dt.convert_time_zone("UTC"))
    assert_frame_equal(_sort(remote), _sort(local))


def test_kernel_on_a_part_gives_that_part_of_the_whole() -> None:
    pts = _points()
    kernel = MatchKernel(GRID)
    whole = _sort(kernel.frame(pts))
    part = _sort(kernel.frame(pts.filter(pl.col("vehicle_id").is_in(["v1", "v3"]))))
    assert_frame_equal(part, whole.filter(pl.col("vehicle_id").is_in(["v1", "v3"])))


def test_spark_refuses_points_without_coordinates(spark: Any) -> None:
    sdf = spark.createDataFrame(_points().drop("lat").to_arrow())
    with pytest.raises(Invalid):
        match_spark(sdf, GRID)
