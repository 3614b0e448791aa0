"""Cases found by machines: device alarms from the bus, AI video detections through the webhook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.cases.events import DeviceAlarm
from cityos.cases.models import Case
from cityos.core import bus
from cityos.core.actor import SYSTEM
from cityos.core.errors import NotFound
from cityos.core.runtime import Runtime
from cityos.identity import accounts, tokens
from cityos.identity.deps import actor_for_account
from cityos.places import index
from cityos.registry import subscribe_all
from tests.factories import World, bearer, make_account, make_world


@pytest.fixture
def world(session: Session, runtime: Runtime) -> Iterator[World]:
    subscribe_all(runtime.bus)
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    session.commit()
    yield w
    index.invalidate()


def test_device_alarm_becomes_a_case_once(session: Session, world: World) -> None:
    alarm = DeviceAlarm(
        alarm_id="a-1", device_id="lamp-0042", category_code="component.01.01", lon=104.02, lat=30.05, detail="路灯断电"
    )
    bus.publish(session, alarm, key="alarm:a-1")
    bus.publish(session, alarm, key="alarm:a-1-again")  # the hub sent it twice
    bus.publish(
        session,
        DeviceAlarm(alarm_id="a-2", device_id="x", category_code="component.01.01", lon=116.4, lat=39.9),
        key="alarm:a-2",
    )
    session.commit()
    made = session.scalars(select(Case)).all()
    assert len(made) == 1  # once; and the alarm outside the city is refused, not retried for ever
    case = made[0]
    assert (case.channel, case.status, case.external_ref) == ("device", "found", "device:a-1")
    assert [a.name for a in cases.available_actions(session, SYSTEM, case)] == ["verify", "reject"]


def test_video_webhook(client: TestClient, session: Session, world: World) -> None:
    app_client, secret = accounts.register_client(
        session, SYSTEM, name="视频识别", scopes=["case:report"], scope_region_id=world.city.id
    )
    session.commit()
    token, _ = tokens.issue("client", app_client.client_id, timedelta(minutes=5), scope="case:report")
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "event_id": "v-9",
        "camera_id": "cam-7",
        "category_code": "event.05.02",
        "lon": 104.02,
        "lat": 30.05,
        "confidence": 0.93,
        "label": "占道经营",
    }
    first = client.post("/api/v1/video-events", json=body, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/video-events", json=body, headers=headers)
    assert (again.status_code, again.json()["case_id"]) == (200, first.json()["case_id"])
    case = session.get(Case, first.json()["case_id"])
    assert case is not None
    assert (case.channel, case.status) == ("video", "found")
    bad = client.post(
        "/api/v1/video-events", json={**body, "event_id": "v-10", "confidence": 3, "lat": 200}, headers=headers
    )
    assert bad.status_code == 422
    person = make_account(session, roles=["dispatcher"], scope=world.city)
    session.commit()
    assert (
        client.post("/api/v1/video-events", json={**body, "event_id": "v-11"}, headers=bearer(person.id)).status_code
        == 403
    )
    assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_traffic_case_is_dispatched_to_the_traffic_police_at_once(session: Session, world: World) -> None:
    from cityos.people.models import Department, Responsibility

    brigade = Department(
        code="a-jj", name="甲区交警大队", region_id=world.district_a.id, region_path=world.district_a.path
    )
    session.add(brigade)
    session.flush()
    session.add(
        Responsibility(
            department_id=brigade.id,
            case_category="event.09",
            region_id=world.district_a.id,
            region_path=world.district_a.path,
        )
    )
    session.flush()
    case, created = cases.machine_report(
        session,
        source="traffic",
        external_ref="alert-1",
        category_code="event.09.01",
        title="交通拥堵：一环路",
        lon=104.02,
        lat=30.05,
    )
    assert created
    assert (case.status, case.department_id) == ("handling", brigade.id)
    staff = cases.get_case(session, _staff(session, world, brigade.id), case.id)
    assert [a.name for a in cases.available_actions(session, _staff(session, world, brigade.id), staff)] == [
        "send_back",
        "handle",
    ]
    again, created_again = cases.machine_report(
        session,
        source="traffic",
        external_ref="alert-1",
        category_code="event.09.01",
        title="交通拥堵：一环路",
        lon=104.02,
        lat=30.05,
    )
    assert (again.id, created_again) == (case.id, False)
    # The TOCC's duty officer follows the traffic cases of the city, and only those.
    operator = actor_for_account(session, make_account(session, roles=["traffic_operator"], scope=world.city))
    assert cases.get_case(session, operator, case.id).id == case.id
    lamp, _ = cases.machine_report(
        session,
        source="device",
        external_ref="lamp-1",
        category_code="component.01.01",
        title="路灯",
        lon=104.02,
        lat=30.05,
    )
    with pytest.raises(NotFound):
        cases.get_case(session, operator, lamp.id)


def test_traffic_case_without_a_responsible_department_waits_filed(session: Session, world: World) -> None:
    case, _ = cases.machine_report(
        session,
        source="traffic",
        external_ref="alert-2",
        category_code="event.09.01",
        title="交通拥堵：二环路",
        lon=104.12,
        lat=30.05,
    )
    # Nobody is responsible in 乙区: the dispatcher sends it (the machine may not guess a department).
    assert (case.status, case.department_id) == ("filed", None)


def _staff(session: Session, world: World, department_id: int):  # type: ignore[no-untyped-def]
    account = make_account(session, roles=["department_staff"], scope=world.district_a, department_id=department_id)
    return actor_for_account(session, account)
