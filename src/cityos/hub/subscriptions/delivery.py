"""Sending the queued notifications (HTTP POST with httpx, MQTT publish with paho-mqtt).

One deliverer per server process: a thread running an asyncio loop.

- The **dispatcher** wakes after a commit that queued notifications (``service.add_waker``) or
  every ``poll`` seconds, queues the due periodic (timeInterval) notifications, and claims due
  rows of the outbox: each claimed row gets a lease (``next_attempt_at`` moved ``lease`` seconds
  ahead), so another process does not send it too and a process that died leaves it to be sent
  again after the lease (rows survive restarts).
- Each **endpoint** (one notification URI) has its own ``EndpointWorker``: an asyncio queue, a
  fixed number of sender tasks, its own HTTP connection pool or MQTT connection, its own
  timeout. A slow or black-holed endpoint fills only its own queue and senders: the dispatcher
  stops claiming rows for an endpoint whose queue is full, so it never takes others' turns.
- All database work runs on one worker thread of its own (the loop never blocks on it):
  claim, then one short transaction per outcome (the notification row and the subscription's
  figures: timesSent, timesFailed, lastNotification, lastSuccess, lastFailure and the reason).
- A failed attempt is retried after ``backoff * 2**(attempt-1)`` seconds (at most
  ``backoff_cap``); after ``max_attempts`` the notification is marked failed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import structlog
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import WRITE_INTENT, unit_of_work, utcnow
from cityos.hub.subscriptions import service
from cityos.hub.subscriptions.models import HubNotification, HubSubscription, NotificationStatus

log = structlog.get_logger(__name__)

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
LINK_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


@dataclass(frozen=True)
class Job:
    """One claimed notification."""

    id: int
    subscription_pk: int
    uri: str
    payload: dict[str, Any]
    attempts: int
    accept: str
    receiver_info: tuple[tuple[str, str], ...]
    notifier_info: tuple[tuple[str, str], ...]
    context: Any


@dataclass
class Outcome:
    ok: bool
    reason: str | None = None
    status: int | None = None
    latency_ms: float = 0.0


@dataclass
class Settings:
    poll: float = 1.0
    timeout: float = 5.0  # per attempt, connect + send + answer
    concurrency: int = 4  # senders per endpoint
    queue_limit: int = 64  # claimed rows waiting per endpoint
    batch: int = 200  # rows claimed per round
    max_attempts: int = 6
    backoff: float = 2.0
    backoff_cap: float = 300.0
    lease: float = 120.0
    idle: float = 300.0  # an endpoint's senders and connections are closed after this long unused
    periodic: bool = True  # queue timeInterval notifications


def _context_links(context: Any) -> list[str]:
    items = context if isinstance(context, list) else [context] if context is not None else []
    links = [c for c in items if isinstance(c, str)]
    return links or [CORE_CONTEXT]


def http_request(job: Job) -> tuple[dict[str, str], bytes]:
    """Headers and body of an HTTP notification (``Link`` or ``@context`` by ``accept``)."""
    body = dict(job.payload)
    headers = dict(job.receiver_info)
    if job.accept == "application/ld+json":
        body["@context"] = job.context if job.context is not None else CORE_CONTEXT
        headers["Content-Type"] = "application/ld+json"
    else:
        headers["Content-Type"] = "application/json"
        headers["Link"] = ", ".join(f"<{url}>; {LINK_REL}" for url in _context_links(job.context))
    return headers, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def mqtt_message(job: Job) -> tuple[str, int, bytes]:
    """Topic, QoS and payload of an MQTT notification: ``{"metadata": {...}, "body": {...}}``."""
    headers, body = http_request(job)
    notifier = dict(job.notifier_info)
    qos = int(notifier.get("MQTT-QoS", "0"))
    topic = unquote(urlsplit(job.uri).path.lstrip("/"))
    message = {"metadata": headers, "body": json.loads(body)}
    return topic, qos, json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


class MqttLink:
    """One connection to one broker (per endpoint), used from the endpoint's own threads."""

    def __init__(self, uri: str, timeout: float) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urlsplit(uri)
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self.timeout = timeout
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
        if parts.username:
            self.client.username_pw_set(unquote(parts.username), unquote(parts.password or "") or None)
        if parts.scheme == "mqtts":
            self.client.tls_set()
        self.client.connect_timeout = timeout
        self.connected = False
        self.lock = threading.Lock()

    def publish(self, topic: str, qos: int, payload: bytes) -> None:
        with self.lock:
            if not self.connected:
                self.client.connect(self.host, self.port, keepalive=30)
                self.client.loop_start()
                self.connected = True
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(timeout=self.timeout)
        if not info.is_published():
            raise TimeoutError(f"MQTT publish not acknowledged within {self.timeout:g} s")

    def close(self) -> None:
        if self.connected:
            self.client.disconnect()
            self.client.loop_stop()
            self.connected = False


