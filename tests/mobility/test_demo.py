"""The demo city's road network and its past day of traffic (``mobility/network/demo.py``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.mobility.ingest.models import NavSpeed, ProbePoint, TrafficObservation, TrafficQuarantine
from cityos.mobility.network import demo
from cityos.mobility.network.models import RoadNetwork
from cityos.mobility.network.schema import DEMO_CENTRE
from cityos.mobility.network.service import load_segments
from cityos.mobility.scenario import live
from tests.factories import add_region, box


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_the_grid_fits_inside_a_small_district() -> None:
    small = shape(box(104.05, 30.60, 0.009, 0.009))  # about 870 m × 1000 m
    grid = demo.fit_grid(small)
    assert demo.inside(grid, small)
    width = grid["lons"].explode().max() - grid["lons"].explode().min()  # type: ignore[operator]
    assert width < 0.009
    big = shape(box(104.0, 30.5, 0.2, 0.2))
    assert demo.fit_grid(big)["length_m"].max() == pytest.approx(demo.SPACING_M[0], rel=0.01)
    # an L-shaped district whose centroid lies outside it: the grid goes where the polygon is
    ell = shape(
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [104.0, 30.0],
                    [104.1, 30.0],
                    [104.1, 30.02],
                    [104.02, 30.02],
                    [104.02, 30.1],
                    [104.0, 30.1],
                    [104.0, 30.0],
                ]
            ],
        }
    )
    assert not ell.contains(ell.centroid)
    assert demo.inside(demo.fit_grid(ell), ell)
    lons = demo.fit_grid(None)["lons"].explode()
    assert lons.min() < DEMO_CENTRE[0] < lons.max()  # type: ignore[operator]


def test_seed_lays_the_network_in_the_first_district_with_a_day_of_traffic(session: Session) -> None:
    city = add_region(session, None, "city", "演示市", geometry=box(104.0, 30.5, 0.3, 0.3))
    first = add_region(session, city, "district", "甲区", code="T-D1", geometry=box(104.2, 30.6, 0.05, 0.05))
    add_region(session, city, "district", "乙区", code="T-D2", geometry=box(104.0, 30.5, 0.1, 0.1))
    add_region(session, city, "district", "无界区", code="T-D0")  # no geometry: skipped
    before = datetime.now(UTC)
    demo.seed(session, city=city, rng=random.Random(1))

    net = session.scalar(select(RoadNetwork).where(RoadNetwork.code == live.DEMO_NETWORK))
    assert net is not None
    assert net.source == live.DEMO_SOURCE
    assert "甲区" in net.name
    segments = load_segments(session, live.DEMO_NETWORK)
    assert segments.height == 120
    assert demo.inside(segments, shape(first.geometry or {}))
    assert demo.inside(segments, shape(city.geometry or {}))

    end = before.replace(second=0, microsecond=0) - timedelta(minutes=before.minute % 5)
    first_probe = session.scalar(select(func.min(ProbePoint.ts)))
    last_probe = session.scalar(select(func.max(ProbePoint.ts)))
    assert first_probe is not None
    assert last_probe is not None
    assert first_probe.replace(tzinfo=UTC) >= end - timedelta(hours=24)
    assert first_probe.replace(tzinfo=UTC) < end - timedelta(hours=23, minutes=50)
    assert last_probe.replace(tzinfo=UTC) > end - timedelta(minutes=10)
    detectors = session.scalar(select(func.count(func.distinct(TrafficObservation.detector_id))))
    assert detectors
    assert _count(session, TrafficObservation) == detectors * 288  # every 5 minutes for 24 hours
    assert _count(session, NavSpeed, NavSpeed.provider == live.LIVE_PROVIDER) > 1000
    assert _count(session, ProbePoint, ProbePoint.segment_id.is_(None)) == 0  # all matched
    quarantined = _count(session, TrafficQuarantine)
    assert quarantined < _count(session, ProbePoint) * 0.02
    # the live feed continues where the seed stopped (at most one navigation interval back:
    # what it sends again is counted as duplicates)
    resume = live.resume_point(session)
    assert resume is not None
    assert end - timedelta(minutes=5) <= resume <= end

    probes = _count(session, ProbePoint)
    demo.seed(session, city=city, rng=random.Random(2))  # idempotent: the network exists
    assert _count(session, ProbePoint) == probes
    assert _count(session, RoadNetwork) == 1


def test_seed_without_district_geometry_uses_the_city(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    city = add_region(session, None, "city", "演示市", geometry=box(103.9, 30.5, 0.3, 0.3))
    add_region(session, city, "district", "无界区")
    monkeypatch.setattr(demo, "HISTORY", timedelta(minutes=30))  # the network is what this test is about
    demo.seed(session, city=city, rng=random.Random(1))
    segments = load_segments(session, live.DEMO_NETWORK)
    assert demo.inside(segments, shape(city.geometry or {}))
    assert _count(session, TrafficObservation) > 0
