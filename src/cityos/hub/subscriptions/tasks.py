"""Background work of hub.subscriptions: the notification deliverer (started by the server),
and every minute the expiry of subscriptions and the periodic (timeInterval) notifications."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.runtime import Runtime
from cityos.hub.subscriptions import service


def register(bus: Bus) -> None:
    """No bus handlers: the entity store calls ``service.on_changes`` in its own transaction."""


def install(session: Session) -> None:
    """Nothing to install: subscriptions are made by their users."""


def periodic(session: Session) -> None:
    """Every minute: expired subscriptions stop; periodic notifications that are due are queued
    (the deliverer also does this every second while it runs); old outcomes are pruned."""
    service.expire(session)
    service.prune(session)
    service.queue_periodic(session)


def start(runtime: Runtime) -> Callable[[], None] | None:
    """Starts the deliverer (its own thread, loop and sessions); returns what stops it."""
    from cityos.hub.subscriptions.delivery import Deliverer

    deliverer = Deliverer(runtime.session_factory)
    deliverer.start()
    return deliverer.stop
