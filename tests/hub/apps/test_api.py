"""The open-platform API: the developer's journey over JSON, the reviewer's decisions, field
errors in the caller's language with nothing written, permissions, the catalogue, and a client
that gets a token with only its granted scopes and loses it when suspended."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.hub.apps.models import LightApp
from tests.factories import bearer
from tests.hub.apps.fixtures import AppWorld

ZH = {"Accept-Language": "zh-CN"}
GOOD = {
    "name": "停车助手",
    "category": "mobility",
    "entry_url": "https://parking.example.org/app",
    "requested_scopes": ["hub:read", "region:read"],
}


def _fields(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def _token(client: TestClient, client_id: str, secret: str, scope: str | None = None):  # type: ignore[no-untyped-def]
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope:
        data["scope"] = scope
    return client.post("/api/v1/oauth/token", data=data)


def test_developer_and_reviewer_journey(client: TestClient, session: Session, aw: AppWorld) -> None:
    dev, rev = bearer(aw.dev.account_id), bearer(aw.reviewer.account_id)  # type: ignore[arg-type]
    bad = client.post(
        "/api/v1/apps",
        json={**GOOD, "name": "", "category": "games", "entry_url": "ftp://x", "requested_scopes": ["pii:read"]},
        headers={**dev, **ZH},
    )
    assert bad.status_code == 422
    assert set(_fields(bad)) == {"name", "category", "entry_url", "requested_scopes"}
    assert _fields(bad)["entry_url"] == "请输入以 http:// 或 https:// 开头、不超过 512 个字符的地址。"
    assert client.post("/api/v1/apps", json={"name": "x"}, headers=dev).status_code == 422
    assert client.post("/api/v1/apps", json={**GOOD, "extra": 1}, headers=dev).status_code == 422
    assert session.scalar(select(func.count()).select_from(LightApp)) == 0
    assert client.post("/api/v1/apps", json=GOOD, headers=bearer(aw.resident.account_id)).status_code == 403  # type: ignore[arg-type]

    made = client.post("/api/v1/apps", json=GOOD, headers=dev)
    assert made.status_code == 201, made.text
    app_id = made.json()["id"]
    assert made.json()["status"] == "draft"
    assert made.json()["client_id"] is None
    assert [a["id"] for a in client.get("/api/v1/apps", headers=dev).json()] == [app_id]
    assert client.get(f"/api/v1/apps/{app_id}", headers=bearer(aw.dev2.account_id)).status_code == 404  # type: ignore[arg-type]
    patched = client.patch(f"/api/v1/apps/{app_id}", json={"description": "找车位"}, headers=dev)
    assert patched.json()["description"] == "找车位"
    assert client.patch(f"/api/v1/apps/{app_id}", json={"homepage_url": "x"}, headers=dev).status_code == 422
    icon = client.put(
        f"/api/v1/apps/{app_id}/icon", content=b"<svg/>", headers={**dev, "Content-Type": "image/svg+xml"}
    )
    assert icon.status_code == 422
    assert set(_fields(icon)) == {"icon"}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 10
    uploaded = client.put(f"/api/v1/apps/{app_id}/icon", content=png, headers={**dev, "Content-Type": "image/png"})
    assert uploaded.json()["has_icon"]
    assert client.put(f"/api/v1/apps/{app_id}/icon", content=png, headers=bearer(aw.dev2.account_id)).status_code == 404  # type: ignore[arg-type]
    assert client.get(f"/api/v1/apps/{app_id}/icon", headers=dev).content == png
    assert client.post(f"/api/v1/apps/{app_id}/submit", headers=dev).json()["status"] == "submitted"
    assert client.post(f"/api/v1/apps/{app_id}/submit", headers=dev).status_code == 409

    assert client.get("/api/v1/apps/review", headers=dev).status_code == 403
    queue = client.get("/api/v1/apps/review?status=submitted", headers=rev).json()
    assert [a["id"] for a in queue] == [app_id]
    refused = client.post(
        f"/api/v1/apps/review/{app_id}/approve",
        json={"scopes": ["pii:read"], "region_id": 0, "rate_limit": 0},
        headers={**rev, **ZH},
    )
    assert refused.status_code == 422
    assert set(_fields(refused)) == {"scopes", "region_id", "rate_limit"}
    ok = client.post(
        f"/api/v1/apps/review/{app_id}/approve",
        json={"scopes": ["hub:read"], "region_id": aw.world.district_a.id, "rate_limit": 100},
        headers=rev,
    )
    assert ok.status_code == 200, ok.text
    assert "client_secret" not in ok.text  # the reviewer never sees it
    assert client.post(f"/api/v1/apps/{app_id}/keys", headers=rev).status_code == 404
    collected = client.post(f"/api/v1/apps/{app_id}/keys", headers=dev)
    assert collected.status_code == 200
    assert client.post(f"/api/v1/apps/{app_id}/keys", headers=dev).status_code == 409
    keys = collected.json()
    assert keys["app"]["status"] == "approved"
    assert keys["app"]["granted_scopes"] == ["hub:read"]
    assert keys["client_id"].startswith("app-")
    assert len(keys["client_secret"]) > 20
    assert "client_secret" not in client.get(f"/api/v1/apps/{app_id}", headers=dev).text

    assert _token(client, keys["client_id"], keys["client_secret"], "region:read").json() == {"error": "invalid_scope"}
    token = _token(client, keys["client_id"], keys["client_secret"])
    assert token.status_code == 200
    assert token.json()["scope"] == "hub:read"
    app_auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = client.get("/api/v1/me/account", headers=app_auth)
    assert me.status_code == 200, me.text
    assert client.post("/api/v1/apps", json=GOOD, headers=app_auth).status_code == 403

    catalogue = client.get("/api/v1/apps/catalogue", headers=bearer(aw.resident.account_id))  # type: ignore[arg-type]
    assert [(e["id"], e["icon_url"], e["category_title"]) for e in catalogue.json()] == [
        (app_id, f"/api/v1/apps/{app_id}/icon", "Getting around")
    ]
    assert client.get("/api/v1/apps/catalogue").status_code == 401

    assert client.post(f"/api/v1/apps/review/{app_id}/suspend", json={"reason": ""}, headers=rev).status_code == 422
    assert client.post(f"/api/v1/apps/review/{app_id}/suspend", json={"reason": "滥用"}, headers=rev).status_code == 200
    assert client.get("/api/v1/me/account", headers=app_auth).status_code == 401  # the issued token stops too
    assert _token(client, keys["client_id"], keys["client_secret"]).status_code == 401
    assert client.post(f"/api/v1/apps/review/{app_id}/resume", headers=rev).json()["status"] == "approved"
    assert client.get("/api/v1/me/account", headers=app_auth).status_code == 200

    rotated = client.post(f"/api/v1/apps/{app_id}/secret", headers=dev)
    assert rotated.status_code == 200
    assert _token(client, keys["client_id"], keys["client_secret"]).status_code == 401
    assert _token(client, keys["client_id"], rotated.json()["client_secret"]).status_code == 200
    assert (
        client.put(f"/api/v1/apps/review/{app_id}/rate-limit", json={"rate_limit": -1}, headers=rev).status_code == 422
    )
    assert (
        client.put(f"/api/v1/apps/review/{app_id}/rate-limit", json={"rate_limit": 9}, headers=rev).json()["rate_limit"]
        == 9
    )


def test_rejection_over_json(client: TestClient, aw: AppWorld) -> None:
    dev, rev = bearer(aw.dev.account_id), bearer(aw.reviewer.account_id)  # type: ignore[arg-type]
    app_id = client.post("/api/v1/apps", json=GOOD, headers=dev).json()["id"]
    assert client.post(f"/api/v1/apps/review/{app_id}/reject", json={"reason": "x"}, headers=rev).status_code == 409
    client.post(f"/api/v1/apps/{app_id}/submit", headers=dev)
    assert client.post(f"/api/v1/apps/review/{app_id}/reject", json={}, headers=rev).status_code == 422
    far = bearer(aw.far_reviewer.account_id)  # type: ignore[arg-type]
    assert client.post(f"/api/v1/apps/review/{app_id}/reject", json={"reason": "x"}, headers=far).status_code == 404
    rejected = client.post(f"/api/v1/apps/review/{app_id}/reject", json={"reason": "缺少隐私政策"}, headers=rev)
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["review_note"] == "缺少隐私政策"
    assert client.post(f"/api/v1/apps/{app_id}/secret", headers=dev).status_code == 409
    topics = client.get("/api/v1/apps/topics", headers={**dev, **ZH}).json()
    assert {t["topic"] for t in topics} == {
        "cases.reported",
        "devices.alarm",
        "hub.device_observed",
        "hub.traffic_observed",
        "mobility.guidance",
    }
