"""Permission-matrix entries of mobility.commute (see tests/matrix_parts/base.py).

The reads are traffic:read and data-scoped: a trip is seen by the accounts whose area holds one
of its ends, so a grid-1 account lists the trip inside grid 1 and not the one in district B.
Importing is traffic:manage and not scoped (the city's OD records); the file route answers 422
to an allowed caller that sends no file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from cityos.mobility.commute import service
from cityos.mobility.commute.derive import TRIP_COLUMNS
from cityos.mobility.commute.models import CommuteTrip
from tests.factories import World
from tests.matrix_parts.base import Case

READ, MANAGE = "traffic:read", "traffic:manage"
DAY = "2026-12-02"
AT = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 08:00 in the city


def _day(ids: dict[str, Any]) -> dict[str, Any]:
    return {"day": DAY}


def _records_body(ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "records": [
            {
                "origin_lon": "104.02",
                "origin_lat": "30.05",
                "dest_lon": "104.04",
                "dest_lat": "30.06",
                "started_at": "2026-12-02T08:10:00+08:00",
                "duration_s": "900",
                "mode": "bike",
            }
        ]
    }


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/mobility/commute/od", READ, query=_day, outside=False),
    Case("GET", "/api/v1/mobility/commute/corridors", READ, query=_day, outside=False),
    Case("GET", "/api/v1/mobility/commute/districts", READ, query=_day, outside=False),
    Case(
        "GET",
        "/api/v1/mobility/commute/trips",
        MANAGE,
        query=_day,
        list_key="items",
        kind="commute_trip",
        outside=False,
    ),
    Case("POST", "/api/v1/mobility/commute/trips/import", MANAGE, body=_records_body, outside=False),
    Case("POST", "/api/v1/mobility/commute/trips/import-file", MANAGE, allowed_status=(422,), outside=False),
)
PATH_PARAMS: dict[str, str] = {}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A trip within grid 1 and one within district B, on the matrix's day."""
    rows = []
    for key, (o, d) in (
        ("inside", ((104.02, 30.05), (104.04, 30.05))),
        ("outside", ((104.15, 30.05), (104.17, 30.05))),
    ):
        rows.append(
            {
                "trip_key": f"matrix-{key}",
                "mode": "car",
                "source": "imported",
                "started_at": AT,
                "ended_at": AT + timedelta(minutes=20),
                "origin_lon": o[0],
                "origin_lat": o[1],
                "dest_lon": d[0],
                "dest_lat": d[1],
                "distance_m": 2500.0,
                "duration_s": 1200.0,
                "segment_ids": [],
            }
        )
    service.save_trips(session, pl.DataFrame(rows, schema=TRIP_COLUMNS))
    for key, side in (("inside", inside), ("outside", outside)):
        trip = session.query(CommuteTrip).filter_by(trip_key=f"matrix-{key}").one()
        side["commute_trip"] = trip.id
