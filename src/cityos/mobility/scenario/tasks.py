"""Bus handlers, install steps and the per-minute job of mobility.scenario (the demo city's live traffic feed)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.core.bus import Bus


def register(bus: Bus) -> None:
    """The bus handlers of this part (none: the live feed is a periodic job)."""


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (nothing)."""


def periodic(session: Session) -> None:
    """Every minute in the server: the demo city's live traffic since the last minute
    (``live.tick``; nothing unless the demo network is the active one)."""
    from cityos.mobility.scenario import live

    live.tick(session)
