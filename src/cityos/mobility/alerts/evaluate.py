"""Evaluating the alert rules over one 5-minute bin (after the monitor stored it).

For bin ``t`` every active rule is checked against the bins of its window, read in bulk (one
query for the segment states of the window, one for the corridors' vital signs, one per
uncached bin for the baselines):

* a target with no open alert whose condition held in each of the last ``duration_min / 5`` bins
  (a bin without data does not hold) raises an alert: ``TrafficAlertRaised`` and a congestion
  guidance message with ``GuidanceIssued``;
* an open alert whose condition holds at ``t`` continues (last seen, severity, speed);
* an open alert whose condition held in none of the last ``clear_min / 5`` bins clears
  (hysteresis): ``TrafficAlertCleared`` and a cleared guidance message.

A cursor per network keeps the last bin evaluated, so a bin delivered twice, or an older bin
recomputed later, raises nothing new. After an alert clears (or an operator closes it), a new
one needs the full duration of congestion after that moment.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.mobility.alerts import guidance
from cityos.mobility.alerts.models import OPEN_STATUSES, AlertCursor, TrafficAlert, TrafficAlertRule
from cityos.mobility.events import TrafficAlertCleared, TrafficAlertRaised
from cityos.mobility.monitor.models import SegmentState, TrafficCorridor, VitalSign
from cityos.mobility.network.models import RoadNetwork, RoadSegment
from cityos.places.index import locate

BIN = timedelta(minutes=5)
WEEK = timedelta(days=7)
MAX_WEEKS = 12  # how far back a baseline looks (a rule asks for 1..12 weeks)
_BASELINE_CACHE_SIZE = 4096


@dataclass
class Report:
    network_code: str
    bin_start: datetime
    skipped: bool = False
    raised: list[str] = field(default_factory=list)
    continued: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SegmentMeta:
    road_class: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Reading:
    """One target in one bin: the severity it shows (state / TPI band) and its speed."""

    severity: int | None
    speed: float | None


# --- caches: the network's segments and the time-of-week baselines ---------------------------------------------

_segments: dict[tuple[str, int, datetime], dict[str, SegmentMeta]] = {}
_places: dict[tuple[str, int, datetime], dict[str, str]] = {}
# (network, bin start) -> segment -> (mean speed, weeks) over the same slot of the past weeks
_baselines: OrderedDict[tuple[str, datetime], dict[str, tuple[float, int]]] = OrderedDict()


def forget() -> None:
    """Drops the caches (tests; a recomputed history)."""
    _segments.clear()
    _places.clear()
    _baselines.clear()


def _network_key(session: Session, network_code: str) -> tuple[str, int, datetime] | None:
    net = session.execute(
        select(RoadNetwork.id, RoadNetwork.imported_at).where(RoadNetwork.code == network_code)
    ).first()
    return (network_code, net.id, net.imported_at) if net is not None else None


def segments(session: Session, network_code: str) -> dict[str, SegmentMeta]:
    """Road class and midpoint (the centre of its bounding box) of every segment, cached per import."""
    key = _network_key(session, network_code)
    if key is None:
        return {}
    if key not in _segments:
        rows = session.execute(
            select(
                RoadSegment.segment_id,
                RoadSegment.road_class,
                RoadSegment.min_lon,
                RoadSegment.max_lon,
                RoadSegment.min_lat,
                RoadSegment.max_lat,
            ).where(RoadSegment.network_id == key[1])
        )
        _segments[key] = {
            r.segment_id: SegmentMeta(r.road_class, (r.min_lon + r.max_lon) / 2, (r.min_lat + r.max_lat) / 2)
            for r in rows
        }
    return _segments[key]


def places(session: Session, network_code: str) -> dict[str, str]:
    """The region path each segment's midpoint lies in (only for rules limited to a place)."""
    key = _network_key(session, network_code)
    if key is None:
        return {}
    if key not in _places:
        out: dict[str, str] = {}
        for seg_id, meta in segments(session, network_code).items():
            region = locate(session, meta.lon, meta.lat)
            out[seg_id] = region.path if region is not None else ""
        _places[key] = out
    return _places[key]


Baseline = dict[str, tuple[float, int]]  # segment -> (mean speed, weeks)


