"""The daily Parquet archive: layout, read-back, idempotence, late rows, purge of verified days only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.mobility.ingest import archive, service
from cityos.mobility.ingest.models import TrafficObservation, TrafficQuarantine

from .conftest import loop

ZONE = "Asia/Shanghai"
DAY = date(2026, 10, 20)


def _rows(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(TrafficObservation)) or 0)


def test_bounds_are_local_days() -> None:
    start, end = archive.bounds(DAY, ZONE)
    assert start == datetime(2026, 10, 19, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


def test_archive_write_verify_idempotent_and_late_rows(session: Session, operator: Actor, tmp_path: Path) -> None:
    service.ingest(
        session,
        operator,
        source="loop",
        records=[
            loop(ts="2026-10-20T00:00:00+08:00"),  # the first minute of the local day
            loop(lane=2, ts="2026-10-20T23:55:00+08:00"),
            loop(lane=3, ts="2026-10-21T00:00:00+08:00"),  # the next day
            loop(count="x", ts="2026-10-20T08:00:00+08:00"),  # quarantined (by received_at: today)
        ],
    )
    done = archive.archive_day(session, archive_dir=tmp_path, day=DAY, zone=ZONE)
    by = {d.table: d for d in done}
    assert set(by) == set(archive.TABLES)
    assert (by["traffic_observation"].rows, by["traffic_observation"].written) == (2, True)
    assert by["probe_point"].rows == 0
    path = tmp_path / "mobility/traffic_observation/day=2026-10-20/part.parquet"
    frame = pl.read_parquet(path)
    assert sorted(frame["lane"].to_list()) == [1, 2]
    assert frame.schema["ts"] == pl.Datetime("us", "UTC")
    manifest = json.loads((path.parent / "_manifest.json").read_text())
    assert manifest["rows"] == 2
    assert archive.is_archived(tmp_path, DAY)
    assert not list(path.parent.glob(".*.tmp"))

    again = {d.table: d for d in archive.archive_day(session, archive_dir=tmp_path, day=DAY, zone=ZONE)}
    assert again["traffic_observation"].written is False
    service.ingest(session, operator, source="loop", records=[loop(lane=4, ts="2026-10-20T12:00:00+08:00")])
    late = archive.archive_table_day(session, archive_dir=tmp_path, table="traffic_observation", day=DAY, zone=ZONE)
    assert (late.rows, late.written) == (3, True)

    today = archive.local_day(datetime.now(UTC), ZONE)
    quarantine = archive.archive_table_day(
        session, archive_dir=tmp_path, table="traffic_quarantine", day=today, zone=ZONE
    )
    assert quarantine.rows == 1
    record = pl.read_parquet(tmp_path / f"mobility/traffic_quarantine/day={today.isoformat()}/part.parquet")[
        "record"
    ].item()
    assert json.loads(record)["count"] == "x"


def test_purge_only_verified_days(session: Session, operator: Actor, tmp_path: Path) -> None:
    service.ingest(
        session,
        operator,
        source="loop",
        records=[loop(ts="2026-10-20T09:00:00+08:00"), loop(ts="2026-10-21T09:00:00+08:00")],
    )
    archive.archive_table_day(session, archive_dir=tmp_path, table="traffic_observation", day=DAY, zone=ZONE)
    # a late row of the archived day, not yet in its file
    service.ingest(session, operator, source="loop", records=[loop(lane=9, ts="2026-10-20T10:00:00+08:00")])
    today = DAY + timedelta(days=archive.RETENTION_DAYS + 5)
    purged = archive.purge(session, archive_dir=tmp_path, today=today, zone=ZONE)
    assert [(p.table, p.day, p.purged) for p in purged] == [("traffic_observation", DAY, 1)]
    left = session.scalars(select(TrafficObservation).order_by(TrafficObservation.ts)).all()
    assert [(r.lane, r.ts.date()) for r in left] == [(9, date(2026, 10, 20)), (1, date(2026, 10, 21))]
    # nothing is purged inside the retention window
    assert archive.purge(session, archive_dir=tmp_path, today=DAY + timedelta(days=2), zone=ZONE) == []
    assert _rows(session) == 2
    # re-archiving after the purge keeps the purged row in the file and adds the late one
    again = archive.archive_table_day(session, archive_dir=tmp_path, table="traffic_observation", day=DAY, zone=ZONE)
    assert again.rows == 2
    assert session.scalar(select(func.count()).select_from(TrafficQuarantine)) == 0
