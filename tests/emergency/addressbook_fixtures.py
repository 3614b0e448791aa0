"""Builders for the address book tests: the test world with its staff, a building lead's
volunteer, residents with and without accounts, a second community next door; and a
6,000-resident community written in bulk for the timed tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.runtime import Runtime
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account, AccountRole
from cityos.people.models import Person, Residence
from cityos.places import index
from cityos.places.models import LEVEL_DEPTH, Region
from tests.factories import World, add_region, make_account, make_person, make_world


@dataclass
class Book:
    """The test world's people. Grid 1 holds 阳光小区 1栋 (rooms 101, 102); grid 2 holds 月亮小区
    2栋 (room 201); 和平社区 is a second community of the same street."""

    world: World
    building2: Region
    staff: Actor  # community_staff of 幸福社区
    street_staff: Actor  # community_staff of the street (above the community)
    grid_worker: Actor  # grid 1
    grid_worker2: Actor  # grid 2
    volunteer: Actor  # scoped to 1栋
    community_volunteer: Actor  # scoped to the community (linked to buildings by hand)
    observer: Actor  # street_observer of the street
    other_staff: Actor  # community_staff of 和平社区
    other_building: Region  # 和平社区's building
    resident1: Account  # 101, owner, with a phone
    resident2: Account  # 102, tenant
    resident3: Account  # 201 in grid 2
    person1: Person
    person2: Person
    no_account: Person  # 101 too, no account
    moved_out: Person  # lived in 102 until last year


def _resident(
    session: Session,
    room: Region,
    name: str,
    *,
    phone: str | None = None,
    account: bool = True,
    relation: str = "owner",
) -> tuple[Person, Account | None]:
    person = make_person(session, name=name, region=room, phone=phone)
    session.add(Residence(person_id=person.id, room_id=room.id, relation=relation, since=date(2020, 1, 1)))
    session.flush()
    if not account:
        return person, None
    return person, make_account(session, roles=["resident"], scope=room, person_id=person.id, username=f"r-{name}")


def build(session: Session) -> Book:
    w = make_world(session)
    building2 = session.get(Region, session.get(Region, w.other_room.parent_id).parent_id)  # type: ignore[union-attr]
    assert building2 is not None
    other = add_region(session, w.street, "community", "和平社区")
    other_grid = add_region(session, other, "grid", "和平一网格")
    other_estate = add_region(session, other_grid, "estate", "和平小区")
    other_building = add_region(session, other_estate, "building", "9栋")
    other_room = add_region(session, add_region(session, other_building, "unit", "1单元"), "room", "901")
    p1, a1 = _resident(session, w.room, "王秀英", phone="13900000001")
    p2, a2 = _resident(session, w.room2, "李建国", relation="tenant")
    _, a3 = _resident(session, w.other_room, "赵敏")
    no_account, _ = _resident(session, w.room, "王小明", account=False)
    _resident(session, other_room, "孙丽")
    gone = make_person(session, name="钱多多", region=None)
    left = Residence(person_id=gone.id, room_id=w.room2.id, relation="tenant", since=date(2020, 1, 1))
    left.until = date(2025, 1, 1)
    session.add(left)
    staff_person = make_person(session, name="周社工", region=w.community, phone="13900000009")
    staff = make_account(
        session, roles=["community_staff"], scope=w.community, username="周社工", person_id=staff_person.id
    )
    book = Book(
        world=w,
        building2=building2,
        staff=actor_for_account(session, staff),
        street_staff=_actor(session, ["community_staff"], w.street, "街道社工"),
        grid_worker=_actor(session, ["grid_worker"], w.grid1, "一格网格员"),
        grid_worker2=_actor(session, ["grid_worker"], w.grid2, "二格网格员"),
        volunteer=_actor(session, ["volunteer"], w.building, "1栋志愿者"),
        community_volunteer=_actor(session, ["volunteer"], w.community, "社区志愿者"),
        observer=_actor(session, ["street_observer"], w.street, "街道观察员"),
        other_staff=_actor(session, ["community_staff"], other, "和平社工"),
        other_building=other_building,
        resident1=a1,  # type: ignore[arg-type]
        resident2=a2,  # type: ignore[arg-type]
        resident3=a3,  # type: ignore[arg-type]
        person1=p1,
        person2=p2,
        no_account=no_account,
        moved_out=gone,
    )
    session.flush()
    return book


def _actor(session: Session, roles: list[str], scope: Region, username: str) -> Actor:
    return actor_for_account(session, make_account(session, roles=roles, scope=scope, username=username))


@pytest.fixture(name="book")
def address_book(session: Session, runtime: Runtime) -> Iterator[Book]:
    from cityos.emergency.addressbook import tasks

    tasks.register(runtime.bus)
    built = build(session)
    index.rebuild_cells(session)
    session.commit()
    yield built
    index.invalidate()


# --- a 6,000-resident community, in bulk --------------------------------------------------------------------


@dataclass
class Big:
    community: Region
    buildings: list[Region]
    residents: int
    staff: Actor


def _level(session: Session, parents: list[Region], level: str, names: list[str]) -> list[Region]:
    rows = []
    for parent in parents:
        for name in names:
            rows.append(
                Region(
                    code=f"B{parent.id}-{level[:1]}{name}",
                    name=name,
                    level=level,
                    parent_id=parent.id,
                    path=f"/pending/{parent.id}/{level}/{name}/",
                    depth=LEVEL_DEPTH[level],
                    attrs={},
                )
            )
    session.add_all(rows)
    session.flush()
    by_id = {p.id: p for p in parents}
    for r in rows:
        r.path = f"{by_id[r.parent_id].path}{r.id}/"  # type: ignore[index]
    session.flush()
    return rows


def build_big(session: Session, world: World, *, buildings: int = 30, per_room: int = 2) -> Big:
    """A community of ``buildings`` × 4 units × 25 rooms × ``per_room`` residents, each with an
    account (6,000 by default), in one grid and one estate."""
    community = add_region(session, world.street, "community", "大社区")
    grid = add_region(session, community, "grid", "大网格")
    estate = add_region(session, grid, "estate", "大小区")
    blocks = _level(session, [estate], "building", [f"{i}栋" for i in range(1, buildings + 1)])
    units = _level(session, blocks, "unit", [f"{i}单元" for i in range(1, 5)])
    rooms = _level(session, units, "room", [f"{f}{r:02d}" for f in range(1, 6) for r in range(1, 6)])
    people = [
        {"name": f"居民{room.id}-{k}", "gender": "unknown", "region_id": room.id, "region_path": room.path}
        for room in rooms
        for k in range(per_room)
    ]
    ids = list(session.scalars(insert(Person).returning(Person.id, sort_by_parameter_order=True), people))
    session.execute(
        insert(Residence),
        [
            {"person_id": pid, "room_id": row["region_id"], "relation": "owner", "since": date(2020, 1, 1)}
            for pid, row in zip(ids, people, strict=True)
        ],
    )
    account_ids = list(
        session.scalars(
            insert(Account).returning(Account.id, sort_by_parameter_order=True),
            [
                {
                    "display_name": row["name"],
                    "person_id": pid,
                    "scope_region_id": row["region_id"],
                    "scope_path": row["region_path"],
                    "active": True,
                    "failed_attempts": 0,
                }
                for pid, row in zip(ids, people, strict=True)
            ],
        )
    )
    session.execute(insert(AccountRole), [{"account_id": a, "role": "resident"} for a in account_ids])
    staff = _actor(session, ["community_staff"], community, "大社区社工")
    session.flush()
    return Big(community, blocks, len(ids), staff)
