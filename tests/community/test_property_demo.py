"""The demo seed: realistic records for one estate, left alone the second time."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.property import demo, facilities, lockers, service
from cityos.community.property.estates import previous_period
from cityos.community.property.models import Bill, FacilityFault, Tariff
from cityos.core.db import utcnow
from cityos.people.models import Residence
from cityos.places.devices.models import Device
from tests.community.property_fixtures import PropWorld, prop_world  # noqa: F401
from tests.factories import add_region, make_person


def _fill(session: Session, pw: PropWorld) -> int:
    rooms = 2
    for b in range(2, 4):
        building = add_region(session, pw.estate, "building", f"{b}栋")
        for u in range(1, 3):
            unit = add_region(session, building, "unit", f"{u}单元")
            for floor in range(1, 7):
                for k in (1, 2):
                    room = add_region(session, unit, "room", f"{floor}{k:02d}")
                    rooms += 1
                    if (floor + k) % 5:
                        person = make_person(session, name=f"住户{room.id}", region=room)
                        session.add(
                            Residence(person_id=person.id, room_id=room.id, relation="owner", since=date(2019, 5, 1))
                        )
    session.flush()
    return rooms


def test_seed_fills_one_estate_once(session: Session, pw: PropWorld) -> None:
    rooms = _fill(session, pw)
    demo.seed(session, estate=pw.estate, community=pw.w.community, rng=random.Random(7))
    session.commit()
    tariff = session.scalar(select(Tariff).where(Tariff.estate_id == pw.estate.id))
    assert tariff is not None
    assert tariff.organisation_id == pw.company.id
    period = previous_period(utcnow())
    bills = session.scalars(select(Bill).where(Bill.estate_id == pw.estate.id, Bill.period == period)).all()
    fees = [b for b in bills if b.kind == "property_fee"]
    assert len(fees) == rooms
    assert {b.kind for b in bills} == {"property_fee", "parking", "water", "power"}
    paid = sum(1 for b in bills if b.status == "paid")
    assert 0.55 < paid / len(bills) < 0.85
    figures = service.stats(session, region=pw.estate)
    assert 0.5 < figures["bill_collection_rate"] < 0.9
    assert figures["parking_spaces"] == 20
    assert 0 < figures["parking_occupied"] < 20
    assert figures["parcels_waiting"] == 2
    assert figures["faults_open"] == 1
    assert figures["sorting_accuracy"] > 0.5
    levels = [
        d.state["fill_level"]
        for d in session.scalars(
            select(Device).where(Device.kind == "bin", Device.region_path.startswith(pw.estate.path))
        )
    ]
    assert sorted(levels) == [0.12, 0.35, 0.62, 0.84]
    fault = session.scalar(select(FacilityFault))
    assert fault is not None
    assert fault.case_id is not None  # the repair case was opened
    assert len(facilities.open_repairs(session, pw.manager, estate_id=pw.estate.id)) == 1
    assert len(lockers.parcels(session, pw.manager, estate_id=pw.estate.id, status="waiting")) == 2
    before = session.scalar(select(func.count()).select_from(Bill))
    demo.seed(session, estate=pw.estate, community=pw.w.community, rng=random.Random(8))
    assert session.scalar(select(func.count()).select_from(Bill)) == before
