"""The rules over the monitor's bins: each kind raises after its duration and not before, clears
with hysteresis, and a bin evaluated twice raises nothing new."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.models import OutboxEvent
from cityos.mobility.alerts import evaluate, service
from cityos.mobility.alerts.models import GuidanceMessage, TrafficAlert, TrafficAlertRule
from tests.mobility.alerts.fixtures import (
    BRANCH,
    EXPRESSWAY,
    NETWORK,
    AlertWorld,
    add_corridor,
    at,
    put_band,
    put_state,
)


def _run(session: Session, k: int) -> evaluate.Report:
    return evaluate.evaluate(session, network_code=NETWORK, bin_start=at(k))


def _alerts(session: Session) -> list[TrafficAlert]:
    return list(session.scalars(select(TrafficAlert).order_by(TrafficAlert.id)))


def _topics(session: Session) -> list[str]:
    return [t for t in session.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.id)) if t.startswith("mobility.")]


def test_shipped_rules_are_installed_once(session: Session, aw: AlertWorld) -> None:
    assert service.install_rules(session) == 0
    codes = {r.code: r for r in session.scalars(select(TrafficAlertRule))}
    assert set(codes) == {"segment-band", "corridor-band", "segment-baseline"}
    band = codes["segment-band"]
    assert (band.min_band, band.duration_min, band.road_classes) == (4, 10, ["expressway", "arterial"])
    assert (codes["segment-baseline"].ratio, codes["segment-baseline"].duration_min) == (0.5, 15)


def test_band_rule_raises_after_its_duration_and_clears_with_hysteresis(session: Session, aw: AlertWorld) -> None:
    put_state(session, EXPRESSWAY, 0, state=4)
    put_state(session, BRANCH, 0, state=5)  # a branch road: not watched by the shipped rule
    assert _run(session, 0).raised == []  # 5 minutes of congestion: not yet
    put_state(session, EXPRESSWAY, 1, state=5)
    put_state(session, BRANCH, 1, state=5)
    report = _run(session, 1)
    assert len(report.raised) == 1
    (alert,) = _alerts(session)
    assert (alert.target_id, alert.kind, alert.rule_kind, alert.status) == (EXPRESSWAY, "segment", "band", "open")
    assert (alert.severity, alert.speed_kmh, alert.road_class) == (5, 15.0, "expressway")
    assert alert.started_at == at(0)
    assert 104.0 < alert.lon < 104.1
    assert _topics(session) == ["mobility.alert_raised", "mobility.guidance"]
    (msg,) = session.scalars(select(GuidanceMessage))
    assert msg.kind == "congestion"
    assert "严重拥堵" in msg.text_zh
    assert "severe" in msg.text_en
    assert "15 km/h" in msg.text_en
    put_state(session, EXPRESSWAY, 2, state=4)
    assert _run(session, 2).continued == [alert.alert_id]
    assert (alert.severity, alert.max_severity, alert.last_seen_at) == (4, 5, at(3))
    put_state(session, EXPRESSWAY, 3, state=2)
    assert _run(session, 3).cleared == []  # 5 minutes below: still open (hysteresis of 10)
    put_state(session, EXPRESSWAY, 4, state=1)
    assert _run(session, 4).cleared == [alert.alert_id]
    assert (alert.status, alert.cleared_at) == ("cleared", at(5))
    assert _topics(session)[-2:] == ["mobility.alert_cleared", "mobility.guidance"]
    messages = session.scalars(select(GuidanceMessage).order_by(GuidanceMessage.id))
    kinds = [(m.kind, m.expires_at <= at(5)) for m in messages]
    assert kinds == [("congestion", True), ("cleared", False)]
    # A new jam needs its full duration again.
    put_state(session, EXPRESSWAY, 5, state=4)
    assert _run(session, 5).raised == []
    put_state(session, EXPRESSWAY, 6, state=4)
    assert len(_run(session, 6).raised) == 1
    assert len(_alerts(session)) == 2


def test_a_repeated_or_older_bin_raises_nothing_new(session: Session, aw: AlertWorld) -> None:
    for k in (0, 1):
        put_state(session, EXPRESSWAY, k, state=5)
    _run(session, 0)
    _run(session, 1)
    outbox = len(_topics(session))
    again = _run(session, 1)
    assert again.skipped
    assert _run(session, 0).skipped
    assert len(_alerts(session)) == 1
    assert len(_topics(session)) == outbox


def test_a_missing_bin_does_not_hold(session: Session, aw: AlertWorld) -> None:
    put_state(session, EXPRESSWAY, 0, state=5)
    put_state(session, EXPRESSWAY, 2, state=5)  # bin 1 has no data
    _run(session, 0)
    _run(session, 1)
    assert _run(session, 2).raised == []


def test_baseline_rule_needs_history_and_its_duration(session: Session, aw: AlertWorld) -> None:
    for rule in session.scalars(select(TrafficAlertRule).where(TrafficAlertRule.code != "segment-baseline")):
        rule.active = False
    weeks_back = 7 * 24 * 12  # bins in a week
    for week in (1, 2):
        for k in range(3):
            put_state(session, BRANCH, k - week * weeks_back, state=1, speed=40.0)
            put_state(session, EXPRESSWAY, k - week * weeks_back, state=1, speed=80.0)
    put_state(session, EXPRESSWAY, -weeks_back + 5, state=1, speed=80.0)
    for k in range(3):
        put_state(session, BRANCH, k, state=2, speed=15.0)  # below half of 40: its state alone says little
        put_state(session, EXPRESSWAY, k, state=2, speed=45.0)  # above half of 80
    assert _run(session, 0).raised == []
    assert _run(session, 1).raised == []
    report = _run(session, 2)
    assert len(report.raised) == 1
    (alert,) = _alerts(session)
    assert (alert.target_id, alert.rule_kind, alert.baseline_kmh, alert.speed_kmh) == (BRANCH, "baseline", 40.0, 15.0)
    assert alert.started_at == at(0)


def test_baseline_rule_with_too_few_weeks_stays_quiet(session: Session, aw: AlertWorld) -> None:
    weeks_back = 7 * 24 * 12
    for k in range(3):
        put_state(session, BRANCH, k - weeks_back, state=1, speed=40.0)  # one week only
        put_state(session, BRANCH, k, state=2, speed=10.0)
    for k in range(3):
        assert _run(session, k).raised == []


def test_corridor_band_rule(session: Session, aw: AlertWorld) -> None:
    add_corridor(session)
    put_band(session, "ring-east", 0, 4)
    put_band(session, "ring-east", 1, 4)
    put_band(session, "unknown", 0, 5)
    put_band(session, "unknown", 1, 5)  # not a corridor of this network
    _run(session, 0)
    report = _run(session, 1)
    assert len(report.raised) == 1
    (alert,) = _alerts(session)
    assert (alert.kind, alert.target_id, alert.target_name, alert.severity) == ("corridor", "ring-east", "东二环", 4)
    msg = session.scalars(select(GuidanceMessage)).one()
    assert msg.text_en.startswith("East 2nd Ring")
    put_band(session, "ring-east", 2, 3)
    put_band(session, "ring-east", 3, 2)
    _run(session, 2)
    assert _run(session, 3).cleared == [alert.alert_id]


def test_turning_a_rule_off_clears_its_alerts(session: Session, aw: AlertWorld) -> None:
    for k in (0, 1):
        put_state(session, EXPRESSWAY, k, state=5)
        _run(session, k)
    (alert,) = _alerts(session)
    rule = session.scalars(select(TrafficAlertRule).where(TrafficAlertRule.code == "segment-band")).one()
    service.update_rule(session, aw.operator, rule_id=rule.id, active=False)
    assert alert.status == "cleared"
    assert alert.closed_by


def test_deleting_a_rule_keeps_its_alerts_cleared(session: Session, aw: AlertWorld) -> None:
    for k in (0, 1):
        put_state(session, EXPRESSWAY, k, state=5)
        _run(session, k)
    (alert,) = _alerts(session)
    rule = session.scalars(select(TrafficAlertRule).where(TrafficAlertRule.code == "segment-band")).one()
    service.delete_rule(session, aw.operator, rule_id=rule.id)
    session.expire_all()
    (kept,) = _alerts(session)
    assert (kept.alert_id, kept.status, kept.rule_id) == (alert.alert_id, "cleared", None)
    assert service.install_rules(session) == 1  # the shipped rule comes back on the next upgrade
