"""The temporal part's jobs: after local midnight the per-minute job archives yesterday's
observations as Parquet, and moves days past the retention window out of the database (each
archived and verified first)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.core.runtime import Runtime
from cityos.core.settings import get_settings
from cityos.hub.temporal import archive

log = structlog.get_logger(__name__)


def register(bus: Bus) -> None:
    """Nothing on the bus: observations arrive through the entity store's listener and ingest."""


def install(session: Session) -> None:
    """Nothing to install: the table comes with the migration, the archive folder on first use."""


def run_archive(session: Session, *, now: datetime | None = None) -> list[archive.DayResult]:
    """Archives yesterday when not done yet and applies the retention window; what the server
    runs every minute (cheap when there is nothing to do: one file check and one indexed query)."""
    settings = get_settings()
    now = now or utcnow()
    zone = settings.timezone
    done: list[archive.DayResult] = []
    try:
        with session.begin_nested():
            day = archive.due(settings.archive_dir, now, zone)
            if day is not None:
                done.append(archive.archive_day(session, archive_dir=settings.archive_dir, day=day, zone=zone))
            today = archive.local_day(now, zone)
            done.extend(archive.purge(session, archive_dir=settings.archive_dir, today=today, zone=zone))
    except (archive.ArchiveError, OSError) as exc:
        log.warning("hub.temporal.archive_failed", error=str(exc))
        return []
    for result in done:
        log.info("hub.temporal.archived", day=result.day.isoformat(), rows=result.rows, purged=result.purged)
    return done


def periodic(session: Session) -> None:
    """Run by the server every minute."""
    run_archive(session)


def start(runtime: Runtime) -> Callable[[], None] | None:
    """No background worker: writes are synchronous, the archive runs in ``periodic``."""
    return None
