"""Observations → quarantine, fused segment states, five vital signs; locally or on Spark.

Both paths run the same three kernels (``ValidateKernel``, ``FusionKernel``, ``VitalsKernel``);
only the glue between them (a Polars join or a Spark join) differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from cityos.mobility.indicators.config import IndicatorConfig
from cityos.mobility.indicators.fusion import (
    CHECKED_SCHEMA,
    FUSED_SCHEMA,
    FusionKernel,
    ValidateKernel,
    quarantine,
)
from cityos.mobility.indicators.runners import map_spark, run_local, run_spark, to_polars
from cityos.mobility.indicators.vitals import (
    VITALS_INPUT,
    VITALS_SCHEMA,
    VitalsKernel,
    bin_incidents,
    unmatched_incidents,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class IndicatorResult:
    quarantine: pl.DataFrame  # bad observations with ``reason``
    segments: pl.DataFrame  # FUSED_SCHEMA: per segment and bin
    vitals: pl.DataFrame  # VITALS_SCHEMA: per level, area and bin
    unmatched_incidents: pl.DataFrame  # incidents no traffic row could carry


def _incidents(incidents: pl.DataFrame | None, config: IndicatorConfig) -> pl.DataFrame | None:
    return bin_incidents(incidents, config) if incidents is not None else None


def compute_local(
    obs: pl.DataFrame,
    segments: pl.DataFrame,
    areas: pl.DataFrame,
    incidents: pl.DataFrame | None = None,
    config: IndicatorConfig | None = None,
) -> IndicatorResult:
    config = config or IndicatorConfig()
    ids = segments["segment_id"].cast(pl.String).to_list()
    checked = run_local(ValidateKernel(ids, config), obs)
    bad = quarantine(checked)
    fused = run_local(FusionKernel(segments, config), checked)  # fuses the rows with reason_code 0
    binned = _incidents(incidents, config)
    joined = fused.select(VITALS_INPUT).join(areas.select("segment_id", "level", "area_id"), on="segment_id")
    vitals = run_local(VitalsKernel(binned, config), joined)
    unmatched = unmatched_incidents(binned, vitals) if binned is not None else pl.DataFrame()
    return IndicatorResult(bad, fused, vitals, unmatched)


def compute_spark(
    spark: SparkSession,
    obs: DataFrame,
    segments: pl.DataFrame,
    areas: pl.DataFrame,
    incidents: pl.DataFrame | None = None,
    config: IndicatorConfig | None = None,
    *,
    buckets: int | None = None,
) -> IndicatorResult:
    """The same kernels as ``compute_local``, on Spark; ``obs`` is a Spark DataFrame (OBS_SCHEMA)."""
    from pyspark.sql import functions as F

    config = config or IndicatorConfig()
    ids = segments["segment_id"].cast(pl.String).to_list()
    # Validation is row-wise: mapInArrow over the input's own partitions, no shuffle.
    checked = map_spark(ValidateKernel(ids, config), obs, CHECKED_SCHEMA).cache()
    good = checked.filter(F.col("reason_code") == 0)
    bad = quarantine(to_polars(checked.filter(F.col("reason_code") != 0)))
    fused = run_spark(FusionKernel(segments, config), good, ["segment_id"], FUSED_SCHEMA, buckets=buckets).cache()
    areas_df = spark.createDataFrame(areas.select("segment_id", "level", "area_id").to_arrow())
    joined = fused.select(*VITALS_INPUT).join(F.broadcast(areas_df), on="segment_id", how="inner")
    binned = _incidents(incidents, config)
    vitals_df = run_spark(VitalsKernel(binned, config), joined, ["level", "area_id"], VITALS_SCHEMA, buckets=buckets)
    fused_pl = to_polars(fused)
    vitals = to_polars(vitals_df)
    checked.unpersist()
    fused.unpersist()
    unmatched = unmatched_incidents(binned, vitals) if binned is not None else pl.DataFrame()
    return IndicatorResult(bad, fused_pl, vitals, unmatched)
