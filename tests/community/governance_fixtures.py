"""Builders for the governance tests: the test world with case categories and processes, staff
of the community, a property manager of the estate, a grid worker of grid 1, and residents who
own or rent rooms (with areas, tags and accounts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account
from cityos.people.models import Person, Residence
from cityos.places import index
from cityos.places.models import Region
from tests.factories import World, add_region, make_account, make_person, make_world

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


@dataclass
class Resident:
    person: Person
    account: Account | None
    actor: Actor

    @property
    def id(self) -> int:
        return self.person.id


@dataclass
class Gov:
    world: World
    staff: Actor  # 社区工作者 of the community
    staff_account: Account
    manager: Actor  # 物业 of the estate
    worker: Actor  # 网格员 of grid 1
    worker_account: Account
    observer: Actor  # 街道观察员 of the street
    outsider_staff: Actor  # community staff of grid 2 only
    rooms: list[Region] = field(default_factory=list)


def make_gov(session: Session) -> Gov:
    from cityos.cases import processes
    from cityos.cases import service as cases

    world = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    staff_account = make_account(session, roles=["community_staff"], scope=world.community, username="shequ")
    worker_account = make_account(session, roles=["grid_worker"], scope=world.grid1, username="wangge1")
    gov = Gov(
        world=world,
        staff=actor_for_account(session, staff_account),
        staff_account=staff_account,
        manager=actor_for_account(
            session, make_account(session, roles=["property_manager"], scope=world.estate, username="wuye")
        ),
        worker=actor_for_account(session, worker_account),
        worker_account=worker_account,
        observer=actor_for_account(
            session, make_account(session, roles=["street_observer"], scope=world.street, username="jiedao")
        ),
        outsider_staff=actor_for_account(
            session, make_account(session, roles=["community_staff"], scope=world.grid2, username="shequ2")
        ),
    )
    gov.rooms = [world.room, world.room2]
    return gov


def add_rooms(session: Session, unit: Region, names: list[str], *, area: object = None) -> list[Region]:
    rooms = []
    for name in names:
        room = add_region(session, unit, "room", name)
        if area is not None:
            room.attrs = {"area": area}
        rooms.append(room)
    session.flush()
    return rooms


def set_area(session: Session, room: Region, area: object) -> None:
    room.attrs = {**(room.attrs or {}), "area": area}
    session.flush()


def resident(
    session: Session,
    room: Region,
    *,
    name: str = "居民",
    relation: str = "owner",
    tags: list[str] | None = None,
    account: bool = True,
    since: date = date(2020, 1, 1),
    until: date | None = None,
) -> Resident:
    """A person living in ``room`` (registered there too) with a resident account if asked."""
    person = make_person(session, name=name, region=room, tags=tags)
    session.add(Residence(person_id=person.id, room_id=room.id, relation=relation, since=since, until=until))
    session.flush()
    acc = make_account(session, roles=["resident"], scope=room, person_id=person.id) if account else None
    actor = (
        actor_for_account(session, acc)
        if acc is not None
        else Actor(account_id=None, label=name, roles=frozenset(), permissions=frozenset(), person_id=person.id)
    )
    return Resident(person, acc, actor)


def also_owns(session: Session, who: Resident, room: Region, *, relation: str = "owner") -> None:
    session.add(Residence(person_id=who.person.id, room_id=room.id, relation=relation, since=date(2021, 1, 1)))
    session.flush()
