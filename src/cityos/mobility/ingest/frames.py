"""The stored feeds as the indicators' long observation table (``fusion.OBS_SCHEMA``).

The monitor reads this every minute, so each source is one indexed range query on ``ts``
(half-open [start, end)), with the per-interval loop aggregation done in Polars afterwards.
Times come out naive in UTC, as the schema's ``timestamp("us")`` wants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.mobility.indicators.fusion import OBS_SCHEMA
from cityos.mobility.network.service import get_network

from . import matcher
from .models import NavSpeed, ProbePoint, TrafficObservation

_OBS = pl.Schema(pl.from_arrow(OBS_SCHEMA.empty_table()).schema)  # type: ignore[union-attr]
_COLUMNS = list(_OBS.names())


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    return moment.astimezone(UTC)


def _naive(values: list[datetime]) -> pl.Series:
    return pl.Series("ts", [v.astimezone(UTC).replace(tzinfo=None) for v in values], dtype=pl.Datetime("us"))


def _frame(rows: Sequence[Any], names: tuple[str, ...]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {n: [] for n in names}
    for row in rows:
        for n, v in zip(names, row, strict=True):
            cols[n].append(v)
    return cols


def observations(session: Session, *, start: datetime, end: datetime, network_code: str | None = None) -> pl.DataFrame:
    """Probe, loop and navigation observations with a segment whose ``ts`` lies in [start, end).

    Probe points: their speed, n = 1 (points without a speed carry none and are left out).
    Loop records: summed over the lanes of a detector's interval: count, mean occupancy,
    count-weighted speed, n = count. Navigation speeds: n = samples, or 1 when not given.
    With ``network_code``, only rows on that network's segments are kept (the tables hold
    segment ids, matched to the network that was active at ingest).
    """
    lo, hi = _utc(start), _utc(end)
    parts: list[pl.DataFrame] = []

    p = ProbePoint
    rows: Sequence[Any] = session.execute(
        select(p.segment_id, p.ts, p.speed_kmh).where(
            p.ts >= lo, p.ts < hi, p.segment_id.is_not(None), p.speed_kmh.is_not(None)
        )
    ).all()
    if rows:
        c = _frame(rows, ("segment_id", "ts", "speed"))
        parts.append(
            pl.DataFrame({"segment_id": c["segment_id"], "speed": c["speed"]})
            .with_columns(_naive(c["ts"]))
            .select(
                pl.lit("probe").alias("source"),
                "segment_id",
                "ts",
                pl.col("speed").cast(pl.Float64),
                pl.lit(None, pl.Float64).alias("count"),
                pl.lit(None, pl.Float64).alias("occupancy"),
                pl.lit(1.0).alias("n"),
            )
        )

    t = TrafficObservation
    rows = session.execute(
        select(t.detector_id, t.segment_id, t.ts, t.count, t.occupancy, t.speed_kmh).where(
            t.ts >= lo, t.ts < hi, t.segment_id.is_not(None)
        )
    ).all()
    if rows:
        c = _frame(rows, ("detector_id", "segment_id", "ts", "count", "occupancy", "speed"))
        lanes = pl.DataFrame(
            {
                "detector_id": c["detector_id"],
                "segment_id": c["segment_id"],
                "count": pl.Series(c["count"], dtype=pl.Float64),
                "occupancy": pl.Series(c["occupancy"], dtype=pl.Float64),
                "speed": pl.Series(c["speed"], dtype=pl.Float64),
            }
        ).with_columns(_naive(c["ts"]))
        weighted = pl.col("speed").is_not_null() & (pl.col("count") > 0)
        summed = lanes.group_by("detector_id", "segment_id", "ts").agg(
            pl.col("count").sum().alias("count"),
            pl.col("occupancy").mean().alias("occupancy"),
            (pl.col("speed") * pl.col("count")).filter(weighted).sum().alias("_sv"),
            pl.col("count").filter(weighted).sum().alias("_n"),
        )
        parts.append(
            summed.sort("segment_id", "ts", "detector_id").select(
                pl.lit("loop").alias("source"),
                "segment_id",
                "ts",
                pl.when(pl.col("_n") > 0).then(pl.col("_sv") / pl.col("_n")).alias("speed"),
                "count",
                "occupancy",
                pl.col("count").alias("n"),
            )
        )

    v = NavSpeed
    rows = session.execute(select(v.segment_id, v.ts, v.speed_kmh, v.samples).where(v.ts >= lo, v.ts < hi)).all()
    if rows:
        c = _frame(rows, ("segment_id", "ts", "speed", "samples"))
        parts.append(
            pl.DataFrame(
                {
                    "segment_id": c["segment_id"],
                    "speed": pl.Series(c["speed"], dtype=pl.Float64),
                    "samples": pl.Series(c["samples"], dtype=pl.Float64),
                }
            )
            .with_columns(_naive(c["ts"]))
            .select(
                pl.lit("nav").alias("source"),
                "segment_id",
                "ts",
                "speed",
                pl.lit(None, pl.Float64).alias("count"),
                pl.lit(None, pl.Float64).alias("occupancy"),
                pl.col("samples").fill_null(1.0).alias("n"),
            )
        )

    if not parts:
        return pl.DataFrame(schema=_OBS)
    out = pl.concat([part.select(_COLUMNS).cast(dict(_OBS)) for part in parts])  # type: ignore[arg-type]
    if network_code is not None:
        net = get_network(session, network_code)
        view = matcher.view(session, net)
        ids = sorted(view.segment_ids) if view is not None else []
        out = out.filter(pl.col("segment_id").is_in(pl.Series(ids, dtype=pl.String).implode()))
    return out
