"""Identity API: token endpoints, OAuth2 client credentials, account administration, 422 bodies."""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.models import AuditRecord
from cityos.identity import passwords
from cityos.identity.models import Account, SmsMessage
from tests.factories import World, bearer, make_account, make_person, make_world

PASSWORD = "correct-horse-42"


@pytest.fixture
def world(session: Session) -> World:
    w = make_world(session)
    session.commit()
    return w


@pytest.fixture
def admin(session: Session, world: World) -> dict[str, str]:
    account = make_account(
        session, roles=["admin"], scope=world.city, username="boss", password_hash=passwords.hash_password(PASSWORD)
    )
    session.commit()
    return bearer(account.id)


def test_password_token_refresh_and_signout(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "boss", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me/account", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["roles"] == ["admin"]
    assert "pii:read" in me["permissions"]
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert again.status_code == 200
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code == 401
    r = client.post(
        "/api/v1/auth/token", json={"username": "boss", "password": "wrong"}, headers={"Accept-Language": "zh-CN"}
    )
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "用户名或密码不正确。"
    # The failure was committed, not rolled back with the error.
    assert session.scalar(select(Account.failed_attempts).where(Account.username == "boss")) == 1
    assert client.post("/api/v1/auth/token", json={"username": ""}).status_code == 422


def test_resident_code_flow(client: TestClient, session: Session, world: World) -> None:
    make_person(session, name="居民丙", region=world.room, phone="13912345678")
    session.commit()
    assert client.post("/api/v1/auth/code", json={"phone": "13912345678"}).status_code == 202
    assert client.post("/api/v1/auth/code", json={"phone": "13700000000"}).status_code == 202  # same answer
    bad = client.post("/api/v1/auth/code", json={"phone": "123"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "phone"
    body = session.scalars(select(SmsMessage.body)).one()
    code = re.search(r"\d{6}", body).group(0)  # type: ignore[union-attr]
    r = client.post("/api/v1/auth/code/verify", json={"phone": "13912345678", "code": code})
    assert r.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["name"] == "居民丙"
    assert client.post("/api/v1/auth/code/verify", json={"phone": "13912345678", "code": "12ab"}).status_code == 422


def test_oauth_client_credentials(client: TestClient, session: Session, world: World, admin: dict[str, str]) -> None:
    created = client.post(
        "/api/v1/clients",
        json={"name": "地图应用", "scopes": ["region:read"], "scope_region_id": world.district_a.id},
        headers=admin,
    )
    assert created.status_code == 201
    cid, secret = created.json()["client_id"], created.json()["client_secret"]
    r = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
    )
    assert r.status_code == 200
    assert r.json()["scope"] == "region:read"
    app_headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get(f"/api/v1/regions/{world.street.id}", headers=app_headers).status_code == 200
    assert client.get(f"/api/v1/regions/{world.district_b.id}", headers=app_headers).status_code == 404
    assert client.get("/api/v1/people", headers=app_headers).status_code == 403
    basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    r = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert r.status_code == 200
    bad = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": "x"}
    )
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})
    assert client.post("/api/v1/oauth/token", data={"grant_type": "password"}).json() == {
        "error": "unsupported_grant_type"
    }
    scope = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret, "scope": "person:read"},
    )
    assert scope.json() == {"error": "invalid_scope"}
    client.delete(f"/api/v1/clients/{created.json()['id']}", headers=admin)
    assert client.get(f"/api/v1/regions/{world.street.id}", headers=app_headers).status_code == 401


def test_account_administration(client: TestClient, session: Session, world: World, admin: dict[str, str]) -> None:
    bad = client.post(
        "/api/v1/accounts",
        json={
            "username": "A B",
            "display_name": "",
            "roles": [],
            "scope_region_id": world.grid1.id,
            "password": "short",
        },
        headers=admin,
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"username", "display_name", "roles", "password"}
    before = session.scalar(select(func.count()).select_from(Account))
    r = client.post(
        "/api/v1/accounts",
        json={
            "username": "grid-7",
            "display_name": "网格员七",
            "roles": ["grid_worker"],
            "scope_region_id": world.grid1.id,
            "password": "a-good-password",
        },
        headers=admin,
    )
    assert r.status_code == 201
    assert session.scalar(select(func.count()).select_from(Account)) == before + 1
    account_id = r.json()["id"]
    token = client.post("/api/v1/auth/token", json={"username": "grid-7", "password": "a-good-password"}).json()[
        "access_token"
    ]
    worker = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/people", headers=worker).status_code == 200
    r = client.delete(f"/api/v1/accounts/{account_id}/roles/grid_worker", headers=admin)
    assert r.json()["roles"] == []
    # Revoked at once, with the same token.
    assert client.get("/api/v1/people", headers=worker).status_code == 403
    client.patch(f"/api/v1/accounts/{account_id}", json={"active": False}, headers=admin)
    assert client.get("/api/v1/me/account", headers=worker).status_code == 401
    assert client.get("/api/v1/accounts", headers=worker).status_code == 401
    audit = client.get("/api/v1/audit?action=account.", headers=admin).json()
    assert {r["action"] for r in audit["items"]} >= {"account.create", "account.revoke", "account.deactivate"}
    assert session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "signin")) == 1
