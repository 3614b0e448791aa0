"""Bus handlers, install steps and the per-minute job of mobility.ingest.

The hub's loop detectors (FIWARE TrafficFlowObserved) arrive as ``TrafficObserved`` events and
are stored as loop records through the same validation as any feed, so a bad one lands in the
quarantine. Every minute the server archives the previous local day once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.bus import Bus
from cityos.core.db import take_write_lock, utcnow
from cityos.core.settings import get_settings
from cityos.hub.events import TrafficObserved
from cityos.mobility.network.service import active_network

from . import archive, matcher, service
from .records import parse_time

log = structlog.get_logger(__name__)
_archived: date | None = None  # the last day this process found archived (the cheap check)


SEGMENT_URN = "urn:ngsi-ld:RoadSegment:"


def segment_ref(session: Session, evt: TrafficObserved) -> str | None:
    """The segment id: ``refRoadSegment`` (a bare id or a RoadSegment URN), else the segment of
    the active network nearest to the detector's position."""
    ref = (evt.ref_road_segment or "").strip()
    if ref:
        return ref.removeprefix(SEGMENT_URN)
    if evt.lon is None or evt.lat is None:
        return None
    net = active_network(session)
    network = matcher.view(session, net) if net is not None else None
    return matcher.nearest_segment(network, evt.lon, evt.lat) if network is not None else None


def loop_record(evt: TrafficObserved, segment_id: str | None) -> dict[str, Any]:
    """The event as a loop record; the interval is the span of dateObservedFrom/To."""
    interval: Any = evt.date_observed_to
    try:
        span = parse_time(evt.date_observed_to) - parse_time(evt.date_observed_from)
        interval = int(span.total_seconds())
    except Exception:  # noqa: BLE001 - an unreadable time is reported by the record's validation
        pass
    return {
        "detector_id": evt.device_code or evt.entity_id,
        "segment_id": segment_id,
        "lane": evt.lane_id,
        "ts": evt.date_observed_from,
        "interval_s": interval,
        "count": evt.intensity,
        "occupancy": evt.occupancy,
        "speed_kmh": evt.average_vehicle_speed,
    }


def on_traffic_observed(session: Session, evt: TrafficObserved) -> None:
    """Stores the detector interval (idempotent: its natural key is stored once); never raises."""
    try:
        with session.begin_nested():
            record = loop_record(evt, segment_ref(session, evt))
            service.ingest(session, SYSTEM, source="loop", records=[record], batch_ref=evt.entity_id[:64])
    except Exception as exc:  # noqa: BLE001 - a handler that raises is retried forever
        log.warning("mobility.ingest.traffic_observed_failed", error=type(exc).__name__)


def register(bus: Bus) -> None:
    """The bus handlers of this part."""
    bus.subscribe(TrafficObserved, "mobility.ingest.traffic_observed")(on_traffic_observed)


def install(session: Session) -> None:
    """Nothing to install: the tables come with the migration, the archive folder on first use."""


def run_archive(session: Session, *, now: datetime | None = None) -> list[archive.TableDay]:
    """Archives yesterday (local) when not done yet, and any older day past the retention that
    still has rows, then purges the verified rows; cheap otherwise (a variable, or five manifest
    files, checked)."""
    global _archived
    settings = get_settings()
    zone = settings.timezone
    today = archive.local_day(now or utcnow(), zone)
    yesterday = today - timedelta(days=1)
    if _archived == yesterday:
        return []
    done: list[archive.TableDay] = []
    # Reads come before the deletes: on SQLite a deferred transaction that reads and then writes
    # fails with "database is locked" while another connection writes (the hub's ingest, NGSI).
    take_write_lock(session)
    try:
        with session.begin_nested():
            if not archive.is_archived(settings.archive_dir, yesterday):
                done = archive.archive_day(session, archive_dir=settings.archive_dir, day=yesterday, zone=zone)
            done.extend(archive.catch_up(session, archive_dir=settings.archive_dir, today=today, zone=zone))
            done.extend(archive.purge(session, archive_dir=settings.archive_dir, today=today, zone=zone))
    except (archive.ArchiveError, OSError) as exc:
        log.warning("mobility.ingest.archive_failed", error=str(exc))
        return []
    _archived = yesterday
    for r in done:
        log.info("mobility.ingest.archived", table=r.table, day=r.day.isoformat(), rows=r.rows, purged=r.purged)
    return done


def periodic(session: Session) -> None:
    """Every minute in the server."""
    run_archive(session)
