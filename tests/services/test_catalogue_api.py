"""Catalogue API: status codes, permissions, bad input with field errors, import/export, local sites."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.services.catalogue.models import LocalSite, ServiceItem
from tests.factories import bearer, make_account, make_world
from tests.services.catalogue_fixtures import install, item_record


def _setup(session: Session) -> tuple[dict[str, str], dict[str, str], object]:
    install(session)
    world = make_world(session)
    admin = make_account(session, roles=["admin"], scope=world.city)
    resident = make_account(session, roles=["resident"], scope=world.room)
    session.commit()
    return bearer(admin.id), bearer(resident.id), world


def _fields(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_reading_the_catalogue(client: TestClient, session: Session) -> None:
    admin, resident, world = _setup(session)
    assert client.get("/api/v1/service-items").status_code == 401
    listed = client.get("/api/v1/service-items", headers=resident)
    assert listed.status_code == 200
    assert len(listed.json()) == 33
    business = client.get("/api/v1/service-items", params={"audience": "business", "q": "许可"}, headers=resident)
    assert {i["code"] for i in business.json()} >= {"scjgj-002", "cgj-001"}
    assert client.get("/api/v1/service-items", params={"audience": "alien"}, headers=resident).status_code == 422
    assert client.get("/api/v1/service-items", params={"region_id": 999999}, headers=resident).status_code == 422
    one = client.get("/api/v1/service-items/mzj-002", headers=resident)
    assert one.status_code == 200
    assert one.json()["department_kinds"] == ["mzj", "jtj"]
    assert client.get("/api/v1/service-items/nope-1", headers=resident).status_code == 404
    bundles = client.get("/api/v1/service-bundles", headers=resident).json()
    assert [b["code"] for b in bundles] == ["newborn", "business", "elderly"]
    newborn = client.get("/api/v1/service-bundles/newborn", headers=resident).json()
    assert [i["code"] for i in newborn["items"]] == ["gaj-001", "ybj-001", "wjw-002"]
    assert client.get("/api/v1/service-bundles/nope", headers=resident).status_code == 404


def test_writing_items(client: TestClient, session: Session) -> None:
    admin, resident, world = _setup(session)
    record = item_record("mzj-990")
    assert client.post("/api/v1/service-items", json=record, headers=resident).status_code == 403
    created = client.post("/api/v1/service-items", json=record, headers=admin)
    assert created.status_code == 201, created.text
    assert client.post("/api/v1/service-items", json=record, headers=admin).status_code == 409
    bad = client.post(
        "/api/v1/service-items",
        json=item_record("mzj-991", form_schema={"type": 5}, promised_days=400, channels=[]),
        headers=admin,
    )
    assert bad.status_code == 422
    assert set(_fields(bad)) == {"promised_days", "channels"}  # the types first; then the meaning
    meaning = client.post("/api/v1/service-items", json=item_record("mzj-991", form_schema={"type": 5}), headers=admin)
    assert meaning.status_code == 422
    assert _fields(meaning)["form_schema"].startswith("Not a valid JSON Schema")
    zh = client.post(
        "/api/v1/service-items",
        json=item_record("mzj-991", form_schema={"type": 5}),
        headers={**admin, "Accept-Language": "zh-CN"},
    )
    assert _fields(zh)["form_schema"].startswith("不是有效的 JSON Schema")
    record["name"] = "改名"
    assert client.put("/api/v1/service-items/mzj-990", json=record, headers=admin).json()["name"] == "改名"
    assert client.put("/api/v1/service-items/mzj-990", json=item_record("mzj-992"), headers=admin).status_code == 422
    assert client.put("/api/v1/service-items/mzj-999", json=item_record("mzj-999"), headers=admin).status_code == 404
    assert session.scalar(select(func.count()).select_from(ServiceItem).where(ServiceItem.code == "mzj-991")) == 0


def test_writing_bundles(client: TestClient, session: Session) -> None:
    admin, resident, world = _setup(session)
    body = {"code": "moving", "name": "迁居一件事", "item_codes": ["gaj-003", "jyj-001"]}
    assert client.post("/api/v1/service-bundles", json=body, headers=resident).status_code == 403
    assert client.post("/api/v1/service-bundles", json=body, headers=admin).status_code == 201
    bad = client.post("/api/v1/service-bundles", json={**body, "code": "x", "item_codes": ["gaj-003"]}, headers=admin)
    assert set(_fields(bad)) == {"item_codes"}
    assert client.put("/api/v1/service-bundles/moving", json={**body, "name": "搬家"}, headers=admin).status_code == 200


def test_export_and_import(client: TestClient, session: Session) -> None:
    admin, resident, world = _setup(session)
    exported = client.get("/api/v1/service-items/export", params={"format": "csv"}, headers=resident)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    as_json = client.get("/api/v1/service-items/export", headers=resident)
    assert len(as_json.json()["items"]) == 33
    assert client.get("/api/v1/service-items/export", params={"format": "xml"}, headers=resident).status_code == 422
    rows = [item_record("mzj-993"), item_record("mzj-994", materials=[{"key": "k", "title": "t"}])]
    assert client.post("/api/v1/service-items/import", content=json.dumps(rows), headers=resident).status_code == 403
    refused = client.post("/api/v1/service-items/import", content=json.dumps(rows), headers=admin)
    assert refused.status_code == 422
    assert list(_fields(refused)) == ["items.2.materials.0"]
    assert session.scalar(select(func.count()).select_from(ServiceItem).where(ServiceItem.code == "mzj-993")) == 0
    done = client.post("/api/v1/service-items/import", content=json.dumps(rows[:1]), headers=admin)
    assert done.json() == {"written": 1}
    csv_body = exported.content
    again = client.post("/api/v1/service-items/import", params={"format": "csv"}, content=csv_body, headers=admin)
    assert again.status_code == 200


def test_local_sites(client: TestClient, session: Session) -> None:
    admin, resident, world = _setup(session)
    district = world.district_a.id  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/local-sites/{district}", headers=resident).status_code == 404
    body = {
        "site_name": "甲区政务服务",
        "theme_color": "#006644",
        "banner": "甲区欢迎您",
        "hidden_item_codes": ["zjj-001"],
    }
    assert client.put(f"/api/v1/local-sites/{district}", json=body, headers=resident).status_code == 403
    saved = client.put(f"/api/v1/local-sites/{district}", json=body, headers=admin)
    assert saved.status_code == 200
    room = world.room.id  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/local-sites/{room}", headers=resident).json()["site_name"] == "甲区政务服务"
    codes = {
        i["code"] for i in client.get("/api/v1/service-items", params={"region_id": room}, headers=resident).json()
    }
    assert "zjj-001" not in codes
    bad = client.put(
        f"/api/v1/local-sites/{district}", json={**body, "theme_color": "red", "site_name": ""}, headers=admin
    )
    assert set(_fields(bad)) == {"theme_color", "site_name"}
    street = client.put(f"/api/v1/local-sites/{world.street.id}", json=body, headers=admin)  # type: ignore[attr-defined]
    assert set(_fields(street)) == {"region_id"}
    assert client.put("/api/v1/local-sites/999999", json=body, headers=admin).status_code == 404
    assert session.scalar(select(func.count()).select_from(LocalSite)) == 1
