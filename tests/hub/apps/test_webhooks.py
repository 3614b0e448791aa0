"""Webhooks: bad input, queueing from bus events within the app's region (idempotent), signed
delivery checked by a local HTTP server, retries with back-off, giving up and redelivery by hand,
a dead endpoint isolated from the others, pausing, and the deliverer's worker thread."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.cases.events import DeviceAlarm
from cityos.core import bus
from cityos.core.db import utcnow
from cityos.core.errors import Invalid, NotFound
from cityos.core.runtime import Runtime
from cityos.hub.apps import delivery, service, webhooks
from cityos.hub.apps.models import AppWebhook, DeliveryStatus, LightApp, WebhookDelivery
from cityos.hub.events import DeviceObserved
from tests.factories import bearer
from tests.hub.apps.fixtures import AppWorld, approved

INSIDE = (104.012, 30.012)  # in building 1, district A (where the test app acts)
OUTSIDE = (104.15, 30.05)  # district B


class Receiver:
    """A local HTTP server: /ok answers 204, /fail 500, /slow waits 2 s; it records what came."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if self.path.startswith("/slow"):
                    time.sleep(2)
                self.send_response(500 if self.path.startswith("/fail") else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _dead_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/gone"


def _alarm(n: int, where: tuple[float, float] = INSIDE) -> DeviceAlarm:
    return DeviceAlarm(
        alarm_id=f"al-{n}", device_id="bin-1", category_code="sanitation", lon=where[0], lat=where[1], detail="满溢"
    )


def _publish(session: Session, *events: bus.Event) -> None:
    for evt in events:
        bus.publish(session, evt)
    session.commit()  # delivered after commit: the handlers queue the deliveries


def _hook(
    session: Session, aw: AppWorld, url: str, topics: list[str] | None = None
) -> tuple[LightApp, AppWebhook, str]:
    app, _secret = approved(session, aw)
    hook, secret = webhooks.create_webhook(session, aw.dev, app.id, url=url, topics=topics or ["devices.alarm"])
    session.commit()
    return app, hook, secret


def _rows(session: Session, hook: AppWebhook) -> list[WebhookDelivery]:
    session.expire_all()
    return list(
        session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id).order_by(WebhookDelivery.id)
        )
    )


def test_webhook_bad_input(session: Session, aw: AppWorld) -> None:
    draft = service.create_app(
        session,
        aw.dev,
        service.AppInput(name="x", category="data", entry_url="https://e.org", requested_scopes=["hub:read"]),
    )
    with pytest.raises(Invalid) as early:
        webhooks.create_webhook(session, aw.dev, draft.id, url="https://e.org/h", topics=["devices.alarm"])
    assert [d.field for d in early.value.details] == ["app"]
    app, _secret = approved(session, aw)
    with pytest.raises(Invalid) as exc:
        webhooks.create_webhook(
            session, aw.dev, app.id, url="file:///etc/passwd", topics=["applications.submitted"], secret="short"
        )
    assert {d.field for d in exc.value.details} == {"url", "topics", "secret"}
    service.suspend(session, aw.reviewer, app.id, reason="x")
    service.resume(session, aw.reviewer, app.id)
    app.granted_scopes = ["region:read"]  # an app without hub:read cannot follow device topics
    with pytest.raises(Invalid) as scope:
        webhooks.create_webhook(session, aw.dev, app.id, url="https://e.org/h", topics=["devices.alarm"])
    assert scope.value.details[0].params == {"topic": "devices.alarm", "scope": "hub:read"}
    with pytest.raises(NotFound):
        webhooks.create_webhook(session, aw.dev2, app.id, url="https://e.org/h", topics=["cases.reported"])
    assert session.scalars(select(AppWebhook)).all() == []


