"""Validation and fusion of segment speeds per 5-minute bin (多源融合).

Three sources arrive matched to road segments: probe points (segment_id, ts, speed), loop
detector records (segment_id, ts, count, occupancy, speed) and a navigation feed (segment_id,
ts, speed[, samples]). ``observations`` stacks them into one long table so that one kernel —
and one Spark ``groupBy().applyInArrow`` — handles all of them.

Both kernels are callables ``pa.Table -> pa.Table`` built from Polars; they carry their
configuration (and the small segment table) as attributes, so Spark pickles them to workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl
import pyarrow as pa

from cityos.core.errors import FieldError, Invalid
from cityos.mobility.indicators.config import IndicatorConfig
from cityos.mobility.indicators.sums import SOURCES, cell_sums

# The long observation table every kernel reads.
OBS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("segment_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("speed", pa.float64()),
        ("count", pa.float64()),  # vehicles counted (loops); null for the others
        ("occupancy", pa.float64()),  # 0..1 (loops); null for the others
        ("n", pa.float64()),  # sample size behind the speed: 1 per probe point, count per loop record
    ]
)
# The checked table adds the verdict and, for the fusion kernel, the record's segment and source
# as small integers (position in the segment table; position in ``SOURCES``): grouping on one
# integer key is several times faster than on (string, datetime, string).
CHECKED_SCHEMA = pa.schema(
    [*OBS_SCHEMA, pa.field("reason_code", pa.int8()), pa.field("seg_idx", pa.int32()), pa.field("src_idx", pa.int8())]
)
HELPER_COLUMNS = ("seg_idx", "src_idx")

# Why a record is quarantined; the code travels with every row (0 = good), the text is attached
# only to the few bad rows (a string per row of 10M would cost more than the fusion itself).
REASONS: tuple[str, ...] = (
    "missing segment_id",
    "missing ts",
    "unknown source",
    "unknown segment",
    "count missing or negative",
    "occupancy outside 0..1",
    "missing speed",
    "speed out of range",
    "sample size not positive",
)

FUSED_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),
        ("bin_start", pa.timestamp("us")),
        ("speed_kmh", pa.float64()),
        ("speed_sd_kmh", pa.float64()),
        *[(f"{s}_{c}", pa.float64()) for s in SOURCES for c in ("speed", "n", "weight")],
        ("flow_veh", pa.float64()),
        ("occupancy", pa.float64()),
        ("sources", pa.int32()),
        ("disagree", pa.bool_()),
        ("disagree_reason", pa.string()),
        ("road_class", pa.string()),
        ("length_m", pa.float64()),
        ("lanes", pa.int16()),
        ("free_speed_kmh", pa.float64()),
        ("state", pa.int8()),
    ]
)


def _require(df: pl.DataFrame, source: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise Invalid(
            "A traffic source table lacks columns.",
            details=[FieldError(f"{source}.{c}", "Missing column.") for c in missing],
        )


def _ts_utc(col: str = "ts") -> pl.Expr:
    """Timestamps as naive UTC microseconds (zone-aware input is converted, naive is taken as UTC)."""
    return pl.col(col).cast(pl.Datetime("us"))


def _prepare_ts(df: pl.DataFrame) -> pl.DataFrame:
    dtype = df.schema["ts"]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        df = df.with_columns(pl.col("ts").dt.convert_time_zone("UTC").dt.replace_time_zone(None))
    return df.with_columns(_ts_utc())


def observations(
    probes: pl.DataFrame | None = None,
    loops: pl.DataFrame | None = None,
    nav: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Stack the three sources into the long observation table (``OBS_SCHEMA``)."""
    parts: list[pl.DataFrame] = []
    null = pl.lit(None, dtype=pl.Float64)
    if probes is not None:
        _require(probes, "probe", ("segment_id", "ts", "speed"))
        parts.append(
            _prepare_ts(probes).select(
                pl.lit("probe").alias("source"),
                "segment_id",
                "ts",
                pl.col("speed").cast(pl.Float64),
                null.alias("count"),
                null.alias("occupancy"),
                pl.lit(1.0).alias("n"),
            )
        )
    if loops is not None:
        _require(loops, "loop", ("segment_id", "ts", "count", "occupancy", "speed"))
        parts.append(
            _prepare_ts(loops).select(
                pl.lit("loop").alias("source"),
                "segment_id",
                "ts",
                pl.col("speed").cast(pl.Float64),
                pl.col("count").cast(pl.Float64),
                pl.col("occupancy").cast(pl.Float64),
                pl.col("count").cast(pl.Float64).alias("n"),
            )
        )
    if nav is not None:
        _require(nav, "nav", ("segment_id", "ts", "speed"))
        samples = pl.col("samples").cast(pl.Float64) if "samples" in nav.columns else pl.lit(1.0)
        parts.append(
            _prepare_ts(nav).select(
                pl.lit("nav").alias("source"),
                "segment_id",
                "ts",
                pl.col("speed").cast(pl.Float64),
                null.alias("count"),
                null.alias("occupancy"),
                samples.alias("n"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=pl.Schema(pl.from_arrow(OBS_SCHEMA.empty_table()).schema))  # type: ignore[union-attr]
    return pl.concat(parts).with_columns(pl.col("segment_id").cast(pl.String))


@dataclass
class ValidateKernel:
    """Adds ``reason_code``: 0 for a good record, else the index + 1 into ``REASONS``."""

    segment_ids: list[str]
    config: IndicatorConfig = field(default_factory=IndicatorConfig)

    schema: ClassVar[pa.Schema] = CHECKED_SCHEMA

    def frame(self, df: pl.DataFrame) -> pl.DataFrame:
        return check(df, self.segment_ids, self.config)

    def __call__(self, table: pa.Table) -> pa.Table:
        return _arrow_call(self.frame, table, CHECKED_SCHEMA)


def _arrow_call(frame: Callable[[pl.DataFrame], pl.DataFrame], table: pa.Table, schema: pa.Schema) -> pa.Table:
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return frame(df).to_arrow().cast(schema)


def _codes(segment_ids: list[str]) -> list[pl.Expr]:
    """``seg_idx`` and ``src_idx``: positions in the segment list and in ``SOURCES``, null if unknown.

    A non-strict cast to an Enum is a hash lookup that yields the position directly (faster than
    ``is_in`` plus a join); duplicate ids keep their first position.
    """
    seg_enum = pl.Enum(list(dict.fromkeys(segment_ids)))
    return [
        pl.col("segment_id").cast(pl.String).cast(seg_enum, strict=False).to_physical().cast(pl.Int32).alias("seg_idx"),
        pl.col("source")
        .cast(pl.String)
        .cast(pl.Enum(list(SOURCES)), strict=False)
        .to_physical()
        .cast(pl.Int8)
        .alias("src_idx"),
    ]


def check(df: pl.DataFrame, segment_ids: list[str], config: IndicatorConfig) -> pl.DataFrame:
    """First failing rule wins; rules in ``REASONS`` order."""
    is_loop = pl.col("source") == "loop"
    speed = pl.col("speed")
    rules = [
        pl.col("segment_id").is_null(),
        pl.col("ts").is_null(),
        pl.col("src_idx").is_null(),
        pl.col("seg_idx").is_null(),
        is_loop & (pl.col("count").is_null() | (pl.col("count") < 0)),
        is_loop & ~pl.col("occupancy").is_between(0.0, 1.0),
        # A loop that counted nobody has no speed to give; every other record needs one.
        speed.is_null() & ~(is_loop & (pl.col("count") == 0)),
        speed.is_nan() | (speed < 0) | (speed > config.max_speed_kmh),
        ~is_loop & ~(pl.col("n") > 0),
    ]
    code: pl.Expr = pl.lit(0, dtype=pl.Int8)
    for i in range(len(rules) - 1, -1, -1):
        code = pl.when(rules[i].fill_null(False)).then(pl.lit(i + 1, dtype=pl.Int8)).otherwise(code)
    return (
        df.lazy()
        .select([c.name for c in OBS_SCHEMA])
        .with_columns(_codes(segment_ids))
        .with_columns(code.cast(pl.Int8).alias("reason_code"))
        .select([f.name for f in CHECKED_SCHEMA])
        .collect()
    )


def split_checked(checked: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good observations, quarantine with ``reason`` text)."""
    good = checked.filter(pl.col("reason_code") == 0).drop("reason_code")
    return good, quarantine(checked)


def quarantine(checked: pl.DataFrame) -> pl.DataFrame:
    """The bad rows of a checked table, with the reason spelled out."""
    return (
        checked.filter(pl.col("reason_code") != 0)
        .with_columns(
            pl.col("reason_code")
            .replace_strict(list(range(1, len(REASONS) + 1)), list(REASONS), return_dtype=pl.String)
            .alias("reason")
        )
        .drop("reason_code", *[c for c in HELPER_COLUMNS if c in checked.columns])
    )


@dataclass
class FusionKernel:
    """Per segment and bin: source means, inverse-variance weights, fused speed, flags, state.

    Any partition of the input by ``segment_id`` (or a hash of it) gives the same rows, which
    is what lets Spark run it per group.
    """

    segments: pl.DataFrame
    config: IndicatorConfig = field(default_factory=IndicatorConfig)

    schema: ClassVar[pa.Schema] = FUSED_SCHEMA

    def frame(self, df: pl.DataFrame) -> pl.DataFrame:
        return fuse(df, self.segments, self.config)

    def __call__(self, table: pa.Table) -> pa.Table:
        return _arrow_call(self.frame, table, FUSED_SCHEMA)


def fuse(obs: pl.DataFrame, segments: pl.DataFrame, config: IndicatorConfig) -> pl.DataFrame:
    """Fused speed per (segment, bin) of the good rows (rows of an unknown segment or source are
    not fused: ``check`` quarantines them)."""
    from cityos.mobility.indicators.states import state_expr

    # one row per segment id, in table order: the positions ``check`` gave (``_codes``)
    segments = segments.unique("segment_id", keep="first", maintain_order=True)
    checked = "reason_code" in obs.columns
    if checked:  # a checked table: fuse only its good rows
        obs = obs.filter(pl.col("reason_code") == 0)
    elif not set(HELPER_COLUMNS) <= set(obs.columns):  # an unchecked table: look the codes up here
        ids = segments["segment_id"].cast(pl.String).to_list()
        obs = obs.with_columns(_codes(ids)).filter(
            pl.col("seg_idx").is_not_null() & pl.col("src_idx").is_not_null() & pl.col("ts").is_not_null()
        )
    nseg = segments.height
    sums = cell_sums(obs, nseg, config, checked=checked)
    g = sums.frame.lazy().with_columns(
        (pl.col("_cell") % nseg).cast(pl.Int32).alias("_seg"),
        ((pl.col("_cell") // nseg + sums.first) * config.interval_us).cast(pl.Datetime("us")).alias("bin_start"),
    )
    cols = []
    for s in SOURCES:
        n, s1, s2 = pl.col(f"_{s}_N"), pl.col(f"_{s}_S1"), pl.col(f"_{s}_S2")
        prior = config.priors[s]
        mean = s1 / n
        # Per-observation variance: the sample variance (frequency weights) with the prior as a
        # floor — a loop record or a navigation value is an aggregate that hides its own spread,
        # so one record of 100 vehicles must not look exact. Weight = 1/var(mean) = n / s².
        sample_var = pl.when(n > 1).then((s2 / n - mean**2) * n / (n - 1)).otherwise(0.0)
        var = pl.max_horizontal(sample_var, pl.lit(prior.sd_kmh**2))
        present = n > 0
        cols += [
            pl.when(present).then(mean).alias(f"{s}_speed"),
            n.alias(f"{s}_n"),
            pl.when(present).then(n / var).otherwise(0.0).alias(f"{s}_weight"),
        ]
    g = g.with_columns(cols)
    wsum = pl.sum_horizontal([pl.col(f"{s}_weight") for s in SOURCES])
    wmean = pl.sum_horizontal([pl.col(f"{s}_weight") * pl.col(f"{s}_speed").fill_null(0.0) for s in SOURCES])
    speeds = [pl.col(f"{s}_speed") for s in SOURCES]
    spread = pl.max_horizontal(speeds) - pl.min_horizontal(speeds)
    g = g.with_columns(
        pl.when(wsum > 0).then(wmean / wsum).alias("speed_kmh"),
        pl.when(wsum > 0).then(1.0 / wsum.sqrt()).alias("speed_sd_kmh"),
        pl.sum_horizontal([s.is_not_null().cast(pl.Int32) for s in speeds]).alias("sources"),
        pl.when(pl.col("_has_loop")).then(pl.col("flow_veh")).alias("flow_veh"),
    )
    disagree = (
        (pl.col("sources") >= 2)
        & (spread > config.disagree_abs_kmh)
        & (spread > config.disagree_rel * pl.col("speed_kmh"))
    )
    g = g.with_columns(disagree.fill_null(False).alias("disagree"))
    seg = segments.lazy().select(
        pl.int_range(pl.len(), dtype=pl.Int32).alias("_seg"),
        pl.col("segment_id").cast(pl.String),
        "road_class",
        pl.col("length_m").cast(pl.Float64),
        pl.col("lanes").cast(pl.Int16),
        pl.col("free_speed_kmh").cast(pl.Float64),
    )
    out = g.join(seg, on="_seg", how="left").with_columns(state_expr("speed_kmh", "road_class", config).alias("state"))
    done = (
        out.with_columns(pl.lit(None, dtype=pl.String).alias("disagree_reason"))
        .select([f.name for f in FUSED_SCHEMA])
        .collect(engine="streaming")
    )
    # The reason text is written only for the (few) flagged rows: formatting every row's
    # speeds as strings cost as much as the whole group-by.
    flagged = done.filter(pl.col("disagree"))
    if flagged.is_empty():
        return done
    speeds = [pl.col(f"{s}_speed") for s in SOURCES]
    spread = pl.max_horizontal(speeds) - pl.min_horizontal(speeds)
    detail = pl.concat_str(
        [pl.lit(f"{s}=") + pl.col(f"{s}_speed").round(1).cast(pl.String) for s in SOURCES],
        separator=" ",
        ignore_nulls=True,
    )
    flagged = flagged.with_columns(
        (pl.lit("sources disagree by ") + spread.round(1).cast(pl.String) + pl.lit(" km/h: ") + detail).alias(
            "disagree_reason"
        )
    )
    return pl.concat([done.filter(~pl.col("disagree")), flagged])
