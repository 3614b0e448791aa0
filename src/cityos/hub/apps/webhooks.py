"""Webhooks of light apps: which event topics an app may subscribe to, the developer's webhook
CRUD, and the queueing of one ``WebhookDelivery`` per matching webhook when an event arrives
(``tasks.register`` subscribes the handlers; ``delivery`` sends them).

Only events whose fields carry no personal data are offered (``TOPICS``); an event with a place
(a point or the region of a case) goes only to apps whose region contains it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.runtime import field_cipher
from cityos.hub.apps import service
from cityos.hub.apps.models import AppStatus, AppWebhook, DeliveryStatus, LightApp, WebhookDelivery


@dataclass(frozen=True)
class Topic:
    title: str
    scope: str | None  # the granted scope an app needs for it (None: any approved app)


# Checked field by field: cases.reported (case id, category, department), hub.device_observed
# (device code and kind, entity, readings, point), hub.traffic_observed (detector interval),
# devices.alarm (device, category, point). Application and licence events name persons: not offered.
TOPICS: dict[str, Topic] = {
    "cases.reported": Topic(N_("A case was reported"), None),
    "devices.alarm": Topic(N_("A device raised an alarm"), "hub:read"),
    "hub.device_observed": Topic(N_("A device sent readings"), "hub:read"),
    "hub.traffic_observed": Topic(N_("A traffic detector sent an interval"), "hub:read"),
    "mobility.guidance": Topic(N_("Traffic guidance: congestion and clearance"), "traffic:read"),
}
MAX_WEBHOOKS = 10
SECRET_CONTEXT = "app_webhook.secret"

MSG_HOOK_URL = N_("Enter an http:// or https:// address of at most 512 characters.")
MSG_HOOK_TOPICS = N_("Choose topics among: {expected}.")
MSG_HOOK_TOPIC_SCOPE = N_("The topic {topic} needs the scope {scope}, which this app was not granted.")
MSG_HOOK_SECRET = N_("A secret of 16 to 128 characters, or leave it empty for a generated one.")
MSG_HOOK_APPROVED = N_("Only an approved app can have webhooks.")
MSG_HOOK_MANY = N_("An app can have at most {max} webhooks.")


class TopicCache:
    """The topics some active webhook follows, for ``ttl`` seconds: a flood of device readings
    nobody subscribed to costs no query. Webhook changes in this process refresh it at once."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._topics: frozenset[str] | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def followed(self, session: Session) -> frozenset[str]:
        with self._lock:
            if self._topics is not None and time.monotonic() - self._at < self.ttl:
                return self._topics
        rows = session.scalars(select(AppWebhook.topics).where(AppWebhook.active.is_(True)))
        topics = frozenset(t for row in rows for t in (row or []))
        with self._lock:
            self._topics, self._at = topics, time.monotonic()
        return topics

    def forget(self) -> None:
        with self._lock:
            self._topics = None


followed_topics = TopicCache()


def _topic_errors(app: LightApp, topics: list[str]) -> list[FieldError]:
    if not topics or any(t not in TOPICS for t in topics):
        return [FieldError("topics", MSG_HOOK_TOPICS, {"expected": ", ".join(TOPICS)})]
    errors: list[FieldError] = []
    for topic in topics:
        need = TOPICS[topic].scope
        if need is not None and need not in (app.granted_scopes or []):
            errors.append(FieldError("topics", MSG_HOOK_TOPIC_SCOPE, {"topic": topic, "scope": need}))
    return errors


def create_webhook(
    session: Session, actor: Actor, app_id: int, *, url: str, topics: list[str], secret: str | None = None
) -> tuple[AppWebhook, str]:
    """Add a webhook to one's approved app; returns it and its signing secret (shown once)."""
    app = service.get_own(session, actor, app_id)
    if app.status not in (AppStatus.APPROVED, AppStatus.SUSPENDED):
        raise Invalid(details=[FieldError("app", MSG_HOOK_APPROVED)])
    errors: list[FieldError] = []
    if not service.url_ok((url or "").strip()):
        errors.append(FieldError("url", MSG_HOOK_URL))
    errors += _topic_errors(app, list(topics))
    if secret and not 16 <= len(secret) <= 128:
        errors.append(FieldError("secret", MSG_HOOK_SECRET))
    count = len(session.scalars(select(AppWebhook.id).where(AppWebhook.app_id == app.id)).all())
    if count >= MAX_WEBHOOKS:
        errors.append(FieldError("url", MSG_HOOK_MANY, {"max": MAX_WEBHOOKS}))
    if errors:
        raise Invalid(details=errors)
    shown = secret or secrets.token_urlsafe(24)
    hook = AppWebhook(
        app_id=app.id,
        url=url.strip(),
        topics=sorted(set(topics)),
        secret_enc=field_cipher().encrypt(shown, context=SECRET_CONTEXT),
        active=True,
        failures=0,
    )
    session.add(hook)
    session.flush()
    followed_topics.forget()
    audit.record(session, actor, "app.webhook_create", subject_type="app_webhook", subject_id=hook.id)
    return hook, shown


