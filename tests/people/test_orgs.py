"""Organisations, departments and the responsibility list (权责清单)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.pagination import PageParams
from cityos.people.models import Department, Organisation, Responsibility
from cityos.people.orgs import service
from cityos.people.validation import org_code_check_char, uscc_check_char
from tests.factories import World, make_actor, make_world


def make_uscc(org: str = "MA6CXXXX", head: str = "91") -> str:
    body = f"{head}510104{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def _fields(exc: pytest.ExceptionInfo) -> set[str]:
    return {d.field for d in exc.value.details}


def test_create_and_scope_organisations(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    shop = service.create_organisation(
        session,
        admin,
        data={"uscc": make_uscc().lower(), "name": " 好邻居 便利店 ", "kind": "merchant", "region_id": world.grid1.id},
    )
    assert (shop.uscc, shop.name) == (make_uscc(), "好邻居 便利店")
    other = service.create_organisation(
        session,
        admin,
        data={"uscc": make_uscc("MA6CYYYY"), "name": "物业", "kind": "property_company", "region_id": world.grid2.id},
    )
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    rows, total = service.list_organisations(session, worker, PageParams())
    assert ([o.id for o in rows], total) == ([shop.id], 1)
    with pytest.raises(NotFound):
        service.get_organisation(session, worker, other.id)
    # A merchant's own account sees its organisation even without organisation:read.
    merchant = make_actor(session, roles=["resident"], scope=world.room, organisation_id=other.id)
    assert service.get_organisation(session, merchant, other.id).id == other.id


def test_bad_organisation_stores_nothing(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.district_a)
    with pytest.raises(Invalid) as exc:
        service.create_organisation(
            session,
            admin,
            data={"uscc": make_uscc()[:-1] + "0", "name": "", "kind": "bank", "region_id": world.district_b.id},
        )
    assert _fields(exc) == {"uscc", "name", "kind", "region_id"}
    assert session.scalar(select(func.count()).select_from(Organisation)) == 0
    service.create_organisation(
        session, admin, data={"uscc": make_uscc(), "name": "甲", "kind": "enterprise", "region_id": world.street.id}
    )
    with pytest.raises(Conflict):
        service.create_organisation(
            session, admin, data={"uscc": make_uscc(), "name": "乙", "kind": "ngo", "region_id": world.street.id}
        )


def test_update_organisation(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    org = service.create_organisation(
        session, admin, data={"uscc": make_uscc(), "name": "甲", "kind": "enterprise", "region_id": world.street.id}
    )
    service.update_organisation(
        session, admin, organisation_id=org.id, data={"name": "乙", "region_id": world.grid1.id}
    )
    assert (org.name, org.region_path) == ("乙", world.grid1.path)
    with pytest.raises(Invalid):
        service.update_organisation(session, admin, organisation_id=org.id, data={"kind": "bank"})
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Forbidden):
        service.update_organisation(session, worker, organisation_id=org.id, data={"name": "丙"})


def _dept(session: Session, admin, code: str, region) -> Department:  # type: ignore[no-untyped-def]
    return service.create_department(session, admin, code=code, name=f"{code} 局", region_id=region.id)


def test_responsible_department_picks_the_nearest_entry(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    city_cg = _dept(session, admin, "city-cg", world.city)
    district_cg = _dept(session, admin, "da-cg", world.district_a)
    service.add_responsibility(
        session, admin, department_id=city_cg.id, case_category="event.01", region_id=world.city.id
    )
    service.add_responsibility(
        session, admin, department_id=district_cg.id, case_category="event.01", region_id=world.district_a.id
    )
    assert service.responsible_department(session, category="event.01", region_path=world.room.path) is district_cg
    assert service.responsible_department(session, category="event.01", region_path=world.district_b.path) is city_cg
    assert service.responsible_department(session, category="event.99", region_path=world.room.path) is None
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    assert service.resolve(session, dispatcher, category="event.01", region_id=world.grid2.id).id == district_cg.id
    with pytest.raises(NotFound):
        service.resolve(session, dispatcher, category="event.01", region_id=world.district_b.id)


def test_responsibility_rules(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    district_cg = _dept(session, admin, "da-cg", world.district_a)
    with pytest.raises(Invalid) as exc:
        service.add_responsibility(
            session, admin, department_id=district_cg.id, case_category="Bad Category", region_id=world.district_b.id
        )
    assert _fields(exc) == {"case_category", "region_id"}
    service.add_responsibility(
        session, admin, department_id=district_cg.id, case_category="event.01", region_id=world.street.id
    )
    with pytest.raises(Conflict):
        service.add_responsibility(
            session, admin, department_id=district_cg.id, case_category="event.01", region_id=world.street.id
        )
    assert session.scalar(select(func.count()).select_from(Responsibility)) == 1
    staff = make_actor(session, roles=["department_staff"], scope=world.district_a)
    with pytest.raises(Forbidden):
        service.add_responsibility(
            session, staff, department_id=district_cg.id, case_category="event.02", region_id=world.street.id
        )
    rows, total = service.list_responsibilities(session, staff, PageParams())
    assert total == 1
    assert (rows[0].department.id, rows[0].region_name) == (district_cg.id, "一街道")
    assert service.categories(session, staff) == ["event.01"]
    service.remove_responsibility(session, admin, responsibility_id=rows[0].responsibility.id)
    assert session.scalar(select(func.count()).select_from(Responsibility)) == 0


def test_departments_visible_from_below(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    city = _dept(session, admin, "city-mz", world.city)
    da = _dept(session, admin, "da-mz", world.district_a)
    db = _dept(session, admin, "db-mz", world.district_b)
    staff = make_actor(session, roles=["department_staff"], scope=world.district_a)
    rows, _ = service.list_departments(session, staff, PageParams())
    assert [d.id for d in rows] == [city.id, da.id]
    with pytest.raises(NotFound):
        service.get_department(session, staff, db.id)
    with pytest.raises(Invalid) as exc:
        service.create_department(session, admin, code="bad code!", name="", region_id=999999)
    assert _fields(exc) == {"code", "name", "region_id"}
    with pytest.raises(Conflict):
        service.create_department(session, admin, code="city-mz", name="重复", region_id=world.city.id)
