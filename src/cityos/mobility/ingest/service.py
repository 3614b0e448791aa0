"""Multi-source traffic ingest (多源接入): validate each record, match probes to the road network,
bulk-insert the good ones once by their natural key, quarantine the rest with a reason.

Nothing is silently dropped: every record of a batch is accepted, a duplicate of one already
stored (or of an earlier one in the same batch), or quarantined.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.crypto import BlindIndex
from cityos.core.db import utcnow
from cityos.core.errors import DomainError, FieldError, NotFound
from cityos.core.i18n import N_, translate
from cityos.core.settings import get_settings
from cityos.mobility.network.service import active_network

from . import matcher
from .models import SOURCES, NavSpeed, ProbePoint, TrafficFeedStat, TrafficObservation, TrafficQuarantine, VideoCount
from .records import OUTSIDE_NETWORK, REASONS, UNKNOWN_SEGMENT, Rejection, validate

MAX_RECORDS = 5000
_CHUNK = 1000
VEHICLE_PURPOSE = "mobility.vehicle"

_TABLES: dict[str, Table] = {
    "loop": TrafficObservation.__table__,  # type: ignore[dict-item]
    "probe": ProbePoint.__table__,  # type: ignore[dict-item]
    "bus": ProbePoint.__table__,  # type: ignore[dict-item]
    "nav": NavSpeed.__table__,  # type: ignore[dict-item]
    "video": VideoCount.__table__,  # type: ignore[dict-item]
}
_KEYS: dict[str, tuple[str, ...]] = {
    "loop": ("detector_id", "lane", "ts"),
    "probe": ("kind", "vehicle_key", "ts"),
    "bus": ("kind", "vehicle_key", "ts"),
    "nav": ("provider", "segment_id", "ts"),
    "video": ("camera_id", "mode", "direction", "ts"),
}


class TooLarge(DomainError):
    """A batch above ``MAX_RECORDS``: the sender splits it (HTTP 413)."""

    status_code = 413
    code = "too_large"
    default_message = N_("The batch is too large.")


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reason -> records
    errors: list[dict[str, Any]] = field(default_factory=list)  # index, field, reason, message

    def add(self, other: IngestReport, offset: int = 0) -> None:
        """Fold a later batch's report into this one (the CLI's running total)."""
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        self.errors.extend({**e, "index": e["index"] + offset} for e in other.errors)


@lru_cache(maxsize=4)
def _blind_index(key: str) -> BlindIndex:
    return BlindIndex(key.encode())


def vehicle_key(vehicle_id: str) -> str:
    """The keyed hash stored in place of an operator's vehicle id (never the id itself)."""
    return _blind_index(get_settings().blind_index_key).digest(vehicle_id, purpose=VEHICLE_PURPOSE)