def secret_of(hook: AppWebhook) -> str:
    return field_cipher().decrypt(hook.secret_enc, context=SECRET_CONTEXT)


def webhooks(session: Session, actor: Actor, app_id: int) -> list[AppWebhook]:
    app = service.get_app(session, actor, app_id)
    return list(session.scalars(select(AppWebhook).where(AppWebhook.app_id == app.id).order_by(AppWebhook.id)))


def _own_hook(session: Session, actor: Actor, app_id: int, webhook_id: int) -> tuple[LightApp, AppWebhook]:
    app = service.get_own(session, actor, app_id)
    hook = session.get(AppWebhook, webhook_id)
    if hook is None or hook.app_id != app.id:
        raise NotFound()
    return app, hook


def update_webhook(
    session: Session,
    actor: Actor,
    app_id: int,
    webhook_id: int,
    *,
    url: str | None = None,
    topics: list[str] | None = None,
    active: bool | None = None,
) -> AppWebhook:
    app, hook = _own_hook(session, actor, app_id, webhook_id)
    errors: list[FieldError] = []
    if url is not None and not service.url_ok(url.strip()):
        errors.append(FieldError("url", MSG_HOOK_URL))
    if topics is not None:
        errors += _topic_errors(app, list(topics))
    if errors:
        raise Invalid(details=errors)
    if url is not None:
        hook.url = url.strip()
    if topics is not None:
        hook.topics = sorted(set(topics))
    if active is not None:
        hook.active = active
        if active:
            hook.failures, hook.paused_until = 0, None
    session.flush()
    followed_topics.forget()
    return hook


def delete_webhook(session: Session, actor: Actor, app_id: int, webhook_id: int) -> None:
    _app, hook = _own_hook(session, actor, app_id, webhook_id)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    session.delete(hook)
    session.flush()
    followed_topics.forget()
    audit.record(session, actor, "app.webhook_delete", subject_type="app_webhook", subject_id=webhook_id)


def deliveries(
    session: Session, actor: Actor, app_id: int, *, status: str | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """The delivery log of an app's webhooks, newest first."""
    app = service.get_app(session, actor, app_id)
    query = (
        select(WebhookDelivery)
        .join(AppWebhook, AppWebhook.id == WebhookDelivery.webhook_id)
        .where(AppWebhook.app_id == app.id)
    )
    if status:
        query = query.where(WebhookDelivery.status == status)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(max(1, min(limit, 500)))))


def redeliver(session: Session, actor: Actor, app_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (by hand): it is queued now with a fresh set of attempts."""
    app = service.get_own(session, actor, app_id)
    row = session.get(WebhookDelivery, delivery_id)
    hook = session.get(AppWebhook, row.webhook_id) if row is not None else None
    if row is None or hook is None or hook.app_id != app.id:
        raise NotFound()
    row.status = DeliveryStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
    hook.failures, hook.paused_until = 0, None
    session.flush()
    return row


# --- queueing ----------------------------------------------------------------------------------------------


def event_id(topic: str, payload: dict[str, Any]) -> str:
    """The same event (topic and fields) always gets the same id: queueing it twice is a no-op."""
    text = json.dumps({"topic": topic, "data": payload}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _place(session: Session, payload: dict[str, Any], region_path: str | None) -> str | None:
    if region_path is not None:
        return region_path
    lon, lat = payload.get("lon"), payload.get("lat")
    if isinstance(lon, int | float) and isinstance(lat, int | float):
        from cityos.places.index import locate

        region = locate(session, float(lon), float(lat))
        return region.path if region is not None else ""  # a point outside every region: nobody's
    return None


def queue_event(session: Session, topic: str, payload: dict[str, Any], *, region_path: str | None = None) -> int:
    """Queue the event for every active webhook of an approved app that subscribed to the topic,
    holds the scope it needs and acts in a region that contains the event's place (when it has
    one). Returns how many deliveries were queued."""
    if topic not in TOPICS or topic not in followed_topics.followed(session):
        return 0
    rows = session.execute(
        select(AppWebhook, LightApp)
        .join(LightApp, LightApp.id == AppWebhook.app_id)
        .where(AppWebhook.active.is_(True), LightApp.status == AppStatus.APPROVED)
    ).all()
    need = TOPICS[topic].scope
    matching = [
        (hook, app)
        for hook, app in rows
        if topic in (hook.topics or []) and (need is None or need in (app.granted_scopes or []))
    ]
    if not matching:
        return 0
    place = _place(session, payload, region_path)
    eid = event_id(topic, payload)
    queued = 0
    for hook, app in matching:
        if place is not None and not (app.scope_path and place.startswith(app.scope_path)):
            continue
        exists = session.scalar(
            select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == hook.id, WebhookDelivery.event_id == eid)
        )
        if exists is not None:
            continue
        session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event_id=eid,
                topic=topic,
                payload=payload,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=utcnow(),
            )
        )
        queued += 1
    session.flush()
    return queued