def test_events_are_queued_once_within_the_apps_region(
    session: Session, aw: AppWorld, client: TestClient, receiver: Receiver
) -> None:
    _app, hook, _secret = _hook(session, aw, receiver.url + "/ok", ["devices.alarm", "hub.device_observed"])
    _publish(session, _alarm(1), _alarm(2, OUTSIDE))
    rows = _rows(session, hook)
    assert [(r.topic, r.payload["alarm_id"]) for r in rows] == [("devices.alarm", "al-1")]
    assert webhooks.queue_event(session, "devices.alarm", _alarm(1).model_dump(mode="json")) == 0  # the same event
    observed = DeviceObserved(
        tenant="default",
        device_code="bin-1",
        device_kind="waste_bin",
        entity_id="urn:ngsi-ld:WasteContainer:1",
        entity_type="WasteContainer",
        attrs={"fillingLevel": 0.9},
        observed_at="2026-12-01T08:00:00Z",
    )
    _publish(session, observed)  # no place: every subscribed app in any region gets it
    assert [r.topic for r in _rows(session, hook)] == ["devices.alarm", "hub.device_observed"]
    assert webhooks.queue_event(session, "applications.submitted", {"application_id": 1}) == 0  # not offered


def test_signed_delivery_checked_by_the_receiver(
    session: Session, aw: AppWorld, client: TestClient, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    app, hook, secret = _hook(session, aw, receiver.url + "/ok")
    _publish(session, _alarm(1))
    run = delivery.deliver_due(session_factory)
    assert (run.delivered, run.failed) == (1, 0)
    path, headers, body = receiver.received[0]
    assert path == "/ok"
    assert headers["x-cityos-event"] == "devices.alarm"
    assert delivery.verify(secret, body, headers["x-cityos-signature"])
    assert not delivery.verify("another-secret-of-length", body, headers["x-cityos-signature"])
    doc = json.loads(body)
    assert doc["topic"] == "devices.alarm"
    assert doc["data"]["alarm_id"] == "al-1"
    row = _rows(session, hook)[0]
    assert headers["x-cityos-delivery"] == str(row.id)
    assert doc["id"] == row.event_id
    assert (row.status, row.attempts, row.last_status) == (DeliveryStatus.DELIVERED, 1, 204)
    assert delivery.deliver_due(session_factory).delivered == 0  # nothing twice
    log = client.get(f"/api/v1/apps/{app.id}/deliveries", headers=bearer(aw.dev.account_id))  # type: ignore[arg-type]
    assert [(d["status"], d["attempts"]) for d in log.json()] == [("delivered", 1)]


def test_retries_back_off_give_up_and_redeliver(
    session: Session, aw: AppWorld, client: TestClient, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    app, hook, _secret = _hook(session, aw, receiver.url + "/fail")
    _publish(session, _alarm(1))
    start = utcnow()
    assert delivery.deliver_due(session_factory, now=start).failed == 1
    row = _rows(session, hook)[0]
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.PENDING, 1, "HTTP 500")
    assert row.next_attempt_at == start + timedelta(seconds=30)
    assert delivery.deliver_due(session_factory, now=start + timedelta(seconds=10)).failed == 0  # not due yet
    moment = start
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        moment = _rows(session, hook)[0].next_attempt_at
        webhook = session.get(AppWebhook, hook.id)
        assert webhook is not None
        webhook.paused_until = None  # this test follows one delivery's back-off, not the webhook's pause
        session.commit()
        assert delivery.deliver_due(session_factory, now=moment).failed == 1
    row = _rows(session, hook)[0]
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, delivery.MAX_ATTEMPTS)
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert delivery.backoff(30) == delivery.MAX_DELAY
    dev = bearer(aw.dev.account_id)  # type: ignore[arg-type]
    assert client.post(f"/api/v1/apps/{app.id}/deliveries/999999/redeliver", headers=dev).status_code == 404
    again = client.post(f"/api/v1/apps/{app.id}/deliveries/{row.id}/redeliver", headers=dev)
    assert again.json()["status"] == "pending"
    assert again.json()["attempts"] == 0
    assert len(receiver.received) == delivery.MAX_ATTEMPTS


