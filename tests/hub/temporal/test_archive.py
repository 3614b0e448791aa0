"""The daily Parquet archive: files per tenant, idempotent re-runs, retention that deletes only
what was verified, and queries that still answer from Parquet after the purge."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.settings import Settings
from cityos.hub.temporal import archive, history, instances, tasks
from cityos.hub.temporal.aggregate import aggregate
from cityos.hub.temporal.models import SensorObservation
from cityos.hub.temporal.params import parse_duration, parse_window
from cityos.hub.temporal.service import ObservationRow, append_observations
from tests.hub.temporal.helpers import FILL, START, T, bin_id, seed

ZONE = "Asia/Shanghai"
DAY = date(2026, 11, 30)  # local day: 2026-11-29T16:00Z .. 2026-11-30T16:00Z
LATER = date(2026, 12, 31)  # a "today" past the 30-day retention of DAY


def _count(session: Session, tenant: str | None = None) -> int:
    stmt = select(func.count()).select_from(SensorObservation)
    if tenant:
        stmt = stmt.where(SensorObservation.tenant == tenant)
    return int(session.scalar(stmt) or 0)


def _query(tenant: str = "default") -> history.TemporalQuery:
    w = parse_window("between", "2026-11-30T00:00:00Z", "2026-11-30T12:00:00Z", None)
    return history.TemporalQuery(tenant=tenant, window=w, types=(T,))


def _snapshot(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    cols = ["entity_id", "attr", "observed_at", "value_num", "value_text", "unit", "instance_id"]
    return sorted(frame.select(cols).iter_rows())


def test_archive_files_are_per_tenant_and_rewritable(session: Session, tmp_path: Path) -> None:
    seed(session)  # 3 bins x 6 hours x 2 attrs
    seed(session, tenant="north", bins=1)
    first = archive.archive_day(session, archive_dir=tmp_path, day=DAY, zone=ZONE)
    assert first.tenants == {"default": 36, "north": 12}
    folder = tmp_path / "observations" / "day=2026-11-30"
    assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", "default.parquet", "north.parquet"]
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["tenants"]["default"]["rows"] == 36
    assert manifest["purged"] is False
    assert manifest["start"] == "2026-11-29T16:00:00Z"
    frame = pl.read_parquet(folder / "default.parquet")
    assert frame.height == 36
    assert frame.filter(pl.col("attr") == FILL).get_column("value_num").sum() == sum(
        n * 10 + h for n in (1, 2, 3) for h in range(6)
    )
    again = archive.archive_day(session, archive_dir=tmp_path, day=DAY, zone=ZONE)
    assert again.tenants == first.tenants
    assert pl.read_parquet(folder / "default.parquet").equals(frame)
    assert not list(folder.glob(".*tmp"))  # no temporary files left behind
    empty = archive.archive_day(session, archive_dir=tmp_path, day=date(2026, 11, 1), zone=ZONE)
    assert empty.rows == 0


def test_purge_keeps_every_answer(session: Session, tmp_path: Path) -> None:
    seed(session)
    seed(session, start=START + timedelta(days=40), bins=1, hours=1)  # recent: stays in the database
    before = history.run(session, _query(), tmp_path, aggregated=True)
    w = _query().window
    agg_before = aggregate(before.rows, methods=("sum", "avg", "totalCount"), period=parse_duration("PT2H"), window=w)
    results = archive.purge(session, archive_dir=tmp_path, today=LATER, zone=ZONE)
    assert [(r.day, r.purged) for r in results] == [(DAY, 36)]
    assert _count(session) == 2
    assert archive.read_manifest(tmp_path, DAY)["purged"] is True  # type: ignore[index]
    after = history.run(session, _query(), tmp_path, aggregated=True)
    assert after.count == before.count == 3
    assert _snapshot(after.rows) == _snapshot(before.rows)
    agg_after = aggregate(after.rows, methods=("sum", "avg", "totalCount"), period=parse_duration("PT2H"), window=w)
    assert agg_after == agg_before
    last = history.run(session, history.TemporalQuery(tenant="default", window=w, ids=(bin_id(2),), last_n=1), tmp_path)
    assert sorted(last.rows.get_column("value_num").drop_nulls().to_list()) == [25.0]
    assert history.run(session, _query(), None).count == 0  # without the archive the day is gone
    # A late reading for the purged day: answered from the database, merged by the next purge.
    late = datetime(2026, 11, 30, 11, 30, tzinfo=UTC)
    append_observations(session, [ObservationRow("default", bin_id(1), T, FILL, late, 99)])
    assert history.run(session, _query(), tmp_path).rows.height == 37
    again = archive.purge(session, archive_dir=tmp_path, today=LATER, zone=ZONE)
    assert [(r.day, r.purged, r.tenants) for r in again] == [(DAY, 1, {"default": 37})]
    assert history.run(session, _query(), tmp_path).rows.height == 37


def test_temporal_writes_reach_the_archive(session: Session, tmp_path: Path) -> None:
    seed(session)
    archive.purge(session, archive_dir=tmp_path, today=LATER, zone=ZONE)
    frame = history.run(session, _query(), tmp_path).rows
    target = frame.filter((pl.col("entity_id") == bin_id(3)) & (pl.col("attr") == FILL)).row(0, named=True)
    instances.modify_instance(
        session,
        tenant="default",
        entity_id=bin_id(3),
        attr=FILL,
        instance_id=target["instance_id"],
        fragment={"type": "Property", "value": 77},
        compact_name="fill",
        archive_dir=tmp_path,
        zone=ZONE,
    )
    rows = history.run(session, _query(), tmp_path).rows
    changed = rows.filter(pl.col("instance_id") == target["instance_id"]).row(0, named=True)
    assert changed["value_num"] == 77.0
    assert changed["observed_at"] == target["observed_at"]
    gone = instances.delete_history(session, tenant="default", entity_id=bin_id(1), archive_dir=tmp_path, zone=ZONE)
    assert gone == 12
    assert [e for e, _ in history.run(session, _query(), tmp_path).entities] == [bin_id(2), bin_id(3)]
    assert archive.read_manifest(tmp_path, DAY)["tenants"]["default"]["rows"] == 24  # type: ignore[index]


def test_nothing_is_deleted_when_the_archive_cannot_be_written(session: Session, tmp_path: Path) -> None:
    seed(session)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with pytest.raises(NotADirectoryError):
        archive.purge(session, archive_dir=blocked, today=LATER, zone=ZONE)
    assert _count(session) == 36


def test_the_minute_job_archives_yesterday_once(
    session: Session, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = settings.model_copy(update={"archive_dir": tmp_path})
    monkeypatch.setattr(tasks, "get_settings", lambda: here)
    seed(session)
    just_after_midnight = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)  # 00:05 on 1 December in Shanghai
    done = tasks.run_archive(session, now=just_after_midnight)
    assert [(r.day, r.rows, r.purged) for r in done] == [(DAY, 36, 0)]
    assert tasks.run_archive(session, now=just_after_midnight + timedelta(minutes=1)) == []
    assert _count(session) == 36
    month_later = datetime(2026, 12, 31, 16, 5, tzinfo=UTC)
    moved = tasks.run_archive(session, now=month_later)
    assert [(r.day, r.purged) for r in moved if r.purged] == [(DAY, 36)]
    assert _count(session) == 0
    tasks.periodic(session)  # today's real clock: nothing to do, nothing breaks
