"""The demo city's corridors and its board's past day (called by the demo generator after the
``network`` part has laid the demo network and ingested its last 24 hours of traffic).

Two corridors run along the demo grid (``network.schema.grid_network`` ids ``n{row}_{col}``):
the south expressway eastbound and the first arterial line eastbound. Then the 24 hours of bins
are computed like the live run would have done them (forecasts for the last two hours), and the cursor is
left at the newest finished bin, so the server's per-minute run carries on from there.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.mobility.monitor import service
from cityos.mobility.monitor.models import MonitorCursor, TrafficCorridor
from cityos.mobility.network import service as network
from cityos.mobility.network.models import RoadNetwork, RoadSegment
from cityos.places.models import Region

DEMO_NETWORK = "demo"
HISTORY = timedelta(hours=24)
FORECAST_HOURS = timedelta(hours=2)

# (code, name, English name, road class the corridor follows, the grid row it lies on)
CORRIDORS: tuple[tuple[str, str, str, str, int], ...] = (
    ("south-expressway-east", "南环快速路（东行）", "South ring expressway, eastbound", "expressway", 0),
    ("arterial-4-east", "四号干道（东行）", "Arterial 4, eastbound", "arterial", 4),
)


def _chain(session: Session, net: RoadNetwork, road_class: str, row: int) -> list[str]:
    """The segments of one grid row, west to east, when they are of the given class."""
    ids = set(
        session.scalars(
            select(RoadSegment.segment_id).where(RoadSegment.network_id == net.id, RoadSegment.road_class == road_class)
        )
    )
    chain: list[str] = []
    col = 0
    while f"n{row}_{col}-n{row}_{col + 1}" in ids:
        chain.append(f"n{row}_{col}-n{row}_{col + 1}")
        col += 1
    return chain


def seed(session: Session, *, city: Region, rng: random.Random) -> None:
    """Corridors and the past day of bins on the demo network (nothing when already done)."""
    del city, rng  # the network part placed the grid; nothing here is random
    net = network.active_network(session, DEMO_NETWORK)
    if net is None:
        return
    if session.scalar(select(MonitorCursor.network_code).where(MonitorCursor.network_code == net.code)) is not None:
        return
    existing = set(session.scalars(select(TrafficCorridor.code)))
    for code, name, name_en, road_class, row in CORRIDORS:
        chain = _chain(session, net, road_class, row)
        if code not in existing and len(chain) >= 2:
            session.add(
                TrafficCorridor(code=code, name=name, name_en=name_en, network_code=net.code, segment_ids=chain)
            )
    session.flush()
    now = utcnow()
    # Forecasts only for the last hours (enough to show their errors on a segment's page):
    # issuing them for every bin of the day would double the demo's time.
    split = now - FORECAST_HOURS
    service.compute_window(
        session, since=now - HISTORY, until=split, network_code=net.code, chunk_bins=96, with_forecasts=False
    )
    service.compute_window(session, since=split, until=now, network_code=net.code, chunk_bins=96)
