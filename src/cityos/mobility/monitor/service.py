"""Computing the board: every finished 5-minute bin → segment states and the five vital signs.

A bin ``[b, b + 5 min)`` is finished ``LATE`` (2 minutes) after its end, so records that arrive a
little late still count. The cursor row remembers the last bin computed per network; each run
computes the bins after it in order (at most ``max_bins``), so a restart neither skips nor
repeats a bin. Recomputing a window (``compute_window``) replaces its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.mobility.events import TrafficStatesComputed
from cityos.mobility.indicators.pipeline import compute_local
from cityos.mobility.monitor import areas, forecasts, sources
from cityos.mobility.monitor.corridors import corridor_members
from cityos.mobility.monitor.models import MonitorCursor, SegmentState, VitalSign
from cityos.mobility.network import service as network
from cityos.mobility.network.models import RoadNetwork

log = structlog.get_logger(__name__)

BIN = timedelta(minutes=5)
LATE = timedelta(minutes=2)
MAX_WINDOW_BINS = 288 * 31  # a month of bins per recompute
_CHUNK = 2000

STATE_COLUMNS = (
    "speed_kmh", "speed_sd_kmh", "state", "flow_veh", "occupancy", "sources", "disagree", "disagree_reason",
    "probe_speed", "probe_n", "loop_speed", "loop_n", "nav_speed", "nav_n",
)  # fmt: skip
VITAL_COLUMNS = (
    "segments", "vehicles", "probe_points", "vkt_km", "vkt_coverage", "tti", "congested_ratio", "tpi",
    "tpi_band", "tpi_band_name", "arterial_speed_kmh", "expressway_speed_kmh", "incidents", "safety_index",
    "disagreements",
)  # fmt: skip

MSG_WINDOW = N_("The start must be before the end.")
MSG_WINDOW_LONG = N_("Recompute at most 31 days at once.")


@dataclass
class ComputeReport:
    network_code: str
    bins: list[datetime] = field(default_factory=list)
    segment_rows: int = 0
    vital_rows: int = 0
    forecasts: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)  # the kernel's reason -> count
    unmatched_incidents: int = 0


def floor_bin(ts: datetime) -> datetime:
    seconds = int(ts.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(BIN.total_seconds()), UTC)


def last_finished_bin(until: datetime) -> datetime:
    """The start of the newest bin that is finished at ``until`` (its end plus ``LATE`` passed)."""
    return floor_bin(until - LATE) - BIN


def _network(session: Session, code: str | None) -> RoadNetwork | None:
    return network.active_network(session, code)


def _insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Core executemany on the table: the ORM's bulk insert would split the rows into one
    statement per pattern of null columns (measured: 18,907 statements for 30,000 rows)."""
    table = model.__table__
    for i in range(0, len(rows), _CHUNK):
        session.execute(table.insert(), rows[i : i + _CHUNK])


def _store(session: Session, net: RoadNetwork, start: datetime, end: datetime, result: Any) -> tuple[int, int]:
    states: pl.DataFrame = result.segments
    vitals: pl.DataFrame = result.vitals
    session.execute(
        delete(SegmentState).where(
            SegmentState.network_code == net.code, SegmentState.bin_start >= start, SegmentState.bin_start < end
        )
    )
    session.execute(delete(VitalSign).where(VitalSign.bin_start >= start, VitalSign.bin_start < end))
    state_rows = states.select("segment_id", "bin_start", *STATE_COLUMNS).with_columns(
        pl.col("bin_start").dt.replace_time_zone("UTC"), pl.lit(net.code).alias("network_code")
    )
    _insert(session, SegmentState, state_rows.to_dicts())
    vital_rows = vitals.select("level", "area_id", "bin_start", *VITAL_COLUMNS).with_columns(
        pl.col("bin_start").dt.replace_time_zone("UTC"),
        pl.col("incidents").fill_null(0.0),
        pl.col("disagreements").fill_null(0),
    )
    _insert(session, VitalSign, vital_rows.to_dicts())
    return state_rows.height, vital_rows.height


def _compute(session: Session, net: RoadNetwork, bins: list[datetime], *, with_forecasts: bool) -> ComputeReport:
    report = ComputeReport(network_code=net.code, bins=bins)
    if not bins:
        return report
    start, end = bins[0], bins[-1] + BIN
    places = areas.segment_places(session, net)
    known = set(places.segments["segment_id"].to_list())
    corridors = {
        code: [s for s in members if s in known] for code, members in corridor_members(session, net.code).items()
    }
    corridors = {code: members for code, members in corridors.items() if members}
    membership = areas.area_membership(places, corridors)
    obs = sources.observations(session, start=start, end=end, network_code=net.code)
    found = areas.incident_areas(session, sources.incidents(session, start=start, end=end), places, corridors)
    result = compute_local(obs, places.segments, membership, found if found.height else None)
    if result.quarantine.height:
        counts = result.quarantine.group_by("reason").len()
        report.quarantined = dict(zip(counts["reason"].to_list(), counts["len"].to_list(), strict=True))
    report.unmatched_incidents = result.unmatched_incidents.height
    report.segment_rows, report.vital_rows = _store(session, net, start, end, result)
    per_bin = dict(result.segments.group_by("bin_start").len().iter_rows())
    events = [
        TrafficStatesComputed(
            network_code=net.code, bin_start=b.isoformat(), segments=int(per_bin.get(b.replace(tzinfo=None), 0))
        )
        for b in bins
    ]
    bus.publish_many(session, events)
    if with_forecasts:
        report.forecasts = forecasts.issue(session, net=net, segments=places.segments, bins=bins)
    session.flush()
    return report