def test_a_dead_endpoint_is_isolated_from_the_others(
    session: Session, aw: AppWorld, client: TestClient, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    app, good, _s1 = _hook(session, aw, receiver.url + "/ok")
    slow, _s2 = webhooks.create_webhook(session, aw.dev, app.id, url=receiver.url + "/slow", topics=["devices.alarm"])
    dead, _s3 = webhooks.create_webhook(session, aw.dev, app.id, url=_dead_url(), topics=["devices.alarm"])
    session.commit()
    _publish(session, _alarm(1), _alarm(2), _alarm(3))
    started = time.monotonic()
    run = delivery.deliver_due(session_factory, timeout=0.5)
    assert time.monotonic() - started < 1.8  # the slow one times out on its own; nobody waits for it
    assert run.delivered == 3
    assert run.failed == 2
    assert run.skipped == 4  # after its first failure, the rest of a failing webhook's queue waits
    assert [r.status for r in _rows(session, good)] == [DeliveryStatus.DELIVERED] * 3
    assert [r.attempts for r in _rows(session, dead)] == [1, 0, 0]
    assert _rows(session, slow)[0].last_error == "ReadTimeout"
    webhooks.delete_webhook(session, aw.dev, app.id, slow.id)
    session.commit()
    for n in range(delivery.PAUSE_AFTER - 1):
        moment = utcnow() + timedelta(hours=1 + n)
        delivery.deliver_due(session_factory, timeout=0.5, now=moment)
    session.expire_all()
    paused = session.get(AppWebhook, dead.id)
    assert paused is not None
    assert paused.failures == delivery.PAUSE_AFTER
    assert paused.paused_until is not None
    listed = client.get(f"/api/v1/apps/{app.id}/webhooks", headers=bearer(aw.dev.account_id))  # type: ignore[arg-type]
    assert {h["id"]: h["failures"] for h in listed.json()}[good.id] == 0


def test_the_worker_thread_delivers_and_stops(
    session: Session, aw: AppWorld, client: TestClient, receiver: Receiver, runtime: Runtime
) -> None:
    from cityos.hub.apps import tasks

    _app, hook, _secret = _hook(session, aw, receiver.url + "/ok")
    _publish(session, _alarm(7))
    _thread, stop = delivery.worker(runtime.session_factory, every=0.1)
    try:
        deadline = time.monotonic() + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()
    assert len(receiver.received) == 1
    assert tasks.start  # the server starts the same worker through tasks.start(runtime)


def test_webhook_api_bad_input_and_crud(session: Session, aw: AppWorld, client: TestClient) -> None:
    app, _secret = approved(session, aw)
    session.commit()
    dev = bearer(aw.dev.account_id)  # type: ignore[arg-type]
    url = f"/api/v1/apps/{app.id}/webhooks"
    bad = client.post(url, json={"url": "nope", "topics": []}, headers={**dev, "Accept-Language": "zh-CN"})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"url", "topics"}
    assert client.post(url, json={"url": "https://e.org/h"}, headers=dev).status_code == 422
    made = client.post(url, json={"url": "https://e.org/h", "topics": ["cases.reported"]}, headers=dev)
    assert made.status_code == 201
    hook_id = made.json()["webhook"]["id"]
    assert len(made.json()["secret"]) >= 16
    assert "secret" not in client.get(url, headers=dev).json()[0]
    assert client.patch(f"{url}/{hook_id}", json={"topics": ["nope"]}, headers=dev).status_code == 422
    assert client.patch(f"{url}/{hook_id}", json={"active": False}, headers=dev).json()["active"] is False
    assert client.delete(f"{url}/{hook_id}", headers=bearer(aw.dev2.account_id)).status_code == 404  # type: ignore[arg-type]
    assert client.delete(f"{url}/{hook_id}", headers=dev).status_code == 204
    assert client.get(url, headers=dev).json() == []


def test_the_platforms_own_machine_and_metadata_addresses_are_never_called(
    session: Session,
    aw: AppWorld,
    client: TestClient,
    receiver: Receiver,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "ALLOW_LOOPBACK", False)
    assert delivery.blocked("http://169.254.169.254/latest/meta-data")
    assert delivery.blocked("http://[::1]:8000/x")
    assert not delivery.blocked("http://10.1.2.3/hook")  # a city intranet is allowed
    _app, hook, _secret = _hook(session, aw, receiver.url + "/ok")
    _publish(session, _alarm(1))
    assert delivery.deliver_due(session_factory).failed == 1
    assert receiver.received == []
    assert _rows(session, hook)[0].last_error == "BlockedAddress"
