"""Process definitions and the calendar through the API and the admin pages."""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.workflow.models import CalendarDay, ProcessDefinition
from tests.factories import World, bearer, make_account, make_world, session_cookie
from tests.workflow.test_engine import SPEC


@pytest.fixture
def world(session: Session) -> World:
    w = make_world(session)
    session.commit()
    return w


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0)


def test_definition_api(client: TestClient, session: Session, world: World) -> None:
    admin = bearer(make_account(session, roles=["admin"], scope=world.city).id)
    session.commit()
    r = client.post("/api/v1/processes", json=SPEC, headers=admin)
    assert r.status_code == 201
    assert r.json()["version"] == 1
    broken = deepcopy(SPEC)
    broken["states"]["orphan"] = {"title": "孤立"}
    bad = client.post("/api/v1/processes", json=broken, headers={**admin, "Accept-Language": "zh-CN"})
    assert bad.status_code == 422
    messages = [d["message"] for d in bad.json()["error"]["details"]]
    assert any("orphan" in m for m in messages)
    assert _count(session) == 1
    assert client.get("/api/v1/processes/test_event", headers=admin).json()["title"] == "测试事件"
    assert client.get("/api/v1/processes/nothing", headers=admin).status_code == 404
    worker = bearer(make_account(session, roles=["grid_worker"], scope=world.grid1).id)
    session.commit()
    assert client.post("/api/v1/processes", json=SPEC, headers=worker).status_code == 403


def test_calendar_api(client: TestClient, session: Session, world: World) -> None:
    admin = bearer(make_account(session, roles=["admin"], scope=world.city).id)
    session.commit()
    year = client.get("/api/v1/calendar/2031", headers=admin).json()
    assert (year["official"], year["exceptions"]) == (False, [])
    r = client.put("/api/v1/calendar/days/2031-10-01", json={"workday": False, "name": "国庆节"}, headers=admin)
    assert r.status_code == 200
    assert client.get("/api/v1/calendar/2031", headers=admin).json()["exceptions"][0]["name"] == "国庆节"
    # Back to the plain week: no longer an exception.
    assert client.put("/api/v1/calendar/days/2031-10-01", json={"workday": True}, headers=admin).status_code == 204
    assert session.get(CalendarDay, date(2031, 10, 1)) is None
    assert client.put("/api/v1/calendar/days/not-a-day", json={"workday": True}, headers=admin).status_code == 422
    assert client.put("/api/v1/calendar/days/1999-01-01", json={"workday": False}, headers=admin).status_code == 422


def test_pages(client: TestClient, session: Session, world: World) -> None:
    admin = make_account(session, roles=["admin"], scope=world.city)
    client.cookies.set("cityos_session", session_cookie(session, admin.id))
    assert "test_event" not in client.get("/admin/processes").text
    bad = client.post("/admin/processes", data={"spec": "{not json"})
    assert bad.status_code == 422
    assert 'data-testid="form-errors"' in bad.text
    broken = deepcopy(SPEC)
    broken["initial"] = "missing"
    assert client.post("/admin/processes", data={"spec": json.dumps(broken)}).status_code == 422
    assert _count(session) == 0
    ok = client.post("/admin/processes", data={"spec": json.dumps(SPEC, ensure_ascii=False)}, follow_redirects=False)
    assert ok.headers["location"] == "/admin/processes/test_event"
    page = client.get("/admin/processes/test_event")
    assert "会签" in page.text
    assert 'data-testid="states"' in page.text
    cal = client.get("/admin/calendar?year=2033")
    assert 'data-testid="no-official-data"' in cal.text
    assert (
        client.post(
            "/admin/calendar", data={"day": "2033-02-01", "workday": "0", "name": "春节"}, follow_redirects=False
        ).status_code
        == 303
    )
    assert "春节" in client.get("/admin/calendar?year=2033").text
    assert client.post("/admin/calendar", data={"day": "bad"}).status_code == 422
    worker = make_account(session, roles=["grid_worker"], scope=world.grid1)
    client.cookies.set("cityos_session", session_cookie(session, worker.id))
    assert client.get("/admin/processes").status_code == 403
