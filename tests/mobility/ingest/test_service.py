from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Forbidden, NotFound
from cityos.mobility.ingest import service
from cityos.mobility.ingest.models import NavSpeed, ProbePoint, TrafficObservation, TrafficQuarantine, VideoCount
from tests.factories import make_actor, make_world

from .conftest import loop, nav, video


def _count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_loop_records_stored_and_duplicates_counted(session: Session, operator: Actor, grid: Any) -> None:
    records = [loop(), loop(lane=2, count=10, speed_kmh=None), loop()]
    report = service.ingest(session, operator, source="loop", records=records)
    assert (report.accepted, report.duplicates, report.quarantined) == (2, 1, 0)
    again = service.ingest(session, operator, source="loop", records=records[:2])
    assert (again.accepted, again.duplicates) == (0, 2)
    rows = session.scalars(select(TrafficObservation).order_by(TrafficObservation.lane)).all()
    assert [(r.lane, r.count, r.speed_kmh) for r in rows] == [(1, 42, 38.5), (2, 10, None)]
    assert rows[0].ts.isoformat() == "2026-11-30T02:00:00+00:00"


def test_csv_strings_are_parsed(session: Session, operator: Actor, grid: Any) -> None:
    rec = {k: str(v) for k, v in loop().items()}
    rec["speed_kmh"] = ""
    report = service.ingest(session, operator, source="loop", records=[rec])
    assert report.accepted == 1, report.errors
    row = session.scalars(select(TrafficObservation)).one()
    assert (row.count, row.occupancy, row.speed_kmh) == (42, 0.12, None)


@pytest.mark.parametrize(
    ("record", "reason", "field"),
    [
        (loop(count=...), "missing_field", "count"),
        (loop(detector_id=""), "missing_field", "detector_id"),
        (loop(count="many"), "bad_type", "count"),
        (loop(count=True), "bad_type", "count"),
        (loop(count=1.5), "bad_type", "count"),
        (loop(detector_id=["x"]), "bad_type", "detector_id"),
        (loop(ts="yesterday"), "bad_time", "ts"),
        (loop(ts="2026-11-30T10:00:00"), "bad_time", "ts"),
        (loop(ts=1764468000), "bad_time", "ts"),
        (loop(occupancy=1.5), "out_of_range", "occupancy"),
        (loop(count=-1), "out_of_range", "count"),
        (loop(speed_kmh=400), "out_of_range", "speed_kmh"),
        (loop(interval_s=0), "out_of_range", "interval_s"),
        (loop(segment_id="nowhere"), "unknown_segment", "segment_id"),
        ("not a record", "bad_record", None),
    ],
)
def test_loop_bad_records_quarantined(
    session: Session, operator: Actor, grid: Any, record: Any, reason: str, field: str | None
) -> None:
    report = service.ingest(session, operator, source="loop", records=[loop(detector_id="OK"), record], batch_ref="b1")
    assert (report.accepted, report.quarantined) == (1, 1)
    assert report.reasons == {reason: 1}
    assert report.errors[0]["index"] == 1
    assert report.errors[0]["reason"] == reason
    assert report.errors[0]["field"] == field
    assert report.errors[0]["message"]
    q = session.scalars(select(TrafficQuarantine)).one()
    assert (q.source, q.reason, q.field, q.batch_ref) == ("loop", reason, field, "b1")
    if isinstance(record, dict):
        assert q.record["detector_id"] == record.get("detector_id")


def test_future_time_quarantined(session: Session, operator: Actor, grid: Any) -> None:
    soon = (utcnow() + timedelta(minutes=2)).isoformat()
    later = (utcnow() + timedelta(hours=2)).isoformat()
    report = service.ingest(session, operator, source="nav", records=[nav(ts=soon), nav(ts=later)])
    assert report.accepted == 1
    assert report.reasons == {"future_time": 1}


def test_nav_and_video(session: Session, operator: Actor, grid: Any) -> None:
    report = service.ingest(
        session, operator, source="nav", records=[nav(), nav(samples=...), nav(provider="baidu", segment_id="x")]
    )
    assert (report.accepted, report.duplicates, report.quarantined) == (1, 1, 1)
    assert report.reasons == {"unknown_segment": 1}
    assert session.scalars(select(NavSpeed)).one().samples == 7
    report = service.ingest(
        session,
        operator,
        source="video",
        records=[video(), video(direction="out"), video(mode="plane"), video(direction="up"), video(hub_code=...)],
    )
    assert (report.accepted, report.duplicates, report.quarantined) == (2, 1, 2)
    assert report.reasons == {"unknown_mode": 1, "unknown_direction": 1}
    assert _count(session, VideoCount) == 2


