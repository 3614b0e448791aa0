"""The demo city's live traffic: the built-in generator run hour by hour, fed through ingest.

Every clock hour of traffic is one deterministic generator run (seeded by the hour), with a
20-minute warm-up so the roads are already busy when the hour starts; the number of vehicles
follows the day's demand curve, so the morning and evening peaks (by the city's clock) carry
more and slower traffic. The demo seed ingests the past 24 hours of these runs
(``network/demo.py``); afterwards the server's per-minute job (``tasks.periodic`` → ``tick``)
ingests what became available since its last run, so the TOCC board moves. A restart
resumes from the last navigation interval stored (records sent twice are duplicates, which
the ingest service counts and does not store again).

The feed is on when the active road network is the demo network (code ``demo``, source
``demo``) and the setting ``mobility_live_feed`` (``CITYOS_MOBILITY_LIVE_FEED``) is not off.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.core.settings import get_settings
from cityos.mobility.ingest.models import NavSpeed
from cityos.mobility.network.models import RoadNetwork

from .generator import GeneratorConfig, generate, peak_factor
from .replay import SOURCES, feed_frames, floor_time, records

DEMO_NETWORK = "demo"
DEMO_SOURCE = "demo"  # RoadNetwork.source of the network the demo seed made
LIVE_PROVIDER = "cityos-demo"  # the navigation provider name of the live feed
HOUR = timedelta(hours=1)
WARMUP = timedelta(minutes=20)
MAX_CATCH_UP = timedelta(minutes=60)  # after a long stop, only the last hour is filled in
_CACHE_HOURS = 3


@dataclass(frozen=True)
class DemoTraffic:
    """How busy the demo city is (vehicles a day over the whole network) and how its probes report."""

    daily_vehicles: int = 4000
    probe_interval_s: int = 30
    gps_noise_m: float = 8.0
    seed: int = 2026


@dataclass
class FeedReport:
    start: datetime
    end: datetime
    sent: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0


def _utc_offset_h(at: datetime) -> float:
    offset = at.astimezone(ZoneInfo(get_settings().timezone)).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else 0.0


def hour_vehicles(hour_start: datetime, traffic: DemoTraffic, offset_h: float) -> int:
    """Vehicles departing in the warm-up and the hour: the day's total by the demand curve."""
    cfg = GeneratorConfig(start=hour_start - WARMUP, utc_offset_h=offset_h)
    day = np.arange(0, 86400, 60, dtype=np.float64)
    window = np.arange(0, (WARMUP + HOUR).total_seconds(), 60, dtype=np.float64)
    share = float((cfg.base_demand + peak_factor(window, cfg)).sum() / (cfg.base_demand + peak_factor(day, cfg)).sum())
    return max(1, round(traffic.daily_vehicles * share))


_cache: OrderedDict[tuple[Any, ...], dict[str, pl.DataFrame]] = OrderedDict()


def hour_frames(segments: pl.DataFrame, hour_start: datetime, traffic: DemoTraffic) -> dict[str, pl.DataFrame]:
    """One clock hour of the demo's traffic as feed frames (``replay.feed_frames``), records
    available within [hour_start, hour_start + 1 h). Cached: the per-minute job reads each
    hour sixty times."""
    hour_start = floor_time(hour_start, 3600)
    key = (hour_start, traffic, segments.height, segments["segment_id"][0] if segments.height else "")
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    offset_h = _utc_offset_h(hour_start)
    epoch_h = int(hour_start.timestamp()) // 3600
    cfg = GeneratorConfig(
        start=hour_start - WARMUP,
        duration_s=int((WARMUP + HOUR).total_seconds()),
        utc_offset_h=offset_h,
        vehicles=hour_vehicles(hour_start, traffic, offset_h),
        probe_interval_s=traffic.probe_interval_s,
        gps_noise_m=traffic.gps_noise_m,
        seed=zlib.crc32(f"{traffic.seed}-{epoch_h}".encode()),
    )
    frames = feed_frames(generate(segments, cfg), seed=cfg.seed)
    end = hour_start + HOUR
    out: dict[str, pl.DataFrame] = {}
    for source, f in frames.items():
        f = f.filter((pl.col("avail") >= hour_start) & (pl.col("avail") < end))
        if source == "probe":  # one trip per vehicle id: make them unique across hours
            f = f.with_columns((pl.lit(f"d{epoch_h}-") + pl.col("vehicle_id")).alias("vehicle_id"))
        if source == "nav":
            f = f.with_columns(pl.lit(LIVE_PROVIDER).alias("provider"))
        out[source] = f
    _cache[key] = out
    while len(_cache) > _CACHE_HOURS:
        _cache.popitem(last=False)
    return out


