"""Bus handlers, install steps and the per-minute job of mobility.alerts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.core.bus import Bus


def register(bus: Bus) -> None:
    """The bus handlers of this part."""


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (idempotent)."""


def periodic(session: Session) -> None:
    """Every minute in the server."""
