"""The monitor's demo seed: two corridors on the demo grid, the past day of bins with the cursor
at the newest finished one, forecasts for the last hours; a second run changes nothing."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.mobility.monitor import demo
from cityos.mobility.monitor.models import MonitorCursor, SegmentState, TrafficCorridor, TrafficForecast, VitalSign
from cityos.mobility.monitor.service import floor_bin, last_finished_bin
from cityos.mobility.network import service as network
from cityos.mobility.network.schema import grid_network
from tests.mobility.monitor.conftest import TrafficWorld


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_demo_seed_defines_corridors_and_computes_the_day(session: Session, tw: TrafficWorld) -> None:
    demo.seed(session, city=tw.w.city, rng=random.Random(1))  # no demo network yet: nothing
    assert _count(session, TrafficCorridor) == 0
    network.save_segments(session, "demo", grid_network(6, 6, 300.0, centre_lon=104.05, centre_lat=30.05))
    now = utcnow()
    for hours in (20, 1):
        at = floor_bin(now - timedelta(hours=hours)) + timedelta(minutes=1)
        tw.probes(session, "n0_0-n0_1", at, [70.0, 72.0])
        tw.probes(session, "n4_2-n4_3", at, [12.0])
    demo.seed(session, city=tw.w.city, rng=random.Random(1))
    corridors = {c.code: c.segment_ids for c in session.scalars(select(TrafficCorridor))}
    assert corridors == {
        "south-expressway-east": [f"n0_{c}-n0_{c + 1}" for c in range(5)],
        "arterial-4-east": [f"n4_{c}-n4_{c + 1}" for c in range(5)],
    }
    assert session.scalar(select(MonitorCursor.last_bin_start)) == last_finished_bin(now)
    assert _count(session, SegmentState) == 4
    corridor_bins = session.scalars(select(VitalSign.bin_start).where(VitalSign.area_id == "arterial-4-east")).all()
    assert len(corridor_bins) == 2
    issued = set(session.scalars(select(TrafficForecast.issued_at)))
    assert issued
    assert min(issued) >= now - demo.FORECAST_HOURS - timedelta(minutes=5)
    before = (_count(session, SegmentState), _count(session, TrafficForecast))
    demo.seed(session, city=tw.w.city, rng=random.Random(1))
    assert (_count(session, SegmentState), _count(session, TrafficForecast)) == before
