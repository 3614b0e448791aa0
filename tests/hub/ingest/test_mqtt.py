"""The MQTT bridge against the real Mosquitto (127.0.0.1:1883): signed messages end to end,
bad signatures and unknown devices refused with a reason, a duplicate QoS 1 delivery (also a
redelivery after the hub committed but never acknowledged) stores one observation, and a full
queue holds the broker back instead of growing; and two writers (HTTP and MQTT, say) racing on
the same message ids store them once.

The bridge's writer commits in its own transactions, so these tests use sessions on the engine
(real commits) and delete what they made afterwards."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.actor import SYSTEM
from cityos.core.bus import Bus
from cityos.core.db import make_sessionmaker, utcnow
from cityos.core.models import HandledEvent, OutboxEvent
from cityos.hub.events import DeviceObserved
from cityos.hub.ingest import profiles, service
from cityos.hub.ingest.models import DeviceProfile, IngestBinding, IngestMessage, IngestRejection, IngestTally
from cityos.hub.ingest.mqtt import Bridge, signature
from cityos.hub.ngsi.models import NgsiEntity
from cityos.hub.ngsi.service import get_entity
from cityos.hub.temporal.models import SensorObservation
from cityos.places.devices.models import Device
from cityos.places.models import Region
from tests.conftest import need_service
from tests.factories import add_region

HOST, PORT = "127.0.0.1", 1883
CONSUMER = "test-ingest-mqtt"


def _broker() -> None:
    try:
        socket.create_connection((HOST, PORT), timeout=2).close()
    except OSError as exc:
        need_service("Mosquitto", str(exc))


@dataclass
class Live:
    factory: sessionmaker[Session]
    bus: Bus
    prefix: str
    devices: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (id, key)
    observed: list[DeviceObserved] = field(default_factory=list)

    def bridge(self, **kw: Any) -> Bridge:
        kw.setdefault("client_id", f"test-ingest-{uuid.uuid4().hex[:8]}")
        return Bridge(self.factory, url=f"mqtt://{HOST}:{PORT}", prefix=self.prefix, session_expiry=120, **kw)

    def count(self, model: Any, *where: Any) -> int:
        with self.factory() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def live(isolated_engine: Engine) -> Iterator[Live]:
    _broker()
    factory = make_sessionmaker(isolated_engine)
    bus = Bus(factory)
    out = Live(factory, bus, prefix=f"cityos-test-{uuid.uuid4().hex[:8]}")

    @bus.subscribe(DeviceObserved, CONSUMER)
    def _seen(_session: Session, evt: DeviceObserved) -> None:
        out.observed.append(evt)

    with factory() as s:
        had_profiles = s.scalar(select(func.count()).select_from(DeviceProfile)) or 0
        profiles.install(s)
        city = add_region(s, None, "city", "测试市")
        grid = add_region(s, add_region(s, city, "district", "测试区"), "grid", "测试网格")
        for code, profile in (("mq-bin-1", "waste-container"), ("mq-bin-2", "waste-container")):
            device, key = service.register_device(
                s, SYSTEM, code=f"{code}-{out.prefix[-8:]}", kind="bin", name=code, region_id=grid.id,
                profile_code=profile, lon=104.0, lat=30.6,
            )  # fmt: skip
            out.devices[code] = (device.id, key)
        city_path = city.path
        s.commit()
    try:
        yield out
    finally:
        bus.close()
        ids = [d for d, _ in out.devices.values()]
        with factory() as s:
            codes = list(s.scalars(select(Device.code).where(Device.id.in_(ids))))
            s.execute(delete(HandledEvent).where(HandledEvent.consumer == CONSUMER))
            s.execute(delete(OutboxEvent).where(OutboxEvent.topic == DeviceObserved.topic))
            s.execute(delete(SensorObservation).where(SensorObservation.source.in_(codes)))
            s.execute(delete(NgsiEntity).where(NgsiEntity.entity_id.like("urn:ngsi-ld:WasteContainer:mq-bin-%")))
            s.execute(delete(IngestMessage).where(IngestMessage.device_id.in_(ids)))
            s.execute(delete(IngestTally).where(IngestTally.channel == "mqtt"))
            s.execute(delete(IngestRejection).where(IngestRejection.channel == "mqtt"))
            s.execute(delete(IngestBinding).where(IngestBinding.device_id.in_(ids)))
            s.execute(delete(Device).where(Device.id.in_(ids)))
            for region in sorted(
                s.scalars(select(Region).where(Region.path.like(f"{city_path}%"))), key=lambda r: -len(r.path)
            ):
                s.delete(region)
                s.flush()
            if not had_profiles:
                s.execute(delete(DeviceProfile))
            s.commit()


class Device_:
    """A device's MQTT client: publishes signed messages with QoS 1."""

    def __init__(self, live: Live, code: str, *, tenant: str = "default") -> None:
        self.device_id, self.key = live.devices[code]
        with live.factory() as s:
            self.code = s.scalar(select(Device.code).where(Device.id == self.device_id))
        self.topic = f"{live.prefix}/{tenant}/devices/{self.code}/attrs"
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}", protocol=paho.MQTTv5
        )
        self.client.connect(HOST, PORT)
        self.client.loop_start()

    def send(
        self, body: dict[str, Any] | bytes, *, key: str | None = None, sign: bool = True, topic: str | None = None
    ) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if sign:
            props.UserProperty = [("sig", signature(key or self.key, payload))]
        self.client.publish(topic or self.topic, payload, qos=1, properties=props).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def _tallies(live: Live) -> dict[tuple[str, str], int]:
    with live.factory() as s:
        rows = s.execute(
            select(IngestTally.outcome, IngestTally.reason, func.sum(IngestTally.count))
            .where(IngestTally.channel == "mqtt")
            .group_by(IngestTally.outcome, IngestTally.reason)
        ).all()
    return {(o, r): int(n) for o, r, n in rows}