def baselines(session: Session, network_code: str, bins: list[datetime]) -> dict[datetime, Baseline]:
    """Per bin, the mean speed of each segment at the same 5-minute slot of the week over the past
    ``MAX_WEEKS`` weeks, with the number of weeks that had a speed. One query for the bins not cached."""
    missing = [b for b in bins if (network_code, b) not in _baselines]
    if missing:
        back = {b - k * WEEK: b for b in missing for k in range(1, MAX_WEEKS + 1)}
        sums: dict[datetime, dict[str, list[float]]] = {b: {} for b in missing}
        rows = session.execute(
            select(SegmentState.segment_id, SegmentState.bin_start, SegmentState.speed_kmh).where(
                SegmentState.network_code == network_code,
                SegmentState.bin_start.in_(list(back)),
                SegmentState.speed_kmh.is_not(None),
            )
        )
        for seg_id, at, speed in rows:
            acc = sums[back[at]].setdefault(seg_id, [0.0, 0.0])
            acc[0] += float(speed or 0.0)
            acc[1] += 1
        for b in missing:
            _baselines[(network_code, b)] = {s: (v[0] / v[1], int(v[1])) for s, v in sums[b].items()}
            while len(_baselines) > _BASELINE_CACHE_SIZE:
                _baselines.popitem(last=False)
    return {b: _baselines[(network_code, b)] for b in bins}


# --- reading the window -------------------------------------------------------------------------------------------


def _lag(t: datetime, at: datetime) -> int:
    return int((t - at) / BIN)


def _segment_window(session: Session, network_code: str, t: datetime, span: int) -> dict[str, dict[int, Reading]]:
    """segment -> lag (0 = bin t, 1 = the bin before …) -> reading."""
    out: dict[str, dict[int, Reading]] = {}
    rows = session.execute(
        select(SegmentState.segment_id, SegmentState.bin_start, SegmentState.state, SegmentState.speed_kmh).where(
            SegmentState.network_code == network_code,
            SegmentState.bin_start > t - span * BIN,
            SegmentState.bin_start <= t,
        )
    )
    for seg_id, at, state, speed in rows:
        out.setdefault(seg_id, {})[_lag(t, at)] = Reading(state, speed)
    return out


def _corridor_window(session: Session, t: datetime, span: int) -> dict[str, dict[int, Reading]]:
    out: dict[str, dict[int, Reading]] = {}
    rows = session.execute(
        select(VitalSign.area_id, VitalSign.bin_start, VitalSign.tpi_band).where(
            VitalSign.level == "corridor", VitalSign.bin_start > t - span * BIN, VitalSign.bin_start <= t
        )
    )
    for area, at, band in rows:
        out.setdefault(area, {})[_lag(t, at)] = Reading(band, None)
    return out


@dataclass(frozen=True)
class Target:
    target_id: str
    name: str
    name_en: str | None
    road_class: str | None
    lon: float
    lat: float


def _holds(rule: TrafficAlertRule, reading: Reading | None, baseline: tuple[float, int] | None) -> bool:
    if reading is None:
        return False
    if rule.kind == "band":
        return reading.severity is not None and rule.min_band is not None and reading.severity >= rule.min_band
    if reading.speed is None or baseline is None or rule.ratio is None:
        return False
    mean, weeks = baseline
    return weeks >= (rule.min_weeks or 1) and reading.speed < rule.ratio * mean


# --- raising, continuing, clearing -------------------------------------------------------------------------------


