"""Parcel lockers: deposit → pickup code to the resident (app + SMS), pickup once with the code,
wrong codes limited, reminder after 24 hours, back to the sender after 72, bad input, device API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.property import lockers, service
from cityos.community.property.models import Parcel
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from cityos.identity.models import Notification, SmsMessage
from cityos.places.devices.models import Device
from tests.community.property_fixtures import PropWorld, device, prop_world  # noqa: F401


def _locker(session: Session, pw: PropWorld) -> tuple[Device, str]:
    locker, key = device(session, pw, "locker", "LOCKER-1", name="东门快递柜", compartments=12)
    assert key is not None
    return locker, key


def test_deposit_code_and_pickup(session: Session, pw: PropWorld) -> None:
    locker, _ = _locker(session, pw)
    parcel = lockers.deposit(session, locker, compartment=3, room_id=pw.room.id, courier="顺丰", tracking_no="SF1")
    session.commit()  # the resident hears after the commit
    code = lockers.code_of(parcel)
    assert len(code) == 6
    assert code.isdigit()
    assert parcel.code_enc != code  # stored encrypted
    told = session.scalars(select(Notification).where(Notification.account_id == pw.resident_account_id)).all()
    assert [n.title for n in told] == [f"您有快递待取，取件码 {code}"]
    assert told[0].channels == "app,sms"
    sms = session.scalars(select(SmsMessage.body)).all()
    assert any(code in body and "东门快递柜 3 号格口" in body for body in sms)
    assert [p.id for p in service.my_parcels(session, pw.resident)] == [parcel.id]
    assert service.my_parcels(session, pw.neighbour) == []
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(NotFound):
        lockers.pickup(session, locker, code=wrong)
    with pytest.raises(Invalid):
        lockers.pickup(session, locker, code="12ab")
    opened = lockers.pickup(session, locker, code=code)
    assert (opened.id, opened.status, opened.compartment) == (parcel.id, "picked_up", 3)
    with pytest.raises(NotFound):  # once
        lockers.pickup(session, locker, code=code)
    assert service.my_parcels(session, pw.resident) == []
    # The compartment is free again.
    lockers.deposit(session, locker, compartment=3, room_id=pw.room2.id)


def test_deposit_by_phone_of_someone_without_account_goes_by_sms(session: Session, pw: PropWorld) -> None:
    locker, _ = _locker(session, pw)
    parcel = lockers.deposit(session, locker, compartment=1, recipient_phone="13812345678")
    session.commit()
    assert parcel.phone_masked == "138****5678"
    assert lockers.phone_of(parcel) == "13812345678"
    bodies = session.scalars(select(SmsMessage.body).where(SmsMessage.phone_masked == "138****5678")).all()
    assert len(bodies) == 1
    assert lockers.code_of(parcel) in bodies[0]
    # A phone of a resident with an account reaches that account.
    mine = lockers.deposit(session, locker, compartment=2, recipient_phone="13900000101")
    session.commit()
    assert mine.recipient_person_id == pw.resident_person_id
    assert mine.id in {p.id for p in service.my_parcels(session, pw.resident)}


def test_wrong_codes_are_limited(session: Session, pw: PropWorld) -> None:
    locker, _ = _locker(session, pw)
    parcel = lockers.deposit(session, locker, compartment=1, room_id=pw.room.id)
    code = lockers.code_of(parcel)
    wrongs = [f"{n:06d}" for n in range(20) if f"{n:06d}" != code][: lockers.WRONG_CODES_PER_WINDOW]
    for guess in wrongs:
        with pytest.raises(NotFound):
            lockers.pickup(session, locker, code=guess)
    with pytest.raises(RateLimited):
        lockers.pickup(session, locker, code="999998" if code != "999998" else "999997")
    assert lockers.pickup(session, locker, code=code).status == "picked_up"  # the right code still works


def test_deposit_refuses_bad_input(session: Session, pw: PropWorld) -> None:
    locker, _ = _locker(session, pw)
    for kwargs, fields in (
        ({"compartment": 0, "room_id": pw.room.id}, {"compartment"}),
        ({"compartment": 13, "recipient_phone": "12345"}, {"compartment", "recipient_phone"}),
        ({"compartment": 1}, {"recipient_phone"}),
        ({"compartment": 1, "room_id": pw.w.other_room.id}, {"room_id"}),
        ({"compartment": 1, "room_id": pw.room.id, "courier": "x" * 65}, {"courier"}),
        ({"compartment": True, "room_id": pw.room.id}, {"compartment"}),
    ):
        with pytest.raises(Invalid) as exc:
            lockers.deposit(session, locker, **kwargs)  # type: ignore[arg-type]
        assert {d.field for d in exc.value.details} == fields, kwargs
    lockers.deposit(session, locker, compartment=5, room_id=pw.room.id)
    with pytest.raises(Conflict) as taken:
        lockers.deposit(session, locker, compartment=5, room_id=pw.room2.id)
    assert taken.value.details[0].field == "compartment"
    camera, _ = device(session, pw, "camera", "CAM-1")
    with pytest.raises(Forbidden):
        lockers.deposit(session, camera, compartment=1, room_id=pw.room.id)
    assert session.scalar(select(func.count()).select_from(Parcel)) == 1


def test_reminder_after_24_hours_and_return_after_72(session: Session, pw: PropWorld) -> None:
    locker, _ = _locker(session, pw)
    now = utcnow()
    old = lockers.deposit(session, locker, compartment=1, room_id=pw.room.id, now=now - timedelta(hours=73))
    late = lockers.deposit(session, locker, compartment=2, room_id=pw.room.id, now=now - timedelta(hours=25))
    fresh = lockers.deposit(session, locker, compartment=3, room_id=pw.room.id, now=now - timedelta(hours=2))
    session.commit()
    assert lockers.chase(session, now=now) == (1, 1)
    session.commit()
    assert (old.status, late.status, fresh.status) == ("returned", "waiting", "waiting")
    assert late.reminded_at is not None
    assert lockers.chase(session, now=now + timedelta(minutes=1)) == (0, 0)  # one reminder only
    titles = session.scalars(
        select(Notification.title).where(Notification.account_id == pw.resident_account_id).order_by(Notification.id)
    ).all()
    assert "您的快递已退回寄件人" in titles
    assert any(t.startswith("您的快递已等待 24 小时") for t in titles)
    figures = service.stats(session, region=pw.w.community, now=now)
    assert (figures["parcels_waiting"], figures["lockers_overdue"]) == (2, 1)
    assert lockers.chase(session, now=now + timedelta(hours=48)) == (1, 1)
    assert (late.status, fresh.status) == ("returned", "waiting")
    assert fresh.reminded_at is not None
    assert lockers.parcels(session, pw.manager, estate_id=pw.estate.id, status="returned")[0].phone_masked is None
    with pytest.raises(NotFound):
        lockers.parcels(session, pw.other_manager, estate_id=pw.estate.id)


def test_locker_device_api(client: TestClient, session: Session, pw: PropWorld) -> None:
    _, key = _locker(session, pw)
    session.commit()
    made = client.post(
        "/device-api/v1/lockers/deposits",
        json={"compartment": 4, "recipient_phone": "13812345678"},
        headers={"X-Device-Key": key},
    )
    assert made.status_code == 201, made.text
    assert made.json()["recipient"] == "138****5678"
    bad = client.post("/device-api/v1/lockers/deposits", json={"compartment": 99}, headers={"X-Device-Key": key})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"compartment", "recipient_phone"}
    parcel = session.get(Parcel, made.json()["parcel_id"])
    assert parcel is not None
    wrong = client.post("/device-api/v1/lockers/pickups", json={"code": "12"}, headers={"X-Device-Key": key})
    assert wrong.status_code == 422
    opened = client.post(
        "/device-api/v1/lockers/pickups", json={"code": lockers.code_of(parcel)}, headers={"X-Device-Key": key}
    )
    assert opened.json() == {"parcel_id": parcel.id, "compartment": 4}
