"""A known community for the dashboard tests: residents of known ages, genders, tags and
relations in the test world's building 1栋, open and overdue cases, and devices in each status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.cases.models import Case
from cityos.core.actor import SYSTEM
from cityos.people.models import Household, Person, Residence
from cityos.places import index
from cityos.places.devices import service as devices
from cityos.places.models import Region
from tests.factories import World, add_region, box, make_actor, make_person, make_world

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)

# (name, gender, birth date, tags, room key, relation)
RESIDENTS: tuple[tuple[str, str, date | None, list[str], str, str], ...] = (
    ("张三", "male", date(1990, 6, 15), [], "room", "owner"),  # 36 today: 35-39
    ("李四", "female", date(1990, 6, 16), [], "room", "family"),  # 35 (birthday tomorrow): 35-39
    ("王五", "male", date(1956, 6, 15), ["elderly", "living_alone"], "room2", "owner"),  # 70: 70-74
    ("赵六", "female", date(2022, 1, 1), ["child"], "room3", "tenant"),  # 4: 0-4
    ("钱七", "female", date(1926, 1, 1), ["elderly", "disabled"], "room3", "tenant"),  # 100: 100+
    ("孙八", "unknown", None, ["key_group"], "room3", "tenant"),  # no birth date
)


@dataclass
class Community:
    world: World
    building3: Region  # a second building of 阳光小区 (no residents), with 3 floors
    room3: Region  # in 2栋 of 月亮小区 (grid 2)
    persons: dict[str, Person] = field(default_factory=dict)
    case_ids: dict[str, int] = field(default_factory=dict)


def build_community(session: Session) -> Community:
    w = make_world(session)
    w.building.attrs = {"floors": 6}
    building3 = add_region(session, w.estate, "building", "3栋", geometry=box(104.014, 30.012, 0.001, 0.0005))
    building3.attrs = {"floors": 3}
    unit3 = add_region(session, building3, "unit", "1单元")
    add_region(session, unit3, "room", "301")
    session.flush()
    rooms = {"room": w.room, "room2": w.room2, "room3": w.other_room}
    community = Community(world=w, building3=building3, room3=w.other_room)
    households: dict[str, int] = {}
    for name, gender, birth, tags, key, relation in RESIDENTS:
        room = rooms[key]
        person = make_person(session, name=name, region=room, birth_date=birth, gender=gender, tags=tags)
        if key not in households:
            household = Household(room_id=room.id, region_path=room.path, head_person_id=person.id)
            session.add(household)
            session.flush()
            households[key] = household.id
        session.add(
            Residence(
                person_id=person.id,
                room_id=room.id,
                household_id=households[key],
                relation=relation,
                since=date(2020, 1, 1),
            )
        )
        community.persons[name] = person
    # A former tenant of 101 who moved out: neither counted as a tenant nor listed.
    gone = make_person(session, name="周九", region=w.street, birth_date=date(1980, 1, 1), gender="male")
    moved_out = Residence(
        person_id=gone.id, room_id=w.room.id, relation="tenant", since=date(2019, 1, 1), until=date(2021, 1, 1)
    )
    session.add(moved_out)
    session.flush()
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    reporter = make_actor(session, roles=["resident"], scope=w.city)

    def report(code: str, title: str, lon: float, lat: float) -> Case:
        return cases.report(
            session, reporter, category_code=code, title=title, channel="resident", lon=lon, lat=lat, now=NOW
        )

    in_building = report("repair.01.01", "电梯故障", 104.0125, 30.01225)  # inside 1栋's footprint
    late = report("event.01.01", "暴露垃圾", 104.0155, 30.015)  # in 阳光小区, overdue
    late.due_at = NOW - timedelta(days=1)
    closed = report("event.01.02", "积存垃圾", 104.0156, 30.0151)
    closed.closed_at = NOW - timedelta(hours=1)
    outside = report("event.01.01", "别的网格", 104.07, 30.05)  # grid 2
    session.flush()
    community.case_ids = {"building": in_building.id, "late": late.id, "closed": closed.id, "outside": outside.id}
    for code, kind, region, status in (
        ("gate-1", "gate", w.estate, "online"),
        ("gate-2", "gate", w.estate, "offline"),
        ("bin-1", "bin", w.estate, "alarm"),
        ("lift-1", "elevator", w.building, "fault"),
        ("gate-9", "gate", w.other_room, "online"),  # grid 2
    ):
        device = devices.register(
            session, SYSTEM, code=code, kind=kind, name=code, region_id=region.id, permission="property:manage"
        ).device
        devices.record_state(session, device, status=status, at=NOW)
    session.commit()
    return community


@pytest.fixture(name="cw")
def community_world(session: Session) -> Iterator[Community]:
    c = build_community(session)
    yield c
    index.invalidate()
