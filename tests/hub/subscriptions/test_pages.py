"""The subscription pages: the list per tenant with status, counters and the failure reason,
one subscription with its recent deliveries, pause and resume; hub:subscribe; zh_CN default."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.core.settings import get_settings
from cityos.hub.ngsi.context import core_context
from cityos.hub.subscriptions import service
from cityos.hub.subscriptions.models import HubNotification
from tests.factories import make_account, make_world, session_cookie
from tests.hub.subscriptions.conftest import body, change, entity


def sign_in(client: TestClient, session: Session, roles: list[str]) -> None:
    world = make_world(session)
    account = make_account(session, roles=roles, scope=world.city)
    session.flush()
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account.id))


def test_list_detail_pause_resume(client: TestClient, session: Session, tenant: str) -> None:
    sign_in(client, session, ["data_officer"])
    row = service.create(
        session,
        SYSTEM,
        tenant=tenant,
        body=body("mqtt://bins:s3cret@broker.example:1883/city/bins", subscriptionName="满溢垃圾桶"),
        expand=core_context().expand,
    )
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:1", temperature=1))])
    session.flush()
    note = session.query(HubNotification).filter_by(subscription_pk=row.id).one()
    note.attempts, note.last_error, note.latency_ms = 1, "timeout after 5 s", 5000.0
    row.times_sent, row.times_failed = 1, 1
    row.last_failure, row.last_failure_reason = utcnow(), "timeout after 5 s"
    row.last_success = utcnow() - timedelta(hours=1)
    session.commit()

    page = client.get(f"/hub/subscriptions?tenant={tenant}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    html = page.text
    assert "满溢垃圾桶" in html
    assert "订阅生效中" in html
    assert "timeout after 5 s" in html  # the failure reason
    assert "s3cret" not in html  # the endpoint's password is not shown
    assert "bins:***@broker.example" in html
    assert "1 / 1" in html

    detail = client.get(f"/hub/subscriptions/{row.id}")
    assert detail.status_code == 200
    assert "Recent deliveries" in detail.text
    assert "5000.0" in detail.text
    assert "echarts" in detail.text

    paused = client.post(
        f"/hub/subscriptions/{row.id}/pause",
        data={"back": f"/hub/subscriptions?tenant={tenant}"},
        follow_redirects=False,
    )
    assert paused.status_code == 303
    assert paused.headers["location"] == f"/hub/subscriptions?tenant={tenant}"
    session.expire_all()
    assert service.get(session, SYSTEM, tenant=tenant, subscription_id=row.subscription_id).is_active is False
    assert "Subscription paused" in client.get(f"/hub/subscriptions?tenant={tenant}").text
    resumed = client.post(
        f"/hub/subscriptions/{row.id}/resume", data={"back": "https://evil.example/"}, follow_redirects=False
    )
    assert resumed.headers["location"] == f"/hub/subscriptions/{row.id}"  # no open redirect
    session.expire_all()
    assert service.get(session, SYSTEM, tenant=tenant, subscription_id=row.subscription_id).is_active is True


def test_empty_tenant_bad_tenant_and_unknown_subscription(client: TestClient, session: Session) -> None:
    sign_in(client, session, ["data_officer"])
    page = client.get("/hub/subscriptions?tenant=nobody-here")
    assert page.status_code == 200
    assert "No subscription in this tenant yet." in page.text
    assert client.get("/hub/subscriptions?tenant=bad%20tenant!").status_code == 200  # falls back to default
    assert client.get("/hub/subscriptions/999999").status_code == 404
    assert client.post("/hub/subscriptions/999999/pause").status_code == 404


def test_pages_need_hub_subscribe(client: TestClient, session: Session) -> None:
    sign_in(client, session, ["developer"])
    assert client.get("/hub/subscriptions").status_code == 403
    assert client.post("/hub/subscriptions/1/pause").status_code == 403
