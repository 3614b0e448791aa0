"""The demo seeds of buses and hubs on a demo road network (what the demo generator runs after
the network part): fast, idempotent, nothing quarantined, and the pages' data is there."""

from __future__ import annotations

import random

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.mobility.hubs import demo as hubs_demo
from cityos.mobility.hubs import flow, service
from cityos.mobility.ingest.models import TrafficQuarantine
from cityos.mobility.network.schema import grid_network
from cityos.mobility.network.service import save_segments
from cityos.mobility.transit import demo as transit_demo
from cityos.mobility.transit import performance
from tests.mobility.hubs.conftest import People


def test_the_demo_buses_and_hubs(session: Session, people: People) -> None:
    save_segments(session, "demo", grid_network(6, 6, 300.0, 104.05, 30.05), source="demo")
    # A few seconds each on a quiet machine (not asserted: the test machines are shared).
    transit_demo.seed(session, city=people.world.city, rng=random.Random(1))
    hubs_demo.seed(session, city=people.world.city, rng=random.Random(2))
    assert session.scalar(select(func.count()).select_from(TrafficQuarantine)) == 0
    perf = performance.performance(session, people.reader, feed_code=transit_demo.FEED)
    assert perf.routes.height == 3
    assert perf.routes["on_time_share"].min() > 0.5
    hubs = service.list_hubs(session, people.reader)
    assert [h.code for h in hubs] == ["DEMO-METRO", "DEMO-RAIL"]
    rail = flow.flow(session, people.reader, hub_code="DEMO-RAIL")
    assert set(rail.mode_share["mode"]) == {"metro", "bus", "car", "pedestrian", "taxi", "ridehail"}
    assert rail.origins["name"].to_list() == ["甲区"]  # the demo network lies in one district
    assert rail.supply.filter(pl.col("waiting") > 0).height > 0
    transit_demo.seed(session, city=people.world.city, rng=random.Random(1))  # a second run adds nothing
    hubs_demo.seed(session, city=people.world.city, rng=random.Random(2))
    assert len(service.list_hubs(session, people.reader)) == 2
