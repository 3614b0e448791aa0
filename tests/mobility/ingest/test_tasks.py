"""The hub's TrafficObserved events become loop records; the per-minute archive job."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.hub.events import TrafficObserved
from cityos.mobility.ingest import archive, tasks
from cityos.mobility.ingest.models import TrafficObservation, TrafficQuarantine


def _event(**over: Any) -> TrafficObserved:
    data: dict[str, Any] = {
        "tenant": "city",
        "entity_id": "urn:ngsi-ld:TrafficFlowObserved:L1",
        "device_code": "LOOP-1",
        "ref_road_segment": "n0_0-n0_1",
        "lane_id": 2,
        "date_observed_from": "2026-11-30T10:00:00+08:00",
        "date_observed_to": "2026-11-30T10:05:00+08:00",
        "intensity": 25.0,
        "occupancy": 0.2,
        "average_vehicle_speed": 33.0,
    }
    data.update(over)
    return TrafficObserved(**data)


def test_traffic_observed_stored_once(session: Session, grid: Any) -> None:
    tasks.on_traffic_observed(session, _event())
    tasks.on_traffic_observed(session, _event())  # redelivered
    row = session.scalars(select(TrafficObservation)).one()
    assert (row.detector_id, row.segment_id, row.lane, row.interval_s, row.count) == ("LOOP-1", "n0_0-n0_1", 2, 300, 25)
    assert (row.occupancy, row.speed_kmh) == (0.2, 33.0)
    assert row.ts == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_segment_from_urn_or_position(session: Session, grid: pl.DataFrame) -> None:
    tasks.on_traffic_observed(session, _event(ref_road_segment="urn:ngsi-ld:RoadSegment:n0_1-n0_2"))
    row = grid.filter(pl.col("segment_id") == "n1_1-n1_2").row(0, named=True)
    lon, lat = sum(row["lons"]) / 2, sum(row["lats"]) / 2
    tasks.on_traffic_observed(session, _event(device_code="LOOP-2", ref_road_segment=None, lon=lon, lat=lat))
    tasks.on_traffic_observed(session, _event(device_code="LOOP-3", ref_road_segment=None, lon=10.0, lat=50.0))
    segs = {r.detector_id: r.segment_id for r in session.scalars(select(TrafficObservation))}
    assert segs["LOOP-1"] == "n0_1-n0_2"
    assert segs["LOOP-2"] in {"n1_1-n1_2", "n1_2-n1_1"}
    assert "LOOP-3" not in segs
    assert session.scalars(select(TrafficQuarantine.reason)).all() == ["missing_field"]


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"ref_road_segment": None}, "missing_field"),
        ({"ref_road_segment": "elsewhere"}, "unknown_segment"),
        ({"date_observed_from": "garbage"}, "bad_time"),
        ({"date_observed_to": "garbage"}, "bad_type"),
        ({"intensity": -3.0}, "out_of_range"),
        ({"occupancy": 7.0}, "out_of_range"),
    ],
)
def test_bad_traffic_observed_quarantined(session: Session, grid: Any, over: dict[str, Any], reason: str) -> None:
    tasks.on_traffic_observed(session, _event(**over))
    q = session.scalars(select(TrafficQuarantine)).one()
    assert (q.source, q.reason, q.batch_ref) == ("loop", reason, "urn:ngsi-ld:TrafficFlowObserved:L1")
    assert session.scalars(select(TrafficObservation)).first() is None


def test_handler_never_raises(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(tasks.service, "ingest", boom)
    tasks.on_traffic_observed(session, _event())  # logged, not raised


def test_periodic_archives_yesterday_once(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings().model_copy(update={"archive_dir": tmp_path})
    monkeypatch.setattr(tasks, "get_settings", lambda: settings)
    monkeypatch.setattr(tasks, "_archived", None)
    tasks.on_traffic_observed(session, _event())
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 on 1 December in the city
    done = tasks.run_archive(session, now=now)
    by = {d.table: d for d in done}
    assert by["traffic_observation"].rows == 1
    assert (tmp_path / "mobility/traffic_observation/day=2026-11-30/part.parquet").exists()
    assert archive.is_archived(tmp_path, date(2026, 11, 30))
    assert tasks.run_archive(session, now=now) == []  # the cheap check
    monkeypatch.setattr(tasks, "_archived", None)
    assert tasks.run_archive(session, now=now) == []  # manifests found: nothing rewritten


def test_periodic_catches_up_and_purges_old_days(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings().model_copy(update={"archive_dir": tmp_path})
    monkeypatch.setattr(tasks, "get_settings", lambda: settings)
    monkeypatch.setattr(tasks, "_archived", None)
    old = {"date_observed_from": "2026-10-20T10:00:00+08:00", "date_observed_to": "2026-10-20T10:05:00+08:00"}
    tasks.on_traffic_observed(session, _event(**old))
    tasks.on_traffic_observed(session, _event(lane_id=3, **old))
    tasks.on_traffic_observed(session, _event())  # 30 November: kept
    done = tasks.run_archive(session, now=datetime(2026, 12, 1, 4, 0, tzinfo=UTC))
    assert ("traffic_observation", date(2026, 10, 20), 2) in [(d.table, d.day, d.purged) for d in done]
    assert (tmp_path / "mobility/traffic_observation/day=2026-10-20/part.parquet").exists()
    assert [r.ts.date() for r in session.scalars(select(TrafficObservation))] == [date(2026, 11, 30)]


def test_days_with_rows_skips_gaps(session: Session, grid: Any) -> None:
    for day in ("2026-01-05", "2026-06-01", "2026-06-02"):
        tasks.on_traffic_observed(
            session, _event(date_observed_from=f"{day}T23:30:00+08:00", date_observed_to=f"{day}T23:35:00+08:00")
        )
    before = datetime(2026, 6, 3, 0, 0, tzinfo=UTC)
    days = list(archive.days_with_rows(session, "traffic_observation", before=before, zone="Asia/Shanghai"))
    assert days == [date(2026, 1, 5), date(2026, 6, 1), date(2026, 6, 2)]
