"""办件 over HTTP: status codes, field errors in the caller's language, masking, the whole path."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.services.applications.models import Application
from tests.factories import bearer
from tests.services.applications_fixtures import SINGLE_FORM, AppWorld, app_world  # noqa: F401


def test_resident_applies_and_departments_approve(client: TestClient, session: Session, aw: AppWorld) -> None:
    me = bearer(aw.resident_account_id)
    prefill = client.get("/api/v1/service-items/t-elderly/prefill", headers=me)
    assert prefill.status_code == 200, prefill.text
    body = prefill.json()
    assert body["values"]["id_number"].count("*") == 8  # masked even for oneself over the wire
    assert body["materials"][0]["proved"] is True
    assert body["credentials"][0]["kind_code"] == "id_card"
    draft = client.post("/api/v1/applications", json={"item_code": "t-elderly"}, headers=me)
    assert draft.status_code == 201, draft.text
    app_id = draft.json()["id"]
    refused = client.post(f"/api/v1/applications/{app_id}/submit", json={"consent": False}, headers=me)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "consent"
    done = client.post(f"/api/v1/applications/{app_id}/submit", json={"consent": True}, headers=me)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted"
    assert done.json()["zero_material"] is True
    assert "*" in done.json()["form"]["phone"]
    mzj = bearer(aw.mzj_staff.account_id)  # type: ignore[arg-type]
    jtj = bearer(aw.jtj_staff.account_id)  # type: ignore[arg-type]
    inbox = client.get("/api/v1/applications", params={"view": "inbox"}, headers=mzj)
    assert [a["id"] for a in inbox.json()["items"]] == [app_id]
    assert client.post(f"/api/v1/applications/{app_id}/actions/receive", json={}, headers=mzj).status_code == 200
    bad = client.post(f"/api/v1/applications/{app_id}/actions/dance", json={}, headers=mzj)
    assert bad.status_code == 422
    assert client.post(f"/api/v1/applications/{app_id}/actions/approve", json={}, headers=mzj).json()["status"] == (
        "approving"
    )
    final = client.post(f"/api/v1/applications/{app_id}/actions/approve", json={}, headers=jtj)
    assert final.json()["status"] == "approved"
    assert final.json()["result_credential_id"] is not None
    steps = client.get(f"/api/v1/applications/{app_id}/progress", headers=me).json()
    assert [s["key"] for s in steps] == ["applied", "submitted", "approving", "approved"]
    rating = client.post(f"/api/v1/applications/{app_id}/rating", json={"level": 5}, headers=me)
    assert rating.status_code == 201
    assert client.post(f"/api/v1/applications/{app_id}/rating", json={"level": 0}, headers=me).status_code == 422


def test_schema_errors_in_the_callers_language(client: TestClient, session: Session, aw: AppWorld) -> None:
    me = bearer(aw.resident_account_id)
    app_id = client.post("/api/v1/applications", json={"item_code": "t-single"}, headers=me).json()["id"]
    form = {**SINGLE_FORM, "household_size": "two", "kind": "c"}
    zh = client.post(
        f"/api/v1/applications/{app_id}/submit",
        json={"form": form, "consent": True},
        headers={**me, "Accept-Language": "zh-CN"},
    )
    assert zh.status_code == 422
    messages = {d["field"]: d["message"] for d in zh.json()["error"]["details"]}
    assert messages == {"household_size": "必须是整数。", "kind": "请从以下选项中选择：城市、农村。"}
    en = client.post(f"/api/v1/applications/{app_id}/submit", json={"form": form, "consent": True}, headers=me)
    assert {d["field"]: d["message"] for d in en.json()["error"]["details"]}["household_size"] == (
        "Must be a whole number."
    )
    assert client.get(f"/api/v1/applications/{app_id}", headers=me).json()["status"] == "draft"


def test_bad_input_on_every_write_route(client: TestClient, session: Session, aw: AppWorld) -> None:
    me = bearer(aw.resident_account_id)
    before = session.scalar(select(func.count()).select_from(Application))
    assert client.post("/api/v1/applications", json={"item_code": "nope"}, headers=me).status_code == 422
    assert client.post("/api/v1/applications", json={"item_code": "t-single", "x": 1}, headers=me).status_code == 422
    assert client.post("/api/v1/applications", json={}, headers=me).status_code == 422
    app_id = client.post("/api/v1/applications", json={"item_code": "t-single"}, headers=me).json()["id"]
    assert client.put(f"/api/v1/applications/{app_id}/form", json={"form": {"zzz": 1}}, headers=me).status_code == 422
    assert client.put(f"/api/v1/applications/{app_id}/form", json={"form": "x"}, headers=me).status_code == 422
    assert (
        client.post(f"/api/v1/applications/{app_id}/submit", json={"consent": "maybe"}, headers=me).status_code == 422
    )
    mzj = bearer(aw.mzj_staff.account_id)  # type: ignore[arg-type]
    client.post(f"/api/v1/applications/{app_id}/submit", json={"form": SINGLE_FORM}, headers=me)
    assert client.post(f"/api/v1/applications/{app_id}/supplement", json={"items": []}, headers=mzj).status_code == 422
    assert (
        client.post(
            f"/api/v1/applications/{app_id}/supplement", json={"items": [{"key": "x"}]}, headers=mzj
        ).status_code
        == 422
    )
    answer = client.post(f"/api/v1/applications/{app_id}/supplement-answer", json={"form": {}}, headers=me)
    assert answer.status_code == 409
    assert client.post(f"/api/v1/applications/{app_id}/rating", json={"level": 5}, headers=me).status_code == 409
    bundle = client.post("/api/v1/service-bundles/t-bundle/applications", json={"form": {}}, headers=me)
    assert bundle.status_code == 422
    assert client.post("/api/v1/service-bundles/nope/applications", json={}, headers=me).status_code == 422
    assert session.scalar(select(func.count()).select_from(Application)) == (before or 0) + 1


def test_bundle_over_http(client: TestClient, session: Session, aw: AppWorld) -> None:
    me = bearer(aw.resident_account_id)
    response = client.post(
        "/api/v1/service-bundles/t-bundle/applications",
        json={"form": {**SINGLE_FORM, "purpose": "套餐"}, "consent": True},
        headers=me,
    )
    assert response.status_code == 201, response.text
    assert [a["item_code"] for a in response.json()] == ["t-single", "t-instant"]
