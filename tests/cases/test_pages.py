"""Case pages: report with a photo and a pin, role views, the case page's steps and rating."""

from __future__ import annotations

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
