"""Bus handlers, periodic jobs, install steps and background workers of the entity store.

The store has none: it reacts to no bus event, its tenants are created by their first write
(``default`` always exists), its context caches bound themselves (entries, bytes, TTL), and
its changes are handed to the temporal store and the subscriptions inside each write."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.runtime import Runtime


def register(bus: Bus) -> None:
    """Subscribes this part's bus handlers (once per runtime): none."""


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (idempotent): nothing beyond the tables."""


def periodic(session: Session) -> None:
    """Run by the server every minute: nothing to expire or retry."""


def start(runtime: Runtime) -> Callable[[], None] | None:
    """Starts this part's background workers in the server: none."""
    return None
