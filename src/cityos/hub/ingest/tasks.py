"""Install steps, periodic jobs and the background worker of hub.ingest: the shipped device
profiles are installed by ``cityos db upgrade``; every minute the message ids, tallies and
rejections older than 24 hours are pruned; the server starts the MQTT bridge when
``CITYOS_MQTT_URL`` is set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.core.runtime import Runtime
from cityos.hub.ingest import profiles
from cityos.hub.ingest.models import IngestMessage, IngestRejection, IngestTally

log = structlog.get_logger(__name__)
KEEP = timedelta(hours=24)


def register(bus: Bus) -> None:
    """hub.ingest subscribes to nothing: it publishes DeviceObserved and TrafficObserved."""


def install(session: Session) -> None:
    """The shipped device profiles (idempotent; operator-made profiles are left alone)."""
    profiles.install(session)


def prune(session: Session, *, now: datetime | None = None) -> int:
    """Deletes message ids, tallies and rejections older than 24 hours; returns how many rows."""
    cutoff = (now or utcnow()) - KEEP
    gone = 0
    for statement in (
        delete(IngestMessage).where(IngestMessage.received_at < cutoff),
        delete(IngestTally).where(IngestTally.minute < cutoff),
        delete(IngestRejection).where(IngestRejection.at < cutoff),
    ):
        gone += int(getattr(session.execute(statement), "rowcount", 0) or 0)
    return gone


def periodic(session: Session) -> None:
    """Every minute: the 24-hour prune (indexed range deletes; nothing to do most minutes)."""
    prune(session)


def start(runtime: Runtime) -> Callable[[], None] | None:
    """The MQTT bridge and its writer, when ``mqtt_url`` is set; returns what stops them."""
    url = runtime.settings.mqtt_url
    if not url:
        return None
    from cityos.hub.ingest.mqtt import Bridge

    bridge = Bridge(runtime.session_factory, url=url, prefix=runtime.settings.mqtt_topic_prefix)
    bridge.start(wait=0)
    log.info("hub.mqtt.started", url=bridge.safe_url, topic=bridge.topic)
    return bridge.stop