def _seen(live: Live, n: int) -> Callable[[], bool]:
    return lambda: sum(_tallies(live).values()) >= n


def test_signed_messages_reach_the_hub_and_bad_ones_are_refused(live: Live) -> None:
    bridge = live.bridge().start()
    device = Device_(live, "mq-bin-1")
    try:
        assert bridge.connected
        device.send({"mid": "m1", "ts": utcnow().isoformat(), "values": {"fill": 91, "temperature": 30}})
        device.send({"mid": "m2", "values": {"fill": 10}}, key="dk_wrong")
        device.send({"mid": "m3", "values": {"fill": 10}}, sign=False)
        device.send({"mid": "m4", "values": {"fill": 300}})
        device.send(b"not json")
        device.send({"mid": "m5", "values": {"fill": 1}}, topic=f"{live.prefix}/default/devices/nobody/attrs")
        device.send({"mid": "m6", "values": {"fill": 1}}, topic=f"{live.prefix}/other/devices/{device.code}/attrs")
        wait_for(_seen(live, 7))
        assert _tallies(live) == {
            ("accepted", ""): 1,
            ("rejected", "bad_signature"): 2,
            ("rejected", "invalid"): 1,
            ("rejected", "malformed"): 1,
            ("rejected", "unknown_device"): 2,
        }
        with live.factory() as s:
            rows = s.scalars(select(SensorObservation).where(SensorObservation.source == device.code)).all()
            assert sorted(r.value_num for r in rows if r.value_num is not None) == [0.91, 30.0]
            entity = get_entity(s, tenant="default", entity_id=f"urn:ngsi-ld:WasteContainer:{device.code}")
            assert entity is not None
            assert entity["https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel"]["value"] == 0.91
            state = s.scalar(select(Device.state).where(Device.id == device.device_id))
            assert state["fillingLevel"] == 0.91
            reasons = s.scalars(select(IngestRejection.reason).where(IngestRejection.channel == "mqtt")).all()
            assert sorted(reasons) == [
                "bad_signature",
                "bad_signature",
                "invalid",
                "malformed",
                "unknown_device",
                "unknown_device",
            ]
        wait_for(lambda: len(live.observed) == 1)  # delivered on the bus after the commit
        assert live.observed[0].device_code == device.code
        assert live.observed[0].attrs == {"fillingLevel": 0.91, "temperature": 30}
    finally:
        device.close()
        bridge.stop()