def test_without_network_segments_are_not_checked(session: Session, operator: Actor) -> None:
    report = service.ingest(session, operator, source="loop", records=[loop(segment_id="anything")])
    assert report.accepted == 1
    probe = {"kind": "taxi", "vehicle_id": "粤A12345", "ts": "2026-11-30T02:00:00Z", "lon": 10.0, "lat": 50.0}
    report = service.ingest(session, operator, source="probe", records=[probe])
    assert report.accepted == 1
    assert session.scalars(select(ProbePoint)).one().segment_id is None


def test_probe_vehicle_id_is_hashed(session: Session, operator: Actor, grid: Any) -> None:
    good = {"kind": "taxi", "vehicle_id": "粤A12345", "ts": "2026-11-30T02:00:00Z", "lon": 10.0, "lat": 50.0}
    bad = {**good, "kind": "boat"}
    report = service.ingest(session, operator, source="probe", records=[good, bad])
    assert report.reasons == {"outside_network": 1, "unknown_kind": 1}
    for q in session.scalars(select(TrafficQuarantine)):
        assert "vehicle_id" not in q.record
        assert q.record["vehicle_key"] == service.vehicle_key("粤A12345")
        assert "粤A12345" not in str(q.record)


@pytest.mark.parametrize(
    ("over", "reason", "field"),
    [
        ({"lon": 200}, "out_of_range", "lon"),
        ({"lat": "north"}, "bad_type", "lat"),
        ({"heading_deg": 361}, "out_of_range", "heading_deg"),
        ({"occupied": "maybe"}, "bad_type", "occupied"),
        ({"vehicle_id": None}, "missing_field", "vehicle_id"),
        ({"lon": float("nan")}, "missing_field", "lon"),
    ],
)
def test_probe_bad_values(
    session: Session, operator: Actor, grid: Any, over: dict[str, Any], reason: str, field: str
) -> None:
    rec = {"kind": "ridehail", "vehicle_id": "v1", "ts": "2026-11-30T02:00:00Z", "lon": 10.0, "lat": 50.0, **over}
    report = service.ingest(session, operator, source="probe", records=[rec])
    assert report.reasons == {reason: 1}
    assert report.errors[0]["field"] == field


def test_bus_requires_route(session: Session, operator: Actor) -> None:
    rec = {"vehicle_id": "bus-7", "ts": "2026-11-30T02:00:00Z", "lon": 104.0, "lat": 30.6}
    report = service.ingest(session, operator, source="bus", records=[rec, {**rec, "route_id": "R1"}])
    assert report.accepted == 1
    assert report.reasons == {"missing_field": 1}
    row = session.scalars(select(ProbePoint)).one()
    assert (row.kind, row.route_id, row.trip_id) == ("bus", "R1", None)


def test_permission_and_arguments(session: Session, operator: Actor) -> None:
    world = make_world(session)
    staff = make_actor(session, roles=["department_staff"], scope=world.city)
    with pytest.raises(Forbidden):
        service.ingest(session, staff, source="loop", records=[loop()])
    with pytest.raises(NotFound) as exc:
        service.ingest(session, operator, source="plane", records=[])
    assert exc.value.details[0].field == "source"
    with pytest.raises(service.TooLarge):
        service.ingest(session, operator, source="loop", records=[loop()] * (service.MAX_RECORDS + 1))
    with pytest.raises(NotFound):
        service.ingest(session, operator, source="loop", records=[loop()], network_code="nope")
    assert _count(session, TrafficObservation) == 0


def test_validation_clock_for_replays(session: Session, operator: Actor, grid: Any) -> None:
    ahead = utcnow() + timedelta(hours=1)
    rec = nav(ts=ahead.isoformat())
    assert service.ingest(session, operator, source="nav", records=[rec]).reasons == {"future_time": 1}
    report = service.ingest(session, operator, source="nav", records=[rec], now=ahead)
    assert report.accepted == 1
    row = session.scalars(select(NavSpeed)).one()
    assert row.received_at < ahead - timedelta(minutes=30)  # stored with the real time
