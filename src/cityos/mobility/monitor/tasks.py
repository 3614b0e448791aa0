"""Bus handlers, install steps and the per-minute job of mobility.monitor."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.mobility.monitor import forecasts, service

log = structlog.get_logger(__name__)


def register(bus: Bus) -> None:
    """The bus handlers of this part: none (the monitor publishes, the alert rules subscribe)."""


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (idempotent): nothing to seed."""


def periodic(session: Session) -> None:
    """Every minute in the server: the finished bins of the active network (at most 12 per run,
    so a server that was down catches up an hour a minute), and once a night the learned
    forecast model refitted on the latest history (``forecasts.refit_nightly``)."""
    now = utcnow()
    service.compute_bins(session, until=now)
    try:
        forecasts.refit_nightly(session, now=now)
    except Exception:  # the nightly refit is tried again tomorrow; it must not undo the bins
        log.exception("mobility.forecast_refit_failed")