def _raise(
    session: Session,
    rule: TrafficAlertRule,
    network_code: str,
    target: Target,
    t: datetime,
    now: Reading,
    baseline: float | None,
    *,
    publish: bool,
) -> TrafficAlert:
    severity = now.severity if now.severity is not None else 4
    region = locate(session, target.lon, target.lat)
    alert = TrafficAlert(
        alert_id=uuid.uuid4().hex,
        rule_id=rule.id,
        rule_kind=rule.kind,
        kind=rule.target,
        network_code=network_code,
        target_id=target.target_id,
        target_name=target.name[:200],
        target_name_en=target.name_en[:200] if target.name_en else None,
        road_class=target.road_class,
        severity=severity,
        max_severity=severity,
        speed_kmh=now.speed,
        baseline_kmh=baseline,
        lon=target.lon,
        lat=target.lat,
        region_path=region.path if region is not None else "/",
        started_at=t - (rule.duration_min // 5 - 1) * BIN,
        last_seen_at=t + BIN,
        status="open",
    )
    session.add(alert)
    session.flush()
    msg = guidance.congestion(session, alert, at=t + BIN)
    if publish:
        bus.publish(
            session,
            TrafficAlertRaised(
                alert_id=alert.alert_id,
                kind=alert.kind,
                target_id=alert.target_id,
                target_name=alert.target_name,
                rule=alert.rule_kind,
                severity=alert.severity,
                speed_kmh=alert.speed_kmh,
                baseline_kmh=alert.baseline_kmh,
                lon=alert.lon,
                lat=alert.lat,
                started_at=alert.started_at.isoformat(),
            ),
        )
        bus.publish(session, guidance.event(msg))
    return alert


def _continue(session: Session, alert: TrafficAlert, t: datetime, now: Reading, baseline: float | None) -> None:
    if now.severity is not None:
        alert.severity = now.severity
        alert.max_severity = max(alert.max_severity, now.severity)
    alert.speed_kmh = now.speed
    if baseline is not None:
        alert.baseline_kmh = baseline
    alert.last_seen_at = max(alert.last_seen_at, t + BIN)
    session.flush()
    guidance.refresh(session, alert, at=t + BIN)


def clear(session: Session, alert: TrafficAlert, *, at: datetime, by: str | None = None, publish: bool = True) -> None:
    """Ends the alert (the rule's hysteresis, or an operator with ``by``): cleared guidance."""
    alert.status = "cleared"
    alert.cleared_at = at
    alert.closed_by = by[:128] if by else None
    session.flush()
    msg = guidance.cleared(session, alert, at=at)
    if publish:
        bus.publish(session, TrafficAlertCleared(alert_id=alert.alert_id, cleared_at=at.isoformat()))
        bus.publish(session, guidance.event(msg))


def _segment_targets(session: Session, network_code: str, rule: TrafficAlertRule, ids: set[str]) -> dict[str, Target]:
    meta = segments(session, network_code)
    where = places(session, network_code) if rule.region_path else {}
    out: dict[str, Target] = {}
    for seg_id in ids:
        m = meta.get(seg_id)
        if m is None or (rule.road_classes and m.road_class not in rule.road_classes):
            continue
        if rule.region_path and not where.get(seg_id, "").startswith(rule.region_path):
            continue
        out[seg_id] = Target(seg_id, seg_id, None, m.road_class, m.lon, m.lat)
    return out


def _corridor_targets(session: Session, network_code: str) -> dict[str, Target]:
    meta = segments(session, network_code)
    out: dict[str, Target] = {}
    for c in session.scalars(
        select(TrafficCorridor).where(TrafficCorridor.network_code == network_code, TrafficCorridor.active.is_(True))
    ):
        ids = [s for s in (c.segment_ids or []) if s in meta]
        if not ids:
            continue
        mid = meta[ids[len(ids) // 2]]
        out[c.code] = Target(c.code, c.name, c.name_en, None, mid.lon, mid.lat)
    return out


def evaluate(session: Session, *, network_code: str, bin_start: datetime, publish: bool = True) -> Report:
    """Evaluates every active rule for the bin starting at ``bin_start`` (idempotent per bin)."""
    report = Report(network_code, bin_start)
    cursor = session.get(AlertCursor, network_code)
    if cursor is not None and cursor.last_bin_start >= bin_start:
        report.skipped = True
        return report
    t = bin_start
    rules = list(session.scalars(select(TrafficAlertRule).where(TrafficAlertRule.active.is_(True))))
    if rules:
        _evaluate_rules(session, network_code, t, rules, report, publish=publish)
    if cursor is None:
        session.add(AlertCursor(network_code=network_code, last_bin_start=t))
    else:
        cursor.last_bin_start = t
    session.flush()
    return report


def _evaluate_rules(
    session: Session,
    network_code: str,
    t: datetime,
    rules: list[TrafficAlertRule],
    report: Report,
    *,
    publish: bool,
) -> None:
    span = max(max(r.duration_min, r.clear_min) // 5 for r in rules)
    seg_rules = [r for r in rules if r.target == "segment"]
    cor_rules = [r for r in rules if r.target == "corridor"]
    seg_window = _segment_window(session, network_code, t, span) if seg_rules else {}
    cor_window = _corridor_window(session, t, span) if cor_rules else {}
    base_rules = [r for r in seg_rules if r.kind == "baseline"]
    base_span = max((max(r.duration_min, r.clear_min) // 5 for r in base_rules), default=0)
    base = baselines(session, network_code, [t - k * BIN for k in range(base_span)]) if base_span else {}
    corridors = _corridor_targets(session, network_code) if cor_rules else {}

    open_alerts: dict[tuple[int, str], TrafficAlert] = {}
    for a in session.scalars(
        select(TrafficAlert).where(
            TrafficAlert.rule_id.in_([r.id for r in rules]),
            TrafficAlert.network_code == network_code,
            TrafficAlert.status.in_(OPEN_STATUSES),
        )
    ):
        assert a.rule_id is not None
        open_alerts[(a.rule_id, a.target_id)] = a
    last_cleared: dict[tuple[int, str], datetime] = {
        (rid, tid): at
        for rid, tid, at in session.execute(
            select(TrafficAlert.rule_id, TrafficAlert.target_id, func.max(TrafficAlert.cleared_at))
            .where(
                TrafficAlert.rule_id.in_([r.id for r in rules]),
                TrafficAlert.network_code == network_code,
                TrafficAlert.cleared_at > t - span * BIN,
            )
            .group_by(TrafficAlert.rule_id, TrafficAlert.target_id)
        )
        if rid is not None and at is not None
    }

    for rule in rules:
        window = seg_window if rule.target == "segment" else cor_window
        raise_n, clear_n = rule.duration_min // 5, rule.clear_min // 5
        if rule.target == "segment":
            ids = set(window) | {tid for (rid, tid) in open_alerts if rid == rule.id}
            targets = _segment_targets(session, network_code, rule, ids)
        else:
            targets = corridors

        def holds(target_id: str, lag: int, rule: TrafficAlertRule = rule, window: dict = window) -> bool:  # type: ignore[type-arg]
            reading = window.get(target_id, {}).get(lag)
            b = base.get(t - lag * BIN, {}).get(target_id) if rule.kind == "baseline" else None
            return _holds(rule, reading, b)

        for target_id, target in targets.items():
            now = window.get(target_id, {}).get(0) or Reading(None, None)
            b0 = base.get(t, {}).get(target_id) if rule.kind == "baseline" else None
            baseline_now = b0[0] if b0 else None
            alert = open_alerts.get((rule.id, target_id))
            if alert is not None:
                if holds(target_id, 0):
                    _continue(session, alert, t, now, baseline_now)
                    report.continued.append(alert.alert_id)
                elif not any(holds(target_id, k) for k in range(clear_n)):
                    clear(session, alert, at=t + BIN, publish=publish)
                    report.cleared.append(alert.alert_id)
                continue
            if not all(holds(target_id, k) for k in range(raise_n)):
                continue
            since = last_cleared.get((rule.id, target_id))
            if since is not None and since > t - (raise_n - 1) * BIN:
                continue  # cleared (or closed) within the window: the congestion must last again
            new = _raise(session, rule, network_code, target, t, now, baseline_now, publish=publish)
            report.raised.append(new.alert_id)


def pending_bins(session: Session, *, since: datetime) -> dict[str, list[datetime]]:
    """Per network, the stored bins after ``since`` that the rules have not been evaluated for
    (after the cursor), in order: what a catch-up (the demo's day, a lost event) evaluates."""
    codes = set(session.scalars(select(SegmentState.network_code).where(SegmentState.bin_start > since).distinct()))
    out: dict[str, list[datetime]] = {}
    for code in sorted(codes):
        cursor = session.get(AlertCursor, code)
        start = max(since, cursor.last_bin_start) if cursor is not None else since
        bins = session.scalars(
            select(SegmentState.bin_start)
            .where(SegmentState.network_code == code, SegmentState.bin_start > start)
            .distinct()
        )
        out[code] = sorted(set(bins))
    return out