class EndpointWorker:
    """The queue, senders and connection of one endpoint."""

    def __init__(self, deliverer: Deliverer, uri: str) -> None:
        self.deliverer = deliverer
        self.uri = uri
        self.settings = deliverer.settings
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.busy = 0
        self.used = time.monotonic()
        self.mqtt = uri.startswith("mqtt")
        self.http: httpx.AsyncClient | None = None
        self.link: MqttLink | None = None
        self.threads: concurrent.futures.ThreadPoolExecutor | None = None
        if self.mqtt:
            self.threads = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.settings.concurrency, thread_name_prefix="hub-mqtt"
            )
        else:
            n = self.settings.concurrency
            self.http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.settings.timeout),
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                follow_redirects=False,
            )
        self.tasks = [asyncio.create_task(self._sender()) for _ in range(self.settings.concurrency)]

    @property
    def load(self) -> int:
        return self.queue.qsize() + self.busy

    async def _sender(self) -> None:
        while True:
            job = await self.queue.get()
            self.busy += 1
            self.used = time.monotonic()
            try:
                outcome = await self.send(job)
                await self.deliverer.record(job, outcome)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub.notification_record_failed", notification=job.id)
            finally:
                self.busy -= 1

    async def send(self, job: Job) -> Outcome:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.timeout):
                if self.mqtt:
                    await self._publish(job)
                    status = None
                else:
                    status = await self._post(job)
        except TimeoutError:
            return Outcome(False, f"timeout after {self.settings.timeout:g} s", None, _ms(started))
        except Exception as exc:
            return Outcome(False, f"{type(exc).__name__}: {exc}"[:500], None, _ms(started))
        if status is not None and not 200 <= status < 300:
            return Outcome(False, f"HTTP {status}", status, _ms(started))
        return Outcome(True, None, status, _ms(started))

    async def _post(self, job: Job) -> int:
        assert self.http is not None
        headers, body = http_request(job)
        response = await self.http.post(job.uri, content=body, headers=headers)
        return response.status_code

    async def _publish(self, job: Job) -> None:
        assert self.threads is not None
        if self.link is None:
            self.link = MqttLink(self.uri, self.settings.timeout)
        topic, qos, payload = mqtt_message(job)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.threads, self.link.publish, topic, qos, payload)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()
        if self.link is not None:
            link = self.link
            await asyncio.get_running_loop().run_in_executor(None, link.close)
        if self.threads is not None:
            self.threads.shutdown(wait=False, cancel_futures=True)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@dataclass
