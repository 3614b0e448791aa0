"""The webhook deliverer: POSTs queued deliveries, signed, with retries and isolation.

Each delivery is a JSON body ``{"id", "topic", "created_at", "data"}`` with the headers
``X-Cityos-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>``,
``X-Cityos-Event`` (the topic) and ``X-Cityos-Delivery`` (the delivery id). A 2xx answer is
delivered; anything else (another status, a timeout, a refused connection) is retried with
exponential back-off (30 s, 1, 2, 4 … minutes, at most 6 hours) until ``MAX_ATTEMPTS``, then the
delivery is failed and can be sent again by hand.

Isolation: the webhooks of a batch are sent in parallel, one worker per webhook, so a slow or
dead endpoint holds only its own queue; after its first failure in a batch the rest of its queue
waits for the next, and after ``PAUSE_AFTER`` consecutive failures the whole webhook is paused for
the back-off time, so its backlog takes no attempts of its own deliveries meanwhile. No database
transaction is open while a request is in flight.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import unit_of_work, utcnow
from cityos.hub.apps import webhooks
from cityos.hub.apps.models import AppStatus, AppWebhook, DeliveryStatus, LightApp, WebhookDelivery

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
PAUSE_AFTER = 5
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
TIMEOUT_SECONDS = 5.0
PER_WEBHOOK = 20  # at most this many deliveries of one webhook per batch
MAX_WORKERS = 8
USER_AGENT = "cityos-webhooks/1"


# Loopback, link-local (cloud metadata), multicast and unspecified addresses are never called:
# a webhook must not reach the platform's own machine. Private networks (a city's intranet) are
# allowed (a receiver on one's own machine is reached at its network address).
ALLOW_LOOPBACK = False


def blocked(url: str) -> bool:
    """Whether the webhook's host resolves to an address the platform never calls."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return False  # the request itself fails and is retried
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if address.is_loopback and ALLOW_LOOPBACK:
            continue
        if address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified:
            return True
    return False


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones (30 s, 60 s, 120 s … ≤ 6 h)."""
    delay: timedelta = BASE_DELAY * int(2 ** max(0, min(attempts - 1, 20)))
    return delay if delay < MAX_DELAY else MAX_DELAY


def sign(secret: str, body: bytes) -> str:
    """The ``X-Cityos-Signature`` value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does (see docs/developers.md): compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature or "")


@dataclass(frozen=True)
class Job:
    delivery_id: int
    webhook_id: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    webhook_id: int
    status: int | None  # the HTTP status, None when no answer came
    error: str | None  # None: delivered
    tried: bool = True  # False: skipped in this batch (its webhook failed just before)


@dataclass(frozen=True)
class Run:
    delivered: int
    failed: int
    skipped: int


def body_of(row: WebhookDelivery) -> bytes:
    doc = {"id": row.event_id, "topic": row.topic, "created_at": row.created_at.isoformat(), "data": row.payload}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def due_jobs(session: Session, *, now: datetime | None = None, limit: int = 200) -> list[Job]:
    """Pending deliveries whose time has come, of active, unpaused webhooks of approved apps."""
    now = now or utcnow()
    rows = session.execute(
        select(WebhookDelivery, AppWebhook)
        .join(AppWebhook, AppWebhook.id == WebhookDelivery.webhook_id)
        .join(LightApp, LightApp.id == AppWebhook.app_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            AppWebhook.active.is_(True),
            or_(AppWebhook.paused_until.is_(None), AppWebhook.paused_until <= now),
            LightApp.status == AppStatus.APPROVED,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit * 5)
    ).all()
    per_hook: dict[int, int] = defaultdict(int)
    secrets: dict[int, str] = {}
    jobs: list[Job] = []
    for row, hook in rows:
        if per_hook[hook.id] >= PER_WEBHOOK or len(jobs) >= limit:
            continue
        per_hook[hook.id] += 1
        if hook.id not in secrets:
            secrets[hook.id] = webhooks.secret_of(hook)
        body = body_of(row)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Cityos-Event": row.topic,
            "X-Cityos-Delivery": str(row.id),
            "X-Cityos-Signature": sign(secrets[hook.id], body),
        }
        jobs.append(Job(row.id, hook.id, hook.url, body, headers))
    return jobs


