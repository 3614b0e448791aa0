"""Permission-matrix entries of mobility.ingest (see tests/matrix_parts/base.py).

The feeds are the city's: a sender with traffic:ingest (the TOCC, or an OAuth client granted it)
posts batches of any source, and traffic:manage reads the quarantine and the hourly counts. None
of it is data-scoped (a record has no region until the monitor places it on a segment; vehicle
ids are stored only as keyed hashes), so there is no "outside" variant. The records: a
quarantined loop record and its hourly count, so the reads answer something."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.mobility.ingest.models import TrafficFeedStat, TrafficQuarantine
from cityos.mobility.ingest.records import MISSING_FIELD
from tests.factories import World
from tests.matrix_parts.base import Case

MANAGE, INGEST = "traffic:manage", "traffic:ingest"


def _batch(ids: dict[str, Any]) -> dict[str, Any]:
    """One loop record on a segment of the matrix's road network (mobility_monitor's records)."""
    return {
        "batch_ref": "matrix-batch",
        "records": [
            {
                "detector_id": "matrix-loop",
                "segment_id": "n0_0-n0_1",
                "ts": utcnow().replace(microsecond=0).isoformat(),
                "interval_s": 300,
                "count": 42,
                "speed_kmh": 35.0,
            }
        ],
    }


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/mobility/feeds/quarantine", MANAGE, outside=False),
    Case("GET", "/api/v1/mobility/feeds/stats", MANAGE, outside=False),
    Case("POST", "/api/v1/mobility/feeds/{source}", INGEST, body=_batch, outside=False),
)
PATH_PARAMS: dict[str, str] = {"source": "feed_source"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A quarantined loop record and its hour's counts (the feeds are the city's: both sides)."""
    now = utcnow()
    session.add(
        TrafficQuarantine(
            source="loop",
            reason=MISSING_FIELD,
            field="count",
            detail="",
            record={"detector_id": "matrix-loop", "segment_id": "n0_0-n0_1"},
            batch_ref="matrix-old",
            received_at=now,
        )
    )
    hour = now.replace(minute=0, second=0, microsecond=0)
    session.add(TrafficFeedStat(source="loop", hour=hour, outcome=MISSING_FIELD, n=1))
    session.flush()
    for side in (inside, outside):
        side["feed_source"] = "loop"
