"""The demo city's buses (called by the demo generator after the ``network`` part): three bus
routes across the demo road network as a GTFS feed (code ``demo-bus``), imported like any
feed, and the past 24 hours of their positions delivered through the ingest service, so the
bus pages show routes, on-time shares and headways at once."""

from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.core.settings import get_settings
from cityos.mobility.ingest import service as ingest
from cityos.mobility.network import service as network
from cityos.places.models import Region

from . import service, simulate
from .models import TransitFeed

FEED = "demo-bus"
NETWORK = "demo"
ROUTES = 3
HEADWAY_S = 900
BATCH = 5000  # the ingest's largest batch


def _segments(session: Session) -> pl.DataFrame | None:
    active = getattr(network, "active_network", None)
    net = active(session, NETWORK) if active is not None else None
    if net is None:
        try:
            net = network.get_network(session, NETWORK)
        except Exception:  # no demo network: nothing to run buses on
            return None
    return network.load_segments(session, net.code)


def seed(session: Session, *, city: Region, rng: random.Random) -> None:
    """The demo feed and a day of its buses (nothing when the feed exists or there is no network)."""
    if session.scalar(select(TransitFeed.id).where(TransitFeed.code == FEED)) is not None:
        return
    segments = _segments(session)
    if segments is None or segments.is_empty():
        return
    tz = get_settings().timezone
    routes = simulate.plan_routes(segments, count=ROUTES, stop_spacing_m=300.0)
    if not routes:
        return
    trips = simulate.schedule(routes, start_s=6 * 3600, end_s=22 * 3600 + 1800, headway_s=HEADWAY_S)
    with tempfile.TemporaryDirectory(prefix="cityos-demo-gtfs-") as tmp:
        path = simulate.write_feed(Path(tmp) / f"{FEED}.zip", routes, trips, timezone=tz, agency=f"{city.name}公交")
        service.import_gtfs(session, SYSTEM, path=path, code=FEED, name=f"{city.name}演示公交", source_ref=path.name)
    end = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(hours=24)
    today = end.astimezone(ZoneInfo(tz)).date()
    frames = [
        simulate.bus_positions(routes, trips, service_date=day, rng=rng, timezone=tz, window=(start, end))[0]
        for day in (today - timedelta(days=1), today)
    ]
    fixes = pl.concat(frames)
    records = [
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
    for i in range(0, len(records), BATCH):
        ingest.ingest(session, SYSTEM, source="bus", records=records[i : i + BATCH], batch_ref=f"demo-bus-{i // BATCH}")
    session.flush()
