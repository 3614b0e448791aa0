"""The demo city's transport hubs (called by the demo generator after the ``network`` part): a
railway station and a metro station on the demo road network, with the past 24 hours of camera
counts, taxis at the rank and taxi and ride-hailing trips from and to the network's streets,
delivered through the ingest service like real feeds, so the hub pages show a day at once.

The trips' other ends are the network's junctions: the ingest keeps only fixes near a road of
the active network, so a trip to a place off the network would lose its end.
"""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.core.errors import DomainError
from cityos.core.settings import get_settings
from cityos.mobility.ingest import service as ingest
from cityos.mobility.network import service as network
from cityos.places import service as places
from cityos.places.models import Region

from . import service, simulate
from .models import TransportHub

NETWORK = "demo"
BATCH = 5000
# (code, name suffix, kind, where on the network (0..1 of its extent), scale of the day, radius)
HUBS = (
    ("DEMO-RAIL", "火车站", "rail", (0.5, 0.5), 0.6, 250.0),
    ("DEMO-METRO", "地铁换乘站", "metro", (0.25, 0.75), 0.25, 150.0),
)


def _junctions(segments: pl.DataFrame) -> list[tuple[float, float]]:
    starts = segments.select(pl.col("lons").list.first().alias("x"), pl.col("lats").list.first().alias("y"))
    return [(float(x), float(y)) for x, y in starts.unique().sort("x", "y").iter_rows()]


def _region(session: Session, city: Region, lon: float, lat: float) -> int:
    try:
        return places.locate(session, SYSTEM, lon=lon, lat=lat).id
    except DomainError:
        return city.id


def seed(session: Session, *, city: Region, rng: random.Random) -> None:
    """The demo hubs and their day (nothing when they exist or there is no demo network)."""
    if session.scalar(select(TransportHub.id).where(TransportHub.code.like("DEMO-%")).limit(1)) is not None:
        return
    try:
        segments = network.load_segments(session, NETWORK)
    except DomainError:
        return
    if segments.is_empty():
        return
    nodes = _junctions(segments)
    xs, ys = [n[0] for n in nodes], [n[1] for n in nodes]
    tz = get_settings().timezone
    end = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(hours=24)
    today = end.astimezone(ZoneInfo(tz)).date()
    short = city.name.removesuffix("市")
    for code, suffix, kind, (fx, fy), scale, radius in HUBS:
        tx, ty = min(xs) + fx * (max(xs) - min(xs)), min(ys) + fy * (max(ys) - min(ys))
        lon, lat = min(nodes, key=lambda n: (n[0] - tx) ** 2 + (n[1] - ty) ** 2)
        service.create_hub(
            session,
            SYSTEM,
            code=code,
            name=f"{short}{suffix}",
            kind=kind,
            lon=lon,
            lat=lat,
            radius_m=radius,
            camera_ids=[],
            region_id=_region(session, city, lon, lat),
        )
        ends = [n for n in nodes if (n[0] - lon) ** 2 + (n[1] - lat) ** 2 > 1e-7]
        days = [
            simulate.simulate_day(
                hub_code=code,
                lon=lon,
                lat=lat,
                day=day,
                ends=ends,
                rng=rng,
                timezone=tz,
                scale=scale,
                until=end,
                spread_m=25.0,
            )
            for day in (today - timedelta(days=1), today)
        ]
        day = simulate.HubDay(
            pl.concat([d.video for d in days]).filter(pl.col("ts") >= start),
            pl.concat([d.probes for d in days]).filter(pl.col("ts") >= start - timedelta(hours=1)),
        )
        video, probes = simulate.records(day)
        for source, rows in (("video", video), ("probe", probes)):
            for i in range(0, len(rows), BATCH):
                ingest.ingest(
                    session, SYSTEM, source=source, records=rows[i : i + BATCH], batch_ref=f"{code}-{i // BATCH}"
                )
    session.flush()
