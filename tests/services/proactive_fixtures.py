"""Builders for the 服务找人 tests: a world with the shipped catalogue, credential kinds and
processes, the departments that approve, and residents of the right ages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.identity.models import Account
from cityos.people.models import Department, Household, Organisation, Person, Residence
from cityos.people.validation import id_check_char, org_code_check_char, uscc_check_char
from cityos.places import index
from tests.factories import World, make_account, make_person, make_world

TODAY = date(2026, 12, 1)
KINDS = ("mzj", "jtj", "gaj", "ybj", "wjw", "sj", "rsj", "scjgj")


def id_number(birth: date, serial: int = 123) -> str:
    body = f"510104{birth:%Y%m%d}{serial:03d}"
    return body + id_check_char(body)


def uscc(n: int) -> str:
    org = f"MA6C{n:04d}"
    body = f"91510104{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


@dataclass
class Town:
    world: World
    departments: dict[str, Department]


def make_town(session: Session) -> Town:
    """The test world with the shipped services installed and a department of each kind in district A."""
    from cityos.services.applications import service as applications
    from cityos.services.catalogue import service as catalogue
    from cityos.services.licences import service as licences
    from cityos.services.proactive import service as proactive

    world = make_world(session)
    index.rebuild_cells(session)
    licences.install(session)
    catalogue.install(session)
    applications.install(session)
    proactive.install(session)
    departments = {}
    for kind in KINDS:
        dept = Department(
            code=f"{world.district_a.code}-{kind}",
            name=f"甲区{kind}局",
            region_id=world.district_a.id,
            region_path=world.district_a.path,
        )
        session.add(dept)
        departments[kind] = dept
    session.flush()
    return Town(world, departments)


def resident(
    session: Session,
    town: Town,
    *,
    name: str,
    birth: date,
    serial: int = 123,
    phone: str | None = "13900000001",
    household: Household | None = None,
    account: bool = True,
) -> tuple[Person, Account | None]:
    """A resident of room 101 (in ``household``, or one of their own), with an account if asked."""
    room = town.world.room
    person = make_person(
        session,
        name=name,
        region=room,
        id_number=id_number(birth, serial),
        phone=phone,
        birth_date=birth,
        gender="female" if serial % 2 == 0 else "male",
    )
    if household is None:
        household = Household(room_id=room.id, region_path=room.path, head_person_id=person.id)
        session.add(household)
        session.flush()
    session.add(
        Residence(person_id=person.id, room_id=room.id, household_id=household.id, relation="family", since=birth)
    )
    session.flush()
    acct = make_account(session, roles=["resident"], scope=room, person_id=person.id) if account else None
    return person, acct


def household_of(session: Session, person: Person) -> Household:
    from sqlalchemy import select

    household = session.scalar(
        select(Household)
        .join(Residence, Residence.household_id == Household.id)
        .where(Residence.person_id == person.id)
    )
    assert household is not None
    return household


def business(session: Session, town: Town, n: int = 1, *, kind: str = "enterprise") -> tuple[Organisation, Account]:
    grid = town.world.grid1
    org = Organisation(uscc=uscc(n), name=f"成都测试{n}有限公司", kind=kind, region_id=grid.id, region_path=grid.path)
    session.add(org)
    session.flush()
    return org, make_account(session, roles=["merchant"], scope=grid, organisation_id=org.id)


def actor_of(session: Session, account: Account | None) -> Actor:
    from cityos.identity.deps import actor_for_account

    assert account is not None
    return actor_for_account(session, account)
