"""Run a kernel (``pa.Table -> pa.Table``) in-process or on Spark, with the same code.

A kernel groups internally, so it gives the same rows on any partition of its input by (a
subset of) its own group keys. ``run_local`` therefore runs it once on the whole table unless
told to partition; ``run_spark`` hands each Spark group to it through ``applyInArrow``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:  # pyspark is a dev/extra dependency: imported only where Spark is used
    from pyspark.sql import DataFrame, SparkSession

ArrowKernel = Callable[[pa.Table], pa.Table]


class Kernel(Protocol):
    """A Polars function over one table; ``__call__`` is its Arrow face (for Spark), ``frame``
    the same code on a Polars frame (in-process: no Arrow round trip)."""

    schema: ClassVar[pa.Schema]

    def __call__(self, table: pa.Table) -> pa.Table: ...

    def frame(self, df: pl.DataFrame) -> pl.DataFrame: ...


BUCKET_COL = "_bucket"


def run_local(kernel: Kernel, table: pa.Table | pl.DataFrame, by: Sequence[str] | None = None) -> pl.DataFrame:
    """Apply ``kernel`` in-process; with ``by``, once per group (as Spark would), else once."""
    df = pl.from_arrow(table) if isinstance(table, pa.Table) else table
    assert isinstance(df, pl.DataFrame)
    target = pl.from_arrow(kernel.schema.empty_table())
    assert isinstance(target, pl.DataFrame)
    if not by:
        return kernel.frame(df).cast(target.schema)
    parts = [kernel.frame(part) for part in df.partition_by(list(by), maintain_order=True)]
    if not parts:
        return kernel.frame(df.clear()).cast(target.schema)
    return pl.concat(parts).cast(target.schema)


def run_spark(
    kernel: ArrowKernel,
    df: DataFrame,
    by: Sequence[str],
    schema: pa.Schema,
    *,
    buckets: int | None = None,
) -> DataFrame:
    """``df.groupBy(by).applyInArrow(kernel)`` with the result typed by the Arrow ``schema``.

    With ``buckets`` the groups are ``pmod(hash(by), buckets)`` instead of every key: fewer,
    larger Arrow batches (one Polars call per bucket, not per segment), same rows.
    """
    from pyspark.sql import functions as F

    spark_schema = spark_schema_of(schema)
    if buckets:
        df = df.withColumn(BUCKET_COL, F.pmod(F.hash(*by), F.lit(buckets)))
        grouped = df.groupBy(BUCKET_COL)
    else:
        grouped = df.groupBy(*by)

    # A plain one-argument function: Spark reads the arity, and a callable object's bound
    # ``__call__`` would be taken for the (key, table) form.
    def apply(table: pa.Table) -> pa.Table:
        return kernel(table)

    return grouped.applyInArrow(apply, schema=spark_schema)


def map_spark(kernel: ArrowKernel, df: DataFrame, schema: pa.Schema) -> DataFrame:
    """``df.mapInArrow`` for a row-wise kernel (no shuffle): each Arrow batch through ``kernel``."""

    def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from kernel(pa.Table.from_batches([batch])).to_batches()

    return df.mapInArrow(apply, schema=spark_schema_of(schema))


def spark_schema_of(schema: pa.Schema) -> Any:
    """The Spark StructType for an Arrow schema (naive timestamps as TIMESTAMP_NTZ)."""
    from pyspark.sql import types as T

    def conv(t: pa.DataType) -> Any:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return T.StringType()
        if pa.types.is_float64(t):
            return T.DoubleType()
        if pa.types.is_int64(t):
            return T.LongType()
        if pa.types.is_int32(t):
            return T.IntegerType()
        if pa.types.is_int16(t):
            return T.ShortType()
        if pa.types.is_int8(t):
            return T.ByteType()
        if pa.types.is_boolean(t):
            return T.BooleanType()
        if pa.types.is_timestamp(t):
            return T.TimestampType() if t.tz else T.TimestampNTZType()
        raise TypeError(f"no Spark type for {t}")

    return T.StructType([T.StructField(f.name, conv(f.type), True) for f in schema])


def local_spark(app_name: str = "cityos-indicators", *, cores: int = 2, **conf: str) -> SparkSession:
    """A ``local[cores]`` session whose workers use this interpreter (else: no pyarrow there)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def to_polars(df: DataFrame) -> pl.DataFrame:
    """Collect a Spark result as Polars (through Arrow)."""
    out = pl.from_arrow(df.toArrow())
    assert isinstance(out, pl.DataFrame)
    return out
