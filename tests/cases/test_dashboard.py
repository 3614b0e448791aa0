"""The command dashboard's KPIs, breakdowns, map points and attention lists."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.cases import dashboard, processes
from cityos.cases import service as cases
from cityos.people.models import Department, Responsibility
from cityos.places import index
from tests.factories import World, bearer, make_account, make_actor, make_world, session_cookie

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    dept = Department(code="a-cg", name="甲区城市管理局", region_id=w.district_a.id, region_path=w.district_a.path)
    session.add(dept)
    session.flush()
    session.add(
        Responsibility(
            department_id=dept.id, case_category="event.01", region_id=w.district_a.id, region_path=w.district_a.path
        )
    )
    session.commit()
    yield w
    index.invalidate()


def _lifecycle(session: Session, world: World) -> dict[str, object]:
    resident = make_actor(session, roles=["resident"], scope=world.room)
    worker = make_actor(session, roles=["grid_worker"], scope=world.community)
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    dept_id = session.query(Department.id).filter_by(code="a-cg").scalar()
    staff = make_actor(session, roles=["department_staff"], scope=world.district_a, department_id=dept_id)
    now = datetime.now(CST)

    def report(lon: float, title: str) -> int:
        return cases.report(
            session, resident, category_code="event.01.01", title=title, channel="resident", lon=lon, lat=30.05
        ).id

    def run(case_id: int, *steps: tuple[object, str, str | None]) -> None:
        for who, action, comment in steps:
            cases.act(session, who, case_id=case_id, action=action, comment=comment)  # type: ignore[arg-type]

    good = report(104.02, "已办好")  # grid 1: closed on time, rated 5
    rework = report(104.021, "返工的")  # grid 1: checked once, failed, closed, rated 1
    waiting = report(104.07, "还没人管")  # grid 2: nobody has acted
    common = (
        (worker, "accept", None),
        (dispatcher, "file", None),
        (dispatcher, "dispatch", None),
        (staff, "handle", "处理"),
    )
    run(good, *common, (worker, "check_pass", None), (dispatcher, "close", None))
    run(
        rework,
        *common,
        (worker, "check_fail", "没扫干净"),
        (staff, "handle", "再处理"),
        (worker, "check_pass", None),
        (dispatcher, "close", None),
    )
    cases.rate(session, resident, case_id=good, level=5)
    cases.rate(session, resident, case_id=rework, level=1)
    return {"good": good, "rework": rework, "waiting": waiting, "now": now, "dept": dept_id}


def test_kpis_and_breakdowns(session: Session, world: World) -> None:
    ids = _lifecycle(session, world)
    commander = make_actor(session, roles=["commander"], scope=world.city)
    region, k = dashboard.kpis(session, commander, region_id=world.community.id)
    assert region.id == world.community.id
    assert (k.total, k.responded, k.closed, k.on_time, k.reworked, k.rated, k.satisfied, k.open) == (
        3,
        2,
        2,
        2,
        1,
        2,
        1,
        1,
    )
    assert (k.response_rate, k.closure_rate, k.on_time_rate, k.rework_rate, k.satisfaction_rate) == (
        66.7,
        66.7,
        100.0,
        50.0,
        50.0,
    )
    parts = {r.name: kp.total for r, kp in dashboard.by_part(session, commander, region_id=world.community.id)}
    assert parts == {"第一网格": 2, "第二网格": 1}
    ((dept, dk),) = dashboard.by_department(session, commander, region_id=world.city.id)
    assert (dept.id, dk.total) == (ids["dept"], 2)
    points = dashboard.open_points(session, commander, region_id=world.city.id)
    assert [f["properties"]["id"] for f in points["features"]] == [ids["waiting"]]
    later = dashboard.kpis(
        session, commander, region_id=world.community.id, since=datetime.now(CST) + timedelta(days=1)
    )[1]
    assert later.total == 0
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    assert dashboard.kpis(session, worker)[1].total == 2  # their own grid


def test_dashboard_api_and_page(client: TestClient, session: Session, world: World) -> None:
    _lifecycle(session, world)
    commander = make_account(session, roles=["commander"], scope=world.city)
    session.commit()
    body = client.get(f"/api/v1/case-dashboard?region_id={world.community.id}", headers=bearer(commander.id)).json()
    assert body["kpis"]["total"] == 3
    assert {p["name"] for p in body["parts"]} == {"第一网格", "第二网格"}
    assert client.get("/api/v1/case-dashboard?since=last-week", headers=bearer(commander.id)).status_code == 422
    # A plain date is the city's local day; the cases of the test were all reported before tomorrow.
    tomorrow = (datetime.now(CST) + timedelta(days=1)).date().isoformat()
    later = client.get(
        f"/api/v1/case-dashboard?region_id={world.community.id}&since={tomorrow}", headers=bearer(commander.id)
    )
    assert (later.status_code, later.json()["kpis"]["total"]) == (200, 0)
    geo = client.get(f"/api/v1/case-map?region_id={world.city.id}", headers=bearer(commander.id))
    assert geo.headers["content-type"].startswith("application/geo+json")
    client.cookies.set("cityos_session", session_cookie(session, commander.id))
    page = client.get("/command")
    assert page.status_code == 200
    assert 'data-kpi="total">3<' in page.text
    resident = make_account(session, roles=["resident"], scope=world.room)
    client.cookies.set("cityos_session", session_cookie(session, resident.id))
    assert client.get("/command").status_code == 403
