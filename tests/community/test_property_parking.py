"""Parking: plate rules, households' plates and spaces, camera reads (occupancy in the space's
device state, visitor fees on exit, duplicates ignored), bad input, the device API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.property import parking
from cityos.community.property.models import ParkingEvent, ParkingVisit, Tariff
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.places.devices.models import Device
from tests.community.property_fixtures import PropWorld, device, prop_world, tariff  # noqa: F401


@pytest.mark.parametrize(
    "plate",
    ["川A12345", "京AD12345", "粤B12345D", "沪A1234学", "川a·123 45", "浙AF01234", "川A1B2C3"],
)
def test_good_plates(plate: str) -> None:
    assert parking.check_plate(plate) == parking.normalise_plate(plate)


@pytest.mark.parametrize(
    "plate",
    ["", "川A1234", "川I12345", "川A12O45", "XA12345", "川A123456", "川AA12345", "川A12345678", "川1A2345"],
)
def test_bad_plates(plate: str) -> None:
    with pytest.raises(Invalid) as exc:
        parking.check_plate(plate)
    assert exc.value.details[0].field == "plate"


def test_visitor_fee() -> None:
    t = Tariff(visitor_free_minutes=30, visitor_hourly_fen=500, visitor_daily_cap_fen=4000)
    assert [parking.visitor_fee(m, t) for m in (0, 30, 31, 60, 61, 95, 600, 1440, 1500)] == [
        0,
        0,
        500,
        500,
        1000,
        1000,
        4000,
        4000,
        4500,
    ]


def _setup(session: Session, pw: PropWorld) -> tuple[Device, str]:
    tariff(session, pw, visitor_free_minutes=30, visitor_hourly_fen=500, visitor_daily_cap_fen=4000)
    camera, key = device(session, pw, "camera", "CAM-GATE-1")
    assert key is not None
    return camera, key


def test_resident_car_takes_its_space_and_pays_nothing(session: Session, pw: PropWorld) -> None:
    camera, _ = _setup(session, pw)
    mine, _ = device(session, pw, "parking_spot", "P-001")
    device(session, pw, "parking_spot", "V-001", visitor=True)
    parking.lease_space(session, pw.manager, estate_id=pw.estate.id, space_id=mine.id, room_id=pw.room.id)
    vehicle = parking.register_vehicle(session, pw.resident, room_id=pw.room.id, plate="川a 12345")
    assert vehicle.plate == "川A12345"
    at = utcnow() - timedelta(hours=5)
    entered = parking.camera_read(session, camera, plate="川A12345", direction="in", at=at)
    assert (entered.outcome, entered.visit.visitor, entered.visit.space_id) == ("entered", False, mine.id)
    assert (mine.state["occupied"], mine.state["plate"]) == (True, "川A12345")
    left = parking.camera_read(session, camera, plate="川A12345", direction="out", at=at + timedelta(hours=4))
    assert (left.outcome, left.visit.fee_fen) == ("left", 0)
    assert mine.state["occupied"] is False
    assert parking.occupancy(session, region_path=pw.estate.path) == (0, 2)


def test_visitor_pays_by_the_hour_on_exit(session: Session, pw: PropWorld) -> None:
    camera, _ = _setup(session, pw)
    visitor_space, _ = device(session, pw, "parking_spot", "V-001", visitor=True)
    at = utcnow() - timedelta(hours=3)
    entered = parking.camera_read(session, camera, plate="渝B99999", direction="in", at=at)
    assert entered.visit.visitor
    assert entered.visit.space_id == visitor_space.id
    assert parking.occupancy(session, region_path=pw.estate.path) == (1, 1)
    quick = parking.camera_read(session, camera, plate="渝B88888", direction="in", at=at)
    assert quick.visit.space_id is None  # no free visitor space: let in all the same
    left = parking.camera_read(session, camera, plate="渝B99999", direction="out", at=at + timedelta(minutes=95))
    assert left.visit.fee_fen == 1000
    assert visitor_space.state["occupied"] is False
    gone = parking.camera_read(session, camera, plate="渝B88888", direction="out", at=at + timedelta(minutes=20))
    assert gone.visit.fee_fen == 0
    view = parking.overview(session, pw.manager, estate_id=pw.estate.id)
    assert {v.plate for v in view.recent} == {"渝B99999", "渝B88888"}
    assert view.inside == []


def test_duplicate_and_repeated_reads_change_nothing(session: Session, pw: PropWorld) -> None:
    camera, _ = _setup(session, pw)
    at = utcnow() - timedelta(hours=2)
    first = parking.camera_read(session, camera, plate="川A54321", direction="in", at=at)
    same = parking.camera_read(session, camera, plate="川A54321", direction="in", at=at)
    assert (same.duplicate, same.outcome, same.visit.id) == (True, "entered", first.visit.id)
    soon = parking.camera_read(session, camera, plate="川A54321", direction="in", at=at + timedelta(seconds=40))
    assert (soon.duplicate, soon.outcome, soon.visit.id) == (True, "repeat", first.visit.id)
    assert session.scalar(select(func.count()).select_from(ParkingVisit)) == 1
    assert session.scalar(select(func.count()).select_from(ParkingEvent)) == 2
    # An entry without an exit, then another entry: the first stay is closed as unclosed.
    parking.camera_read(session, camera, plate="川A54321", direction="in", at=at + timedelta(hours=1))
    statuses = session.scalars(select(ParkingVisit.status).order_by(ParkingVisit.id)).all()
    assert statuses == ["unclosed", "inside"]
    # An exit whose entry was never seen: recorded, no fee can be worked out.
    orphan = parking.camera_read(session, camera, plate="川A00001", direction="out", at=at)
    assert (orphan.outcome, orphan.visit.entered_at, orphan.visit.fee_fen) == ("left", None, None)


def test_camera_reads_refuse_bad_input(session: Session, pw: PropWorld) -> None:
    camera, _ = _setup(session, pw)
    other_camera = Device(
        code="CAM-X", kind="camera", name="x", region_id=pw.estate2.id, region_path=pw.estate2.path, state={}
    )
    session.add(other_camera)
    session.flush()
    with pytest.raises(Invalid) as exc:
        parking.camera_read(
            session,
            camera,
            plate="XX",
            direction="sideways",
            at=utcnow() + timedelta(hours=1),
            camera="CAM-X",
        )
    assert {d.field for d in exc.value.details} == {"plate", "direction", "at", "camera"}
    with pytest.raises(Invalid) as old:
        parking.camera_read(session, camera, plate="川A12345", direction="in", at=utcnow() - timedelta(days=31))
    assert old.value.details[0].field == "at"
    locker, _ = device(session, pw, "locker", "L-1", compartments=4)
    with pytest.raises(Forbidden):
        parking.camera_read(session, locker, plate="川A12345", direction="in", at=utcnow())
    assert session.scalar(select(func.count()).select_from(ParkingEvent)) == 0


def test_plates_and_leases_bad_input_and_scope(session: Session, pw: PropWorld) -> None:
    _setup(session, pw)
    with pytest.raises(Invalid) as exc:
        parking.register_vehicle(session, pw.resident, room_id=pw.room2.id, plate="nope")
    assert {d.field for d in exc.value.details} == {"room_id", "plate"}
    parking.register_vehicle(session, pw.resident, room_id=pw.room.id, plate="川A12345")
    with pytest.raises(Conflict):
        parking.register_vehicle(session, pw.manager, estate_id=pw.estate.id, room_id=pw.room2.id, plate="川A12345")
    with pytest.raises(NotFound):
        parking.register_vehicle(
            session, pw.other_manager, estate_id=pw.estate.id, room_id=pw.room.id, plate="川A22222"
        )
    with pytest.raises(Invalid) as outside:
        parking.register_vehicle(
            session, pw.manager, estate_id=pw.estate.id, room_id=pw.w.other_room.id, plate="川A22222"
        )
    assert outside.value.details[0].field == "room_id"
    space, _ = device(session, pw, "parking_spot", "P-009")
    with pytest.raises(Invalid) as bad:
        parking.lease_space(session, pw.manager, estate_id=pw.estate.id, space_id=99999, room_id=pw.w.other_room.id)
    assert {d.field for d in bad.value.details} == {"space_id", "room_id"}
    lease = parking.lease_space(session, pw.manager, estate_id=pw.estate.id, space_id=space.id, room_id=pw.room.id)
    with pytest.raises(Conflict):
        parking.lease_space(session, pw.manager, estate_id=pw.estate.id, space_id=space.id, room_id=pw.room2.id)
    with pytest.raises(NotFound):
        parking.end_lease(session, pw.other_manager, lease_id=lease.id)
    assert parking.end_lease(session, pw.manager, lease_id=lease.id).until is not None
    lease.until = lease.until - timedelta(days=2)  # type: ignore[operator]
    with pytest.raises(Conflict):
        parking.end_lease(session, pw.manager, lease_id=lease.id)
    assert [v.plate for v in parking.my_vehicles(session, pw.resident)] == ["川A12345"]
    assert parking.my_vehicles(session, pw.neighbour) == []
    assert parking.vehicles(session, pw.other_manager, estate_id=pw.estate2.id) == []


def test_parking_device_api(client: TestClient, session: Session, pw: PropWorld) -> None:
    _, key = _setup(session, pw)
    session.commit()
    at = (utcnow() - timedelta(hours=2)).isoformat()
    body = {"plate": "川A77777", "direction": "in", "at": at}
    assert client.post("/device-api/v1/parking/events", json=body).status_code == 401
    assert (
        client.post("/device-api/v1/parking/events", json=body, headers={"X-Device-Key": "dk_wrong"}).status_code == 401
    )
    first = client.post("/device-api/v1/parking/events", json=body, headers={"X-Device-Key": key})
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "entered"
    again = client.post("/device-api/v1/parking/events", json=body, headers={"X-Device-Key": key})
    assert (again.json()["duplicate"], again.json()["visit_id"]) == (True, first.json()["visit_id"])
    bad = client.post(
        "/device-api/v1/parking/events",
        json={**body, "plate": "AB", "direction": "up"},
        headers={"X-Device-Key": key, "Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    messages = {d["field"]: d["message"] for d in bad.json()["error"]["details"]}
    assert messages["direction"] == "请填写 in（入场）或 out（出场）。"
    assert messages["plate"].startswith("不是有效的车牌号")
