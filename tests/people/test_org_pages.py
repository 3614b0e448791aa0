"""Department, responsibility-list and organisation pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.people.models import Department, Organisation, Responsibility
from cityos.people.validation import org_code_check_char, uscc_check_char
from tests.factories import World, make_account, make_world, session_cookie


@pytest.fixture
def world(session: Session) -> World:
    w = make_world(session)
    session.commit()
    return w


def sign_in(client: TestClient, session: Session, role: str, scope) -> None:  # type: ignore[no-untyped-def]
    account = make_account(session, roles=[role], scope=scope)
    session.commit()
    token = session_cookie(session, account.id)
    client.cookies.set("cityos_session", token)


def _department(session: Session, world: World, code: str, region) -> Department:  # type: ignore[no-untyped-def]
    d = Department(code=code, name=f"{code}局", region_id=region.id, region_path=region.path)
    session.add(d)
    session.commit()
    return d


def test_who_answers_here(client: TestClient, session: Session, world: World) -> None:
    city = _department(session, world, "city-cg", world.city)
    district = _department(session, world, "da-cg", world.district_a)
    for dept, region in ((city, world.city), (district, world.district_a)):
        session.add(
            Responsibility(
                department_id=dept.id, case_category="event.01", region_id=region.id, region_path=region.path
            )
        )
    session.commit()
    sign_in(client, session, "dispatcher", world.district_a)
    r = client.get("/departments")
    assert r.status_code == 200
    assert "event.01" in r.text
    assert "da-cg局" in r.text  # the nearer entry wins
    assert client.get(f"/departments/{district.id}").status_code == 200


def test_add_responsibility_form(client: TestClient, session: Session, world: World) -> None:
    dept = _department(session, world, "da-cg", world.district_a)
    sign_in(client, session, "admin", world.city)
    page = client.get(f"/departments/{dept.id}")
    assert "一街道" in page.text  # regions just below the department's own
    bad = client.post(
        f"/departments/{dept.id}/responsibilities", data={"case_category": "Bad One", "region_id": str(world.street.id)}
    )
    assert bad.status_code == 422
    assert "event.01" in bad.text  # the message shows an example
    assert session.scalar(select(func.count()).select_from(Responsibility)) == 0
    ok = client.post(
        f"/departments/{dept.id}/responsibilities",
        data={"case_category": "event.05", "region_id": str(world.street.id)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert session.scalar(select(func.count()).select_from(Responsibility)) == 1
    sign_in(client, session, "dispatcher", world.district_a)
    refused = client.post(
        f"/departments/{dept.id}/responsibilities",
        data={"case_category": "event.06", "region_id": str(world.street.id)},
    )
    assert refused.status_code == 403


def test_organisation_register_form(client: TestClient, session: Session, world: World) -> None:
    body = "91510104MA6CXXXX" + org_code_check_char("MA6CXXXX")
    uscc = body + uscc_check_char(body)
    sign_in(client, session, "admin", world.city)
    bad = client.post("/organisations", data={"uscc": "123", "name": "", "kind": "merchant"})
    assert bad.status_code == 422
    assert 'data-testid="form-errors"' in bad.text
    assert session.scalar(select(func.count()).select_from(Organisation)) == 0
    ok = client.post(
        "/organisations", data={"uscc": uscc, "name": "社区超市", "kind": "merchant"}, follow_redirects=False
    )
    assert ok.status_code == 303
    listing = client.get("/organisations?kind=merchant")
    assert "社区超市" in listing.text
    assert "社区超市" not in client.get("/organisations?kind=ngo").text
