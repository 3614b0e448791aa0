"""The demo city's commute (called by the demo generator after the ``network`` part): a day of
synthetic commute trips between the city's districts, so the commute page shows corridors.

Central districts (nearest the city's centre) hold more jobs, outer ones more homes, so the AM
peak flows inwards and the PM peak back out. Trips near the demo road network (code ``demo``)
follow it (their path is the matched segments); the others are straight-line × 1.3 estimates.
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


def zones(session: Session, city: Region, rng: random.Random) -> list[simulate.Zone]:
    districts = session.scalars(
        select(Region)
        .where(
            Region.level == RegionLevel.DISTRICT,
            subtree_clause(Region.path, city.path),
            Region.lon.is_not(None),
            Region.lat.is_not(None),
        )
        .order_by(Region.id)
    ).all()
    if not districts:
        return []
    clon = city.lon if city.lon is not None else sum(d.lon or 0.0 for d in districts) / len(districts)
    clat = city.lat if city.lat is not None else sum(d.lat or 0.0 for d in districts) / len(districts)
    far = [math.hypot((d.lon or 0.0) - clon, (d.lat or 0.0) - clat) for d in districts]
    top = max(far) or 1.0
    out: list[simulate.Zone] = []
    for d, dist in zip(districts, far, strict=True):
        assert d.lon is not None
        assert d.lat is not None
        w = ((d.max_lon or d.lon) - (d.min_lon or d.lon)) * M_PER_DEG_LAT * math.cos(math.radians(d.lat))
        h = ((d.max_lat or d.lat) - (d.min_lat or d.lat)) * M_PER_DEG_LAT
        radius = max(300.0, min(w, h) / 4) if w and h else 1500.0
        outer = dist / top  # 0 in the centre, 1 at the edge
        out.append(
            simulate.Zone(
                key=str(d.id),
                lon=d.lon,
                lat=d.lat,
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
    """Yesterday (in the city's time) as a full day of commuting."""
    yesterday = (datetime.now(ZoneInfo(get_settings().timezone)) - timedelta(days=1)).date()
    seed_day(session, city=city, day=yesterday, rng=rng)
