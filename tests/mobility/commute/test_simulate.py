"""The synthetic commute: AM trips home → work and PM trips back, paths over the network with
durations that agree with its speeds; the demo seed for the demo city (fast, corridors shown)."""

from __future__ import annotations

import random
import time
from datetime import date

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.mobility.commute import corridors, demo, simulate
from cityos.mobility.commute.models import CommuteTrip
from cityos.mobility.commute.paths import RoadGraph
from cityos.mobility.network import service as network
from cityos.mobility.network.schema import grid_network
from tests.mobility.commute.conftest import CommuteWorld

DAY = date(2026, 12, 2)


def test_a_simulated_day_follows_the_network() -> None:
    seg = grid_network(9, 9, 300.0)
    g = RoadGraph(seg)
    lon0, lat0 = float(seg["lons"].explode().min()), float(seg["lats"].explode().min())  # type: ignore[arg-type]
    zones = [
        simulate.Zone("home", lon0 + 0.004, lat0 + 0.004, 250.0, homes=1.0, jobs=0.0),
        simulate.Zone("work", lon0 + 0.024, lat0 + 0.02, 250.0, homes=0.0, jobs=1.0),
    ]
    cfg = simulate.SimConfig(commuters=200, stay_home_p=0.0, off_peak_share=0.0)
    df = simulate.simulate_day(zones, day=DAY, rng=random.Random(3), graph=g, cfg=cfg)
    assert df.height == 400
    local = df.with_columns(h=pl.col("started_at").dt.convert_time_zone("Asia/Shanghai").dt.hour())
    am, pm = (
        local.filter(pl.col("trip_key").str.ends_with(":am")),
        local.filter(pl.col("trip_key").str.ends_with(":pm")),
    )
    assert am["h"].is_between(5, 10).all()
    assert pm["h"].is_between(15, 20).all()
    assert (am["origin_lon"] < am["dest_lon"]).all()  # home (west) to work (east) in the morning
    assert (pm["origin_lon"] > pm["dest_lon"]).all()
    routed = df.filter(pl.col("segment_ids").list.len() > 0)
    assert routed.height > 100
    known = set(seg["segment_id"].to_list())
    for path in routed["segment_ids"].to_list()[:20]:
        assert set(path) <= known
        ends = [(s.split("-")[0], s.split("-")[1]) for s in path]
        assert all(a[1] == b[0] for a, b in zip(ends, ends[1:], strict=False))  # a connected path
    # Driving speed stays under the network's free-flow speeds and above a jam.
    moving = routed.filter(pl.col("mode") != "bus")
    kmh = (moving["distance_m"] / moving["duration_s"] * 3.6).to_list()
    assert max(kmh) < seg["free_speed_kmh"].max()  # type: ignore[operator]
    assert min(kmh) > 3
    assert df["ended_at"].gt(df["started_at"]).all()


def test_without_a_network_distances_are_estimates() -> None:
    zones = [simulate.Zone("a", 104.0, 30.0, 500.0, 1, 1), simulate.Zone("b", 104.1, 30.0, 500.0, 1, 1)]
    df = simulate.simulate_day(zones, day=DAY, rng=random.Random(1), cfg=simulate.SimConfig(commuters=50))
    assert df.height == 50 * 2 + 10
    assert df["segment_ids"].list.len().max() == 0
    with pytest.raises(ValueError, match="zone"):
        simulate.simulate_day([], day=DAY, rng=random.Random(1))


def test_the_demo_seed_gives_corridors_quickly(session: Session, cw: CommuteWorld) -> None:
    network.save_segments(session, "demo", grid_network(5, 9, 1500.0, 104.1, 30.05), source="grid")
    started = time.perf_counter()
    written = demo.seed_day(session, city=cw.w.city, day=DAY, rng=random.Random(5))
    assert time.perf_counter() - started < 20  # about 2-3 s alone; the machine is shared
    assert written > 3000
    assert session.scalar(select(func.count()).select_from(CommuteTrip)) == written
    again = demo.seed_day(session, city=cw.w.city, day=DAY, rng=random.Random(5))
    assert again == 0  # the same day seeded twice stores it once
    c = corridors.corridors(session, cw.operator, day=DAY, peak="am")
    assert c.level == "district"
    names = {(f["properties"]["origin_name"], f["properties"]["dest_name"]) for f in c.collection["features"]}
    assert names == {("甲区", "乙区"), ("乙区", "甲区")}
    assert {f["properties"]["path"] for f in c.collection["features"]} <= {"matched", "shortest", "straight"}


def test_the_demo_seed_derives_the_last_days_probe_traces(session: Session, cw: CommuteWorld) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from cityos.mobility.ingest.models import ProbePoint

    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    fixes = [
        {
            "kind": "taxi",
            "vehicle_key": "demo-taxi",
            "ts": t0 + timedelta(seconds=30 * i),
            "lon": 104.05 + 0.002 * i,
            "lat": 30.05,
            "speed_kmh": 30.0,
            "occupied": True,
        }
        for i in range(30)
    ]
    session.execute(insert(ProbePoint), fixes)
    demo.seed(session, city=cw.w.city, rng=random.Random(5))
    derived = session.scalars(select(CommuteTrip).where(CommuteTrip.source == "derived")).all()
    assert [t.mode for t in derived] == ["taxi"]
    assert session.scalar(select(func.count()).select_from(CommuteTrip)) > 3000  # and yesterday's simulated day
