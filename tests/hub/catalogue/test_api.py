"""The JSON API: publish with field errors in the caller's language, request → approve → read,
a masked field never leaks (records, export, errors, search), refuse, revoke, usage, read log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import bearer
from tests.hub.catalogue.fixtures import CSV, FIELDS, SECRETS, Cat, cat

__all__ = ["cat"]


def _h(c: Cat, key: str) -> dict[str, str]:
    return bearer(c.accounts[key].id)


def _publish(client: TestClient, c: Cat, **extra: object) -> dict:
    body = {
        "code": "elderly",
        "name": "独居老人名册",
        "access_class": "shared",
        "kind": "file",
        "fields": FIELDS,
        "tags": ["养老"],
        "file_text": CSV,
        "file_name": "elderly.csv",
        **extra,
    }
    response = client.post("/api/v1/datasets", json=body, headers=_h(c, "officer"))
    assert response.status_code == 201, response.text
    return response.json()


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_publish_and_bad_input(client: TestClient, session: Session, cat: Cat) -> None:
    bad = client.post(
        "/api/v1/datasets",
        json={"code": "X Y", "name": "", "kind": "file", "fields": [{"name": "a", "type": "blob"}], "file_text": CSV},
        headers={**_h(cat, "officer"), "Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert {"code", "name", "fields.0.type"} <= fields
    assert any("字母" in d["message"] for d in bad.json()["error"]["details"])  # Chinese messages
    created = _publish(client, cat)
    assert created["file_rows"] == 3
    again = client.post(
        "/api/v1/datasets", json={"code": "elderly", "name": "x", "source": "cases"}, headers=_h(cat, "officer")
    )
    assert again.status_code == 409
    cells = client.post(
        "/api/v1/datasets",
        json={
            "code": "bad.cells",
            "name": "x",
            "kind": "file",
            "fields": FIELDS,
            "file_text": CSV.replace(",3\n", ",三\n"),
        },
        headers=_h(cat, "officer"),
    )
    assert cells.status_code == 422
    assert "Row 1" in cells.text
    assert not _leaks(cells.text)
    assert (
        client.post("/api/v1/datasets", json={"code": "x1", "name": "x"}, headers=_h(cat, "staff")).status_code == 403
    )
    patched = client.patch("/api/v1/datasets/elderly", json={"description": "新说明"}, headers=_h(cat, "officer"))
    assert patched.status_code == 200
    assert patched.json()["description"] == "新说明"
    assert (
        client.patch("/api/v1/datasets/elderly", json={"frequency": "x"}, headers=_h(cat, "officer")).status_code == 422
    )
    assert client.patch("/api/v1/datasets/elderly", json={"name": "改"}, headers=_h(cat, "staff")).status_code == 403
    found = client.get("/api/v1/datasets", params={"q": "老人"}, headers=_h(cat, "staff"))
    assert found.json()["total"] == 1
    assert not _leaks(found.text)
    replaced = client.put(
        "/api/v1/datasets/elderly/file",
        params={"name": "v2.csv"},
        content=CSV.encode(),
        headers=_h(cat, "officer"),
    )
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    empty = client.put("/api/v1/datasets/elderly/file", content=b"", headers=_h(cat, "officer"))
    assert empty.status_code == 422


def test_request_approve_read_and_no_leak(client: TestClient, session: Session, cat: Cat) -> None:
    _publish(client, cat)
    staff = _h(cat, "staff")
    refused = client.get("/api/v1/datasets/elderly/records", headers=staff)
    assert refused.status_code == 403
    assert not _leaks(refused.text)
    bad = client.post("/api/v1/datasets/elderly/requests", json={"purpose": "x", "days": 999}, headers=staff)
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"purpose", "days"}
    made = client.post(
        "/api/v1/datasets/elderly/requests",
        json={"purpose": "民政探访核对", "fields": ["name", "phone", "street"], "days": 30},
        headers=staff,
    )
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    assert made.json()["state_due_at"] is not None
    todo = client.get("/api/v1/data-requests", params={"box": "todo"}, headers=_h(cat, "officer"))
    assert [r["id"] for r in todo.json()["items"]] == [request_id]
    mine = client.get("/api/v1/data-requests", params={"box": "mine"}, headers=staff)
    assert [r["dataset_code"] for r in mine.json()["items"]] == ["elderly"]
    bad_approve = client.post(
        f"/api/v1/data-requests/{request_id}/approve", json={"fields": ["lat"]}, headers=_h(cat, "officer")
    )
    assert bad_approve.status_code == 422
    assert client.post(f"/api/v1/data-requests/{request_id}/approve", json={}, headers=staff).status_code == 403
    ok = client.post(
        f"/api/v1/data-requests/{request_id}/approve",
        json={"fields": ["name", "phone", "street"], "masked": ["name", "phone"]},
        headers=_h(cat, "officer"),
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "granted"
    page = client.get("/api/v1/datasets/elderly/records", params={"limit": 2}, headers=staff)
    assert page.status_code == 200
    body = page.json()
    assert body["fields"] == ["name", "phone", "street"]
    assert body["masked"] == ["name", "phone"]
    assert body["items"][0] == {"name": "张*", "phone": "138****0001", "street": "一街道"}
    assert body["total"] == 3
    assert not _leaks(page.text)
    assert client.get("/api/v1/datasets/elderly/records", params={"limit": 0}, headers=staff).status_code == 422
    export = client.get("/api/v1/datasets/elderly/export", headers=staff)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "张*" in export.text
    assert not _leaks(export.text)
    usage = client.get("/api/v1/datasets/elderly/usage", headers=staff).json()
    assert (usage["reads"], usage["rows"], usage["departments"]) == (2, 5, 1)
    top = client.get("/api/v1/data-usage/top", headers=staff).json()
    assert top[0]["day"] == "elderly"
    grants_list = client.get("/api/v1/data-grants", params={"box": "held"}, headers=staff).json()["items"]
    assert len(grants_list) == 1
    grant_id = grants_list[0]["id"]
    assert (
        client.post(
            f"/api/v1/data-grants/{grant_id}/revoke", json={"reason": ""}, headers=_h(cat, "officer")
        ).status_code
        == 422
    )
    revoked = client.post(f"/api/v1/data-grants/{grant_id}/revoke", json={"reason": "结束"}, headers=_h(cat, "officer"))
    assert revoked.status_code == 200
    assert client.get("/api/v1/datasets/elderly/records", headers=staff).status_code == 403
    log = client.get("/api/v1/data-readlog", headers=_h(cat, "officer")).json()
    assert [e["channel"] for e in log["items"]] == ["export", "records"]
    assert client.get("/api/v1/data-readlog", headers=staff).status_code == 403
    verified = client.get("/api/v1/data-readlog/verify", headers=_h(cat, "admin")).json()
    assert verified["ok"] is True
    assert verified["checked"] == 2


def test_refuse_through_the_api(client: TestClient, session: Session, cat: Cat) -> None:
    _publish(client, cat)
    made = client.post(
        "/api/v1/datasets/elderly/requests", json={"purpose": "民政探访核对", "days": 30}, headers=_h(cat, "staff")
    )
    request_id = made.json()["id"]
    assert (
        client.post(
            f"/api/v1/data-requests/{request_id}/refuse", json={"reason": " "}, headers=_h(cat, "officer")
        ).status_code
        == 422
    )
    done = client.post(
        f"/api/v1/data-requests/{request_id}/refuse", json={"reason": "用途不明确"}, headers=_h(cat, "officer")
    )
    assert done.status_code == 200
    assert done.json()["status"] == "refused"
    assert done.json()["reason"] == "用途不明确"
    assert client.get(f"/api/v1/data-requests/{request_id}", headers=_h(cat, "staff")).json()["status"] == "refused"
    assert client.post(f"/api/v1/data-requests/{request_id}/cancel", headers=_h(cat, "staff")).status_code == 409
    assert client.get("/api/v1/datasets/elderly/records", headers=_h(cat, "staff")).status_code == 403
    withdrawn = client.post("/api/v1/datasets/elderly/withdraw", headers=_h(cat, "officer"))
    assert withdrawn.json()["status"] == "withdrawn"
    assert client.get("/api/v1/datasets/elderly", headers=_h(cat, "staff")).status_code == 404


def test_an_app_reads_open_data_only_and_is_logged(client: TestClient, session: Session, cat: Cat) -> None:
    from datetime import timedelta

    from cityos.hub.catalogue import service as catalogue
    from cityos.identity import tokens
    from cityos.identity.models import OAuthClient

    catalogue.create_dataset(
        session, cat.officer, code="open.orgs", name="组织", kind="table", source="people.orgs", access_class="open"
    )
    _publish(client, cat)
    session.add(
        OAuthClient(
            client_id="cat-app",
            secret_hash="unused",
            name="应用",
            scopes=["dataset:read"],
            scope_region_id=cat.world.city.id,
            scope_path=cat.world.city.path,
            active=True,
        )
    )
    session.commit()
    token, _ = tokens.issue("client", "cat-app", timedelta(minutes=5), scope="dataset:read")
    app = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/datasets/open.orgs/records", headers=app).status_code == 200
    refused = client.get("/api/v1/datasets/elderly/records", headers=app)
    assert refused.status_code == 403
    assert not _leaks(refused.text)
    log = client.get("/api/v1/data-readlog", headers=_h(cat, "admin")).json()["items"]
    assert [(e["client_id"], e["dataset_code"], e["grant_id"]) for e in log] == [("cat-app", "open.orgs", None)]