class Deliverer:
    """Sends the outbox; ``start()`` runs it in a thread, ``stop()`` ends it."""

    session_factory: sessionmaker[Session]
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._db = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-notify-db")
        self.endpoints: dict[str, EndpointWorker] = {}
        self._ready = threading.Event()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hub-notify", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        service.add_waker(self.wake)

    def wake(self) -> None:
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def stop(self, timeout: float = 5.0) -> None:
        service.remove_waker(self.wake)
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)
        self._db.shutdown(wait=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    def run_once(self, wait: float | None = None) -> int:
        """Send what is due now and wait for the outcomes (at most ``wait`` seconds, by default
        the attempt timeout and a second), in the calling thread; returns how many were sent.
        For ``cityos hub notifications-send`` and tests; the server runs ``start()``."""
        try:
            return asyncio.run(self._once(wait if wait is not None else self.settings.timeout + 1.0))
        finally:
            self._db.shutdown(wait=True)
            self._db = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-notify-db")

    async def _once(self, wait: float) -> int:
        try:
            claimed = await self.round()
            end = time.monotonic() + wait
            while any(w.load for w in self.endpoints.values()) and time.monotonic() < end:
                await asyncio.sleep(0.01)
            return claimed
        finally:
            await asyncio.gather(*(w.close() for w in self.endpoints.values()), return_exceptions=True)
            self.endpoints.clear()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._ready.set()
        try:
            while not self._stopping:
                try:
                    await self.round()
                except Exception:
                    log.exception("hub.notification_round_failed")
                try:
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            await asyncio.gather(*(w.close() for w in self.endpoints.values()), return_exceptions=True)

    async def _in_db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    # ------------------------------------------------------------ rounds

    async def round(self) -> int:
        """Claim what is due and hand it to the endpoints' queues; returns how many."""
        if self.settings.periodic:
            await self._in_db(self._queue_periodic)
        await self._close_idle()
        full = [uri for uri, w in self.endpoints.items() if w.load >= self.settings.queue_limit]
        jobs: list[Job] = await self._in_db(self._claim, full)
        for job in jobs:
            worker = self.endpoints.get(job.uri)
            if worker is None:
                worker = self.endpoints[job.uri] = EndpointWorker(self, job.uri)
            worker.queue.put_nowait(job)
        return len(jobs)

    async def _close_idle(self) -> None:
        since = time.monotonic() - self.settings.idle
        idle = [uri for uri, w in self.endpoints.items() if not w.load and w.used < since]
        for uri in idle:
            await self.endpoints.pop(uri).close()

    def _queue_periodic(self) -> None:
        now = self.clock()
        with self.session_factory() as session:
            due = service.periodic_due(session, now=now)
            session.rollback()
        if due:
            with unit_of_work(self.session_factory) as session:
                session.connection(execution_options={WRITE_INTENT: True})
                service.queue_periodic(session, now=now)

    def _due(self, now: datetime, full: list[str]) -> Select[HubNotification, HubSubscription]:
        """Pending notifications due now, of active subscriptions, for endpoints with room."""
        query = (
            select(HubNotification, HubSubscription)
            .join(HubSubscription, HubSubscription.id == HubNotification.subscription_pk)
            .where(
                HubNotification.status == NotificationStatus.PENDING,
                HubNotification.next_attempt_at <= now,
                HubSubscription.is_active.is_(True),
            )
            .order_by(HubNotification.next_attempt_at, HubNotification.id)
        )
        if full:
            query = query.where(HubNotification.endpoint_uri.not_in(full))
        return query

    @property
    def lease(self) -> float:
        """How long a claimed row is kept from other deliverers: long enough for a full queue
        of a black-holed endpoint to time out attempt by attempt."""
        s = self.settings
        return max(s.lease, (s.queue_limit / max(s.concurrency, 1) + 2) * s.timeout)

    def _claim(self, full: list[str]) -> list[Job]:
        now = self.clock()
        with self.session_factory() as session:  # a read first: most rounds find nothing due
            due = session.execute(self._due(now, full).limit(1)).first()
            session.rollback()
        if due is None:
            return []
        with unit_of_work(self.session_factory) as session:
            session.connection(execution_options={WRITE_INTENT: True})
            query = self._due(now, full).limit(self.settings.batch)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=HubNotification)
            jobs: list[Job] = []
            per_endpoint: dict[str, int] = {}
            for note, sub in session.execute(query):
                room = self.settings.queue_limit - self._load(note.endpoint_uri)
                if per_endpoint.get(note.endpoint_uri, 0) >= room:
                    continue
                per_endpoint[note.endpoint_uri] = per_endpoint.get(note.endpoint_uri, 0) + 1
                if sub.expires_at is not None and sub.expires_at <= now:
                    note.status = NotificationStatus.FAILED.value
                    note.last_error = "subscription expired"
                    continue
                note.next_attempt_at = now + timedelta(seconds=self.lease)
                endpoint = sub.spec.get("notification", {}).get("endpoint", {})
                jobs.append(
                    Job(
                        id=note.id,
                        subscription_pk=note.subscription_pk,
                        uri=note.endpoint_uri,
                        payload=note.payload,
                        attempts=note.attempts,
                        accept=endpoint.get("accept", "application/json"),
                        receiver_info=tuple((p["key"], p["value"]) for p in endpoint.get("receiverInfo", [])),
                        notifier_info=tuple((p["key"], p["value"]) for p in endpoint.get("notifierInfo", [])),
                        context=sub.spec.get("@context"),
                    )
                )
        return jobs

    def _load(self, uri: str) -> int:
        worker = self.endpoints.get(uri)
        return worker.load if worker is not None else 0

    # ------------------------------------------------------------ outcomes

    async def record(self, job: Job, outcome: Outcome) -> None:
        await self._in_db(self._record, job, outcome)

    def retry_delay(self, attempt: int) -> float:
        return float(min(self.settings.backoff_cap, self.settings.backoff * 2 ** max(attempt - 1, 0)))

    def _record(self, job: Job, outcome: Outcome) -> None:
        now = self.clock()
        attempt = job.attempts + 1
        with unit_of_work(self.session_factory) as session:
            session.connection(execution_options={WRITE_INTENT: True})
            values: dict[str, Any] = {
                "attempts": attempt,
                "response_status": outcome.status,
                "latency_ms": outcome.latency_ms,
            }
            if outcome.ok:
                values.update(status=NotificationStatus.DELIVERED.value, sent_at=now, last_error=None)
            elif attempt >= self.settings.max_attempts:
                values.update(status=NotificationStatus.FAILED.value, last_error=outcome.reason)
            else:
                values.update(
                    last_error=outcome.reason,
                    next_attempt_at=now + timedelta(seconds=self.retry_delay(attempt)),
                )
            session.execute(
                update(HubNotification)
                .where(HubNotification.id == job.id, HubNotification.status == NotificationStatus.PENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            figures: dict[str, Any] = {
                "times_sent": HubSubscription.times_sent + 1,
                "last_notification": now,
            }
            if outcome.ok:
                figures["last_success"] = now
            else:
                figures.update(
                    times_failed=HubSubscription.times_failed + 1,
                    last_failure=now,
                    last_failure_reason=outcome.reason,
                )
            session.execute(
                update(HubSubscription)
                .where(HubSubscription.id == job.subscription_pk)
                .values(**figures)
                .execution_options(synchronize_session=False)
            )
        if not outcome.ok:
            log.info("hub.notification_failed", notification=job.id, attempt=attempt, reason=outcome.reason)
