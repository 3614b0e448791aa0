"""Fixtures of the transit tests: the real sample feeds (skipped where absent; CI has them), a
small feed built on ``grid_network`` with its simulated buses, a TOCC operator and a reader."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.identity.deps import actor_for_account
from cityos.mobility.network.schema import grid_network
from cityos.mobility.transit import simulate
from tests.conftest import need_service
from tests.factories import World, make_account, make_world

ROOT = Path(__file__).resolve().parents[3]
DAY = date(2026, 11, 20)  # a past Friday: the ingest refuses fixes from the future
TZ = "Asia/Shanghai"
# 07:00-09:00 local on DAY
WINDOW = (datetime(2026, 11, 19, 23, 0, tzinfo=UTC), datetime(2026, 11, 20, 1, 0, tzinfo=UTC))


def sample_feed(name: str) -> Path:
    path = ROOT / "var" / "gtfs" / name
    if not path.exists():
        need_service("GTFS sample feeds", f"{path} is missing (the Makefile extracts it from gtfs-kit's sdist)")
    return path


@dataclass
class GridFeed:
    path: Path
    routes: list[simulate.SimRoute]
    trips: list[simulate.SimTrip]
    fixes: pl.DataFrame
    truth: pl.DataFrame


@pytest.fixture(scope="session")
def grid_feed(tmp_path_factory: pytest.TempPathFactory) -> GridFeed:
    routes = simulate.plan_routes(grid_network(9, 9), count=2)
    trips = simulate.schedule(routes, start_s=7 * 3600, end_s=8 * 3600 + 1800, headway_s=600)
    path = simulate.write_feed(tmp_path_factory.mktemp("gtfs") / "grid.zip", routes, trips, timezone=TZ)
    fixes, truth = simulate.bus_positions(routes, trips, service_date=DAY, rng=random.Random(4), timezone=TZ)
    return GridFeed(path, routes, trips, fixes, truth)


@dataclass
class People:
    world: World
    operator: Actor
    operator_id: int
    reader: Actor
    reader_id: int
    resident: Actor


@pytest.fixture
def people(session: Session) -> People:
    w = make_world(session)
    op = make_account(session, roles=["traffic_operator"], scope=w.city)
    rd = make_account(session, roles=["department_staff"], scope=w.city)
    rs = make_account(session, roles=["resident"], scope=w.city)
    session.flush()
    return People(
        w, actor_for_account(session, op), op.id, actor_for_account(session, rd), rd.id, actor_for_account(session, rs)
    )


def bus_records(fixes: pl.DataFrame) -> list[dict[str, object]]:
    """The simulated fixes as the bus feed's records (what a bus operator sends)."""
    return [
        {
            "vehicle_id": r["vehicle_key"],
            "route_id": r["route_id"],
            "trip_id": r["trip_id"],
            "ts": r["ts"].isoformat(),
            "lon": r["lon"],
            "lat": r["lat"],
            "speed_kmh": r["speed_kmh"],
            "heading_deg": r["heading_deg"],
        }
        for r in fixes.iter_rows(named=True)
    ]
