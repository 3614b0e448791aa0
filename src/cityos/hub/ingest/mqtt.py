"""The MQTT bridge (the production path for devices): Mosquitto/EMQX → the hub.

It subscribes with QoS 1 to ``{prefix}/{tenant}/devices/{device_code}/attrs`` as an MQTT 5 client
with a persistent session and ``manual_ack``: a message is acknowledged only after the batch that
holds it has been committed, so a crash before the commit makes the broker deliver it again
(at-least-once end to end) and the message id (``mid``) de-duplicates the second delivery.

Device authentication: each message carries the MQTT 5 user property ``sig``, the hex
HMAC-SHA256 of the payload bytes under the device key. The payload is the HTTP message:
``{"mid": "...", "ts": "<ISO 8601>", "values": {...}}``.

Between the network thread and the database sits a bounded ``queue.Queue``: when it is full,
the message callback blocks, so the client stops reading and the broker holds the rest
(back-pressure; memory stays bounded: at most ``capacity`` queued plus the ``batch_max`` the writer
holds). One writer thread drains the queue in batches (up to
``batch_max`` messages or ``batch_wait`` seconds) into one transaction each
(``pipeline.process``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import structlog
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import WRITE_INTENT, utcnow
from cityos.core.errors import FieldError
from cityos.hub.ingest import pipeline
from cityos.hub.ingest.models import IngestBinding
from cityos.hub.ingest.service import device_key
from cityos.places.devices.models import Device

log = structlog.get_logger(__name__)

MAX_PAYLOAD = 64 * 1024
CACHE_SECONDS = 30.0
SESSION_EXPIRY_S = 24 * 3600

_running: Bridge | None = None


def running() -> Bridge | None:
    """The bridge started in this process, if any."""
    return _running


def signature(key: str, payload: bytes) -> str:
    """What a device puts in the ``sig`` user property."""
    return hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Raw:
    """A message as the broker delivered it (what the queue holds)."""

    topic: str
    payload: bytes
    sig: str | None
    mid: int
    qos: int


@dataclass(frozen=True)
class _Known:
    device_id: int
    tenant: str
    key: str | None
    at: float


class Bridge:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        url: str,
        prefix: str = "cityos",
        client_id: str = "cityos-hub-ingest",
        capacity: int = 10_000,
        batch_max: int = 1000,
        batch_wait: float = 0.2,
        session_expiry: int = SESSION_EXPIRY_S,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"not an MQTT URL: {parts.scheme}://…")
        self.session_factory = session_factory
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme in ("mqtts", "ssl")
        self.port = parts.port or (8883 if self.tls else 1883)
        self.username, self.password = parts.username, parts.password
        self.safe_url = f"{parts.scheme}://{self.host}:{self.port}"
        self.prefix = prefix.strip("/")
        self.topic = f"{self.prefix}/+/devices/+/attrs"
        self.client_id = client_id
        self.capacity = capacity
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.session_expiry = session_expiry
        self.queue: queue.Queue[Raw] = queue.Queue(maxsize=capacity)
        self.connected = False
        self.received = 0
        self.blocked = 0  # times the callback waited for room in the queue
        self.peak_depth = 0
        self.batches = 0
        self.started_at: datetime = utcnow()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._subscribed = threading.Event()
        self._known: dict[str, _Known | None] = {}
        self._known_at: dict[str, float] = {}
        self._writer: threading.Thread | None = None
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5, manual_ack=True
        )
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        if self.tls:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def queue_depth(self) -> int:
        return self.queue.qsize()

    def start(self, *, wait: float = 10.0) -> Bridge:
        """Connects, subscribes and starts the writer; waits up to ``wait`` s for the subscription."""
        global _running
        self._writer = threading.Thread(target=self._write_loop, name="hub-ingest-writer", daemon=True)
        self._writer.start()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        _running = self
        if wait and not self._subscribed.wait(wait):
            log.warning("hub.mqtt.not_subscribed", url=self.safe_url)
        return self

    def stop(self, *, drain: float = 5.0) -> None:
        """Stops reading, lets the writer commit what it holds (up to ``drain`` s), disconnects.
        What is left unacknowledged is delivered again by the broker on the next connect."""
        global _running
        self._paused.clear()
        deadline = time.monotonic() + drain
        while self.queue.qsize() and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=max(1.0, deadline - time.monotonic() + 1.0))
        self.client.disconnect()
        self.client.loop_stop()
        if _running is self:
            _running = None

    def pause(self) -> None:
        """Holds the writer (maintenance): the queue fills, then the broker keeps the rest."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    # --- network thread --------------------------------------------------------------------------

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("hub.mqtt.connect_failed", url=self.safe_url, reason=str(reason))
            return
        self.connected = True
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, _client: paho.Client, _userdata: Any, _mid: int, _reasons: Any, _props: Any) -> None:
        self._subscribed.set()

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected = False
        self._subscribed.clear()
        if not self._stop.is_set():
            log.warning("hub.mqtt.disconnected", url=self.safe_url, reason=str(reason))

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        sig = None
        props = getattr(msg, "properties", None)
        for name, value in getattr(props, "UserProperty", None) or []:
            if name == "sig":
                sig = value
        item = Raw(topic=msg.topic, payload=bytes(msg.payload), sig=sig, mid=msg.mid, qos=msg.qos)
        self.received += 1
        while not self._stop.is_set():
            try:
                self.queue.put(item, timeout=0.25)
                break
            except queue.Full:
                self.blocked += 1  # back-pressure: the client reads nothing more until there is room
        self.peak_depth = max(self.peak_depth, self.queue.qsize())

    # --- writer thread ---------------------------------------------------------------------------

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            if self._paused.is_set():
                time.sleep(0.02)
                continue
            try:
                first = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.batch_wait
            while len(batch) < self.batch_max:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self.queue.get(timeout=left))
                except queue.Empty:
                    break
            while self._paused.is_set() and not self._stop.is_set():
                time.sleep(0.02)  # paused while gathering: hold this batch (at most batch_max)
            self._write(batch)

    def _write(self, batch: list[Raw]) -> None:
        """Commits the batch, then acknowledges it. While the database is unavailable it retries
        (holding the queue, so the broker keeps the rest); a batch that keeps failing is split,
        and a single message that still fails is recorded as rejected and acknowledged."""
        attempts, delay = 0, 0.1
        while True:
            try:
                self._commit(batch)
                break
            except Exception:
                attempts += 1
                log.exception("hub.mqtt.batch_failed", size=len(batch), attempts=attempts)
                if self._stop.is_set():
                    return  # not acknowledged: the broker delivers these again
                if len(batch) > 1 and attempts >= 2:
                    for item in batch:
                        self._write([item])
                    return
                if len(batch) == 1 and attempts >= 5 and self._give_up(batch[0]):
                    break
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.batches += 1
        self._ack(batch)

    def _give_up(self, item: Raw) -> bool:
        address = self._split(item.topic)
        try:
            with self.session_factory() as session:
                errors = (FieldError("payload", pipeline.MSG_BODY),)
                message = pipeline.Inbound(
                    channel="mqtt",
                    device_id=None,
                    body=None,
                    device_code=address[1] if address else None,
                    tenant=address[0] if address else None,
                    reason="malformed",
                    errors=errors,
                )
                pipeline.process(session, [message])
                session.commit()
            return True
        except Exception:
            log.exception("hub.mqtt.give_up_failed")
            return False

    def _ack(self, batch: list[Raw]) -> None:
        for item in batch:
            if item.qos > 0:
                self.client.ack(item.mid, item.qos)

    def _commit(self, batch: list[Raw]) -> None:
        with self.session_factory() as session:
            session.connection(execution_options={WRITE_INTENT: True})
            inbound = self._inbound(session, batch)
            pipeline.process(session, inbound)
            session.commit()

    def _split(self, topic: str) -> tuple[str, str] | None:
        rest = topic[len(self.prefix) + 1 :] if topic.startswith(self.prefix + "/") else ""
        parts = rest.split("/")
        if len(parts) != 4 or parts[1] != "devices" or parts[3] != "attrs" or not parts[0] or not parts[2]:
            return None
        return parts[0], parts[2]

    def _lookup(self, session: Session, codes: set[str], *, fresh: bool = False) -> None:
        now = time.monotonic()
        wanted = {c for c in codes if fresh or c not in self._known or now - self._known_at[c] > CACHE_SECONDS}
        if not wanted:
            return
        if len(self._known) > 100_000:
            self._known.clear()
            self._known_at.clear()
        rows = session.execute(
            select(Device.code, Device.id, IngestBinding)
            .join(IngestBinding, IngestBinding.device_id == Device.id)
            .where(Device.code.in_(wanted))
        ).all()
        found = {code: (device_id, binding) for code, device_id, binding in rows}
        for code in wanted:
            hit = found.get(code)
            self._known[code] = None if hit is None else _Known(hit[0], hit[1].tenant, device_key(hit[1]), now)
            self._known_at[code] = now

    def _inbound(self, session: Session, batch: list[Raw]) -> list[pipeline.Inbound]:
        addressed = [(item, self._split(item.topic)) for item in batch]
        self._lookup(session, {a[1] for _, a in addressed if a is not None})
        out: list[pipeline.Inbound] = []
        for item, address in addressed:
            tenant, code = address if address is not None else (None, None)
            known = self._known.get(code) if code else None
            if known is not None and item.sig and not _good_sig(known.key, item):
                self._lookup(session, {known_code for known_code in [code] if known_code}, fresh=True)  # rotated?
                known = self._known.get(code) if code else None
            base: dict[str, Any] = {"channel": "mqtt", "device_code": code, "tenant": tenant}
            body: Any = None
            if len(item.payload) <= MAX_PAYLOAD:
                try:
                    body = json.loads(item.payload)
                except ValueError:
                    body = None
            if known is None or known.tenant != tenant:
                errors = (FieldError("topic", pipeline.MSG_DEVICE),)
                out.append(pipeline.Inbound(device_id=None, body=body, reason="unknown_device", errors=errors, **base))
            elif not _good_sig(known.key, item):
                errors = (FieldError("sig", pipeline.MSG_SIGNATURE),)
                reason = "bad_signature"
                out.append(pipeline.Inbound(device_id=known.device_id, body=body, reason=reason, errors=errors, **base))
            elif body is None:
                errors = (FieldError("payload", pipeline.MSG_BODY),)
                out.append(
                    pipeline.Inbound(device_id=known.device_id, body=None, reason="malformed", errors=errors, **base)
                )
            else:
                out.append(pipeline.Inbound(device_id=known.device_id, body=body, **base))
        return out


def _good_sig(key: str | None, item: Raw) -> bool:
    if not key or not item.sig:
        return False
    return hmac.compare_digest(signature(key, item.payload), item.sig.strip().lower())
