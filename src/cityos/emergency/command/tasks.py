"""Bus handlers and periodic jobs of emergency.command."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.core.bus import Bus


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""


def periodic(session: Session) -> None:
    """Runs every minute in the server (reminders, expiries); must be cheap when there is nothing to do."""
