"""The commute tests' world: the factories' city (districts 甲区 and 乙区 side by side) with its
spatial index built, a grid road network across both districts, and accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.identity.deps import actor_for_account
from cityos.mobility.network import service as network
from cityos.mobility.network.schema import grid_network
from cityos.places import index
from tests.factories import World, make_account, make_world

# 08:00 on 2 Dec 2026 in Shanghai (UTC+8) is 00:00 UTC.
AM = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
PM = AM + timedelta(hours=10)  # 18:00 local
NOON = AM + timedelta(hours=4)


@dataclass
class CommuteWorld:
    w: World
    operator: Actor
    operator_id: int
    reader: Actor  # traffic:read, district B only
    reader_id: int
    outsider_id: int  # no traffic permission


@pytest.fixture
def cw(session: Session) -> Iterator[CommuteWorld]:
    w = make_world(session)
    index.rebuild_cells(session)
    # 5 × 9 nodes, 1.5 km apart, centred on the districts' shared edge (104.1, 30.05).
    network.save_segments(session, "cm-test", grid_network(5, 9, 1500.0, 104.1, 30.05), source="grid")
    op = make_account(session, roles=["traffic_operator"], scope=w.city)
    reader = make_account(session, roles=["department_staff"], scope=w.district_b)
    outsider = make_account(session, roles=["merchant"], scope=w.city)
    session.flush()
    yield CommuteWorld(
        w, actor_for_account(session, op), op.id, actor_for_account(session, reader), reader.id, outsider.id
    )
    index.invalidate()


def trip(
    key: str,
    o: tuple[float, float],
    d: tuple[float, float],
    *,
    at: datetime = AM,
    minutes: float = 30.0,
    km: float = 10.0,
    mode: str = "car",
    segments: list[str] | None = None,
) -> dict[str, object]:
    """One row of the trip frame (``derive.TRIP_COLUMNS``)."""
    return {
        "trip_key": key,
        "mode": mode,
        "source": "imported",
        "started_at": at,
        "ended_at": at + timedelta(minutes=minutes),
        "origin_lon": o[0],
        "origin_lat": o[1],
        "dest_lon": d[0],
        "dest_lat": d[1],
        "distance_m": km * 1000,
        "duration_s": minutes * 60,
        "segment_ids": segments or [],
    }


A = (104.05, 30.05)  # in 甲区
B = (104.15, 30.05)  # in 乙区
OUT = (110.0, 35.0)  # in no region