def _cursor(session: Session, code: str) -> MonitorCursor | None:
    return session.scalar(select(MonitorCursor).where(MonitorCursor.network_code == code).with_for_update())


def _advance(session: Session, code: str, cursor: MonitorCursor | None, report: ComputeReport) -> None:
    stats = {
        "bins": len(report.bins),
        "segment_rows": report.segment_rows,
        "vital_rows": report.vital_rows,
        "forecasts": report.forecasts,
        "quarantined": report.quarantined,
        "unmatched_incidents": report.unmatched_incidents,
        "at": utcnow().isoformat(),
    }
    if cursor is None:
        session.add(MonitorCursor(network_code=code, last_bin_start=report.bins[-1], stats=stats))
    else:
        cursor.last_bin_start = report.bins[-1]
        cursor.stats = stats
    session.flush()


def compute_bins_report(
    session: Session, *, until: datetime, network_code: str | None = None, max_bins: int = 12
) -> ComputeReport:
    """Every finished bin after the cursor, oldest first, at most ``max_bins``. Without a cursor
    (the first run) it starts ``max_bins`` bins before the newest finished one."""
    net = _network(session, network_code)
    if net is None:
        return ComputeReport(network_code=network_code or "")
    last = last_finished_bin(until)
    cursor = _cursor(session, net.code)
    first = cursor.last_bin_start + BIN if cursor is not None else last - (max_bins - 1) * BIN
    bins: list[datetime] = []
    b = first
    while b <= last and len(bins) < max_bins:
        bins.append(b)
        b += BIN
    report = _compute(session, net, bins, with_forecasts=True)
    if bins:
        _advance(session, net.code, cursor, report)
        if report.quarantined:
            log.info("mobility.monitor_quarantined", network=net.code, reasons=report.quarantined)
    return report


def compute_bins(
    session: Session, *, until: datetime, network_code: str | None = None, max_bins: int = 12
) -> list[datetime]:
    """The bins computed (their starts, UTC, in order); see ``compute_bins_report``."""
    return compute_bins_report(session, until=until, network_code=network_code, max_bins=max_bins).bins


def window_bins(since: datetime, until: datetime) -> list[datetime]:
    """The finished bins that start in [since, until)."""
    if since.tzinfo is None or until.tzinfo is None:
        raise Invalid(details=[FieldError("since", MSG_WINDOW)])
    if since >= until:
        raise Invalid(details=[FieldError("since", MSG_WINDOW)])
    first = floor_bin(since)
    first = first if first >= since else first + BIN
    last = min(floor_bin(until - timedelta(microseconds=1)), last_finished_bin(utcnow()))
    if (last - first) / BIN >= MAX_WINDOW_BINS:
        raise Invalid(details=[FieldError("since", MSG_WINDOW_LONG)])
    out = []
    b = first
    while b <= last:
        out.append(b)
        b += BIN
    return out


def compute_window(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    network_code: str | None = None,
    chunk_bins: int = 36,
    with_forecasts: bool = True,
    progress: Any = None,
) -> ComputeReport:
    """Recompute the bins of [since, until) (replacing their rows), ``chunk_bins`` at a time.
    The cursor moves forward to the window's end only when the window continues from it (or
    there is none yet), so a recompute never makes the live run skip a bin."""
    net = _network(session, network_code)
    if net is None:
        raise NotFound(N_("No road network has been imported yet."))
    bins = window_bins(since, until)
    total = ComputeReport(network_code=net.code)
    for i in range(0, len(bins), chunk_bins):
        part = _compute(session, net, bins[i : i + chunk_bins], with_forecasts=with_forecasts)
        total.bins += part.bins
        total.segment_rows += part.segment_rows
        total.vital_rows += part.vital_rows
        total.forecasts += part.forecasts
        total.unmatched_incidents += part.unmatched_incidents
        for reason, n in part.quarantined.items():
            total.quarantined[reason] = total.quarantined.get(reason, 0) + n
        if progress is not None:
            progress(len(part.bins))
    if bins:
        cursor = _cursor(session, net.code)
        continues = cursor is not None and bins[0] <= cursor.last_bin_start + BIN and bins[-1] > cursor.last_bin_start
        if cursor is None or continues:
            _advance(session, net.code, cursor, total)
    return total


@dataclass
class MonitorStatus:
    network_code: str | None
    last_bin_start: datetime | None
    behind_bins: int
    stats: dict[str, Any]


def status(session: Session, *, now: datetime | None = None, network_code: str | None = None) -> MonitorStatus:
    net = _network(session, network_code)
    if net is None:
        return MonitorStatus(None, None, 0, {})
    cursor = session.scalar(select(MonitorCursor).where(MonitorCursor.network_code == net.code))
    if cursor is None:
        return MonitorStatus(net.code, None, 0, {})
    behind = max(0, int((last_finished_bin(now or utcnow()) - cursor.last_bin_start) / BIN))
    return MonitorStatus(net.code, cursor.last_bin_start, behind, dict(cursor.stats or {}))