def window_records(
    segments: pl.DataFrame, start: datetime, end: datetime, traffic: DemoTraffic
) -> dict[str, list[dict[str, Any]]]:
    """The records that became available in [start, end), per source."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SOURCES}
    hour = floor_time(start, 3600)
    while hour < end:
        for source, f in hour_frames(segments, hour, traffic).items():
            part = f.filter((pl.col("avail") >= start) & (pl.col("avail") < end))
            out[source].extend(records(part))
        hour += HOUR
    return out


def feed(
    session: Session,
    segments: pl.DataFrame,
    *,
    start: datetime,
    end: datetime,
    traffic: DemoTraffic | None = None,
    step: timedelta = HOUR,
    network_code: str = DEMO_NETWORK,
) -> FeedReport:
    """Ingest the demo traffic available in [start, end), ``step`` at a time (one flush each)."""
    from cityos.mobility.ingest import service as ingest

    traffic = traffic or DemoTraffic()
    report = FeedReport(start, end)
    at = start
    while at < end:
        upto = min(end, at + step)
        for source, recs in window_records(segments, at, upto, traffic).items():
            for i in range(0, len(recs), 5000):
                chunk = recs[i : i + 5000]
                r = ingest.ingest(
                    session,
                    SYSTEM,
                    source=source,
                    records=chunk,
                    batch_ref=f"demo-{source}-{at:%Y%m%d%H%M}",
                    network_code=network_code,
                )
                report.sent[source] = report.sent.get(source, 0) + len(chunk)
                report.accepted += r.accepted
                report.duplicates += r.duplicates
                report.quarantined += r.quarantined
        at = upto
    return report


# The live tick ---------------------------------------------------------------------------

_cursor: dict[str, datetime] = {}  # database URL -> end of the last committed tick


def enabled(session: Session) -> RoadNetwork | None:
    """The demo network when the live feed should run, else None."""
    from cityos.mobility.network.service import active_network

    if not getattr(get_settings(), "mobility_live_feed", True):
        return None
    net = active_network(session)
    if net is None or net.code != DEMO_NETWORK or net.source != DEMO_SOURCE:
        return None
    return net


def resume_point(session: Session) -> datetime | None:
    """Where the feed stopped, from the data: the end of the last live navigation interval."""
    row = session.execute(
        select(func.max(NavSpeed.ts), func.max(NavSpeed.interval_s)).where(NavSpeed.provider == LIVE_PROVIDER)
    ).one()
    if row[0] is None:
        return None
    last: datetime = row[0] if row[0].tzinfo else row[0].replace(tzinfo=UTC)
    return last + timedelta(seconds=int(row[1] or 300))


def tick(session: Session, *, now: datetime | None = None, traffic: DemoTraffic | None = None) -> FeedReport | None:
    """Ingest the demo traffic that became available since the last tick (the server calls
    this every minute); None when the feed is off or there is nothing new."""
    from cityos.mobility.network.service import load_segments

    net = enabled(session)
    if net is None:
        return None
    now = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    key = str(session.get_bind().engine.url)
    floor = resume_point(session)
    start = max(d for d in (_cursor.get(key), floor, now - MAX_CATCH_UP) if d is not None)
    if start >= now:
        return None
    report = feed(session, load_segments(session, net.code), start=start, end=now, traffic=traffic, step=MAX_CATCH_UP)

    # Only a committed tick moves the cursor: a rolled-back one is sent again next minute.
    def _committed(_session: Session) -> None:
        _cursor[key] = now

    event.listen(session, "after_commit", _committed, once=True)
    return report
