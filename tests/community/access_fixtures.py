"""Builders for the community.access tests: the test world's estate 阳光小区 with an owner in room
101 and a tenant in room 102, a resident without any residence, the property manager of the
estate, a street observer, and one registered gate with its key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cityos.community.access import gates
from cityos.core.actor import Actor
from cityos.identity.deps import actor_for_account
from cityos.people.models import Household, Person, Residence
from cityos.places.devices.models import Device
from cityos.places.models import Region
from tests.factories import World, make_account, make_person, make_world


@dataclass
class AccessWorld:
    world: World
    estate: Region  # 阳光小区 (grid 1)
    other_estate: Region  # 月亮小区 (grid 2)
    owner: Person  # 101, owner
    owner_actor: Actor
    owner_account_id: int
    tenant: Person  # 102, tenant
    tenant_actor: Actor
    tenant_account_id: int
    stranger_actor: Actor  # a resident account without any residence
    manager: Actor  # property manager of the estate
    manager_account_id: int
    observer: Actor  # street observer
    observer_account_id: int
    gate: Device
    gate_key: str


def residence(session: Session, person: Person, room: Region, relation: str = "owner") -> Residence:
    household = Household(room_id=room.id, region_path=room.path, head_person_id=person.id)
    session.add(household)
    session.flush()
    row = Residence(
        person_id=person.id, room_id=room.id, household_id=household.id, relation=relation, since=date(2018, 5, 1)
    )
    session.add(row)
    person.region_id, person.region_path = room.id, room.path
    session.flush()
    return row


def _actor(session: Session, roles: list[str], scope: Region, **kwargs: object) -> tuple[Actor, int]:
    account = make_account(session, roles=roles, scope=scope, **kwargs)  # type: ignore[arg-type]
    return actor_for_account(session, account), account.id


def make_access_world(session: Session) -> AccessWorld:
    w = make_world(session)
    other_estate = session.get(Region, int(w.other_room.path.strip("/").split("/")[-4]))
    assert other_estate is not None
    assert other_estate.level == "estate"
    owner = make_person(session, name="王建国", region=w.room, phone="13800001111")
    residence(session, owner, w.room, "owner")
    tenant = make_person(session, name="李小红", region=w.room2, phone="13800002222")
    residence(session, tenant, w.room2, "tenant")
    stranger = make_person(session, name="赵无房")
    owner_actor, owner_id = _actor(session, ["resident"], w.estate, person_id=owner.id)
    tenant_actor, tenant_id = _actor(session, ["resident"], w.estate, person_id=tenant.id)
    stranger_actor, _ = _actor(session, ["resident"], w.estate, person_id=stranger.id)
    manager, manager_id = _actor(session, ["property_manager"], w.estate)
    observer, observer_id = _actor(session, ["street_observer"], w.street)
    made = gates.register_gate(session, manager, estate_id=w.estate.id, name="东门", code="gate-east")
    assert made.key is not None
    return AccessWorld(
        world=w,
        estate=w.estate,
        other_estate=other_estate,
        owner=owner,
        owner_actor=owner_actor,
        owner_account_id=owner_id,
        tenant=tenant,
        tenant_actor=tenant_actor,
        tenant_account_id=tenant_id,
        stranger_actor=stranger_actor,
        manager=manager,
        manager_account_id=manager_id,
        observer=observer,
        observer_account_id=observer_id,
        gate=made.device,
        gate_key=made.key,
    )
