"""The daily Parquet archive of observations (日归档).

Layout: ``<archive_dir>/observations/day=YYYY-MM-DD/<tenant>.parquet`` plus ``_manifest.json``
(row counts per tenant, whether the day's database rows were purged). A day is the city's local
date (``settings.timezone``). Files are written to a temporary name, read back and checked
against the expected rows, then renamed: a reader sees the old file or the new one, never half.
Re-archiving a day rewrites the same file (idempotent). Rows older than ``RETENTION_DAYS`` are
deleted from the database only after their day is archived and every deleted row's instance is
verified in the file; temporal queries read purged days back from Parquet.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.hub.temporal import frames
from cityos.hub.temporal.models import SensorObservation as Obs

RETENTION_DAYS = 30  # days kept in the database; older ones are read from Parquet
MANIFEST = "_manifest.json"
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DELETE_CHUNK = 5000
Progress = Callable[[str, int, int], None]


class ArchiveError(RuntimeError):
    """A written file did not read back as expected; nothing was deleted."""


@dataclass
class DayResult:
    day: date
    tenants: dict[str, int] = field(default_factory=dict)  # rows in each tenant's file
    purged: int = 0  # database rows deleted

    @property
    def rows(self) -> int:
        return sum(self.tenants.values())


def bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC interval [start, end) of a local day."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def local_day(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def root(archive_dir: Path) -> Path:
    return Path(archive_dir) / "observations"


def day_dir(archive_dir: Path, day: date) -> Path:
    return root(archive_dir) / f"day={day.isoformat()}"


def read_manifest(archive_dir: Path, day: date) -> dict[str, Any] | None:
    path = day_dir(archive_dir, day) / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_manifest(archive_dir: Path, day: date, zone: str, tenants: dict[str, int], purged: bool) -> None:
    start, end = bounds(day, zone)
    manifest = {
        "day": day.isoformat(),
        "zone": zone,
        "start": frames.iso(start),
        "end": frames.iso(end),
        "tenants": {t: {"rows": n, "file": f"{t}.parquet"} for t, n in sorted(tenants.items())},
        "purged": purged,
        "archived_at": frames.iso(utcnow()),
    }
    _atomic_write_text(day_dir(archive_dir, day) / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))


def write_frame(path: Path, frame: pl.DataFrame) -> int:
    """Writes ``frame`` atomically to ``path`` after reading the temporary file back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        back = pl.read_parquet(tmp, columns=["instance_id"])
        expected = set(frame.get_column("instance_id").to_list())
        if back.height != frame.height or set(back.get_column("instance_id").to_list()) != expected:
            raise ArchiveError(f"{path.name}: read back {back.height} rows, expected {frame.height}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return frame.height


def _tenant_file(archive_dir: Path, day: date, tenant: str) -> Path:
    if not _TENANT.match(tenant):
        raise ArchiveError(f"tenant name not usable as a file name: {tenant!r}")
    return day_dir(archive_dir, day) / f"{tenant}.parquet"


def _db_frame(session: Session, tenant: str, start: datetime, end: datetime) -> pl.DataFrame:
    stmt = (
        frames.select_rows()
        .where(Obs.tenant == tenant, Obs.observed_at >= start, Obs.observed_at < end)
        .order_by(Obs.entity_id, Obs.attr, Obs.observed_at, Obs.id)
    )
    return frames.fetch(session, stmt)


def archive_day(
    session: Session, *, archive_dir: Path, day: date, zone: str, progress: Progress | None = None
) -> DayResult:
    """Writes the day's observations (one file per tenant) and its manifest; returns the counts.

    On a day already purged the file keeps its archived rows and gains the rows that arrived
    since (late readings), so a re-run never loses what only the archive holds."""
    start, end = bounds(day, zone)
    manifest = read_manifest(archive_dir, day) or {}
    purged = bool(manifest.get("purged"))
    in_db = set(
        session.scalars(select(Obs.tenant).where(Obs.observed_at >= start, Obs.observed_at < end).distinct()).all()
    )
    tenants = sorted(in_db | (set(manifest.get("tenants", {})) if purged else set()))
    result = DayResult(day=day)
    folder = day_dir(archive_dir, day)
    folder.mkdir(parents=True, exist_ok=True)
    for done, tenant in enumerate(tenants, start=1):
        path = _tenant_file(archive_dir, day, tenant)
        frame = _db_frame(session, tenant, start, end)
        if purged and path.exists():
            old = frames.conform(pl.scan_parquet(path)).collect()
            frame = pl.concat([old, frame]).unique(subset=["instance_id"], keep="last", maintain_order=True)
            frame = frame.sort(["entity_id", "attr", "observed_at"])
        if frame.height:
            result.tenants[tenant] = write_frame(path, frame)
        else:
            path.unlink(missing_ok=True)
        if progress is not None:
            progress(day.isoformat(), done, len(tenants))
    # Files of tenants whose rows are gone (deleted through the temporal API before the purge).
    for stale in folder.glob("*.parquet"):
        if stale.stem not in result.tenants:
            stale.unlink()
    _write_manifest(archive_dir, day, zone, result.tenants, purged)
    return result


def purge(
    session: Session,
    *,
    archive_dir: Path,
    today: date,
    zone: str,
    retention_days: int = RETENTION_DAYS,
    progress: Progress | None = None,
) -> list[DayResult]:
    """Archives, verifies and deletes from the database every day older than the retention window."""
    cutoff, _ = bounds(today - timedelta(days=retention_days), zone)
    oldest = session.scalar(select(func.min(Obs.observed_at)).where(Obs.observed_at < cutoff))
    if oldest is None:
        return []
    results: list[DayResult] = []
    day = local_day(oldest, zone)
    last = today - timedelta(days=retention_days)
    while day < last:
        start, end = bounds(day, zone)
        if session.scalar(select(Obs.id).where(Obs.observed_at >= start, Obs.observed_at < end).limit(1)) is not None:
            result = archive_day(session, archive_dir=archive_dir, day=day, zone=zone, progress=progress)
            result.purged = _delete_verified(session, archive_dir, day, start, end)
            _write_manifest(archive_dir, day, zone, result.tenants, True)
            results.append(result)
        day += timedelta(days=1)
    return results


def _delete_verified(session: Session, archive_dir: Path, day: date, start: datetime, end: datetime) -> int:
    deleted = 0
    tenants = session.scalars(
        select(Obs.tenant).where(Obs.observed_at >= start, Obs.observed_at < end).distinct()
    ).all()
    for tenant in tenants:
        rows = session.execute(
            select(Obs.id, Obs.instance_id).where(Obs.tenant == tenant, Obs.observed_at >= start, Obs.observed_at < end)
        ).all()
        path = _tenant_file(archive_dir, day, tenant)
        if not path.exists():
            raise ArchiveError(f"{path} missing; {len(rows)} rows kept")
        archived = set(pl.read_parquet(path, columns=["instance_id"]).get_column("instance_id").to_list())
        missing = [r.instance_id for r in rows if r.instance_id not in archived]
        if missing:
            raise ArchiveError(f"{path.name}: {len(missing)} rows not in the archive; nothing deleted")
        ids = [r.id for r in rows]
        for i in range(0, len(ids), _DELETE_CHUNK):
            session.execute(
                delete(Obs).where(Obs.id.in_(ids[i : i + _DELETE_CHUNK])).execution_options(synchronize_session=False)
            )
        deleted += len(ids)
    return deleted


# --- reading and rewriting purged days ------------------------------------------------------


def purged_days(archive_dir: Path, start: datetime | None, end: datetime | None) -> Iterator[tuple[date, Path]]:
    """Purged days whose interval meets [start, end) (None = unbounded), with their folders."""
    base = root(archive_dir)
    if not base.is_dir():
        return
    for folder in sorted(base.glob("day=*")):
        try:
            day = date.fromisoformat(folder.name.removeprefix("day="))
        except ValueError:
            continue
        manifest = read_manifest(archive_dir, day)
        if not manifest or not manifest.get("purged"):
            continue
        lo = datetime.fromisoformat(manifest["start"])
        hi = datetime.fromisoformat(manifest["end"])
        if (end is None or lo < end) and (start is None or hi > start):
            yield day, folder


def scan(archive_dir: Path, tenant: str, start: datetime | None, end: datetime | None) -> pl.LazyFrame | None:
    """The archived observations of a tenant on purged days that meet [start, end) (by observed
    time), or None when there are none. ``start``/``end`` of None scan every purged day."""
    if not _TENANT.match(tenant):
        return None
    files = [str(folder / f"{tenant}.parquet") for _, folder in purged_days(archive_dir, start, end)]
    files = [f for f in files if Path(f).exists()]
    if not files:
        return None
    return pl.concat([frames.conform(pl.scan_parquet(f)) for f in files])


def rewrite(archive_dir: Path, tenant: str, change: Callable[[pl.DataFrame], pl.DataFrame], *, zone: str) -> int:
    """Applies ``change`` to every purged-day file of the tenant; returns how many rows changed
    or went (files rewritten atomically, manifests updated)."""
    if not _TENANT.match(tenant):
        return 0
    touched = 0
    for day, folder in purged_days(archive_dir, None, None):
        path = folder / f"{tenant}.parquet"
        if not path.exists():
            continue
        before = frames.conform(pl.scan_parquet(path)).collect()
        after = change(before)
        diff = before.height - after.height
        if diff == 0:
            changed = before.join(after, on=list(frames.SCHEMA), how="anti", nulls_equal=True).height
            if changed == 0:
                continue
            diff = changed
        touched += diff
        manifest = read_manifest(archive_dir, day) or {}
        counts = {t: int(v.get("rows", 0)) for t, v in manifest.get("tenants", {}).items()}
        if after.height:
            counts[tenant] = write_frame(path, after)
        else:
            path.unlink()
            counts.pop(tenant, None)
        _write_manifest(archive_dir, day, zone, counts, True)
    return touched


def due(archive_dir: Path, now: datetime, zone: str) -> date | None:
    """Yesterday (local) when it has no manifest yet: the day the per-minute job archives."""
    yesterday = local_day(now, zone) - timedelta(days=1)
    return None if read_manifest(archive_dir, yesterday) is not None else yesterday
