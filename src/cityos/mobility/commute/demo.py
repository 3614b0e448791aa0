"""The demo city's commute (called by the demo generator after the ``network`` part): a day of
synthetic commute trips between the city's districts, so the commute page shows corridors.

Central districts (nearest the city's centre) hold more jobs, outer ones more homes, so the AM
peak flows inwards and the PM peak back out. A city of a single district (the tiny demo) uses
its streets as zones instead. Trips near the demo road network (code ``demo``)
follow it (their path is the matched segments); the others are straight-line × 1.3 estimates.
The demo's probe traces of the last day, if the network part ingested any, are derived too.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import subtree_clause
from cityos.core.settings import get_settings
from cityos.mobility.commute import service, simulate
from cityos.mobility.commute.paths import RoadGraph
from cityos.mobility.network import service as network
from cityos.mobility.network.schema import M_PER_DEG_LAT
from cityos.places.models import Region, RegionLevel

NETWORK = "demo"
COMMUTERS = 1500
MAX_STREETS = 12
STREET_RADIUS_M = 250.0
MAX_PROBES = 300_000  # the demo derives trips from at most this many probe fixes (a few seconds)


def _places(session: Session, city: Region, level: RegionLevel) -> list[Region]:
    return list(
        session.scalars(
            select(Region)
            .where(
                Region.level == level,
                subtree_clause(Region.path, city.path),
                Region.lon.is_not(None),
                Region.lat.is_not(None),
            )
            .order_by(Region.id)
        ).all()
    )


def zones(session: Session, city: Region, rng: random.Random) -> list[simulate.Zone]:
    """One zone per district; a city of one district (the tiny demo) gets one per street instead,
    tight enough (``STREET_RADIUS_M``) that its trips gather in a few H3 cells and form corridors."""
    places = _places(session, city, RegionLevel.DISTRICT)
    tight = len(places) < 2
    if tight:
        places = _places(session, city, RegionLevel.STREET)[:MAX_STREETS] or places
    if not places:
        return []
    clon = city.lon if city.lon is not None else sum(p.lon or 0.0 for p in places) / len(places)
    clat = city.lat if city.lat is not None else sum(p.lat or 0.0 for p in places) / len(places)
    far = [math.hypot((p.lon or 0.0) - clon, (p.lat or 0.0) - clat) for p in places]
    top = max(far) or 1.0
    out: list[simulate.Zone] = []
    for p, dist in zip(places, far, strict=True):
        assert p.lon is not None
        assert p.lat is not None
        w = ((p.max_lon or p.lon) - (p.min_lon or p.lon)) * M_PER_DEG_LAT * math.cos(math.radians(p.lat))
        h = ((p.max_lat or p.lat) - (p.min_lat or p.lat)) * M_PER_DEG_LAT
        radius = STREET_RADIUS_M if tight else (max(300.0, min(w, h) / 4) if w and h else 1500.0)
        outer = dist / top  # 0 in the centre, 1 at the edge
        out.append(
            simulate.Zone(
                key=str(p.id),
                lon=p.lon,
                lat=p.lat,
                radius_m=radius,
                homes=(0.6 + outer) * rng.uniform(0.8, 1.2),
                jobs=(1.6 - outer) * rng.uniform(0.8, 1.2),
            )
        )
    return out


def seed_day(session: Session, *, city: Region, day: date, rng: random.Random, commuters: int = COMMUTERS) -> int:
    """Store one day of synthetic trips in the city; returns how many were written."""
    found = zones(session, city, rng)
    if not found:
        return 0
    net = network.active_network(session, NETWORK)
    graph = None
    if net is not None:
        segments = network.load_segments(session, net.code)
        graph = RoadGraph(segments) if segments.height else None
    trips = simulate.simulate_day(
        found,
        day=day,
        rng=rng,
        graph=graph,
        cfg=simulate.SimConfig(commuters=commuters),
        timezone=get_settings().timezone,
    )
    return service.save_trips(session, trips).written


def seed(session: Session, *, city: Region, rng: random.Random) -> None:
    """Yesterday (in the city's time) as a full day of commuting, and the trips of the probe
    traces the network part ingested for the last day (when there are not too many to be quick)."""
    now = datetime.now(ZoneInfo(get_settings().timezone))
    seed_day(session, city=city, day=(now - timedelta(days=1)).date(), rng=rng)
    start, end = now - timedelta(days=1), now
    if 0 < service.count_probe_points(session, start=start, end=end) <= MAX_PROBES:
        service.derive_trips(session, start=start, end=end)
