"""Facility devices: installing devices (keys once, bad input), a fault opens one property-repair
case, recovery clears the fault, the console's open repairs (residents' and devices'), scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.cases.models import Case
from cityos.community.property import facilities, service
from cityos.community.property.models import FacilityFault
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.places.devices.models import Device
from tests.community.property_fixtures import PropWorld, device, prop_world  # noqa: F401


def test_installing_devices(session: Session, pw: PropWorld) -> None:
    spot, spot_key = device(session, pw, "parking_spot", "P-001", visitor=True)
    assert spot_key is None  # spaces never call in
    assert spot.state == {"occupied": False, "plate": None, "visitor": True}
    lift, lift_key = device(session, pw, "elevator", "LIFT-1-1", region=pw.w.building, name="1栋1号电梯")
    assert lift_key is not None
    assert lift_key.startswith("dk_")
    assert lift.region_id == pw.w.building.id
    with pytest.raises(Invalid) as exc:
        facilities.add_device(
            session,
            pw.manager,
            estate_id=pw.estate.id,
            kind="toaster",
            code="x",
            name="",
            region_id=pw.w.other_room.id,
        )
    assert {d.field for d in exc.value.details} == {"kind", "code", "name", "region_id"}
    for kind, extra, field in (
        ("locker", {"compartments": 0}, "compartments"),
        ("bin", {"stream": "glass"}, "stream"),
        ("meter_water", {}, "region_id"),  # a meter belongs to a room
    ):
        with pytest.raises(Invalid) as bad:
            facilities.add_device(
                session, pw.manager, estate_id=pw.estate.id, kind=kind, code=f"D-{kind}", name="x", **extra
            )
        assert [d.field for d in bad.value.details] == [field]
    with pytest.raises(Conflict):
        device(session, pw, "elevator", "LIFT-1-1")
    with pytest.raises(NotFound):
        facilities.add_device(session, pw.other_manager, estate_id=pw.estate.id, kind="light", code="L-9", name="x")
    with pytest.raises(Forbidden):
        facilities.add_device(session, pw.resident, estate_id=pw.estate.id, kind="light", code="L-9", name="x")
    kinds = [d.kind for d in facilities.estate_devices(session, pw.manager, estate_id=pw.estate.id)]
    assert kinds == ["elevator", "parking_spot"]


def test_a_fault_opens_one_repair_case(session: Session, pw: PropWorld) -> None:
    lift, _ = device(session, pw, "elevator", "LIFT-1-1", region=pw.w.building, name="1栋1号电梯")
    facilities.report_state(session, lift, status="online", state={"floor": 3})
    _, fault = facilities.report_state(session, lift, status="fault", state={"error": "E23"}, detail="困人报警")
    assert fault is not None
    assert fault.case_id is not None
    case = session.get(Case, fault.case_id)
    assert case is not None
    assert (case.category_code, case.channel, case.status) == ("repair.01.01", "device", "reported")
    assert case.region_path is not None
    assert case.region_path.startswith(pw.estate.path)
    again, same = facilities.report_state(session, lift, status="fault", detail="困人报警")
    assert same is not None
    assert same.id == fault.id
    assert session.scalar(select(func.count()).select_from(Case)) == 1
    assert lift.state == {"floor": 3, "error": "E23"}
    views = facilities.open_faults(session, pw.manager, estate_id=pw.estate.id)
    assert [(v.device.code, v.case_no) for v in views] == [("LIFT-1-1", case.no)]
    assert service.stats(session, region=pw.estate)["faults_open"] == 1
    assert service.stats(session, region=pw.estate)["devices_fault"] == 1
    facilities.report_state(session, lift, status="online")
    assert fault.cleared_at is not None
    assert facilities.open_faults(session, pw.manager, estate_id=pw.estate.id) == []
    # A new fault later is a new case.
    _, second = facilities.report_state(session, lift, status="fault", at=utcnow() + timedelta(seconds=1))
    assert second is not None
    assert second.id != fault.id
    assert session.scalar(select(func.count()).select_from(Case)) == 2


def test_state_reports_refuse_bad_input(session: Session, pw: PropWorld) -> None:
    pump, _ = device(session, pw, "pump", "PUMP-1")
    with pytest.raises(Invalid):
        facilities.report_state(session, pump, status="broken")
    with pytest.raises(Invalid):
        facilities.report_state(session, pump, status="fault", detail="x" * 256)
    with pytest.raises(Invalid):
        facilities.report_state(session, pump, status="fault", at=utcnow() + timedelta(hours=2))
    spot, _ = device(session, pw, "parking_spot", "P-1")
    with pytest.raises(Forbidden):
        facilities.report_state(session, spot, status="fault")
    assert session.scalar(select(func.count()).select_from(FacilityFault)) == 0
    assert pump.status == "online"


def test_open_repairs_of_the_estate(session: Session, pw: PropWorld) -> None:
    light, _ = device(session, pw, "light", "LIGHT-1", region=pw.w.building, name="1栋楼道灯")
    facilities.report_state(session, light, status="fault")
    reported = cases.report(
        session,
        pw.resident,
        category_code="repair.01.04",
        title="屋顶漏水",
        channel="resident",
        lon=pw.w.building.lon,
        lat=pw.w.building.lat,
    )
    cases.report(  # not a repair: not in the list
        session, pw.resident, category_code="event.01.01", title="垃圾", channel="resident", lon=104.015, lat=30.015
    )
    open_ = facilities.open_repairs(session, pw.manager, estate_id=pw.estate.id)
    assert {c.title for c in open_} == {"屋顶漏水", "设备故障：1栋楼道灯"}
    assert reported.id in {c.id for c in open_}
    with pytest.raises(NotFound):
        facilities.open_repairs(session, pw.other_manager, estate_id=pw.estate.id)
    assert facilities.open_repairs(session, pw.other_manager, estate_id=pw.estate2.id) == []


def test_facility_device_api(client: TestClient, session: Session, pw: PropWorld) -> None:
    _, key = device(session, pw, "fire_panel", "FIRE-1", name="消防主机")
    session.commit()
    out = client.post(
        "/device-api/v1/facilities/states",
        json={"status": "fault", "detail": "回路故障"},
        headers={"X-Device-Key": key},
    )
    assert out.status_code == 200, out.text
    assert out.json()["status"] == "fault"
    assert out.json()["case_id"] is not None
    case = session.get(Case, out.json()["case_id"])
    assert case is not None
    assert case.category_code == "repair.02.02"
    bad = client.post("/device-api/v1/facilities/states", json={"status": "melted"}, headers={"X-Device-Key": key})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "status"
    panel = session.scalar(select(Device).where(Device.code == "FIRE-1"))
    assert panel is not None
    assert panel.last_seen_at is not None
