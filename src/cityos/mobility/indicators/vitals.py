"""The five vital signs (五大体征) per area and 5-minute bin.

Input: the fused segment table (``fusion.FUSED_SCHEMA``) joined with area membership
(segment_id, level, area_id) — a segment belongs to the city, to one district and to any
number of corridors. Formulas are in docs/mobility/indicators.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl
import pyarrow as pa

from cityos.core.errors import FieldError, Invalid
from cityos.mobility.indicators.config import STATE_NAMES, IndicatorConfig

MEMBERSHIP_SCHEMA = pa.schema([("segment_id", pa.string()), ("level", pa.string()), ("area_id", pa.string())])

VITALS_SCHEMA = pa.schema(
    [
        ("level", pa.string()),
        ("area_id", pa.string()),
        ("bin_start", pa.timestamp("us")),
        ("segments", pa.int64()),
        ("vehicles", pa.float64()),  # loop-counted vehicle passages, summed over segments
        ("probe_points", pa.float64()),
        ("vkt_km", pa.float64()),
        ("vkt_coverage", pa.float64()),  # share of the observed length that has a loop count
        ("tti", pa.float64()),
        ("congested_ratio", pa.float64()),
        ("tpi", pa.float64()),
        ("tpi_band", pa.int8()),
        ("tpi_band_name", pa.string()),
        ("arterial_speed_kmh", pa.float64()),
        ("expressway_speed_kmh", pa.float64()),
        ("incidents", pa.float64()),
        ("safety_index", pa.float64()),  # incidents per million VKT
        ("disagreements", pa.int64()),
    ]
)

# A fused speed of 0 (a standing queue) would make the travel time infinite; 1 km/h caps it.
MIN_SPEED_KMH = 1.0


def membership(
    segments: pl.DataFrame,
    *,
    city_id: str = "city",
    district_col: str | None = None,
    corridors: dict[str, list[str]] | None = None,
) -> pl.DataFrame:
    """Area membership: every segment in the city, in its district (if a column names it), in corridors."""
    ids = segments.select(pl.col("segment_id").cast(pl.String))
    parts = [ids.with_columns(pl.lit("city").alias("level"), pl.lit(city_id).alias("area_id"))]
    if district_col is not None:
        parts.append(
            segments.select(
                pl.col("segment_id").cast(pl.String),
                pl.lit("district").alias("level"),
                pl.col(district_col).cast(pl.String).alias("area_id"),
            ).filter(pl.col("area_id").is_not_null())
        )
    known = set(ids["segment_id"].to_list())
    for corridor, members in (corridors or {}).items():
        unknown = [m for m in members if m not in known]
        if unknown:
            raise Invalid(
                "A corridor names unknown segments.",
                details=[
                    FieldError(f"corridors.{corridor}", "Unknown segment.", {"segment_id": u}) for u in unknown[:10]
                ],
            )
        parts.append(pl.DataFrame({"segment_id": members, "level": "corridor", "area_id": corridor}))
    return pl.concat(parts).unique(maintain_order=True)


def bin_incidents(incidents: pl.DataFrame, config: IndicatorConfig) -> pl.DataFrame:
    """(area_id, ts, count) → (area_id, bin_start, incidents)."""
    missing = [c for c in ("area_id", "ts", "count") if c not in incidents.columns]
    if missing:
        raise Invalid(
            "The incident table lacks columns.",
            details=[FieldError(f"incidents.{c}", "Missing column.") for c in missing],
        )
    ts = pl.col("ts")
    if isinstance(incidents.schema["ts"], pl.Datetime) and incidents.schema["ts"].time_zone is not None:
        ts = ts.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return (
        incidents.select(
            pl.col("area_id").cast(pl.String),
            ts.cast(pl.Datetime("us")).dt.truncate(config.interval).alias("bin_start"),
            pl.col("count").cast(pl.Float64),
        )
        .group_by("area_id", "bin_start")
        .agg(pl.col("count").sum().alias("incidents"))
    )


def tpi_expr(ratio: pl.Expr, config: IndicatorConfig) -> pl.Expr:
    """Piecewise-linear congested-mileage ratio → TPI (0..10), flat beyond the last breakpoint."""
    rs, vs = config.tpi_ratios, config.tpi_values
    expr: pl.Expr = pl.lit(vs[-1])
    for i in range(len(rs) - 2, -1, -1):
        slope = (vs[i + 1] - vs[i]) / (rs[i + 1] - rs[i])
        expr = pl.when(ratio <= rs[i + 1]).then(vs[i] + (ratio - rs[i]) * slope).otherwise(expr)
    return pl.when(ratio.is_null()).then(None).when(ratio <= rs[0]).then(vs[0]).otherwise(expr)


# The fused columns the vital signs read (plus level and area_id): joining only these to the
# area membership keeps the fan-out (a segment is in the city, a district, corridors) narrow.
VITALS_INPUT = (
    "segment_id", "bin_start", "speed_kmh", "flow_veh", "probe_n", "disagree",
    "road_class", "length_m", "lanes", "free_speed_kmh", "state",
)  # fmt: skip


@dataclass
class VitalsKernel:
    """Five vital signs; any partition of the input by (level, area_id) gives the same rows."""

    incidents: pl.DataFrame | None = None  # binned: (area_id, bin_start, incidents)
    config: IndicatorConfig = field(default_factory=IndicatorConfig)

    schema: ClassVar[pa.Schema] = VITALS_SCHEMA

    def frame(self, df: pl.DataFrame) -> pl.DataFrame:
        return vital_signs(df, self.incidents, self.config)

    def __call__(self, table: pa.Table) -> pa.Table:
        df = pl.from_arrow(table)
        assert isinstance(df, pl.DataFrame)
        return self.frame(df).to_arrow().cast(VITALS_SCHEMA)


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num/den, null (not NaN) where nothing was there to divide by (no arterial, zero weight)."""
    return pl.when(den > 0).then(num / den)


