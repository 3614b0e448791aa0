"""Trips from probe traces: occupied runs of taxis, stops over 5 minutes for other probes, gaps,
short runs dropped; then from the probe_point table, located and stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.mobility.commute import service
from cityos.mobility.commute.derive import trips_from_probes
from cityos.mobility.commute.models import CommuteTrip
from cityos.mobility.ingest.models import ProbePoint
from tests.mobility.commute.conftest import CommuteWorld

T0 = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def fix(kind: str, vehicle: str, i: int, lon: float, lat: float, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "kind": kind,
        "vehicle_key": vehicle,
        "ts": T0 + timedelta(seconds=30 * i),
        "lon": lon,
        "lat": lat,
        "speed_kmh": 30.0,
        "occupied": None,
        "segment_id": None,
    }
    row.update(kw)
    return row


def taxi(vehicle: str = "T1", lat: float = 30.05) -> list[dict[str, object]]:
    """40 fixes moving east 100 m per fix; occupied from fix 10 to 29."""
    return [
        fix("taxi", vehicle, i, 104.05 + 0.001 * i, lat, occupied=10 <= i < 30, segment_id=f"s{i // 5}")
        for i in range(40)
    ]


def test_an_occupied_run_is_a_taxi_trip() -> None:
    trips = trips_from_probes(pl.DataFrame(taxi()))
    assert trips.height == 1
    t = trips.row(0, named=True)
    assert t["mode"] == "taxi"
    assert t["source"] == "derived"
    assert t["started_at"] == T0 + timedelta(seconds=300)
    assert t["duration_s"] == 19 * 30
    assert t["distance_m"] == pytest.approx(19 * 96.3, rel=0.01)  # 0.001° of longitude at 30°N ≈ 96 m
    assert t["segment_ids"] == ["s2", "s3", "s4", "s5"]  # in order, repeats removed
    assert t["trip_key"].startswith("probe:taxi:T1:")


def test_a_stop_over_five_minutes_splits_other_probes() -> None:
    rows = []
    lon = 104.05
    for i in range(32):
        moving = not 10 <= i < 22  # 12 fixes stopped: 6 minutes
        lon += 0.002 if moving else 0.0
        rows.append(fix("bus", "B1", i, lon, 30.05, speed_kmh=30.0 if moving else 0.0))
    trips = trips_from_probes(pl.DataFrame(rows)).sort("started_at")
    assert trips.height == 2
    first, second = trips.rows(named=True)
    assert first["ended_at"] == T0 + timedelta(seconds=9 * 30)  # where the bus reached the stop
    assert second["started_at"] == T0 + timedelta(seconds=21 * 30)  # where it left it
    assert second["duration_s"] == 10 * 30


def test_a_short_stop_does_not_split_and_speedless_fixes_use_distance() -> None:
    rows = []
    lon = 104.05
    for i in range(30):
        moving = not 10 <= i < 16  # 3 minutes stopped
        lon += 0.002 if moving else 0.00001  # stopped fixes move 1 m: within 25 m
        rows.append(fix("other", "C1", i, lon, 30.05, speed_kmh=None))
    trips = trips_from_probes(pl.DataFrame(rows))
    assert trips.height == 1
    assert trips["mode"].to_list() == ["other"]


def test_a_gap_splits_and_short_runs_are_dropped() -> None:
    rows = [fix("taxi", "T2", i, 104.05 + 0.002 * i, 30.05, occupied=True) for i in range(10)]
    rows += [fix("taxi", "T2", i + 20, 104.2 + 0.002 * i, 30.05, occupied=True) for i in range(10)]  # 5.5 min gap
    rows += [fix("taxi", "T3", i, 104.05 + 0.0001 * i, 30.05, occupied=True) for i in range(5)]  # 40 m in all
    trips = trips_from_probes(pl.DataFrame(rows))
    assert trips.filter(pl.col("trip_key").str.contains("T2")).height == 2
    assert trips.filter(pl.col("trip_key").str.contains("T3")).height == 0


def test_no_points_no_trips() -> None:
    assert trips_from_probes(pl.DataFrame(schema={"kind": pl.String})).height == 0


def test_derive_trips_reads_probe_points_locates_and_stores_once(session: Session, cw: CommuteWorld) -> None:
    rows = taxi("T9") + [{**r, "kind": "ridehail", "vehicle_key": "R1", "lat": 30.06} for r in taxi("R1")]
    session.execute(insert(ProbePoint), rows)
    session.flush()
    start, end = T0 - timedelta(hours=1), T0 + timedelta(hours=1)
    result = service.derive_trips(session, start=start, end=end)
    assert (result.points, result.trips, result.written, result.duplicates) == (80, 2, 2, 0)
    stored = session.scalars(select(CommuteTrip).order_by(CommuteTrip.mode)).all()
    assert [t.mode for t in stored] == ["ridehail", "taxi"]
    taxi_trip = stored[1]
    assert taxi_trip.origin_district_id == cw.w.district_a.id  # starts at 104.06 in 甲区
    assert taxi_trip.origin_path == cw.w.grid2.path  # the deepest region there: it scopes the trip
    assert taxi_trip.segment_ids == ["s2", "s3", "s4", "s5"]
    assert len(taxi_trip.origin_h3) == 15
    again = service.derive_trips(session, start=start, end=end)
    assert (again.written, again.duplicates) == (0, 2)
    assert session.scalar(select(func.count()).select_from(CommuteTrip)) == 2


def test_derive_refuses_an_empty_window(session: Session, cw: CommuteWorld) -> None:
    with pytest.raises(Invalid):
        service.derive_trips(session, start=T0, end=T0)
    with pytest.raises(ValueError, match="timezone"):
        service.derive_trips(session, start=T0.replace(tzinfo=None), end=T0.replace(tzinfo=None))


def test_the_scenario_generators_vehicles_make_one_trip_each() -> None:
    from cityos.mobility.network.schema import grid_network
    from cityos.mobility.scenario.generator import GeneratorConfig, generate

    tables = generate(grid_network(6, 6, 300.0), GeneratorConfig(vehicles=200, duration_s=3 * 3600, seed=3))
    probes = tables.probes.select(
        kind=pl.lit("other"),
        vehicle_key=pl.col("vehicle_id").cast(pl.String),
        ts="ts",
        lon="lon",
        lat="lat",
        speed_kmh="speed_kmh",
        occupied=pl.lit(None, pl.Boolean),
        segment_id="true_segment_id",
    )
    trips = trips_from_probes(probes)
    vehicles = probes["vehicle_key"].n_unique()
    assert trips["trip_key"].str.split(":").list.get(2).n_unique() == trips.height  # none split by 8 m noise
    assert trips.height >= 0.97 * vehicles  # a drive under 200 m or 60 s is dropped
    assert trips["segment_ids"].list.len().mean() == pytest.approx(12, abs=1.5)  # the generator's 12 segments
    speed = (trips["distance_m"] / trips["duration_s"] * 3.6).median()
    assert 10 < speed < 80  # type: ignore[operator]
