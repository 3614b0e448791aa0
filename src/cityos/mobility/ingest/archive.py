"""The daily Parquet archive of the five feed tables (日归档) and the database retention.

Layout: ``<archive_dir>/mobility/<table>/day=YYYY-MM-DD/part.parquet`` plus ``_manifest.json``
(rows, verified time). A day is the city's local date (``settings.timezone``); observations go
by their ``ts``, quarantined records by ``received_at``. A file is written under a temporary
name, read back and checked (same row count, same ids), then renamed into place. Archiving a
day again keeps the rows already in the file and adds any that arrived since, so a re-run is
idempotent and never loses what only the archive holds (after a purge). Database rows older
than ``RETENTION_DAYS`` are deleted only when their ids are verified in the day's file.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Column, Table, delete, func, select
from sqlalchemy.orm import Session

from cityos.core.db import UTCDateTime, utcnow

from .models import NavSpeed, ProbePoint, TrafficFeedStat, TrafficObservation, TrafficQuarantine, VideoCount

RETENTION_DAYS = 30
STAT_RETENTION_DAYS = 90
MANIFEST = "_manifest.json"
PART = "part.parquet"
_CHUNK = 5000
# table -> the column that places a row in a day
TABLES: dict[str, str] = {
    "traffic_observation": "ts",
    "probe_point": "ts",
    "nav_speed": "ts",
    "video_count": "ts",
    "traffic_quarantine": "received_at",
}
_MODELS: dict[str, Any] = {
    "traffic_observation": TrafficObservation,
    "probe_point": ProbePoint,
    "nav_speed": NavSpeed,
    "video_count": VideoCount,
    "traffic_quarantine": TrafficQuarantine,
}
Progress = Callable[[str], None]


class ArchiveError(RuntimeError):
    """A written file did not read back as expected; nothing was deleted."""


@dataclass
class TableDay:
    table: str
    day: date
    rows: int  # rows in the day's file (0: no file, nothing to archive)
    written: bool  # False when the file already held every row
    purged: int = 0


def bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC interval [start, end) of a local day."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def day_dir(archive_dir: Path, table: str, day: date) -> Path:
    return Path(archive_dir) / "mobility" / table / f"day={day.isoformat()}"


def read_manifest(archive_dir: Path, table: str, day: date) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((day_dir(archive_dir, table, day) / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data


def _table(name: str) -> Table:
    table: Table = _MODELS[name].__table__
    return table


def _frame(session: Session, name: str, start: datetime, end: datetime) -> pl.DataFrame:
    table = _table(name)
    col: Column[Any] = table.c[TABLES[name]]
    rows = session.execute(select(table).where(col >= start, col < end).order_by(table.c.id)).all()
    data: dict[str, list[Any]] = {c.name: [] for c in table.columns}
    for row in rows:
        for c, v in zip(table.columns, row, strict=True):
            data[c.name].append(json.dumps(v, ensure_ascii=False) if c.name == "record" else v)
    schema: dict[str, Any] = {}
    for c in table.columns:
        if isinstance(c.type, UTCDateTime):
            schema[c.name] = pl.Datetime("us", "UTC")
        elif c.name == "record":
            schema[c.name] = pl.String
        else:
            schema[c.name] = {int: pl.Int64, float: pl.Float64, bool: pl.Boolean}.get(c.type.python_type, pl.String)
    return pl.DataFrame(data, schema=schema)


def _write(path: Path, frame: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        back = pl.read_parquet(tmp, columns=["id"])
        if back.height != frame.height or set(back["id"].to_list()) != set(frame["id"].to_list()):
            raise ArchiveError(f"{path}: read back {back.height} rows, expected {frame.height}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _file_ids(path: Path) -> set[int]:
    if not path.exists():
        return set()
    return set(pl.read_parquet(path, columns=["id"])["id"].to_list())


def archive_table_day(session: Session, *, archive_dir: Path, table: str, day: date, zone: str) -> TableDay:
    """Brings the day's file of ``table`` up to date with the database; returns its row count."""
    start, end = bounds(day, zone)
    path = day_dir(archive_dir, table, day) / PART
    col = _table(table).c[TABLES[table]]
    db_ids = set(session.scalars(select(_table(table).c.id).where(col >= start, col < end)))
    have = _file_ids(path)
    if db_ids <= have and (have or not db_ids) and read_manifest(archive_dir, table, day) is not None:
        return TableDay(table, day, len(have), written=False)
    if not db_ids and not have:
        _manifest(path.with_name(MANIFEST), table, day, zone, 0)  # an empty day is archived too
        return TableDay(table, day, 0, written=False)
    fresh = _frame(session, table, start, end)
    if have:
        old = pl.read_parquet(path)
        fresh = pl.concat([old, fresh.cast(dict(old.schema))]).unique(subset="id", keep="first").sort("id")  # type: ignore[arg-type]
    _write(path, fresh)
    _manifest(path.with_name(MANIFEST), table, day, zone, fresh.height)
    return TableDay(table, day, fresh.height, written=True)


