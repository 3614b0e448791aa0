"""The event bus: transactional outbox, at-least-once delivery, idempotent handlers.

``publish(session, event)`` writes the event to the outbox in the caller's transaction.
After that transaction commits, the bus hands pending events to its transport; a
rolled-back transaction leaves no event behind. Each handler runs in its own transaction
and records the event key in ``handled_event``, so redelivery after a crash does no
work twice.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

import structlog
from pydantic import BaseModel, ConfigDict
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import WRITE_INTENT, unit_of_work, utcnow
from cityos.core.models import HandledEvent, OutboxEvent

log = structlog.get_logger(__name__)

_PENDING_FLAG = "cityos.outbox_pending"


class Event(BaseModel):
    """Base class of bus events; subclasses set ``topic``."""

    model_config = ConfigDict(frozen=True)
    topic: ClassVar[str]


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, Any], None]

_event_types: dict[str, type[Event]] = {}


def event_type(cls: type[E]) -> type[E]:
    """Register an event class so delivered payloads can be parsed back into it."""
    _event_types[cls.topic] = cls
    return cls


def publish(session: Session, evt: Event, *, key: str | None = None) -> str:
    """Queue ``evt`` for delivery after the session's transaction commits."""
    key = key or uuid.uuid4().hex
    session.add(OutboxEvent(key=key, topic=evt.topic, payload=evt.model_dump(mode="json")))
    session.info[_PENDING_FLAG] = True
    return key


def publish_many(session: Session, events: Sequence[Event]) -> list[str]:
    """Queue many events in one statement (a batch of device readings raises one per device);
    delivered after the commit like ``publish``."""
    if not events:
        return []
    keys = [uuid.uuid4().hex for _ in events]
    rows = [
        {"key": key, "topic": evt.topic, "payload": evt.model_dump(mode="json"), "attempts": 0}
        for key, evt in zip(keys, events, strict=True)
    ]
    session.execute(insert(OutboxEvent), rows)
    session.info[_PENDING_FLAG] = True
    return keys


class Transport(Protocol):
    def send(self, bus: Bus, topic: str, key: str, payload: dict[str, Any]) -> None: ...


class InProcessTransport:
    """Delivers by calling the subscribed handlers in this process."""

    def send(self, bus: Bus, topic: str, key: str, payload: dict[str, Any]) -> None:
        bus.dispatch(topic, key, payload)


class Bus:
    def __init__(self, session_factory: sessionmaker[Session], transport: Transport | None = None) -> None:
        self.session_factory = session_factory
        self.transport: Transport = transport or InProcessTransport()
        self._subscribers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._delivering = threading.local()
        sa_event.listen(session_factory, "after_commit", self._after_commit)

    def close(self) -> None:
        if sa_event.contains(self.session_factory, "after_commit", self._after_commit):
            sa_event.remove(self.session_factory, "after_commit", self._after_commit)

    def subscribe(self, event_cls: type[E], consumer: str) -> Callable[[Callable[[Session, E], None]], Any]:
        def register(fn: Callable[[Session, E], None]) -> Callable[[Session, E], None]:
            self._subscribers[event_cls.topic].append((consumer, fn))
            return fn

        return register

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            # A SAVEPOINT was released: the outer transaction still holds the events (and, on
            # SQLite, the write lock that the handlers would wait for).
            return
        if session.info.pop(_PENDING_FLAG, False) and not getattr(self._delivering, "active", False):
            try:
                self.deliver_pending()
            except Exception:  # delivery is retried by the poller; never fail the caller's commit
                log.exception("bus.delivery_failed")

    def deliver_pending(self, limit: int = 500) -> int:
        """Send undelivered outbox events in order; returns how many were delivered.

        No transaction is held while an event is sent: handlers write in their own transactions,
        and on SQLite (one writer at a time) a delivery that kept its bookkeeping open would lock
        them out. Each event's outcome is recorded in a short transaction of its own.
        """
        delivered = 0
        with self._lock:
            self._delivering.active = True
            try:
                with self.session_factory() as session:
                    pending = [
                        (row.id, row.topic, row.key, row.payload)
                        for row in session.scalars(
                            select(OutboxEvent)
                            .where(OutboxEvent.delivered_at.is_(None))
                            .order_by(OutboxEvent.id)
                            .limit(limit)
                        )
                    ]
                    session.rollback()
                for row_id, topic, key, payload in pending:
                    error: str | None = None
                    try:
                        self.transport.send(self, topic, key, payload)
                    except Exception as exc:
                        error = f"{type(exc).__name__}: {exc}"[:2000]
                        log.warning("bus.send_failed", topic=topic, key=key, error=type(exc).__name__)
                    with unit_of_work(self.session_factory) as session:
                        session.connection(execution_options={WRITE_INTENT: True})
                        row = session.get(OutboxEvent, row_id)
                        if row is None or row.delivered_at is not None:
                            continue
                        row.attempts += 1
                        row.last_error = error
                        if error is None:
                            row.delivered_at = utcnow()
                            delivered += 1
            finally:
                self._delivering.active = False
        return delivered

    def dispatch(self, topic: str, key: str, payload: dict[str, Any]) -> None:
        """Run every handler of ``topic`` once for ``key``; raises if any handler failed."""
        cls = _event_types.get(topic)
        evt: Any = cls.model_validate(payload) if cls else payload
        failures: list[str] = []
        for consumer, handler in list(self._subscribers.get(topic, [])):
            try:
                with unit_of_work(self.session_factory) as session:
                    session.connection(execution_options={WRITE_INTENT: True})
                    done = session.scalar(
                        select(HandledEvent.id).where(HandledEvent.consumer == consumer, HandledEvent.key == key)
                    )
                    if done is not None:
                        continue
                    handler(session, evt)
                    session.add(HandledEvent(consumer=consumer, key=key))
                    session.flush()
            except IntegrityError:
                continue  # handled concurrently by another worker
            except Exception as exc:
                log.warning("bus.handler_failed", consumer=consumer, topic=topic, error=type(exc).__name__)
                failures.append(consumer)
        if failures:
            raise RuntimeError(f"handlers failed: {', '.join(failures)}")