def _plain(value: Any) -> Any:
    """JSON-storable on both databases: PostgreSQL's jsonb refuses NaN and infinities."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _json_safe(record: Any) -> dict[str, Any]:
    """The record as received, storable as JSON, with a vehicle id replaced by its keyed hash."""
    if not isinstance(record, dict):
        return {"value": _plain(record)}
    out: dict[str, Any] = _plain(record)
    vid = out.pop("vehicle_id", None)
    if vid is not None and str(vid).strip():
        out["vehicle_key"] = vehicle_key(str(vid).strip())
    return out


def _row(source: str, v: dict[str, Any], now: datetime) -> dict[str, Any]:
    if source == "loop":
        return {
            "detector_id": v["detector_id"],
            "segment_id": v["segment_id"],
            "lane": v["lane"] or 0,
            "ts": v["ts"],
            "interval_s": v["interval_s"],
            "count": v["count"],
            "occupancy": v["occupancy"],
            "speed_kmh": v["speed_kmh"],
            "received_at": now,
        }
    if source in ("probe", "bus"):
        return {
            "kind": "bus" if source == "bus" else v["kind"],
            "vehicle_key": vehicle_key(v["vehicle_id"]),
            "ts": v["ts"],
            "lon": v["lon"],
            "lat": v["lat"],
            "speed_kmh": v["speed_kmh"],
            "heading_deg": v["heading_deg"],
            "occupied": v.get("occupied"),
            "route_id": v.get("route_id"),
            "trip_id": v.get("trip_id"),
            "segment_id": None,
            "received_at": now,
        }
    if source == "nav":
        return {
            "provider": v["provider"],
            "segment_id": v["segment_id"],
            "ts": v["ts"],
            "interval_s": v["interval_s"],
            "speed_kmh": v["speed_kmh"],
            "samples": v["samples"],
            "received_at": now,
        }
    return {
        "camera_id": v["camera_id"],
        "hub_code": v["hub_code"],
        "ts": v["ts"],
        "interval_s": v["interval_s"],
        "mode": v["mode"],
        "direction": v["direction"],
        "count": v["count"],
        "received_at": now,
    }


def _insert_new(session: Session, source: str, rows: list[dict[str, Any]]) -> int:
    """Insert the rows, skipping those whose natural key is stored already; returns how many were new."""
    if not rows:
        return 0
    table = _TABLES[source]
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = make(table).on_conflict_do_nothing(index_elements=list(_KEYS[source])).returning(table.c.id)
    inserted = 0
    for i in range(0, len(rows), _CHUNK):
        inserted += len(session.execute(stmt, rows[i : i + _CHUNK]).all())
    return inserted


def check_source(source: str) -> None:
    if source not in SOURCES:
        raise NotFound(
            N_("Unknown feed source."),
            details=[FieldError("source", N_("Use one of: {choices}."), {"choices": ", ".join(SOURCES)})],
        )


def ingest(
    session: Session,
    actor: Actor,
    *,
    source: str,
    records: list[Any],
    batch_ref: str | None = None,
    network_code: str | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Validate, match and store one batch (at most ``MAX_RECORDS``); one flush, no commit.

    ``now`` is the validation clock for in-process callers that simulate time (a replay at N×):
    records up to its tolerance ahead of it are not ``future_time``. The HTTP feed never passes
    it (a sender's clock is not trusted); ``received_at`` is always the real time."""
    actor.require("traffic:ingest")
    check_source(source)
    if len(records) > MAX_RECORDS:
        raise TooLarge(
            details=[FieldError("records", N_("At most {limit} records per batch."), {"limit": MAX_RECORDS})]
        )
    net = active_network(session, network_code)
    if network_code is not None and net is None:
        raise NotFound(details=[FieldError("network_code", N_("Road network not found."))])
    network = matcher.view(session, net) if net is not None else None
    received = utcnow()
    clock = now or received
    report = IngestReport()
    rejected: list[tuple[int, Rejection]] = []
    good: list[tuple[int, dict[str, Any]]] = []
    for i, record in enumerate(records):
        checked = validate(source, record, clock)
        if isinstance(checked, Rejection):
            rejected.append((i, checked))
            continue
        if network is not None and source in ("loop", "nav") and checked["segment_id"] not in network.segment_ids:
            rejected.append((i, Rejection(UNKNOWN_SEGMENT, "segment_id", str(checked["segment_id"])[:64])))
            continue
        good.append((i, _row(source, checked, received)))

    # the same natural key twice in one batch: the first is kept, the others are duplicates
    seen: set[tuple[Any, ...]] = set()
    unique: list[tuple[int, dict[str, Any]]] = []
    for i, row in good:
        key = tuple(row[k] for k in _KEYS[source])
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        unique.append((i, row))

    if network is not None and source in ("probe", "bus") and unique:
        rows = [r for _, r in unique]
        segs = matcher.match_points(
            network,
            [f"{r['kind']}:{r['vehicle_key']}" for r in rows],
            [r["ts"] for r in rows],
            [r["lon"] for r in rows],
            [r["lat"] for r in rows],
            [r["speed_kmh"] for r in rows],
            [r["heading_deg"] for r in rows],
        )
        kept: list[tuple[int, dict[str, Any]]] = []
        for (i, row), seg in zip(unique, segs, strict=True):
            if seg is None:
                rejected.append((i, Rejection(OUTSIDE_NETWORK, "lon", f"{row['lon']:.6f},{row['lat']:.6f}")))
            else:
                row["segment_id"] = seg
                kept.append((i, row))
        unique = kept

    inserted = _insert_new(session, source, [r for _, r in unique])
    report.accepted = inserted
    report.duplicates += len(unique) - inserted
    _quarantine(session, source, records, rejected, batch_ref, received, report)
    _count(session, source, received, {"accepted": report.accepted, "duplicate": report.duplicates, **report.reasons})
    session.flush()
    return report


def _count(session: Session, source: str, now: datetime, outcomes: dict[str, int]) -> None:
    """Add the batch to its hour's counters (an upsert that adds, so concurrent batches both count)."""
    rows = [
        {"source": source, "hour": now.replace(minute=0, second=0, microsecond=0), "outcome": k, "n": n}
        for k, n in outcomes.items()
        if n
    ]
    if not rows:
        return
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = make(TrafficFeedStat)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "hour", "outcome"], set_={"n": TrafficFeedStat.n + stmt.excluded.n}
    )
    session.execute(stmt, rows)


def _quarantine(
    session: Session,
    source: str,
    records: list[Any],
    rejected: list[tuple[int, Rejection]],
    batch_ref: str | None,
    now: datetime,
    report: IngestReport,
) -> None:
    rejected.sort(key=lambda item: item[0])
    rows = []
    for i, rej in rejected:
        rows.append(
            {
                "source": source,
                "reason": rej.reason,
                "field": rej.field,
                "detail": rej.detail[:256],
                "record": _json_safe(records[i]),
                "batch_ref": batch_ref[:64] if batch_ref else None,
                "received_at": now,
            }
        )
        report.errors.append(
            {
                "index": i,
                "field": rej.field,
                "reason": rej.reason,
                "message": translate(REASONS[rej.reason], field=rej.field or ""),
            }
        )
    for i in range(0, len(rows), _CHUNK):
        session.execute(insert(TrafficQuarantine), rows[i : i + _CHUNK])
    report.quarantined = len(rows)
    report.reasons = dict(Counter(rej.reason for _, rej in rejected))
