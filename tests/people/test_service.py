"""People service: registration, scope, masking and the audited reveal, residences, tags."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.models import AuditRecord, OutboxEvent
from cityos.core.pagination import PageParams
from cityos.people import pii, residences, service, tasks
from cityos.people.models import Household, Person, PersonTag, Residence
from cityos.people.validation import id_check_char
from tests.factories import World, make_actor, make_person, make_world

TODAY = date(2026, 11, 23)


def make_id(body17: str) -> str:
    return body17 + id_check_char(body17)


ID_1980 = make_id("51010419800101123")  # male, born 1980-01-01
ID_DEMO = make_id("51010418550612222")  # demo style: 18xx date, female


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _fields(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {d.field: d.message for d in exc.value.details}


def test_register_in_a_room_starts_a_residence_and_household(session: Session, world: World) -> None:
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    person = service.create_person(
        session,
        worker,
        data={"name": " 王  小明 ", "id_number": ID_1980, "phone": "138 1234 5678", "tags": ["disabled"]},
        region_id=world.room.id,
        relation="owner",
        today=TODAY,
    )
    assert person.name == "王 小明"
    assert person.birth_date == date(1980, 1, 1)  # from the identity number
    assert person.gender == "male"
    assert person.region_path == world.room.path
    # Stored encrypted and indexed, never in clear.
    assert ID_1980 not in (person.id_number_enc or "")
    assert person.id_number_hash == pii.id_number_digest(ID_1980)
    assert person.phone_hash == pii.phone_digest("13812345678")
    residence = session.scalars(select(Residence).where(Residence.person_id == person.id)).one()
    assert (residence.relation, residence.since, residence.until) == ("owner", TODAY, None)
    household = session.get(Household, residence.household_id)
    assert household is not None
    assert household.head_person_id == person.id
    assert service.tags_of(session, [person.id])[person.id] == ["disabled"]
    topics = set(session.scalars(select(OutboxEvent.topic)))
    assert {"people.person_registered", "people.residence_changed"} <= topics


def test_second_person_in_the_room_joins_the_household(session: Session, world: World) -> None:
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    head = service.create_person(session, worker, data={"name": "甲"}, region_id=world.room.id, relation="owner")
    other = service.create_person(session, worker, data={"name": "乙"}, region_id=world.room.id)
    view = residences.get_household(session, worker, session.scalars(select(Household)).one().id)
    assert [m.person.id for m in view.members] == [head.id, other.id]
    assert "阳光小区 1栋 1单元 101" in view.address


def test_bad_input_reports_every_field_and_stores_nothing(session: Session, world: World) -> None:
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    before = (_count(session, Person), _count(session, Residence), _count(session, PersonTag))
    with pytest.raises(Invalid) as exc:
        service.create_person(
            session,
            worker,
            data={
                "name": "",
                "id_number": ID_1980[:-1] + ("0" if ID_1980[-1] != "0" else "1"),
                "phone": "12345",
                "birth_date": date(2030, 1, 1),
                "tags": ["elderly", "nonsense"],
            },
            region_id=world.other_room.id,  # grid 2: outside the worker's grid
            since=date(2030, 1, 1),
            today=TODAY,
        )
    fields = _fields(exc)
    assert set(fields) == {"name", "id_number", "phone", "birth_date", "tags", "region_id", "since"}
    assert (_count(session, Person), _count(session, Residence), _count(session, PersonTag)) == before


def test_birth_date_must_match_a_real_identity_number(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    with pytest.raises(Invalid) as exc:
        service.create_person(
            session,
            admin,
            data={"name": "甲", "id_number": ID_1980, "birth_date": date(1981, 1, 1)},
            region_id=world.room.id,
        )
    assert "birth_date" in _fields(exc)
    # A demo number carries a reserved 18xx date, so the given birth date stands.
    person = service.create_person(
        session,
        admin,
        data={"name": "乙", "id_number": ID_DEMO, "birth_date": date(1955, 6, 12)},
        region_id=world.room.id,
        today=TODAY,
    )
    assert (person.birth_date, person.gender) == (date(1955, 6, 12), "female")
    assert service.tags_of(session, [person.id])[person.id] == ["elderly"]


def test_duplicate_identity_number_is_a_conflict(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    service.create_person(session, admin, data={"name": "甲", "id_number": ID_1980}, region_id=world.room.id)
    with pytest.raises(Conflict) as exc:
        service.create_person(session, admin, data={"name": "乙", "id_number": ID_1980}, region_id=world.room2.id)
    assert "id_number" in _fields(exc)
    assert _count(session, Person) == 1


def test_scope_hides_other_grids(session: Session, world: World) -> None:
    inside = make_person(session, name="内", region=world.room)
    outside = make_person(session, name="外", region=world.other_room)
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    page = service.list_people(session, worker, PageParams())
    assert [p.id for p in page.items] == [inside.id]
    assert page.total == 1
    with pytest.raises(NotFound):
        service.get_person(session, worker, outside.id)
    with pytest.raises(NotFound):
        service.list_people(session, worker, PageParams(), service.PersonFilter(region_id=world.grid2.id))
    commander = make_actor(session, roles=["commander"], scope=world.city)
    assert service.list_people(session, commander, PageParams()).total == 2


def test_filters(session: Session, world: World) -> None:
    a = make_person(session, name="张一", region=world.room, tags=["elderly"], gender="female")
    make_person(session, name="李二", region=world.room2)
    admin = make_actor(session, roles=["admin"], scope=world.city)

    def ids(**kw: object) -> list[int]:
        return [p.id for p in service.list_people(session, admin, PageParams(), service.PersonFilter(**kw)).items]  # type: ignore[arg-type]

    assert ids(tag="elderly") == [a.id]
    assert ids(q="张") == [a.id]
    assert ids(gender="female") == [a.id]
    assert ids(region_id=world.room.id) == [a.id]


def test_roles_without_person_read_are_refused(session: Session, world: World) -> None:
    staff = make_actor(session, roles=["department_staff"], scope=world.district_a)
    with pytest.raises(Forbidden):
        service.list_people(session, staff, PageParams())
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    with pytest.raises(Forbidden):
        service.create_person(session, dispatcher, data={"name": "甲"}, region_id=world.room.id)


def test_reveal_needs_pii_read_and_is_audited(session: Session, world: World) -> None:
    person = make_person(session, region=world.room, id_number=ID_1980, phone="13812345678")
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Forbidden):
        service.reveal_person(session, worker, person.id)
    assert _count(session, AuditRecord) == 0
    admin = make_actor(session, roles=["admin"], scope=world.city)
    shown = service.reveal_person(session, admin, person.id, reason="核查")
    assert (shown.id_number, shown.phone) == (ID_1980, "13812345678")
    row = session.scalars(select(AuditRecord).where(AuditRecord.action == "pii.read")).one()
    assert (row.subject_id, row.fields, row.account_id) == (str(person.id), "id_number,phone", admin.account_id)
    masked = pii.masked(person)
    assert (masked.id_number, masked.phone) == ("510104********" + ID_1980[-4:], "138****5678")


def test_lookup_by_identity_number_and_phone(session: Session, world: World) -> None:
    person = make_person(session, region=world.room, id_number=ID_1980, phone="13812345678")
    make_person(session, region=world.other_room, phone="13900000000")
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    assert [p.id for p in service.lookup(session, worker, id_number=ID_1980.lower())] == [person.id]
    assert [p.id for p in service.lookup(session, worker, phone="+86 13812345678")] == [person.id]
    assert service.lookup(session, worker, phone="13900000000") == []  # exists, but outside the grid
    with pytest.raises(Invalid):
        service.lookup(session, worker)
    with pytest.raises(Invalid):
        service.lookup(session, worker, id_number="123")


def test_update_replaces_hand_set_tags_and_keeps_age_tags(session: Session, world: World) -> None:
    person = make_person(session, region=world.room, birth_date=date(1950, 3, 1), tags=["elderly", "low_income"])
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    service.update_person(session, worker, person_id=person.id, data={"tags": ["living_alone"]}, today=TODAY)
    assert service.tags_of(session, [person.id])[person.id] == ["elderly", "living_alone"]
    service.update_person(session, worker, person_id=person.id, data={"phone": "13700001111"})
    assert person.phone_hash == pii.phone_digest("13700001111")
    service.update_person(session, worker, person_id=person.id, data={"phone": None})
    assert person.phone_enc is None
    assert person.phone_hash is None
    with pytest.raises(Invalid):
        service.update_person(session, worker, person_id=person.id, data={"name": "  "})
    assert person.name == "张三"


def test_move_in_and_out(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    person = service.create_person(
        session, admin, data={"name": "甲"}, region_id=world.room.id, relation="tenant", today=TODAY
    )
    first = session.scalars(select(Residence).where(Residence.person_id == person.id)).one()
    second = residences.add_residence(
        session, admin, person_id=person.id, room_id=world.other_room.id, relation="owner", since=date(2026, 1, 1)
    )
    assert person.region_path == world.other_room.path
    with pytest.raises(Conflict):
        residences.add_residence(session, admin, person_id=person.id, room_id=world.other_room.id, relation="owner")
    with pytest.raises(Invalid) as exc:
        residences.add_residence(session, admin, person_id=person.id, room_id=world.unit.id, relation="owner")
    assert "room_id" in _fields(exc)
    residences.end_residence(session, admin, residence_id=second.id, until=TODAY, today=TODAY)
    assert person.region_path == world.room.path  # back to the remaining residence
    with pytest.raises(Conflict):
        residences.end_residence(session, admin, residence_id=second.id, today=TODAY)
    with pytest.raises(Invalid):
        residences.end_residence(session, admin, residence_id=first.id, until=date(1990, 1, 1), today=TODAY)
    residences.end_residence(session, admin, residence_id=first.id, today=TODAY)
    # No residence left: the grid keeps them on its list of people who moved out.
    assert person.region_path == world.room.path
    moved = service.list_people(session, admin, PageParams(), service.PersonFilter(moved_out=True))
    assert [p.id for p in moved.items] == [person.id]


def test_residence_writes_are_scoped(session: Session, world: World) -> None:
    person = make_person(session, region=world.room)
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Invalid) as exc:
        residences.add_residence(session, worker, person_id=person.id, room_id=world.other_room.id, relation="owner")
    assert "room_id" in _fields(exc)


def test_refresh_age_tags(session: Session, world: World) -> None:
    turning = make_person(session, region=world.room, birth_date=date(1966, 11, 23))  # 60 today
    adult = make_person(session, region=world.room, birth_date=date(2008, 11, 23), tags=["child"])  # 18 today
    young = make_person(session, region=world.room, birth_date=date(2010, 1, 1))
    changed = tasks.refresh_age_tags(session, today=TODAY)
    tags = service.tags_of(session, [turning.id, adult.id, young.id])
    assert tags[turning.id] == ["elderly"]
    assert adult.id not in tags
    assert tags[young.id] == ["child"]
    assert changed == 3
    assert tasks.refresh_age_tags(session, today=TODAY) == 0
