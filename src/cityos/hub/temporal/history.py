"""Reading attribute history: which entities match a temporal query (a page of them, with the
total), and their instances in the time window — from ``sensor_observation`` and, for days the
archive purged from the database, from the Parquet files, so nothing disappears from the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from cityos.core.i18n import N_
from cityos.hub.ngsi.problems import TOO_MANY_RESULTS, NgsiProblem
from cityos.hub.temporal import archive, frames
from cityos.hub.temporal.models import SensorObservation as Obs
from cityos.hub.temporal.params import TimeWindow

MAX_ROWS = 100_000  # instances in one answer (lastN or a narrower window gets past it)
MAX_AGGREGATED_ROWS = 1_000_000  # instances one aggregation may read
MSG_TOO_MANY = N_("More than {limit} attribute instances match; narrow the time range or use lastN.")

EntityTest = Callable[[str, str], bool]  # (entity_id, entity_type) -> matches the query's q


@dataclass(frozen=True)
class TemporalQuery:
    tenant: str
    window: TimeWindow | None  # None: every instance (retrieval by id without timerel)
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    id_pattern: re.Pattern[str] | None = None
    attrs: tuple[str, ...] = ()
    last_n: int | None = None
    limit: int = 20
    offset: int = 0
    entity_test: EntityTest | None = None


@dataclass
class Page:
    count: int
    entities: list[tuple[str, str]] = field(default_factory=list)  # (entity_id, entity_type)
    rows: pl.DataFrame = field(default_factory=frames.empty)


def _time_column(query: TemporalQuery) -> str:
    return query.window.column if query.window else "observed_at"


def _sql_filters(query: TemporalQuery, ids: list[str] | None = None) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Obs.tenant == query.tenant]
    if query.types:
        filters.append(Obs.entity_type.in_(query.types))
    wanted = ids if ids is not None else list(query.ids)
    if wanted:
        filters.append(Obs.entity_id.in_(wanted))
    if query.attrs:
        filters.append(Obs.attr.in_(query.attrs))
    if query.window is not None:
        column = getattr(Obs, query.window.column)
        if query.window.start is not None:
            filters.append(
                column >= query.window.start if query.window.timerel == "between" else column > query.window.start
            )
        if query.window.end is not None:
            filters.append(column < query.window.end)
    return filters


def _frame_filters(query: TemporalQuery, ids: list[str] | None = None) -> list[pl.Expr]:
    filters: list[pl.Expr] = []
    if query.types:
        filters.append(pl.col("entity_type").is_in(list(query.types)))
    wanted = ids if ids is not None else list(query.ids)
    if wanted:
        filters.append(pl.col("entity_id").is_in(wanted))
    if query.attrs:
        filters.append(pl.col("attr").is_in(list(query.attrs)))
    if query.window is not None:
        column = pl.col(query.window.column)
        start, end = query.window.start, query.window.end
        if start is not None:
            filters.append(column >= start if query.window.timerel == "between" else column > start)
        if end is not None:
            filters.append(column < end)
    return filters


def _archived(query: TemporalQuery, archive_dir: Path | None, ids: list[str] | None = None) -> pl.LazyFrame | None:
    if archive_dir is None:
        return None
    window = query.window
    # Archive days are cut by observed time; other time properties scan every purged day.
    by_observed = window is not None and window.column == "observed_at"
    start = window.start if by_observed and window is not None else None
    end = window.end if by_observed and window is not None else None
    lazy = archive.scan(archive_dir, query.tenant, start, end)
    if lazy is None:
        return None
    for expr in _frame_filters(query, ids):
        lazy = lazy.filter(expr)
    return lazy


def matching_entities(session: Session, query: TemporalQuery, archive_dir: Path | None) -> list[tuple[str, str]]:
    """Every (entity_id, entity_type) with instances matching the query, by id."""
    found: dict[str, str] = {}
    stmt = select(Obs.entity_id, func.max(Obs.entity_type)).where(and_(*_sql_filters(query))).group_by(Obs.entity_id)
    for entity_id, entity_type in session.execute(stmt).all():
        found[entity_id] = entity_type
    lazy = _archived(query, archive_dir)
    if lazy is not None:
        for entity_id, entity_type in lazy.select("entity_id", "entity_type").unique().collect().iter_rows():
            found.setdefault(entity_id, entity_type)
    out = sorted(found.items())
    if query.id_pattern is not None:
        pattern = query.id_pattern
        out = [(i, t) for i, t in out if pattern.search(i)]
    if query.entity_test is not None:
        test = query.entity_test
        out = [(i, t) for i, t in out if test(i, t)]
    return out


def _last_n(lazy: pl.LazyFrame, column: str, n: int) -> pl.LazyFrame:
    rank = pl.col(column).rank("ordinal", descending=True).over(["entity_id", "attr", "dataset_id"])
    return lazy.filter(rank <= n)


def instances(
    session: Session, query: TemporalQuery, archive_dir: Path | None, ids: list[str], *, limit: int = MAX_ROWS
) -> pl.DataFrame:
    """The instances of the given entities in the window (lastN applied), oldest first."""
    if not ids:
        return frames.empty()
    column = _time_column(query)
    filters = _sql_filters(query, ids)
    stmt: Any
    if query.last_n is not None:
        order = getattr(Obs, column).desc()
        rank = func.row_number().over(
            partition_by=(Obs.entity_id, Obs.attr, Obs.dataset_id), order_by=(order, Obs.id.desc())
        )
        inner = frames.select_rows().add_columns(rank.label("rank")).where(and_(*filters)).subquery()
        cols = [inner.c[name] for name in frames.SCHEMA]
        stmt = select(*cols).where(inner.c["rank"] <= query.last_n)
    else:
        stmt = frames.select_rows().where(and_(*filters))
    rows = session.execute(stmt.limit(limit + 1)).all()
    if len(rows) > limit:
        raise NgsiProblem(TOO_MANY_RESULTS, MSG_TOO_MANY, params={"limit": limit})
    frame = frames.frame_of(rows)
    lazy = _archived(query, archive_dir, ids)
    if lazy is not None:
        if query.last_n is not None:
            lazy = _last_n(lazy, column, query.last_n)
        old = lazy.head(limit + 1).collect()
        if old.height:
            # The database copy wins where a day was archived but its purge not yet committed.
            frame = pl.concat([old, frame]).unique(subset=["instance_id"], keep="last", maintain_order=True)
            if query.last_n is not None:
                frame = _last_n(frame.lazy(), column, query.last_n).collect()
            if frame.height > limit:
                raise NgsiProblem(TOO_MANY_RESULTS, MSG_TOO_MANY, params={"limit": limit})
    return frame.sort(["entity_id", "attr", "dataset_id", column, "instance_id"], nulls_last=False)


def run(session: Session, query: TemporalQuery, archive_dir: Path | None, *, aggregated: bool = False) -> Page:
    """The page of entities (limit/offset over all matches, sorted by id) and their instances."""
    matches = matching_entities(session, query, archive_dir)
    page = matches[query.offset : query.offset + query.limit]
    limit = MAX_AGGREGATED_ROWS if aggregated else MAX_ROWS
    rows = instances(session, query, archive_dir, [i for i, _ in page], limit=limit)
    return Page(count=len(matches), entities=page, rows=rows)


def entity_type_of(session: Session, tenant: str, entity_id: str, archive_dir: Path | None) -> str | None:
    """The type of an entity's latest instance (None when it has no history at all)."""
    found = session.scalar(
        select(Obs.entity_type)
        .where(Obs.tenant == tenant, Obs.entity_id == entity_id)
        .order_by(Obs.observed_at.desc())
        .limit(1)
    )
    if found is not None or archive_dir is None:
        return found
    lazy = archive.scan(archive_dir, tenant, None, None)
    if lazy is None:
        return None
    hit = lazy.filter(pl.col("entity_id") == entity_id).select("entity_type").head(1).collect()
    return str(hit.item()) if hit.height else None


def window_bounds(query: TemporalQuery, rows: pl.DataFrame) -> tuple[datetime | None, datetime | None]:
    column = _time_column(query)
    if rows.height == 0:
        return None, None
    lo, hi = rows.get_column(column).min(), rows.get_column(column).max()
    return lo, hi  # type: ignore[return-value]
