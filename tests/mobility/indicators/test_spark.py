"""The Spark runner gives the local runner's results, with the same kernels."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from cityos.mobility.indicators.pipeline import compute_local, compute_spark
from cityos.mobility.indicators.vitals import membership
from tests.mobility.indicators.data import at, many_observations, segments


def _sorted(df: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return df.sort(keys)


def test_spark_equals_local(spark: object) -> None:
    segs = segments()
    obs = many_observations()
    areas = membership(segs, district_col="district", corridors={"C1": ["e1", "a1"]})
    incidents = pl.DataFrame({"area_id": ["city", "510104", "C1"], "ts": [at(3), at(7), at(12)], "count": [2, 1, 1]})
    local = compute_local(obs, segs, areas, incidents)
    sdf = spark.createDataFrame(obs.to_arrow())  # type: ignore[attr-defined]
    remote = compute_spark(spark, sdf, segs, areas, incidents)  # type: ignore[arg-type]

    assert local.vitals.height > 0
    assert local.quarantine.height == 5
    assert_frame_equal(
        _sorted(remote.quarantine, ["source", "reason", "speed"]),
        _sorted(local.quarantine, ["source", "reason", "speed"]),
    )
    assert_frame_equal(
        _sorted(remote.segments, ["segment_id", "bin_start"]),
        _sorted(local.segments, ["segment_id", "bin_start"]),
        rel_tol=1e-9,
    )
    assert_frame_equal(
        _sorted(remote.vitals, ["level", "area_id", "bin_start"]),
        _sorted(local.vitals, ["level", "area_id", "bin_start"]),
        rel_tol=1e-9,
    )
