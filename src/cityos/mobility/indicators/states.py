"""Segment states (路段交通状态) from the fused speed and road-class breakpoints."""

from __future__ import annotations

import polars as pl

from cityos.mobility.indicators.config import STATE_NAMES, IndicatorConfig


def state_expr(speed: str, road_class: str, config: IndicatorConfig) -> pl.Expr:
    """State code 1..5 (畅通 … 严重拥堵); null when the speed or the road class is unknown.

    Bands are upper-inclusive: state k+1 holds b[k] < v <= b[k-1] (see config.DEFAULT_BREAKPOINTS).
    """
    v = pl.col(speed)
    expr: pl.Expr = pl.lit(None, dtype=pl.Int8)
    # Built inside out so each road class is one branch of the outer when.
    for cls, (b1, b2, b3, b4) in config.breakpoints.items():
        by_speed = pl.when(v > b1).then(1).when(v > b2).then(2).when(v > b3).then(3).when(v > b4).then(4).otherwise(5)
        expr = pl.when((pl.col(road_class) == cls) & v.is_not_null()).then(by_speed).otherwise(expr)
    return expr.cast(pl.Int8)


def state_names() -> pl.DataFrame:
    """The lookup from code to name, for joins in reports and pages."""
    return pl.DataFrame(
        {"state": list(range(1, 6)), "state_name": list(STATE_NAMES)}, schema_overrides={"state": pl.Int8}
    )


def classify(df: pl.DataFrame, config: IndicatorConfig | None = None, *, speed: str = "speed_kmh") -> pl.DataFrame:
    """Add ``state`` and ``state_name`` to a table that has ``road_class`` and a speed column."""
    config = config or IndicatorConfig()
    return df.with_columns(state_expr(speed, "road_class", config).alias("state")).join(
        state_names(), on="state", how="left"
    )