def _send_queue(jobs: list[Job], timeout: float) -> list[Outcome]:
    """One webhook's jobs in order; after a failure the rest wait for the next batch."""
    out: list[Outcome] = []
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for n, job in enumerate(jobs):
            status: int | None = None
            if blocked(job.url):
                error: str | None = "BlockedAddress"
            else:
                try:
                    answer = client.post(job.url, content=job.body, headers=job.headers)
                    status = answer.status_code
                    error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
                except httpx.HTTPError as exc:
                    error = type(exc).__name__
            out.append(Outcome(job.delivery_id, job.webhook_id, status, error))
            if error is not None:
                out += [Outcome(j.delivery_id, j.webhook_id, None, None, tried=False) for j in jobs[n + 1 :]]
                break
    return out


def send_all(jobs: list[Job], *, timeout: float = TIMEOUT_SECONDS) -> list[Outcome]:
    """Send the jobs, one worker per webhook (no database work here)."""
    queues: dict[int, list[Job]] = defaultdict(list)
    for job in jobs:
        queues[job.webhook_id].append(job)
    if not queues:
        return []
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(queues)), thread_name_prefix="webhook") as pool:
        for result in pool.map(lambda q: _send_queue(q, timeout), list(queues.values())):
            outcomes += result
    return outcomes


def record(session: Session, outcomes: list[Outcome], *, now: datetime | None = None) -> Run:
    """Write what happened: delivered, rescheduled with back-off, failed for good; webhook health."""
    now = now or utcnow()
    delivered = failed = skipped = 0
    for outcome in outcomes:
        if not outcome.tried:
            skipped += 1
            continue
        row = session.get(WebhookDelivery, outcome.delivery_id)
        hook = session.get(AppWebhook, outcome.webhook_id)
        if row is None or hook is None or row.status != DeliveryStatus.PENDING:
            continue
        row.attempts += 1
        row.last_status = outcome.status
        row.last_error = outcome.error
        if outcome.error is None:
            row.status = DeliveryStatus.DELIVERED
            row.delivered_at = now
            hook.failures, hook.paused_until = 0, None
            delivered += 1
            continue
        failed += 1
        hook.failures += 1
        if hook.failures >= PAUSE_AFTER:
            hook.paused_until = now + backoff(hook.failures - PAUSE_AFTER + 1)
        if row.attempts >= MAX_ATTEMPTS:
            row.status = DeliveryStatus.FAILED
        else:
            row.next_attempt_at = now + backoff(row.attempts)
    session.flush()
    return Run(delivered, failed, skipped)


def deliver_due(
    factory: sessionmaker[Session], *, limit: int = 200, timeout: float = TIMEOUT_SECONDS, now: datetime | None = None
) -> Run:
    """One batch: read what is due, send it with no transaction open, record the outcomes."""
    with factory() as session:
        jobs = due_jobs(session, now=now, limit=limit)
        session.rollback()
    if not jobs:
        return Run(0, 0, 0)
    outcomes = send_all(jobs, timeout=timeout)
    with unit_of_work(factory) as session:
        run = record(session, outcomes, now=now)
    if run.failed:
        log.info("webhooks.batch", delivered=run.delivered, failed=run.failed, skipped=run.skipped)
    return run


def worker(factory: sessionmaker[Session], *, every: float = 2.0) -> tuple[threading.Thread, Callable[[], None]]:
    """A daemon thread that sends due deliveries every ``every`` seconds; returns it and its stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                deliver_due(factory)
            except Exception:
                log.exception("webhooks.deliver_failed")

    thread = threading.Thread(target=loop, daemon=True, name="webhooks")
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)

    return thread, halt
