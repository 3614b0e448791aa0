"""Sign-in and administration pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.identity import passwords
from cityos.identity.models import Account, OAuthClient, SmsMessage
from tests.factories import World, make_account, make_person, make_world, session_cookie

PASSWORD = "correct-horse-42"
HTML = {"Accept": "text/html"}


@pytest.fixture
def world(session: Session) -> World:
    w = make_world(session)
    make_account(
        session, roles=["grid_worker"], scope=w.grid1, username="wang", password_hash=passwords.hash_password(PASSWORD)
    )
    session.commit()
    return w


def test_sign_in_form_sets_the_cookie_and_follows_next(client: TestClient, world: World) -> None:
    page = client.get("/signin?next=/people", headers=HTML)
    assert page.status_code == 200
    assert 'name="password"' in page.text
    r = client.post(
        "/signin", data={"username": "wang", "password": PASSWORD, "next": "/people"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/people"
    cookie = r.headers["set-cookie"]
    assert "cityos_session=" in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert client.get("/people", headers=HTML).status_code == 200
    # Sign-out ends the session on the server, not only in this browser.
    token = client.cookies.get("cityos_session")
    client.post("/signout", follow_redirects=False)
    client.cookies.set("cityos_session", token or "")
    assert client.get("/people", headers=HTML, follow_redirects=False).status_code == 303


def test_open_redirects_are_refused(client: TestClient, world: World) -> None:
    r = client.post(
        "/signin", data={"username": "wang", "password": PASSWORD, "next": "//evil.example/x"}, follow_redirects=False
    )
    assert r.headers["location"] == "/"


def test_wrong_password_shows_a_translated_error(client: TestClient, world: World, session: Session) -> None:
    r = client.post("/signin", data={"username": "wang", "password": "nope"}, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 401
    assert "用户名或密码不正确" in r.text
    assert session.scalar(select(Account.failed_attempts).where(Account.username == "wang")) == 1


def test_resident_code_pages(client: TestClient, world: World, session: Session) -> None:
    make_person(session, name="居民丁", region=world.room, phone="13912345678")
    session.commit()
    r = client.post("/signin/code", data={"phone": "13912345678"})
    assert r.status_code == 200
    assert 'name="code"' in r.text
    code = re.search(r"\d{6}", session.scalars(select(SmsMessage.body)).one()).group(0)  # type: ignore[union-attr]
    wrong = client.post(
        "/signin/verify", data={"phone": "13912345678", "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 401
    ok = client.post("/signin/verify", data={"phone": "13912345678", "code": code}, follow_redirects=False)
    assert ok.headers["location"] == "/me"
    assert "居民丁" in client.get("/me").text
    assert client.post("/signin/code", data={"phone": "12"}).status_code == 422


def test_admin_pages(client: TestClient, world: World, session: Session) -> None:
    admin = make_account(session, roles=["admin"], scope=world.city)
    client.cookies.set("cityos_session", session_cookie(session, admin.id))
    for path in ("/admin/accounts", "/admin/audit", "/admin/sms", "/admin/clients"):
        assert client.get(path).status_code == 200, path
    bad = client.post(
        "/admin/accounts", data={"username": "x", "display_name": "", "scope_region_id": str(world.grid1.id)}
    )
    assert bad.status_code == 422
    assert 'data-testid="form-errors"' in bad.text
    ok = client.post(
        "/admin/accounts",
        data={
            "username": "li-ming",
            "display_name": "李",
            "password": "a-good-password",
            "scope_region_id": str(world.grid1.id),
            "roles": ["grid_worker"],
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303, re.findall(r'field-error">([^<]+)<', ok.text)
    assert "李" in client.get("/admin/accounts?q=li-ming").text
    created = client.post(
        "/admin/clients", data={"name": "应用", "scope_region_id": str(world.city.id), "scopes": ["region:read"]}
    )
    assert created.status_code == 201
    secret = re.search(r'data-testid="client-secret">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    client_row = session.scalars(select(OAuthClient)).one()
    assert passwords.verify(client_row.secret_hash, secret)
    assert secret not in client.get("/admin/clients").text  # shown once only
    audit = client.get("/admin/audit?action=account.create")
    assert "account.create" in audit.text
    assert client.get("/admin/audit?since=not-a-date").status_code == 200


def test_admin_pages_refuse_other_roles(client: TestClient, world: World, session: Session) -> None:
    worker = session.scalars(select(Account).where(Account.username == "wang")).one()
    client.cookies.set("cityos_session", session_cookie(session, worker.id))
    for path in ("/admin/accounts", "/admin/audit", "/admin/sms", "/admin/clients"):
        assert client.get(path).status_code == 403, path
    before = session.scalar(select(func.count()).select_from(Account))
    r = client.post(
        "/admin/accounts",
        data={
            "username": "sneaky",
            "display_name": "x",
            "password": "a-good-password",
            "scope_region_id": str(world.grid1.id),
            "roles": ["admin"],
        },
    )
    assert r.status_code == 403
    assert session.scalar(select(func.count()).select_from(Account)) == before


def test_notifications_page(client: TestClient, world: World, session: Session) -> None:
    from cityos.identity.models import Notification
    from cityos.identity.notify import notify

    worker = session.scalars(select(Account).where(Account.username == "wang")).one()
    notify(session, worker.id, title="新工单 20261123000001", body="路灯不亮", link="/cases/1")
    session.commit()
    client.cookies.set("cityos_session", session_cookie(session, worker.id))
    page = client.get("/notifications")
    assert "新工单 20261123000001" in page.text
    assert client.get("/api/v1/notifications").json()["unread"] == 1
    client.post("/notifications/read")
    assert session.scalar(select(Notification.read_at).where(Notification.account_id == worker.id)) is not None
    assert client.get("/api/v1/notifications").json()["unread"] == 0
