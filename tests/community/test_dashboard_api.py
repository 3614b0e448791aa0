"""The dashboard's JSON endpoints: figures, scope, bad input in the caller's language, audit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.models import AuditRecord
from tests.community.dashboard_fixtures import Community, community_world  # noqa: F401
from tests.factories import bearer, make_account


def _audits(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "community.building.read")
        )
        or 0
    )


def test_dashboard_json(client: TestClient, session: Session, cw: Community) -> None:
    staff = make_account(session, roles=["community_staff"], scope=cw.world.community)
    r = client.get("/api/v1/community-dashboard", headers=bearer(staff.id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["id"] == cw.world.community.id
    assert body["region"]["level_label"] == "Community"
    assert body["people"]["residents"] == 6
    assert body["people"]["pyramid"]["bands"][-1] == "100+"
    assert {g["tag"]: g["count"] for g in body["people"]["groups"]}["living_alone"] == 1
    features = body["places"]["geojson"]["features"]
    assert len(features) == 3
    assert all(f["geometry"]["type"] == "Polygon" and f["properties"]["height"] > 0 for f in features)
    assert body["cases"]["open"] == 3
    assert body["things"]["by_status"]["alarm"] == 1
    assert [p["part"] for p in body["situation"]] == ["access", "property", "commerce", "governance"]
    assert {c["name"] for c in body["children"]} == {"第一网格", "第二网格"}
    # Counts only: no resident's name anywhere in the dashboard.
    assert "张三" not in r.text
    assert "张*" not in r.text
    zh = client.get(
        "/api/v1/community-dashboard",
        params={"region_id": cw.world.grid1.id},
        headers={**bearer(staff.id), "Accept-Language": "zh-CN"},
    )
    assert zh.status_code == 200
    assert zh.json()["region"]["level_label"] == "网格"
    assert {g["tag"]: g["label"] for g in zh.json()["people"]["groups"]}["living_alone"] == "独居"


def test_scope_and_roles(client: TestClient, session: Session, cw: Community) -> None:
    w = cw.world
    other = make_account(session, roles=["community_staff"], scope=w.grid2)
    r = client.get("/api/v1/community-dashboard", params={"region_id": w.grid1.id}, headers=bearer(other.id))
    assert r.status_code == 404
    r = client.get(f"/api/v1/community-dashboard/buildings/{w.building.id}", headers=bearer(other.id))
    assert r.status_code == 404
    own = client.get("/api/v1/community-dashboard", headers=bearer(other.id))
    assert own.status_code == 200
    assert own.json()["people"]["residents"] == 3  # grid 2 only
    resident = make_account(session, roles=["resident"], scope=w.estate)
    assert client.get("/api/v1/community-dashboard", headers=bearer(resident.id)).status_code == 403
    merchant = make_account(session, roles=["merchant"], scope=w.grid1)
    refused = client.get(f"/api/v1/community-dashboard/buildings/{w.building.id}", headers=bearer(merchant.id))
    assert refused.status_code == 403
    assert _audits(session) == 0
    assert client.get("/api/v1/community-dashboard").status_code == 401


def test_bad_input(client: TestClient, session: Session, cw: Community) -> None:
    staff = make_account(session, roles=["community_staff"], scope=cw.world.community)
    zh = {**bearer(staff.id), "Accept-Language": "zh-CN"}
    r = client.get("/api/v1/community-dashboard", params={"region_id": "east"}, headers=zh)
    assert r.status_code == 422
    detail = r.json()["error"]["details"][0]
    assert detail["field"] == "region_id"
    assert detail["message"] == "必须是整数。"
    r = client.get("/api/v1/community-dashboard", params={"region_id": 0}, headers=bearer(staff.id))
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "region_id"
    assert client.get("/api/v1/community-dashboard", params={"region_id": 987654}, headers=zh).status_code == 404
    room = client.get(f"/api/v1/community-dashboard/buildings/{cw.world.room.id}", headers=zh)
    assert room.status_code == 404
    assert room.json()["error"]["message"] == "不是楼栋。"
    assert client.get("/api/v1/community-dashboard/buildings/x", headers=zh).status_code == 422
    assert _audits(session) == 0  # a refused drill-down leaves nothing behind


def test_building_drill_down(client: TestClient, session: Session, cw: Community) -> None:
    w = cw.world
    worker = make_account(session, roles=["grid_worker"], scope=w.grid1)
    r = client.get(f"/api/v1/community-dashboard/buildings/{w.building.id}", headers=bearer(worker.id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["names_shown"] is True
    rooms = body["units"][0]["rooms"]
    assert [p["name"] for p in rooms[0]["residents"]] == ["张*", "李*"]
    assert "张三" not in r.text
    assert "李四" not in r.text
    assert body["open_cases"] == 1
    observer = make_account(session, roles=["street_observer"], scope=w.street)
    seen = client.get(f"/api/v1/community-dashboard/buildings/{w.building.id}", headers=bearer(observer.id))
    assert seen.status_code == 200
    assert seen.json()["names_shown"] is False
    assert all(room["residents"] == [] for room in seen.json()["units"][0]["rooms"])
    assert [room["residents_count"] for room in seen.json()["units"][0]["rooms"]] == [2, 1]
    session.expire_all()
    rows = session.scalars(
        select(AuditRecord).where(AuditRecord.action == "community.building.read").order_by(AuditRecord.id)
    ).all()
    assert [row.account_id for row in rows] == [worker.id, observer.id]


def test_the_observer_cannot_write(client: TestClient, session: Session, cw: Community) -> None:
    observer = make_account(session, roles=["street_observer"], scope=cw.world.street)
    for method in ("post", "put", "patch", "delete"):
        r = client.request(method.upper(), "/api/v1/community-dashboard", headers=bearer(observer.id))
        assert r.status_code == 405