def test_a_duplicate_qos1_delivery_stores_one_observation(live: Live) -> None:
    device = Device_(live, "mq-bin-2")
    client_id = f"test-ingest-{uuid.uuid4().hex[:8]}"
    first = live.bridge(client_id=client_id).start()
    acked: list[int] = []
    first._ack = lambda batch: acked.extend(i.mid for i in batch)  # type: ignore[method-assign]  # committed, never acknowledged
    try:
        device.send({"mid": "same", "values": {"fill": 55}})
        device.send({"mid": "same", "values": {"fill": 55}})  # the device resends: no PUBACK seen
        wait_for(_seen(live, 2))
    finally:
        first.stop()
    assert len(acked) == 2
    assert _tallies(live) == {("accepted", ""): 1, ("duplicate", ""): 1}
    # The hub "crashed" after the commit and before the PUBACK: the broker delivers both again to
    # the same session, and they are recognised.
    second = live.bridge(client_id=client_id).start()
    try:
        wait_for(_seen(live, 4))
        assert _tallies(live) == {("accepted", ""): 1, ("duplicate", ""): 3}
    finally:
        second.stop()
        device.close()
    assert live.count(SensorObservation, SensorObservation.source == device.code) == 1
    assert live.count(IngestMessage, IngestMessage.device_id == device.device_id) == 1


def test_a_full_queue_holds_the_broker_back(live: Live) -> None:
    bridge = live.bridge(capacity=10, batch_max=50)
    bridge.pause()  # the writer is held: nothing leaves the queue
    bridge.start()
    device = Device_(live, "mq-bin-1")
    try:
        for i in range(200):
            body = json.dumps({"mid": f"n{i}", "values": {"fill": i % 100}}).encode()
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.UserProperty = [("sig", signature(device.key, body))]
            device.client.publish(device.topic, body, qos=1, properties=props)
        wait_for(lambda: bridge.blocked > 0)
        time.sleep(0.3)
        assert bridge.queue_depth == 10  # bounded: the rest waits at the broker
        assert bridge.received == 11  # the callback holding the 11th blocks the network thread
        assert bridge.peak_depth == 10
        assert live.count(IngestTally, IngestTally.channel == "mqtt") == 0
        bridge.resume()
        wait_for(_seen(live, 200), timeout=30)
        assert _tallies(live) == {("accepted", ""): 200}
        assert bridge.peak_depth <= 10
    finally:
        device.close()
        bridge.stop()
    assert live.count(SensorObservation, SensorObservation.source == device.code) == 200


def test_the_server_starts_the_bridge_when_a_broker_is_configured(live: Live, isolated_engine: Engine) -> None:
    engine = isolated_engine
    from cityos.core.runtime import Runtime
    from cityos.core.settings import Settings
    from cityos.hub.ingest import mqtt, tasks

    plain = Runtime(
        settings=Settings(env="test", mqtt_url=None), engine=engine, session_factory=live.factory, bus=live.bus
    )
    assert tasks.start(plain) is None
    settings = Settings(env="test", mqtt_url=f"mqtt://{HOST}:{PORT}", mqtt_topic_prefix=live.prefix)
    stop = tasks.start(Runtime(settings=settings, engine=engine, session_factory=live.factory, bus=live.bus))
    assert stop is not None
    device = Device_(live, "mq-bin-2")
    try:
        bridge = mqtt.running()
        assert bridge is not None
        wait_for(lambda: bridge.connected)
        wait_for(lambda: bridge._subscribed.is_set())
        device.send({"mid": "s1", "values": {"fill": 12}})
        wait_for(_seen(live, 1))
        with live.factory() as s:
            figures = service.stats(s, since=utcnow() - timedelta(minutes=5))
        assert figures.bridge is not None
        assert figures.bridge.connected
        assert figures.bridge.topic == f"{live.prefix}/+/devices/+/attrs"
        assert figures.queue_capacity == 10_000
        assert figures.accepted >= 1
    finally:
        device.close()
        stop()
    assert mqtt.running() is None


def test_two_writers_racing_on_the_same_messages_store_them_once(live: Live) -> None:
    import threading

    from cityos.core.db import WRITE_INTENT
    from cityos.hub.ingest import pipeline
    from cityos.hub.ingest.pipeline import Inbound

    device_id, _ = live.devices["mq-bin-1"]
    batch = [Inbound("mqtt", device_id, {"mid": f"race-{i}", "values": {"fill": i}}) for i in range(50)]
    statuses: list[str] = []
    start = threading.Barrier(2)

    def write() -> None:
        start.wait()
        with live.factory() as s:
            s.connection(execution_options={WRITE_INTENT: True})
            statuses.extend(o.status for o in pipeline.process(s, batch))
            s.commit()

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(set(statuses)) == ["accepted", "duplicate"]
    assert statuses.count("accepted") == 50
    assert live.count(IngestMessage, IngestMessage.device_id == device_id) == 50
    with live.factory() as s:
        code = s.scalar(select(Device.code).where(Device.id == device_id))
    assert live.count(SensorObservation, SensorObservation.source == code) == 50