def vital_signs(states: pl.DataFrame, incidents: pl.DataFrame | None, config: IndicatorConfig) -> pl.DataFrame:
    length_km = pl.col("length_m") / 1000.0
    v = pl.max_horizontal(pl.col("speed_kmh"), pl.lit(MIN_SPEED_KMH))
    weight = pl.coalesce(pl.col("flow_veh"), pl.col("lanes").cast(pl.Float64) * config.fallback_flow_per_lane)
    lf = (
        states.lazy()
        .filter(pl.col("speed_kmh").is_not_null() & pl.col("road_class").is_not_null())
        .with_columns(
            (weight * length_km).alias("_wl"),
            (weight * length_km / v).alias("_wt"),
            (weight * length_km / pl.col("free_speed_kmh")).alias("_wt_ff"),
        )
    )
    art = pl.col("road_class") == "arterial"
    exp = pl.col("road_class") == "expressway"
    congested = pl.col("state") >= config.congested_from_state
    wl, wt = pl.col("_wl"), pl.col("_wt")
    # The subsets (arterial, expressway, congested, counted) are masked row-wise before the
    # group-by, so that it runs plain sums only (a filter inside an aggregation is much slower).
    lf = lf.with_columns(
        (pl.col("flow_veh") * length_km).alias("_vkt"),
        pl.when(pl.col("flow_veh").is_not_null()).then(length_km).alias("_counted_km"),
        length_km.alias("_km"),
        pl.when(congested).then(wl).alias("_wl_cong"),
        pl.when(art).then(wl).alias("_wl_art"),
        pl.when(art).then(wt).alias("_wt_art"),
        pl.when(exp).then(wl).alias("_wl_exp"),
        pl.when(exp).then(wt).alias("_wt_exp"),
    )
    g = lf.group_by("level", "area_id", "bin_start").agg(
        pl.len().cast(pl.Int64).alias("segments"),
        pl.col("flow_veh").sum().alias("vehicles"),
        pl.col("probe_n").sum().alias("probe_points"),
        pl.col("_vkt").sum().alias("vkt_km"),
        *[pl.col(c).sum() for c in ("_counted_km", "_km", "_wt", "_wt_ff", "_wl_cong", "_wl")],
        *[pl.col(c).sum() for c in ("_wl_art", "_wt_art", "_wl_exp", "_wt_exp")],
        pl.col("disagree").sum().cast(pl.Int64).alias("disagreements"),
    )
    g = g.with_columns(
        _ratio(pl.col("_counted_km"), pl.col("_km")).alias("vkt_coverage"),
        _ratio(pl.col("_wt"), pl.col("_wt_ff")).alias("tti"),
        _ratio(pl.col("_wl_cong"), pl.col("_wl")).alias("congested_ratio"),
        _ratio(pl.col("_wl_art"), pl.col("_wt_art")).alias("arterial_speed_kmh"),
        _ratio(pl.col("_wl_exp"), pl.col("_wt_exp")).alias("expressway_speed_kmh"),
    )
    tpi = tpi_expr(pl.col("congested_ratio"), config)
    band = pl.min_horizontal((pl.col("tpi") / 2.0).floor().cast(pl.Int8) + 1, pl.lit(5, dtype=pl.Int8))
    g = g.with_columns(tpi.alias("tpi")).with_columns(band.cast(pl.Int8).alias("tpi_band"))
    g = g.with_columns(
        pl.col("tpi_band")
        .replace_strict(list(range(1, 6)), list(STATE_NAMES), default=None, return_dtype=pl.String)
        .alias("tpi_band_name")
    )
    if incidents is not None and incidents.height:
        g = g.join(incidents.lazy(), on=["area_id", "bin_start"], how="left").with_columns(
            pl.col("incidents").fill_null(0.0)
        )
    else:
        g = g.with_columns(pl.lit(0.0).alias("incidents"))
    # Per million VKT; undefined (null) where no vehicle-kilometres were measured.
    g = g.with_columns(
        pl.when(pl.col("vkt_km") > 0).then(pl.col("incidents") / (pl.col("vkt_km") / 1e6)).alias("safety_index")
    )
    return g.select([f.name for f in VITALS_SCHEMA]).collect()


def unmatched_incidents(incidents: pl.DataFrame, vitals: pl.DataFrame) -> pl.DataFrame:
    """Binned incidents whose area and bin have no traffic row: reported, not silently dropped."""
    return incidents.join(vitals.select("area_id", "bin_start"), on=["area_id", "bin_start"], how="anti").with_columns(
        pl.lit("no traffic data for this area and bin").alias("reason")
    )
