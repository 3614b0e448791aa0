"""The deliverer against committed data, on its own thread and sessions: HTTP delivery to a local
server, headers, retries with back-off then failure, the subscription's figures, restarts, MQTT
through the real broker, and the black-hole test (a healthy endpoint is not held up by an
endpoint that accepts connections and never answers)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.actor import SYSTEM
from cityos.core.db import WRITE_INTENT
from cityos.hub.ngsi.context import core_context
from cityos.hub.subscriptions import service
from cityos.hub.subscriptions.delivery import Deliverer, Settings
from cityos.hub.subscriptions.models import HubNotification, HubSubscription
from tests.conftest import need_service
from tests.hub.subscriptions.conftest import Receiver, body, change, entity

EXPAND = core_context().expand
Factory = sessionmaker[Session]


def subscribe(factory: Factory, tenant: str, uri: str, **extra: object) -> str:
    with factory() as s:
        s.connection(execution_options={WRITE_INTENT: True})
        row = service.create(s, SYSTEM, tenant=tenant, body=body(uri, **extra), expand=EXPAND)
        s.commit()
        return row.subscription_id


def write(factory: Factory, tenant: str, eid: str, **values: object) -> float:
    """An entity change through the listener, committed; returns the commit's moment."""
    with factory() as s:
        s.connection(execution_options={WRITE_INTENT: True})
        service.on_changes(s, [change(tenant, entity(eid, **values))])
        s.commit()
    return time.monotonic()


def notes(factory: Factory, sid: str, tenant: str) -> list[HubNotification]:
    with factory() as s:
        pk = s.scalar(
            select(HubSubscription.id).where(HubSubscription.tenant == tenant, HubSubscription.subscription_id == sid)
        )
        return list(
            s.scalars(select(HubNotification).where(HubNotification.subscription_pk == pk).order_by(HubNotification.id))
        )


def sub_row(factory: Factory, sid: str, tenant: str) -> HubSubscription:
    with factory() as s:
        return service.get(s, SYSTEM, tenant=tenant, subscription_id=sid)


