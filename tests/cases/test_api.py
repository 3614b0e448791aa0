"""Cases API: report, act, timeline, rating; field-level 422s; nothing stored on bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.cases.models import Case
from cityos.people.models import Department, Responsibility
from cityos.places import index
from tests.factories import World, bearer, make_account, make_world


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    session.commit()
    yield w
    index.invalidate()


def test_report_and_follow_a_case(client: TestClient, session: Session, world: World) -> None:
    dept = Department(
        code="a-gy", name="甲区公用设施局", region_id=world.district_a.id, region_path=world.district_a.path
    )
    session.add(dept)
    session.flush()
    session.add(
        Responsibility(
            department_id=dept.id,
            case_category="component.01",
            region_id=world.district_a.id,
            region_path=world.district_a.path,
        )
    )
    resident = bearer(make_account(session, roles=["resident"], scope=world.room).id)
    worker = bearer(make_account(session, roles=["grid_worker"], scope=world.grid1).id)
    dispatcher = bearer(make_account(session, roles=["dispatcher"], scope=world.district_a).id)
    session.commit()

    categories = client.get("/api/v1/case-categories", headers=resident).json()
    assert {"code": "component.01.01", "name": "路灯", "parent_code": "component.01", "level": 3} in categories
    r = client.post(
        "/api/v1/cases",
        json={"category_code": "component.01.01", "title": "路灯不亮", "lon": 104.02, "lat": 30.05},
        headers=resident,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["status"], case["routing"]["department_id"]) == ("found", dept.id)
    assert (
        client.post(f"/api/v1/cases/{case['id']}/actions/accept", json={}, headers=worker).json()["status"]
        == "reported"
    )
    client.post(f"/api/v1/cases/{case['id']}/actions/file", json={}, headers=dispatcher)
    r = client.post(f"/api/v1/cases/{case['id']}/actions/dispatch", json={}, headers=dispatcher)
    assert (r.json()["status"], r.json()["department_id"]) == ("handling", dept.id)
    bad = client.post(f"/api/v1/cases/{case['id']}/actions/close", json={}, headers=dispatcher)
    assert bad.status_code == 409
    timeline = client.get(f"/api/v1/cases/{case['id']}/timeline", headers=resident).json()
    assert [t["action"] for t in timeline] == ["start", "accept", "file", "dispatch"]
    assert client.get("/api/v1/cases", headers=resident).json()["total"] == 1
    assert client.post(f"/api/v1/cases/{case['id']}/rating", json={"level": 5}, headers=resident).status_code == 409


def test_bad_reports(client: TestClient, session: Session, world: World) -> None:
    resident = bearer(make_account(session, roles=["resident"], scope=world.room).id)
    session.commit()
    r = client.post(
        "/api/v1/cases", json={"category_code": "nope", "title": "", "lon": 104.02, "lat": 30.05}, headers=resident
    )
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["error"]["details"]} == {"category_code", "title"}
    r = client.post(
        "/api/v1/cases", json={"category_code": "event.01.01", "title": "x", "urgency": "now"}, headers=resident
    )
    assert r.status_code == 422
    assert client.post("/api/v1/cases", json={"title": "x"}).status_code == 401
    assert session.scalar(select(func.count()).select_from(Case)) == 0
