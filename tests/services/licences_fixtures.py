"""Builders for the licences tests: a world with public-security and civil-affairs departments in
two districts, their staff, residents with real-shaped identity numbers, an organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.people.models import Department, Household, Organisation, Person, Residence
from cityos.people.validation import id_check_char, org_code_check_char, uscc_check_char
from cityos.places.models import Region
from cityos.services.licences import service
from tests.factories import World, make_account, make_actor, make_person, make_world


def id_number(birth: date, seq: int = 123) -> str:
    body = f"510104{birth:%Y%m%d}{seq:03d}"
    return body + id_check_char(body)


def uscc(org: str = "MA6C0001") -> str:
    body = f"91510104{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


@dataclass
class LicenceWorld:
    world: World
    gaj_a: Department  # 甲区公安分局
    mzj_a: Department  # 甲区民政局
    scjgj_a: Department
    gaj_b: Department  # 乙区公安分局
    staff_a: Actor  # 甲区公安 staff, scoped to district A
    mzj_staff_a: Actor
    staff_b: Actor  # 乙区公安 staff, scoped to district B
    resident: Person
    resident_actor: Actor
    resident_account_id: int
    other: Person
    org: Organisation


def department(session: Session, region: Region, kind: str, name: str) -> Department:
    dept = Department(code=f"{region.code}-{kind}", name=name, region_id=region.id, region_path=region.path)
    session.add(dept)
    session.flush()
    return dept


def residence(session: Session, person: Person, room: Region, *, head: bool = True) -> Residence:
    household = Household(room_id=room.id, region_path=room.path, head_person_id=person.id if head else None)
    session.add(household)
    session.flush()
    row = Residence(
        person_id=person.id, room_id=room.id, household_id=household.id, relation="owner", since=date(2015, 3, 1)
    )
    session.add(row)
    session.flush()
    return row


def make_licence_world(session: Session) -> LicenceWorld:
    w = make_world(session)
    service.install(session)
    gaj_a = department(session, w.district_a, "gaj", "甲区公安分局")
    mzj_a = department(session, w.district_a, "mzj", "甲区民政局")
    scjgj_a = department(session, w.district_a, "scjgj", "甲区市场监督管理局")
    gaj_b = department(session, w.district_b, "gaj", "乙区公安分局")
    staff_a = make_actor(session, roles=["department_staff"], scope=w.district_a, department_id=gaj_a.id)
    mzj_staff_a = make_actor(session, roles=["department_staff"], scope=w.district_a, department_id=mzj_a.id)
    staff_b = make_actor(session, roles=["department_staff"], scope=w.district_b, department_id=gaj_b.id)
    birth = date(1958, 6, 15)
    resident = make_person(
        session,
        name="王秀英",
        region=w.room,
        id_number=id_number(birth),
        phone="13800001111",
        birth_date=birth,
        gender="female",
    )
    residence(session, resident, w.room)
    account = make_account(session, roles=["resident"], scope=w.room, person_id=resident.id)
    from cityos.identity.deps import actor_for_account

    other = make_person(session, name="李四", region=w.room2, id_number=id_number(date(1990, 1, 2), 456))
    org = Organisation(uscc=uscc(), name="锦江小面馆", kind="merchant", region_id=w.grid1.id, region_path=w.grid1.path)
    session.add(org)
    session.flush()
    return LicenceWorld(
        w,
        gaj_a,
        mzj_a,
        scjgj_a,
        gaj_b,
        staff_a,
        mzj_staff_a,
        staff_b,
        resident,
        actor_for_account(session, account),
        account.id,
        other,
        org,
    )


def marriage_data(person: Person, spouse_id: str | None = None) -> dict[str, str]:
    return {
        "name": person.name,
        "id_number": id_number(date(1958, 6, 15)),
        "spouse_name": "张建国",
        "spouse_id_number": spouse_id or id_number(date(1956, 2, 3), 771),
        "registered_on": "1980-05-01",
    }