def _manifest(mpath: Path, table: str, day: date, zone: str, rows: int) -> None:
    mpath.parent.mkdir(parents=True, exist_ok=True)
    manifest = {"table": table, "day": day.isoformat(), "zone": zone, "rows": rows, "verified_at": utcnow().isoformat()}
    tmp = mpath.with_name(f".{MANIFEST}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, mpath)


def archive_day(
    session: Session, *, archive_dir: Path, day: date, zone: str, progress: Progress | None = None
) -> list[TableDay]:
    out = []
    for table in TABLES:
        out.append(archive_table_day(session, archive_dir=archive_dir, table=table, day=day, zone=zone))
        if progress:
            progress(table)
    return out


def is_archived(archive_dir: Path, day: date) -> bool:
    """Cheap check: every table of the day has a manifest, or nothing was stored that day."""
    return all(read_manifest(archive_dir, t, day) is not None for t in TABLES)


def days_with_rows(session: Session, table: str, *, before: datetime, zone: str) -> Iterator[date]:
    """The local days that hold rows of ``table`` earlier than ``before`` (one indexed
    ``min()`` per day found, so a gap of months costs nothing)."""
    col = _table(table).c[TABLES[table]]
    after: datetime | None = None
    while True:
        q = select(func.min(col)).where(col < before)
        if after is not None:
            q = q.where(col >= after)
        first = session.scalar(q)
        if first is None:
            return
        day = local_day(first, zone)
        yield day
        after = bounds(day, zone)[1]


def retention_cutoff(today: date, zone: str) -> datetime:
    """Rows before this instant are past the retention window."""
    return bounds(today - timedelta(days=RETENTION_DAYS), zone)[0]


def catch_up(session: Session, *, archive_dir: Path, today: date, zone: str) -> list[TableDay]:
    """Archives every day past the retention window that still has rows in the database (rows
    ingested late, or days the server was down for), so that the purge can remove them."""
    out = []
    cutoff = retention_cutoff(today, zone)
    for table in TABLES:
        for day in list(days_with_rows(session, table, before=cutoff, zone=zone)):
            done = archive_table_day(session, archive_dir=archive_dir, table=table, day=day, zone=zone)
            if done.written:
                out.append(done)
    return out


def purge(
    session: Session, *, archive_dir: Path, today: date, zone: str, progress: Progress | None = None
) -> list[TableDay]:
    """Deletes rows older than ``RETENTION_DAYS`` whose ids are verified in their day's file.

    A day without a file (never archived) keeps its rows, and so do rows that arrived after
    their day was archived: ``catch_up`` (or ``cityos mobility archive --day``) first.
    """
    cutoff = retention_cutoff(today, zone)
    out: list[TableDay] = []
    for table in TABLES:
        t = _table(table)
        col = t.c[TABLES[table]]
        for day in list(days_with_rows(session, table, before=cutoff, zone=zone)):
            start, end = bounds(day, zone)
            have = _file_ids(day_dir(archive_dir, table, day) / PART)
            if not have or read_manifest(archive_dir, table, day) is None:
                continue
            ids = [i for i in session.scalars(select(t.c.id).where(col >= start, col < end)) if i in have]
            for i in range(0, len(ids), _CHUNK):
                session.execute(delete(t).where(t.c.id.in_(ids[i : i + _CHUNK])))
            if ids:
                out.append(TableDay(table, day, len(have), written=False, purged=len(ids)))
        if progress:
            progress(table)
    stat_cutoff = utcnow() - timedelta(days=STAT_RETENTION_DAYS)
    session.execute(delete(TrafficFeedStat).where(TrafficFeedStat.hour < stat_cutoff))
    session.flush()
    return out
