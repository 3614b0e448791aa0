"""Map matching in-process or on Spark, with the same kernel code.

Matching is independent per vehicle (a Viterbi chain never crosses from one vehicle to the
next), so any partition of the points by vehicle gives the same rows. ``MatchKernel`` is the
Polars function over one table (``frame``) and its Arrow face (``__call__``); ``match_spark``
hands it each Spark group through ``groupBy(...).applyInArrow`` — vehicles, or hash buckets of
vehicles (fewer, larger Arrow batches: the kernel is vectorised across traces, so a bucket of
many vehicles costs barely more than one).

The kernel carries the segment table, not the built index: an index can hold a dense distance
table of up to 64 MB, cheaper to build once per worker process than to ship with every task.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from cityos.core.errors import Invalid
from cityos.mobility.matching.hmm import OUTPUT_SCHEMA, MatchConfig, match_traces
from cityos.mobility.matching.index import SegmentIndex

if TYPE_CHECKING:  # pyspark is an optional dependency: imported only where Spark is used
    from pyspark.sql import DataFrame

BUCKET_COL = "_bucket"

# Indexes built in this process, by kernel token: a Spark worker is reused across tasks, so each
# worker builds a network's index (and its distance table) once, not once per group.
_INDEXES: dict[str, SegmentIndex] = {}
_MAX_CACHED = 4


def output_arrow_schema(ts_type: pa.DataType) -> pa.Schema:
    """``hmm.OUTPUT_SCHEMA`` as Arrow, with ``ts`` of the input's type (numbers or timestamps)."""
    names = {pl.Utf8: pa.string(), pl.Float64: pa.float64(), pl.Boolean: pa.bool_()}
    fields = [pa.field(k, names[v]) for k, v in OUTPUT_SCHEMA.items()]
    return pa.schema([fields[0], pa.field("ts", ts_type), *fields[1:]])


@dataclass
class MatchKernel:
    """``match_traces`` over one table of points (any set of whole vehicles)."""

    segments: pl.DataFrame
    config: MatchConfig = field(default_factory=MatchConfig)
    ts_type: pa.DataType = field(default_factory=pa.float64)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def schema(self) -> pa.Schema:
        return output_arrow_schema(self.ts_type)

    def index(self) -> SegmentIndex:
        found = _INDEXES.get(self.token)
        if found is None:
            cfg = self.config
            found = SegmentIndex.build(
                self.segments, radius_m=cfg.radius_m, max_route_m=cfg.max_route_m, uturn_penalty_m=cfg.uturn_penalty_m
            )
            if len(_INDEXES) >= _MAX_CACHED:
                _INDEXES.pop(next(iter(_INDEXES)))
            _INDEXES[self.token] = found
        return found

    def frame(self, df: pl.DataFrame) -> pl.DataFrame:
        return match_traces(df, self.index(), self.config)

    def __call__(self, table: pa.Table) -> pa.Table:
        df = pl.from_arrow(table)
        assert isinstance(df, pl.DataFrame)
        return self.frame(df).to_arrow().cast(self.schema)


def _arrow_type_of_spark(dtype: Any) -> pa.DataType:
    from pyspark.sql import types as T

    if isinstance(dtype, T.TimestampType):
        return pa.timestamp("us", tz="UTC")  # Spark hands zone-aware timestamps to Arrow in UTC
    if isinstance(dtype, T.TimestampNTZType):
        return pa.timestamp("us")
    if isinstance(dtype, T.DoubleType | T.FloatType | T.DecimalType):
        return pa.float64()
    if isinstance(dtype, T.LongType | T.IntegerType | T.ShortType):
        return pa.int64()
    raise Invalid(f"points column ts has a type the matcher cannot read: {dtype.simpleString()}")


def match_spark(
    points: DataFrame,
    segments: pl.DataFrame,
    config: MatchConfig | None = None,
    *,
    buckets: int | None = None,
) -> DataFrame:
    """``match_traces`` on Spark: the points (vehicle_id, ts, lon, lat[, speed, heading]) grouped
    by vehicle — or by ``pmod(hash(vehicle_id), buckets)`` — each group through ``MatchKernel``.

    Gives the rows of ``match_traces(points, segments, config)`` (in no particular order).
    Points with the same vehicle and timestamp are the one case that can differ: which of them
    is kept and which is ``duplicate_ts`` follows the input order, which a shuffle does not keep.
    """
    from pyspark.sql import functions as F

    from cityos.mobility.indicators.runners import spark_schema_of

    cfg = config or MatchConfig()
    cols = set(points.columns)
    for col in ("vehicle_id", "ts", "lon", "lat"):
        if col not in cols:
            raise Invalid(f"points lack column {col!r}")
    kernel = MatchKernel(segments, cfg, _arrow_type_of_spark(points.schema["ts"].dataType))
    kernel.index()  # a bad segment table fails here, on the driver, not inside a Spark task
    wanted = [c for c in ("vehicle_id", "ts", "lon", "lat", "speed", "heading") if c in cols]
    df = points.select(*wanted)
    if buckets:
        grouped = df.withColumn(BUCKET_COL, F.pmod(F.hash("vehicle_id"), F.lit(buckets))).groupBy(BUCKET_COL)
    else:
        grouped = df.groupBy("vehicle_id")

    # A plain one-argument function: Spark reads the arity (a bound ``__call__`` would be taken
    # for the (key, table) form). The extra bucket column is dropped by the kernel's select.
    def apply(table: pa.Table) -> pa.Table:
        return kernel(table)

    return grouped.applyInArrow(apply, schema=spark_schema_of(kernel.schema))
