"""The feature kernel on Spark (``groupBy(...).applyInArrow``) gives the in-process rows."""

from __future__ import annotations

from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from cityos.mobility.forecast.features import sensor_kernel
from cityos.mobility.forecast.series import prepare
from tests.mobility.forecast.helpers import mean_reverting


def test_spark_features_equal_local(spark: Any) -> None:
    from cityos.mobility.indicators.runners import run_spark, to_polars

    grid = prepare(mean_reverting(3, 1, seed=6)).grid
    local = pl.from_arrow(sensor_kernel(grid.to_arrow()))
    assert isinstance(local, pl.DataFrame)
    schema = sensor_kernel(grid.clear().to_arrow()).schema
    remote = to_polars(
        run_spark(sensor_kernel, spark.createDataFrame(grid.to_arrow()), ["sensor_id"], schema, buckets=2)
    )
    remote = remote.with_columns(pl.col("ts").dt.convert_time_zone("UTC")).cast(local.schema).sort("sensor_id", "ts")
    assert_frame_equal(remote, local)
