"""What ``cityos db upgrade`` installs for the data hub, what the server runs every minute, and
the hub's background workers (subscription delivery, the MQTT bridge, the ingest writer, webhooks)."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from sqlalchemy.orm import Session

from cityos.core.runtime import Runtime
from cityos.hub.apps import tasks as apps_tasks
from cityos.hub.catalogue import tasks as catalogue_tasks
from cityos.hub.devices import tasks as devices_tasks
from cityos.hub.ingest import tasks as ingest_tasks
from cityos.hub.ngsi import tasks as ngsi_tasks
from cityos.hub.subscriptions import tasks as subscriptions_tasks
from cityos.hub.temporal import tasks as temporal_tasks

log = structlog.get_logger(__name__)

TASKS = (ngsi_tasks, subscriptions_tasks, temporal_tasks, ingest_tasks, devices_tasks, catalogue_tasks, apps_tasks)


def install(session: Session) -> None:
    for part in TASKS:
        part.install(session)


def periodic(session: Session) -> None:
    """Every minute in the server: each part's retries, expiries and archives."""
    for part in TASKS:
        part.periodic(session)


def start(runtime: Runtime) -> Callable[[], None]:
    """Starts every part's background workers; the returned function stops them all."""
    stops = [stop for part in TASKS if (stop := part.start(runtime)) is not None]

    def stop_all() -> None:
        for stop in reversed(stops):
            try:
                stop()
            except Exception:
                log.exception("hub.stop_failed")

    return stop_all
