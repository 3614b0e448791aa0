"""Garbage sorting: a full bin opens a case through the bus (once per overflow), points with a
floor of 0, repeated camera events counted once, the monthly building ranking, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.community.property import garbage, service
from cityos.community.property.estates import period_of
from cityos.community.property.models import HouseholdPoints
from cityos.core.db import utcnow
from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.places.models import Region
from tests.community.property_fixtures import PropWorld, device, prop_world  # noqa: F401
from tests.factories import add_region


def test_a_full_bin_opens_a_case_once(session: Session, pw: PropWorld) -> None:
    bin_, _ = device(session, pw, "bin", "BIN-1", name="1栋厨余桶", stream="kitchen")
    garbage.bin_reading(session, bin_, fill_level=0.5)
    session.commit()
    assert session.scalars(select(Case)).all() == []
    garbage.bin_reading(session, bin_, fill_level=0.93)
    session.commit()  # DeviceAlarm goes out on the bus after the commit; cases opens a case
    made = session.scalars(select(Case)).all()
    assert len(made) == 1
    case = made[0]
    assert (case.category_code, case.channel, case.status) == (garbage.BIN_OVERFLOW_CATEGORY, "device", "found")
    assert case.region_path is not None
    assert case.region_path.startswith(pw.estate.path)
    assert "1栋厨余桶" in case.title
    assert bin_.status == "alarm"
    garbage.bin_reading(session, bin_, fill_level=0.97)  # still full: no second case
    session.commit()
    assert len(session.scalars(select(Case)).all()) == 1
    garbage.bin_reading(session, bin_, fill_level=0.05)  # emptied
    session.commit()
    assert (bin_.status, bin_.state["overflow_since"]) == ("online", None)
    garbage.bin_reading(session, bin_, fill_level=0.95, at=utcnow() + timedelta(seconds=1))
    session.commit()
    assert len(session.scalars(select(Case)).all()) == 2
    assert service.stats(session, region=pw.estate)["bins_full"] == 1


def test_bin_readings_refuse_bad_input(session: Session, pw: PropWorld) -> None:
    bin_, _ = device(session, pw, "bin", "BIN-1", stream="other")
    for bad in (1.5, -0.1, True, "full", None):
        with pytest.raises(Invalid) as exc:
            garbage.bin_reading(session, bin_, fill_level=bad)
        assert exc.value.details[0].field == "fill_level"
    with pytest.raises(Invalid):
        garbage.bin_reading(session, bin_, fill_level=0.2, at=utcnow() + timedelta(hours=1))
    camera, _ = device(session, pw, "camera", "CAM-1")
    with pytest.raises(Forbidden):
        garbage.bin_reading(session, camera, fill_level=0.2)
    assert bin_.state["fill_level"] == 0.0


def test_points_never_go_below_zero(session: Session, pw: PropWorld) -> None:
    for correct in (False, False, True, True, False, True):
        garbage.inspect(session, pw.manager, estate_id=pw.estate.id, room_id=pw.room.id, correct=correct)
    points = session.scalar(select(HouseholdPoints).where(HouseholdPoints.room_id == pw.room.id))
    assert points is not None
    # 0 → 0 → 0 → 1 → 2 → 1 → 2
    assert (points.points, points.correct, points.wrong) == (2, 3, 3)
    mine = garbage.my_garbage(session, pw.resident)
    assert [(h.points, h.correct, h.wrong) for h in mine.households] == [(2, 3, 3)]
    assert mine.households[0].address.endswith("1栋 1单元 101")


def test_camera_events_count_once_and_rank_buildings(session: Session, pw: PropWorld) -> None:
    bin_, _ = device(session, pw, "bin", "BIN-1", stream="recyclable")
    b2 = add_region(session, pw.estate, "building", "2栋")
    unit = add_region(session, b2, "unit", "1单元")
    r201 = add_region(session, unit, "room", "201")
    first, created = garbage.camera_check(session, bin_, room_id=pw.room.id, correct=True, ref="cam-1")
    again, created_again = garbage.camera_check(session, bin_, room_id=pw.room.id, correct=True, ref="cam-1")
    assert (created, created_again, again.id) == (True, False, first.id)
    garbage.camera_check(session, bin_, room_id=pw.room2.id, correct=False, ref="cam-2")
    for n in range(3):
        garbage.camera_check(session, bin_, room_id=r201.id, correct=True, ref=f"cam-b2-{n}")
    ranks = garbage.ranking(session, estate=pw.estate, month=period_of(utcnow()))
    assert [(r.rank, r.name, r.correct, r.wrong) for r in ranks] == [(1, "2栋", 3, 0), (2, "1栋", 1, 1)]
    assert service.stats(session, region=pw.estate)["sorting_accuracy"] == 0.8
    assert service.stats(session, region=pw.w.building)["sorting_accuracy"] == 0.5


def test_sorting_checks_refuse_bad_input_and_scope(session: Session, pw: PropWorld) -> None:
    with pytest.raises(Invalid) as exc:
        garbage.inspect(
            session,
            pw.manager,
            estate_id=pw.estate.id,
            room_id=pw.w.other_room.id,
            correct="yes",
            bin_id=123456,
            at=utcnow() + timedelta(days=1),
        )
    assert {d.field for d in exc.value.details} == {"room_id", "correct", "bin_id", "at"}
    with pytest.raises(NotFound):
        garbage.inspect(session, pw.other_manager, estate_id=pw.estate.id, room_id=pw.room.id, correct=True)
    with pytest.raises(Forbidden):
        garbage.inspect(session, pw.resident, estate_id=pw.estate.id, room_id=pw.room.id, correct=True)
    locker, _ = device(session, pw, "locker", "L-1", compartments=2)
    with pytest.raises(Forbidden):
        garbage.camera_check(session, locker, room_id=pw.room.id, correct=True)
    assert session.scalars(select(HouseholdPoints)).all() == []
    assert session.get(Region, pw.room.id) is not None


def test_bin_device_api(client: TestClient, session: Session, pw: PropWorld) -> None:
    _, key = device(session, pw, "bin", "BIN-1", stream="kitchen")
    session.commit()
    full = client.post("/device-api/v1/bins/readings", json={"fill_level": 0.95}, headers={"X-Device-Key": key})
    assert full.json() == {"status": "alarm", "fill_level": 0.95, "overflowing": True}
    assert len(session.scalars(select(Case)).all()) == 1
    bad = client.post("/device-api/v1/bins/readings", json={"fill_level": 3}, headers={"X-Device-Key": key})
    assert bad.status_code == 422
    check = client.post(
        "/device-api/v1/bins/sorting",
        json={"room_id": pw.room.id, "correct": True, "ref": "e-1"},
        headers={"X-Device-Key": key},
    )
    assert check.json()["points"] == 1
    repeat = client.post(
        "/device-api/v1/bins/sorting",
        json={"room_id": pw.room.id, "correct": True, "ref": "e-1"},
        headers={"X-Device-Key": key},
    )
    assert (repeat.json()["duplicate"], repeat.json()["points"]) == (True, 1)
