"""Shared builders of the ingest tests: actors, a small grid network, records of each source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.mobility.ingest import matcher
from cityos.mobility.network.schema import grid_network
from cityos.mobility.network.service import save_segments
from tests.factories import make_actor, make_world

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in the city


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    # the index cache is per process; a rolled-back network must not leak into the next test
    matcher.clear()
    yield
    matcher.clear()


@pytest.fixture
def operator(session: Session) -> Actor:
    world = make_world(session)
    return make_actor(session, roles=["traffic_operator"], scope=world.city)


@pytest.fixture
def grid(session: Session) -> Any:
    segments = grid_network(4, 4, 300.0)
    save_segments(session, "ingest-grid", segments)
    return segments


def loop(**over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "detector_id": "D1",
        "segment_id": "n0_0-n0_1",
        "lane": 1,
        "ts": "2026-11-30T10:00:00+08:00",
        "interval_s": 300,
        "count": 42,
        "occupancy": 0.12,
        "speed_kmh": 38.5,
    }
    rec.update(over)
    return {k: v for k, v in rec.items() if v is not ...}


def nav(**over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "provider": "amap",
        "segment_id": "n0_0-n0_1",
        "ts": "2026-11-30T02:00:00Z",
        "interval_s": 300,
        "speed_kmh": 31.0,
        "samples": 7,
    }
    rec.update(over)
    return {k: v for k, v in rec.items() if v is not ...}


def video(**over: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "camera_id": "C1",
        "hub_code": "east-station",
        "ts": "2026-11-30T02:00:00Z",
        "interval_s": 60,
        "mode": "metro",
        "direction": "in",
        "count": 120,
    }
    rec.update(over)
    return {k: v for k, v in rec.items() if v is not ...}
