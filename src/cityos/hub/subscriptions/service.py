"""NGSI-LD subscriptions (订阅): create, read, change, delete; matching entity changes inside the
writer's transaction and queueing their notifications in the outbox (``HubNotification``);
periodic (timeInterval) notifications and expiry; the delivery figures of a subscription.

Sending is ``delivery.py``'s work, after the commit, on its own sessions.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import take_write_lock, utcnow
from cityos.core.errors import Conflict, NotFound
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.subscriptions import contexts, matching, render, spec
from cityos.hub.subscriptions.models import (
    HubNotification,
    HubSubscription,
    NotificationStatus,
    SubscriptionStatus,
)

PERMISSION = "hub:subscribe"
_WAKE = "cityos.hub.notifications_queued"

# ---------------------------------------------------------------- waking the deliverers

_wakers: set[Callable[[], None]] = set()
_wakers_lock = threading.Lock()
_listening = False


def add_waker(fn: Callable[[], None]) -> None:
    """A running deliverer asks to be woken after a commit that queued notifications."""
    with _wakers_lock:
        _wakers.add(fn)


def remove_waker(fn: Callable[[], None]) -> None:
    with _wakers_lock:
        _wakers.discard(fn)


def wake() -> None:
    with _wakers_lock:
        fns = list(_wakers)
    for fn in fns:
        fn()


_TOUCHED = "cityos.hub.subscriptions_touched"


def _after_commit(session: Session) -> None:
    for tenant in session.info.pop(_TOUCHED, ()):
        matching.active.forget(tenant)
    if session.info.pop(_WAKE, False):
        wake()


def _after_rollback(session: Session) -> None:
    for tenant in session.info.pop(_TOUCHED, ()):
        matching.active.forget(tenant)
    session.info.pop(_WAKE, None)


def _listen() -> None:
    global _listening
    if not _listening:
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)
        _listening = True


def _queued(session: Session) -> None:
    _listen()
    session.info[_WAKE] = True


def _touched(session: Session, tenant: str) -> None:
    """A subscription of ``tenant`` was written: the matching cache is dropped now and again when
    the transaction ends (a cache filled meanwhile by another transaction missed the write)."""
    _listen()
    matching.active.forget(tenant)
    session.info.setdefault(_TOUCHED, set()).add(tenant)


# ---------------------------------------------------------------- reading and writing


def status_of(row: HubSubscription, now: datetime | None = None) -> str:
    now = now or utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        return SubscriptionStatus.EXPIRED.value
    return SubscriptionStatus.ACTIVE.value if row.is_active else SubscriptionStatus.PAUSED.value


def figures(row: HubSubscription) -> dict[str, Any]:
    failing = row.last_failure is not None and (row.last_success is None or row.last_failure > row.last_success)
    return {
        "timesSent": row.times_sent,
        "timesFailed": row.times_failed,
        "lastNotification": spec.iso(row.last_notification),
        "lastSuccess": spec.iso(row.last_success),
        "lastFailure": spec.iso(row.last_failure),
        "lastFailureReason": row.last_failure_reason if failing else None,
        "notificationStatus": "failed" if failing else "ok",
        "isActive": row.is_active,
        "status": status_of(row),
    }


def represent(row: HubSubscription, compact: Callable[[str], str], *, with_context: bool = False) -> dict[str, Any]:
    return spec.render(row.spec, compact, status=figures(row), with_context=with_context)


def _apply(row: HubSubscription, data: dict[str, Any]) -> None:
    row.spec = data
    row.name = data.get("subscriptionName")
    row.is_active = bool(data.get("isActive", True))
    row.expires_at = spec.parse_time(data["expiresAt"]) if data.get("expiresAt") else None
    row.throttling = data.get("throttling")
    row.time_interval = data.get("timeInterval")
    row.endpoint_uri = data["notification"]["endpoint"]["uri"]
    row.modified_at = utcnow()


def get(session: Session, actor: Actor, *, tenant: str, subscription_id: str) -> HubSubscription:
    actor.require(PERMISSION)
    row = session.scalar(
        select(HubSubscription).where(
            HubSubscription.tenant == tenant, HubSubscription.subscription_id == subscription_id
        )
    )
    if row is None:
        raise NotFound("The subscription does not exist.", params={"id": subscription_id})
    return row


def create(
    session: Session,
    actor: Actor,
    *,
    tenant: str,
    body: Any,
    expand: Callable[[str], str],
    context: Any = None,
) -> HubSubscription:
    """``context``: the request's JSON-LD context (the Link header's URL) when the body has none."""
    actor.require(PERMISSION)
    now = utcnow()
    data = spec.parse(body, expand, now=now)
    data.setdefault("id", f"urn:ngsi-ld:Subscription:{uuid.uuid4()}")
    if "@context" not in data and context is not None:
        data["@context"] = context
    taken = session.scalar(
        select(HubSubscription.id).where(
            HubSubscription.tenant == tenant, HubSubscription.subscription_id == data["id"]
        )
    )
    if taken is not None:
        raise Conflict("A subscription with this id already exists.", params={"id": data["id"]})
    row = HubSubscription(tenant=tenant, subscription_id=data["id"], owner=actor.label, created_at=now)
    _apply(row, data)
    session.add(row)
    session.flush()
    _touched(session, tenant)
    return row


def update_subscription(
    session: Session, actor: Actor, *, tenant: str, subscription_id: str, body: Any, expand: Callable[[str], str]
) -> HubSubscription:
    take_write_lock(session)  # the deliverer commits meanwhile; on SQLite a late write would be refused
    row = get(session, actor, tenant=tenant, subscription_id=subscription_id)
    data = spec.parse(body, expand, now=utcnow(), partial=True, current=row.spec)
    before = row.endpoint_uri
    _apply(row, data)
    if row.endpoint_uri != before:  # what waits goes to the new endpoint
        session.execute(
            update(HubNotification)
            .where(HubNotification.subscription_pk == row.id, HubNotification.status == NotificationStatus.PENDING)
            .values(endpoint_uri=row.endpoint_uri)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    _touched(session, tenant)
    return row


def set_active(session: Session, actor: Actor, *, tenant: str, subscription_id: str, active: bool) -> HubSubscription:
    """Pause (暂停) or resume (恢复) a subscription."""
    take_write_lock(session)
    row = get(session, actor, tenant=tenant, subscription_id=subscription_id)
    row.spec = {**row.spec, "isActive": active}
    row.is_active = active
    row.modified_at = utcnow()
    session.flush()
    _touched(session, tenant)
    return row


def delete(session: Session, actor: Actor, *, tenant: str, subscription_id: str) -> None:
    take_write_lock(session)
    row = get(session, actor, tenant=tenant, subscription_id=subscription_id)
    session.delete(row)
    session.flush()
    _touched(session, tenant)


def listing(
    session: Session, actor: Actor, *, tenant: str, limit: int, offset: int
) -> tuple[list[HubSubscription], int]:
    actor.require(PERMISSION)
    where = HubSubscription.tenant == tenant
    total = session.scalar(select(func.count()).select_from(HubSubscription).where(where)) or 0
    rows = session.scalars(
        select(HubSubscription).where(where).order_by(HubSubscription.id).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def recent_deliveries(session: Session, row: HubSubscription, *, limit: int = 50) -> list[HubNotification]:
    return list(
        session.scalars(
            select(HubNotification)
            .where(HubNotification.subscription_pk == row.id)
            .order_by(HubNotification.id.desc())
            .limit(limit)
        )
    )


def pending_count(session: Session, row: HubSubscription) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(HubNotification)
            .where(HubNotification.subscription_pk == row.id, HubNotification.status == NotificationStatus.PENDING)
        )
        or 0
    )


# ---------------------------------------------------------------- notifications


def notification_body(
    sub: matching.Compiled | HubSubscription, entities: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    if isinstance(sub, HubSubscription):
        sub = matching.compile_row(sub, contexts.terms)
    data = [
        render.entity(e, sub.compact, fmt=sub.fmt, attributes=sub.attributes, sys_attrs=sub.sys_attrs, lang=sub.lang)
        for e in entities
    ]
    return {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": sub.subscription_id,
        "notifiedAt": spec.iso(now),
        "data": data,
    }


def _deleted_view(change: EntityChange) -> dict[str, Any]:
    return {"id": change.entity_id, "type": change.entity_type, "deletedAt": spec.iso(change.at)}


def _with_previous(change: EntityChange) -> dict[str, Any]:
    """The entity with ``previousValue`` (``previousObject``, ``previousLanguageMap``) on each
    changed attribute that had a single instance before (``showChanges``)."""
    assert change.entity is not None
    assert change.previous is not None
    out = dict(change.entity)
    for name in change.attrs:
        now, before = out.get(name), change.previous.get(name)
        if not isinstance(now, dict) or not isinstance(before, dict):
            continue
        for key, previous in (
            ("value", "previousValue"),
            ("object", "previousObject"),
            ("languageMap", "previousLanguageMap"),
        ):
            if key in before:
                out[name] = {**now, previous: before[key]}
                break
    return out


def _throttled(session: Session, sub: matching.Compiled, now: datetime) -> bool:
    """True when the subscription was notified less than ``throttling`` seconds ago; otherwise
    takes the slot (the row is updated in the writer's transaction)."""
    assert sub.throttling is not None
    since = now - timedelta(seconds=sub.throttling)
    taken = session.execute(
        update(HubSubscription)
        .where(
            HubSubscription.id == sub.pk,
            (HubSubscription.last_queued_at.is_(None)) | (HubSubscription.last_queued_at <= since),
        )
        .values(last_queued_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(taken, "rowcount", 0) == 0


def on_changes(session: Session, changes: Sequence[EntityChange]) -> None:
    """Listener of the entity store (inside its transaction): queue the notifications of every
    active subscription the changes concern."""
    now: datetime | None = None
    rows: list[dict[str, Any]] = []
    per_sub: dict[int, tuple[matching.Compiled, list[dict[str, Any]]]] = {}
    for change in changes:
        subs = matching.active.get(session, change.tenant, contexts.terms)
        if not subs:
            continue
        now = now or utcnow()
        for sub in subs:
            if sub.concerns(change, now):
                if change.entity is None:
                    entity = _deleted_view(change)
                elif sub.show_changes and change.previous:
                    entity = _with_previous(change)
                else:
                    entity = change.entity
                per_sub.setdefault(sub.pk, (sub, []))[1].append(entity)
    if not per_sub or now is None:
        return
    for sub, entities in per_sub.values():
        if sub.throttling is not None and _throttled(session, sub, now):
            continue
        rows.append(_outbox_row(sub.pk, sub.tenant, sub.endpoint_uri, notification_body(sub, entities, now), now))
    if rows:
        session.execute(insert(HubNotification), rows)
        _queued(session)


def _outbox_row(pk: int, tenant: str, uri: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "subscription_pk": pk,
        "tenant": tenant,
        "endpoint_uri": uri,
        "payload": payload,
        "status": NotificationStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _current_entities(session: Session, sub: matching.Compiled, *, limit: int = 1000) -> list[dict[str, Any]]:
    """What a periodic notification carries: the entities the subscription selects now."""
    from cityos.hub.ngsi import service as store

    out: list[dict[str, Any]] = []
    for type_iri in dict.fromkeys(s.type for s in sub.selectors):
        for entity in store.entities_of_type(session, tenant=sub.tenant, entity_type=type_iri, limit=limit, offset=0):
            if not sub.selects(entity["id"], entity.get("type", type_iri)):
                continue
            if sub.q is not None and not sub.q.matches(entity):
                continue
            if sub.geo is not None and not sub.geo.matches(entity):
                continue
            out.append(entity)
    return out[:limit]


def _periodic(session: Session, now: datetime) -> list[HubSubscription]:
    rows = session.scalars(
        select(HubSubscription).where(
            HubSubscription.time_interval.is_not(None),
            HubSubscription.is_active.is_(True),
            (HubSubscription.expires_at.is_(None)) | (HubSubscription.expires_at > now),
        )
    ).all()
    return [
        row
        for row in rows
        if row.time_interval is not None
        and (row.last_queued_at is None or row.last_queued_at <= now - timedelta(seconds=row.time_interval))
    ]


def periodic_due(session: Session, *, now: datetime | None = None) -> bool:
    """Whether some timeInterval subscription is due (a read only)."""
    return bool(_periodic(session, now or utcnow()))


def queue_periodic(session: Session, *, now: datetime | None = None) -> int:
    """Queue the notifications of timeInterval subscriptions that are due; returns how many."""
    now = now or utcnow()
    rows: list[dict[str, Any]] = []
    for row in _periodic(session, now):
        sub = matching.compile_row(row, contexts.terms)
        entities = _current_entities(session, sub)
        row.last_queued_at = now
        if entities:
            rows.append(_outbox_row(row.id, row.tenant, row.endpoint_uri, notification_body(sub, entities, now), now))
    if rows:
        session.execute(insert(HubNotification), rows)
        _queued(session)
    session.flush()
    return len(rows)


def expire(session: Session, *, now: datetime | None = None) -> int:
    """Subscriptions past expiresAt stop: their waiting notifications are given up."""
    now = now or utcnow()
    expired = select(HubSubscription.id).where(HubSubscription.expires_at <= now)
    result = session.execute(
        update(HubNotification)
        .where(HubNotification.status == NotificationStatus.PENDING, HubNotification.subscription_pk.in_(expired))
        .values(status=NotificationStatus.FAILED.value, last_error="subscription expired")
        .execution_options(synchronize_session=False)
    )
    tenants = session.scalars(select(HubSubscription.tenant).where(HubSubscription.expires_at <= now).distinct())
    for tenant in tenants:
        matching.active.forget(tenant)
    return int(getattr(result, "rowcount", 0) or 0)


KEEP_DAYS = 7


def prune(session: Session, *, now: datetime | None = None, keep_days: int = KEEP_DAYS) -> int:
    """Delivered and given-up notifications older than ``keep_days`` are deleted (the pages show
    the recent ones; the subscription keeps its figures)."""
    before = (now or utcnow()) - timedelta(days=keep_days)
    result = session.execute(
        sql_delete(HubNotification)
        .where(HubNotification.status != NotificationStatus.PENDING, HubNotification.created_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
