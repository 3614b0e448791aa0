"""Case pages: report with a photo and a pin, role views, the case page's steps and rating."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.cases.models import Case, CaseAttachment
from cityos.people.models import Department, Responsibility
from cityos.places import index
from tests.factories import World, make_account, make_world, session_cookie

PNG = (  # a real 8×8 yellow PNG
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00Km)\xdc\x00\x00\x00\x12IDATx"
    b"\x9cc\xf8\x7f\x82\x01+\xc2.:h%\x00\xb2\x1cq\xc1K\x17\xec\xc0\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    dept = Department(code="a-gy", name="甲区公用设施局", region_id=w.district_a.id, region_path=w.district_a.path)
    session.add(dept)
    session.flush()
    session.add(
        Responsibility(
            department_id=dept.id,
            case_category="component.01",
            region_id=w.district_a.id,
            region_path=w.district_a.path,
        )
    )
    session.commit()
    yield w
    index.invalidate()


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def test_report_with_photo_then_follow_it(client: TestClient, session: Session, world: World) -> None:
    resident = make_account(session, roles=["resident"], scope=world.room)
    _as(client, session, resident.id)
    form = client.get("/cases/new")
    assert form.status_code == 200
    assert "路灯" in form.text
    bad = client.post("/cases/new", data={"category_code": "", "title": "", "lon": "east", "lat": "30.05"})
    assert bad.status_code == 422
    assert 'data-testid="form-errors"' in bad.text
    not_photo = client.post(
        "/cases/new",
        data={"category_code": "component.01.01", "title": "路灯不亮", "lon": "104.02", "lat": "30.05"},
        files={"photo": ("x.txt", b"hello", "text/plain")},
    )
    assert not_photo.status_code == 422
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    r = client.post(
        "/cases/new",
        data={"category_code": "component.01.01", "title": "路灯不亮", "lon": "104.02", "lat": "30.05"},
        files={"photo": ("light.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "甲区公用设施局" in page.text  # the suggested department
    attachment = session.scalars(select(CaseAttachment)).one()
    shown = client.get(f"/cases/photos/{attachment.id}")
    assert (shown.status_code, shown.content) == (200, PNG)
    mine = client.get("/cases")
    assert "路灯不亮" in mine.text
    # Someone else's resident account cannot see the case or its photo.
    other = make_account(session, roles=["resident"], scope=world.room2)
    _as(client, session, other.id)
    assert client.get(f"/cases/photos/{attachment.id}").status_code == 404
    assert client.get(r.headers["location"]).status_code == 404


def test_staff_steps_on_the_case_page(client: TestClient, session: Session, world: World) -> None:
    resident = make_account(session, roles=["resident"], scope=world.room)
    worker = make_account(session, roles=["grid_worker"], scope=world.grid1)
    dispatcher = make_account(session, roles=["dispatcher"], scope=world.district_a)
    session.commit()
    _as(client, session, resident.id)
    client.post(
        "/cases/new", data={"category_code": "component.01.01", "title": "路灯不亮", "lon": "104.02", "lat": "30.05"}
    )
    case = session.scalars(select(Case)).one()
    _as(client, session, worker.id)
    assert "路灯不亮" in client.get("/cases?view=tasks").text
    page = client.get(f"/cases/{case.id}")
    assert 'data-testid="act-accept"' in page.text
    client.post(f"/cases/{case.id}/act", data={"action": "accept"})
    _as(client, session, dispatcher.id)
    assert "路灯不亮" in client.get("/cases?view=queue").text
    client.post(f"/cases/{case.id}/act", data={"action": "file"})
    page = client.get(f"/cases/{case.id}")
    assert "★" in page.text  # the suggested department is preselected for dispatch
    client.post(f"/cases/{case.id}/act", data={"action": "dispatch"})
    session.refresh(case)
    assert case.status == "handling"
    refused = client.post(f"/cases/{case.id}/act", data={"action": "handle"})  # not the department's staff
    assert refused.status_code == 403


def test_case_list_shows_status_titles_and_local_times(client: TestClient, session: Session, world: World) -> None:
    from datetime import UTC, datetime

    resident = make_account(session, roles=["resident"], scope=world.room)
    _as(client, session, resident.id)
    r = client.post(
        "/cases/new",
        data={"category_code": "component.01.01", "title": "路灯不亮", "lon": "104.02", "lat": "30.05"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    case = session.scalars(select(Case)).one()
    case.created_at = datetime(2026, 12, 1, 10, 22, tzinfo=UTC)
    session.commit()
    html = client.get("/cases?view=mine", headers={"Accept-Language": "zh-CN"}).text
    status = re.search(r'<span class="case-status" data-state="([^"]+)">([^<]*)</span>', html)
    assert status is not None
    state, shown = status.groups()
    assert state == case.status
    assert shown != state  # the process's title (e.g. 发现), not the raw state name
    assert re.search(r"[\u4e00-\u9fff]", shown)
    # created at 10:22 UTC is 18:22 in the city (Asia/Shanghai)
    assert '<span data-testid="case-created">2026-12-01 18:22</span>' in html


def test_report_button_keeps_its_colours_among_the_view_pills(
    client: TestClient, session: Session, world: World
) -> None:
    resident = make_account(session, roles=["resident"], scope=world.room)
    _as(client, session, resident.id)
    html = client.get("/cases").text
    assert 'class="button" href="/cases/new"' in html
    # ".case-views a" paints pills white; the button inside must get its own background and text colour back
    rule = re.search(r"\.case-views a\.button\s*\{([^}]*)\}", html)
    assert rule is not None
    assert "background: var(--accent)" in rule.group(1)
    assert "color: var(--accent-fg)" in rule.group(1)
