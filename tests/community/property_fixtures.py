"""A world for community.property tests: the test city's two estates, a property company and its
manager for 阳光小区, another manager for 月亮小区, and two households of 阳光小区 1栋1单元."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.community.property import facilities
from cityos.community.property.estates import set_tariff
from cityos.core.actor import Actor
from cityos.core.runtime import Runtime
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account
from cityos.people.models import Organisation, Residence
from cityos.places import index
from cityos.places.devices.models import Device
from cityos.places.models import Region
from cityos.registry import subscribe_all
from tests.factories import World, make_account, make_person, make_world


@dataclass
class PropWorld:
    w: World
    estate: Region  # 阳光小区
    estate2: Region  # 月亮小区
    company: Organisation
    manager: Actor
    manager_account_id: int
    other_manager: Actor  # 月亮小区's
    resident: Actor  # owner of 101
    resident_account_id: int
    resident_person_id: int
    neighbour: Actor  # tenant of 102
    neighbour_account_id: int

    @property
    def room(self) -> Region:
        return self.w.room

    @property
    def room2(self) -> Region:
        return self.w.room2


def _estate2(session: Session, w: World) -> Region:
    ids = [int(p) for p in w.other_room.path.strip("/").split("/") if p]
    estate = session.scalar(select(Region).where(Region.id.in_(ids), Region.level == "estate"))
    assert estate is not None
    return estate


def _org(session: Session, region: Region, uscc: str, name: str) -> Organisation:
    org = Organisation(uscc=uscc, name=name, kind="property_company", region_id=region.id, region_path=region.path)
    session.add(org)
    session.flush()
    return org


def build(session: Session) -> PropWorld:
    w = make_world(session)
    w.room.attrs = {"area": 89.5}
    estate2 = _estate2(session, w)
    company = _org(session, w.estate, "91510104MA6C0PW01X", "阳光物业")
    other = _org(session, estate2, "91510104MA6C0PW02X", "月亮物业")
    manager = make_account(session, roles=["property_manager"], scope=w.estate, organisation_id=company.id)
    other_manager = make_account(session, roles=["property_manager"], scope=estate2, organisation_id=other.id)
    owner = make_person(session, name="王业主", region=w.room, phone="13900000101")
    tenant = make_person(session, name="李租户", region=w.room2, phone="13900000102")
    session.add_all(
        [
            Residence(person_id=owner.id, room_id=w.room.id, relation="owner", since=date(2020, 1, 1)),
            Residence(person_id=tenant.id, room_id=w.room2.id, relation="tenant", since=date(2021, 1, 1)),
        ]
    )
    resident = make_account(session, roles=["resident"], scope=w.city, person_id=owner.id)
    neighbour = make_account(session, roles=["resident"], scope=w.city, person_id=tenant.id)
    session.flush()
    return PropWorld(
        w=w,
        estate=w.estate,
        estate2=estate2,
        company=company,
        manager=actor_for_account(session, manager),
        manager_account_id=manager.id,
        other_manager=actor_for_account(session, other_manager),
        resident=actor_for_account(session, resident),
        resident_account_id=resident.id,
        resident_person_id=owner.id,
        neighbour=actor_for_account(session, neighbour),
        neighbour_account_id=neighbour.id,
    )


@pytest.fixture(name="pw")
def prop_world(session: Session, runtime: Runtime) -> Iterator[PropWorld]:
    subscribe_all(runtime.bus)
    world = build(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    session.commit()
    yield world
    index.invalidate()


def tariff(session: Session, pw: PropWorld, **values: object) -> None:
    set_tariff(session, pw.manager, estate_id=pw.estate.id, values=values)


def device(
    session: Session, pw: PropWorld, kind: str, code: str, *, region: Region | None = None, **kwargs: object
) -> tuple[Device, str | None]:
    made = facilities.add_device(
        session,
        pw.manager,
        estate_id=pw.estate.id,
        kind=kind,
        code=code,
        name=kwargs.pop("name", code),  # type: ignore[arg-type]
        region_id=(region or pw.estate).id,
        **kwargs,  # type: ignore[arg-type]
    )
    return made.device, made.key


def account(session: Session, account_id: int) -> Account:
    found = session.get(Account, account_id)
    assert found is not None
    return found


def ago(**kwargs: float) -> datetime:
    from cityos.core.db import utcnow

    return utcnow() - timedelta(**kwargs)
