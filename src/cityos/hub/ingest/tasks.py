"""Bus handlers, periodic jobs, install steps and background workers of this part (filled by its owner)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.runtime import Runtime


def register(bus: Bus) -> None:
    """Subscribes this part's bus handlers (once per runtime)."""


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (idempotent)."""


def periodic(session: Session) -> None:
    """Run by the server every minute."""


def start(runtime: Runtime) -> Callable[[], None] | None:
    """Starts this part's background workers in the server; returns what stops them."""
    return None
