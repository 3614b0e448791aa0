"""Aggregated temporal representation: the NGSI-LD aggrMethods over periods of
aggrPeriodDuration, computed with Polars over the window's instances.

Periods start at timeAt (after, between) or at the first instance (before) and follow one
another by the duration (calendar months and years included); the last one ends at endTimeAt
when the window has one. A period without instances is left out. With no duration (or PT0S) the
whole window is one period. Numeric methods (sum, avg, min, max, stddev — the sample standard
deviation, null for one value — and sumsq) use the numeric instances only; totalCount counts
every instance and distinctCount the distinct values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from cityos.core.i18n import N_
from cityos.hub.ngsi.problems import TOO_COMPLEX_QUERY, NgsiProblem
from cityos.hub.temporal.frames import TIME, iso
from cityos.hub.temporal.params import Duration, TimeWindow

MAX_PERIODS = 100_000
MSG_PERIODS = N_("The query asks for more than {limit} aggregation periods; choose a longer aggrPeriodDuration.")
Key = tuple[str, str, str | None]  # entity_id, attr, dataset_id


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def boundaries(start: datetime, last: datetime, period: Duration | None, end: datetime | None) -> list[datetime]:
    """Period starts from ``start`` up to ``last`` (the latest instance), then the final end."""
    if period is None or period.zero:
        return [start, end or last]
    bounds = [start]
    while bounds[-1] <= last:
        if len(bounds) > MAX_PERIODS:
            raise NgsiProblem(TOO_COMPLEX_QUERY, MSG_PERIODS, params={"limit": MAX_PERIODS})
        bounds.append(period.add_to(start, len(bounds)))
    if end is not None and bounds[-1] > end:
        bounds[-1] = end
    return bounds


def aggregate(
    rows: pl.DataFrame, *, methods: tuple[str, ...], period: Duration | None, window: TimeWindow | None
) -> dict[Key, dict[str, list[list[Any]]]]:
    """For each (entity, attribute, datasetId) the methods' [value, startAt, endAt] per period."""
    if rows.height == 0:
        return {}
    column = window.column if window else "observed_at"
    times = rows.get_column(column)
    first: datetime = times.min()  # type: ignore[assignment]
    last: datetime = times.max()  # type: ignore[assignment]
    start = window.start if window is not None and window.start is not None else first
    end = window.end if window is not None else None
    bounds = boundaries(start, last, period, end)
    whole = period is None or period.zero
    edges = pl.Series("edges", bounds, dtype=TIME)
    if whole:
        bucket = pl.lit(0, dtype=pl.Int64)
    else:
        bucket = pl.lit(edges).search_sorted(pl.col(column), side="right").cast(pl.Int64) - 1
    frame = rows.with_columns(
        bucket=bucket,
        key=pl.coalesce(pl.col("value_num").cast(pl.String), pl.col("value_text"), pl.col("value_json")),
    )
    numbers = pl.col("value_num").drop_nulls()
    has = numbers.count() > 0
    grouped = (
        frame.group_by(["entity_id", "attr", "dataset_id", "bucket"])
        .agg(
            totalCount=pl.len(),
            distinctCount=pl.col("key").drop_nulls().n_unique(),
            sum=pl.when(has).then(numbers.sum()),
            avg=numbers.mean(),
            min=numbers.min(),
            max=numbers.max(),
            stddev=numbers.std(ddof=1),
            sumsq=pl.when(has).then((numbers * numbers).sum()),
        )
        .sort(["entity_id", "attr", "dataset_id", "bucket"], nulls_last=False)
    )
    out: dict[Key, dict[str, list[list[Any]]]] = {}
    for row in grouped.iter_rows(named=True):
        i = int(row["bucket"])
        lo = bounds[i]
        hi = bounds[-1] if whole else bounds[min(i + 1, len(bounds) - 1)]
        key: Key = (row["entity_id"], row["attr"], row["dataset_id"])
        slot = out.setdefault(key, {m: [] for m in methods})
        for method in methods:
            slot[method].append([_number(row[method]), iso(lo), iso(hi)])
    return out