def until(check: object, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def deliverer(committed: Factory) -> Iterator[Deliverer]:
    d = Deliverer(committed, Settings(poll=0.05, timeout=2.0, backoff=0.2, max_attempts=3, periodic=False))
    d.start()
    yield d
    d.stop()


def test_http_notification_arrives_with_headers(
    committed: Factory, tenant: str, receiver: Receiver, deliverer: Deliverer
) -> None:
    sid = subscribe(
        committed,
        tenant,
        receiver.url,
        notification={
            "endpoint": {"uri": receiver.url, "receiverInfo": [{"key": "X-Auth-Token", "value": "abc"}]},
            "format": "keyValues",
        },
    )
    ld = subscribe(
        committed,
        tenant,
        receiver.url + "/ld",
        notification={"endpoint": {"uri": receiver.url + "/ld", "accept": "application/ld+json"}},
    )
    write(committed, tenant, "urn:ngsi-ld:Sensor:1", temperature=21)
    got = receiver.wait(2)
    assert len(got) == 2
    plain = next(g for g in got if g.path == "/notify")
    linked = next(g for g in got if g.path == "/notify/ld")
    assert plain.headers["x-auth-token"] == "abc"
    assert plain.headers["content-type"] == "application/json"
    assert "ngsi-ld-core-context" in plain.headers["link"]
    assert plain.body["subscriptionId"] == sid
    assert plain.body["data"] == [
        {
            "id": "urn:ngsi-ld:Sensor:1",
            "type": "Sensor",
            "temperature": 21,
            "location": plain.body["data"][0]["location"],
        }
    ]
    assert linked.headers["content-type"] == "application/ld+json"
    assert "@context" in linked.body
    assert linked.body["subscriptionId"] == ld
    until(lambda: sub_row(committed, sid, tenant).times_sent == 1)
    row = sub_row(committed, sid, tenant)
    assert row.last_success is not None
    assert row.times_failed == 0
    assert notes(committed, sid, tenant)[0].status == "delivered"


def test_retries_with_back_off_then_failed(
    committed: Factory, tenant: str, receiver: Receiver, deliverer: Deliverer
) -> None:
    receiver.status = 500
    sid = subscribe(committed, tenant, receiver.url)
    write(committed, tenant, "urn:ngsi-ld:Sensor:1", temperature=1)
    got = receiver.wait(3, timeout=6)
    assert len(got) == 3
    gaps = [b.at - a.at for a, b in zip(got, got[1:], strict=False)]
    assert gaps[0] >= 0.2 * 0.9  # back-off 0.2 s, then 0.4 s
    assert gaps[1] >= 0.4 * 0.9
    until(lambda: notes(committed, sid, tenant)[0].status == "failed")
    note = notes(committed, sid, tenant)[0]
    assert note.attempts == 3
    assert note.last_error == "HTTP 500"
    row = sub_row(committed, sid, tenant)
    assert row.times_sent == 3
    assert row.times_failed == 3
    assert row.last_failure_reason == "HTTP 500"
    assert service.figures(row)["notificationStatus"] == "failed"
    time.sleep(0.5)
    assert len(receiver.got) == 3  # no fourth attempt


def test_a_failed_attempt_is_retried_until_it_succeeds(
    committed: Factory, tenant: str, receiver: Receiver, deliverer: Deliverer
) -> None:
    receiver.status = 503
    sid = subscribe(committed, tenant, receiver.url)
    write(committed, tenant, "urn:ngsi-ld:Sensor:1", temperature=1)
    receiver.wait(1)
    receiver.status = 204
    receiver.wait(2)
    until(lambda: notes(committed, sid, tenant)[0].status == "delivered")
    row = sub_row(committed, sid, tenant)
    assert (row.times_sent, row.times_failed) == (2, 1)
    assert service.figures(row)["notificationStatus"] == "ok"


def test_queued_notifications_survive_a_restart(committed: Factory, tenant: str, receiver: Receiver) -> None:
    sid = subscribe(committed, tenant, receiver.url)
    write(committed, tenant, "urn:ngsi-ld:Sensor:1", temperature=1)  # no deliverer is running
    assert notes(committed, sid, tenant)[0].status == "pending"
    d = Deliverer(committed, Settings(poll=0.05, periodic=False))
    d.start()
    try:
        assert len(receiver.wait(1)) == 1
    finally:
        d.stop()


def test_paused_subscription_waits_and_expired_is_given_up(
    committed: Factory, tenant: str, receiver: Receiver, deliverer: Deliverer
) -> None:
    sid = subscribe(committed, tenant, receiver.url)
    with committed() as s:
        s.connection(execution_options={WRITE_INTENT: True})
        service.on_changes(s, [change(tenant, entity("urn:ngsi-ld:Sensor:1", t=1))])
        service.set_active(s, SYSTEM, tenant=tenant, subscription_id=sid, active=False)
        s.commit()
    time.sleep(0.3)
    assert receiver.got == []
    with committed() as s:
        s.connection(execution_options={WRITE_INTENT: True})
        service.set_active(s, SYSTEM, tenant=tenant, subscription_id=sid, active=True)
        s.commit()
    assert len(receiver.wait(1)) == 1


def test_black_hole_endpoint_does_not_delay_a_healthy_one(
    committed: Factory,
    tenant: str,
    receiver: Receiver,
    black_hole: str,
    deliverer: Deliverer,
    record_property: Callable[[str, object], None],
) -> None:
    hole = subscribe(committed, tenant, black_hole)
    healthy = subscribe(committed, tenant, receiver.url)
    latencies: list[float] = []
    for n in range(10):  # more than the black hole's senders (4): its queue fills too
        committed_at = write(committed, tenant, f"urn:ngsi-ld:Sensor:{n}", temperature=n)
        got = receiver.wait(n + 1, timeout=3)
        assert len(got) == n + 1
        latencies.append(got[-1].at - committed_at)
    # every healthy notification arrived within a bound while the black hole has not answered once
    assert max(latencies) < 1.0, latencies
    waiting = notes(committed, hole, tenant)
    assert len(waiting) == 10
    assert all(n.status == "pending" and n.attempts == 0 for n in waiting)
    until(lambda: all(n.status == "delivered" for n in notes(committed, healthy, tenant)))
    record_property("healthy_latency_max_ms", round(max(latencies) * 1000, 1))
    record_property("healthy_latency_median_ms", round(sorted(latencies)[5] * 1000, 1))
    # the black hole's attempts end by the timeout (2 s) and are recorded as failures to retry
    until(lambda: sub_row(committed, hole, tenant).times_failed >= 4, timeout=6)
    row = sub_row(committed, hole, tenant)
    assert row.last_failure_reason is not None
    assert "timeout" in row.last_failure_reason


def test_unreachable_endpoint_fails_fast(committed: Factory, tenant: str, deliverer: Deliverer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nobody listens
    sid = subscribe(committed, tenant, f"http://127.0.0.1:{port}/x")
    write(committed, tenant, "urn:ngsi-ld:Sensor:1", t=1)
    until(lambda: sub_row(committed, sid, tenant).times_failed >= 1)
    assert "ConnectError" in (sub_row(committed, sid, tenant).last_failure_reason or "")


def test_mqtt_notification_through_the_broker(committed: Factory, tenant: str, deliverer: Deliverer) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError as exc:
        need_service("Mosquitto", str(exc))
    topic = f"cityos/test/{tenant}"
    got: list[dict] = []
    ready, arrived = threading.Event(), threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_subscribe = lambda *a: ready.set()

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(json.loads(msg.payload))
        arrived.set()

    client.on_message = on_message
    client.connect("127.0.0.1", 1883)
    client.subscribe(topic, qos=1)
    client.loop_start()
    try:
        assert ready.wait(5)
        sid = subscribe(
            committed,
            tenant,
            f"mqtt://127.0.0.1:1883/{topic}",
            notification={
                "endpoint": {
                    "uri": f"mqtt://127.0.0.1:1883/{topic}",
                    "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}],
                    "receiverInfo": [{"key": "X-Tag", "value": "bins"}],
                }
            },
        )
        write(committed, tenant, "urn:ngsi-ld:Sensor:1", temperature=3)
        assert arrived.wait(5)
    finally:
        client.loop_stop()
        client.disconnect()
    message = got[0]
    assert message["metadata"]["X-Tag"] == "bins"
    assert message["body"]["subscriptionId"] == sid
    assert message["body"]["data"][0]["temperature"]["value"] == 3
    until(lambda: sub_row(committed, sid, tenant).times_sent == 1)


def test_rows_claimed_by_a_deliverer_that_died_are_sent_after_the_lease(
    committed: Factory, tenant: str, receiver: Receiver
) -> None:
    sid = subscribe(committed, tenant, receiver.url)
    write(committed, tenant, "urn:ngsi-ld:Sensor:1", t=1)
    dead = Deliverer(committed, Settings(lease=0.5, timeout=0.05, queue_limit=4, periodic=False))
    assert len(dead._claim([])) == 1  # claimed, never sent: the process "died"
    claimed_at = time.monotonic()
    d = Deliverer(committed, Settings(poll=0.05, periodic=False))
    d.start()
    try:
        got = receiver.wait(1, timeout=5)
    finally:
        d.stop()
    assert len(got) == 1
    assert got[0].at - claimed_at >= 0.45  # not before the lease ran out
    assert got[0].body["subscriptionId"] == sid


def test_a_full_endpoint_is_not_claimed_for(committed: Factory, tenant: str, black_hole: str) -> None:
    hole = subscribe(committed, tenant, black_hole)
    for n in range(12):
        write(committed, tenant, f"urn:ngsi-ld:Sensor:{n}", t=n)
    d = Deliverer(committed, Settings(poll=0.05, timeout=5, concurrency=2, queue_limit=5, periodic=False))
    d.start()
    try:
        until(lambda: d.endpoints.get(black_hole) is not None and d.endpoints[black_hole].load == 5)
        time.sleep(0.3)  # several more rounds
        worker = d.endpoints[black_hole]
        assert worker.load == 5  # 2 sending, 3 waiting: no more taken
        assert worker.busy == 2
        now = service.utcnow()
        leased = [n for n in notes(committed, hole, tenant) if n.next_attempt_at > now]
        assert len(leased) == 5  # the other 7 are still free for any deliverer to take
    finally:
        d.stop()


def test_the_server_starts_and_stops_the_deliverer(
    committed: Factory, tenant: str, receiver: Receiver, settings
) -> None:  # type: ignore[no-untyped-def]
    from cityos.core.bus import Bus
    from cityos.core.runtime import Runtime
    from cityos.hub.subscriptions import tasks

    bus = Bus(committed)
    runtime = Runtime(settings=settings, engine=committed.kw["bind"], session_factory=committed, bus=bus)
    stop = tasks.start(runtime)
    assert stop is not None
    try:
        subscribe(committed, tenant, receiver.url)
        write(committed, tenant, "urn:ngsi-ld:Sensor:1", t=1)
        assert len(receiver.wait(1)) == 1
    finally:
        stop()
        bus.close()


def test_periodic_subscription_is_sent_by_the_running_deliverer(
    committed: Factory, tenant: str, receiver: Receiver
) -> None:
    from sqlalchemy import delete

    from cityos.hub.ngsi import service as store
    from cityos.hub.ngsi.models import NgsiEntity, NgsiTenant

    try:
        with committed() as s:
            s.connection(execution_options={WRITE_INTENT: True})
            store.upsert_attributes(
                s,
                tenant=tenant,
                entity_id="urn:ngsi-ld:Sensor:p1",
                entity_type="https://uri.etsi.org/ngsi-ld/default-context/Sensor",
                attrs={"https://uri.etsi.org/ngsi-ld/default-context/temperature": {"type": "Property", "value": 7}},
                history=False,
            )
            s.commit()
        sid = subscribe(committed, tenant, receiver.url, timeInterval=1)
        d = Deliverer(committed, Settings(poll=0.05, periodic=True))
        d.start()
        try:
            got = receiver.wait(2, timeout=5)
        finally:
            d.stop()
        assert len(got) >= 2  # once at once, again a second later
        assert got[1].at - got[0].at >= 0.9
        assert got[0].body["subscriptionId"] == sid
        assert got[0].body["data"][0]["temperature"]["value"] == 7
    finally:
        with committed() as s:
            s.execute(delete(NgsiEntity).where(NgsiEntity.tenant == tenant))
            s.execute(delete(NgsiTenant).where(NgsiTenant.name == tenant))
            s.commit()


def test_idle_endpoints_are_closed(committed: Factory, tenant: str, receiver: Receiver) -> None:
    subscribe(committed, tenant, receiver.url)
    write(committed, tenant, "urn:ngsi-ld:Sensor:1", t=1)
    d = Deliverer(committed, Settings(poll=0.05, idle=0.2, periodic=False))
    d.start()
    try:
        assert len(receiver.wait(1)) == 1
        until(lambda: receiver.url not in d.endpoints, timeout=3)
        write(committed, tenant, "urn:ngsi-ld:Sensor:2", t=2)  # a new worker is made on demand
        assert len(receiver.wait(2)) == 2
    finally:
        d.stop()
