"""People pages: the scoped, masked resident list, registration form errors, the audited reveal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.models import AuditRecord
from cityos.people.models import Person, Residence
from cityos.people.validation import id_check_char
from tests.factories import World, make_account, make_person, make_world, session_cookie

ID_1980 = "51010419800101123" + id_check_char("51010419800101123")


@pytest.fixture
def world(session: Session) -> World:
    w = make_world(session)
    session.commit()
    return w


def sign_in(client: TestClient, session: Session, role: str, scope, **kw: object) -> int:  # type: ignore[no-untyped-def]
    account = make_account(session, roles=[role], scope=scope, **kw)  # type: ignore[arg-type]
    session.commit()
    token = session_cookie(session, account.id)
    client.cookies.set("cityos_session", token)
    return account.id


def test_list_shows_only_the_grid_masked(client: TestClient, session: Session, world: World) -> None:
    make_person(session, name="网格内", region=world.room, id_number=ID_1980, phone="13812345678", tags=["elderly"])
    make_person(session, name="网格外", region=world.other_room)
    sign_in(client, session, "grid_worker", world.grid1)
    r = client.get("/people")
    assert r.status_code == 200
    assert "网格内" in r.text
    assert "网格外" not in r.text
    assert "510104********" + ID_1980[-4:] in r.text
    assert ID_1980 not in r.text
    assert "138****5678" in r.text
    only_elderly = client.get("/people?tag=elderly", headers={"hx-request": "true"})
    assert "网格内" in only_elderly.text
    assert "<html" not in only_elderly.text  # HTMX gets the table only
    assert "网格内" not in client.get("/people?tag=disabled").text


def test_list_needs_sign_in_and_permission(client: TestClient, session: Session, world: World) -> None:
    r = client.get("/people", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/signin?next=")
    sign_in(client, session, "department_staff", world.district_a)
    assert client.get("/people").status_code == 403


def test_register_through_the_form(client: TestClient, session: Session, world: World) -> None:
    sign_in(client, session, "grid_worker", world.grid1)
    form = client.get("/people/new")
    assert form.status_code == 200
    assert "1栋 1单元 101" in form.text
    bad = client.post(
        "/people/new",
        data={"name": "", "id_number": "123", "phone": "1", "room_id": str(world.room.id), "relation": "owner"},
        headers={"accept-language": "zh-CN"},
    )
    assert bad.status_code == 422
    assert "18 位" in bad.text
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    ok = client.post(
        "/people/new",
        data={
            "name": "钱八",
            "id_number": ID_1980,
            "phone": "13812345678",
            "room_id": str(world.room.id),
            "relation": "owner",
            "tags": ["volunteer"],
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    card = client.get(ok.headers["location"])
    assert "钱八" in card.text
    assert "138****5678" in card.text
    assert session.scalar(select(func.count()).select_from(Residence)) == 1
    outside = client.post("/people/new", data={"name": "外", "room_id": str(world.other_room.id), "relation": "owner"})
    assert outside.status_code == 422


def test_reveal_on_the_card_is_audited(client: TestClient, session: Session, world: World) -> None:
    person = make_person(session, name="李九", region=world.room, id_number=ID_1980)
    session.commit()
    sign_in(client, session, "grid_worker", world.grid1)
    card = client.get(f"/people/{person.id}")
    assert 'data-testid="reveal"' not in card.text  # grid workers see masked numbers only
    assert client.post(f"/people/{person.id}/reveal", data={}).status_code == 403
    sign_in(client, session, "admin", world.city)
    card = client.get(f"/people/{person.id}")
    assert 'data-testid="reveal"' in card.text
    shown = client.post(f"/people/{person.id}/reveal", data={"reason": "核查"}, headers={"hx-request": "true"})
    assert ID_1980 in shown.text
    assert session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "pii.read")) == 1


def test_cross_site_form_post_is_refused(client: TestClient, session: Session, world: World) -> None:
    sign_in(client, session, "grid_worker", world.grid1)
    r = client.post(
        "/people/new",
        data={"name": "跨站", "room_id": str(world.room.id), "relation": "owner"},
        headers={"origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_me_page(client: TestClient, session: Session, world: World) -> None:
    me = make_person(session, name="居民本人", region=world.room, phone="13812345678")
    session.commit()
    sign_in(client, session, "resident", world.room, person_id=me.id)
    r = client.get("/me")
    assert "居民本人" in r.text
    assert "138****5678" in r.text
    sign_in(client, session, "dispatcher", world.district_a)
    assert client.get("/me").status_code == 200  # no record linked: a notice, not an error
