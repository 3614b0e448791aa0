"""Forecasts after each bin: stored per horizon, the historical-average and last-value fallbacks,
the learned model once trained, and the error of past forecasts."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.mobility.forecast.model import ModelParams
from cityos.mobility.monitor import forecasts, service
from cityos.mobility.monitor.models import SegmentState, TrafficForecast
from cityos.mobility.network import service as network
from tests.mobility.monitor.conftest import T0, TrafficWorld

SEGS = ["n0_0-n0_1", "n0_1-n0_2", "n0_1-n0_0"]


def _wave(minutes: float) -> float:
    return 60 + 20 * math.sin(2 * math.pi * minutes / 1440)


def _history(session: Session, days: float) -> None:
    """States of three expressway segments every 5 minutes: a daily wave, 40..80 km/h."""
    steps = int(days * 288)
    rows = []
    for k in range(steps):
        minutes = -5 * (steps - k)
        ts = T0 + timedelta(minutes=minutes)
        v = _wave(minutes)
        base = {"network_code": "t", "bin_start": ts, "sources": 1, "disagree": False, "probe_n": 1.0}
        rows += [{**base, "segment_id": s, "speed_kmh": v + i, "loop_n": 0.0, "nav_n": 0.0} for i, s in enumerate(SEGS)]
    session.execute(insert(SegmentState), rows)


def _issued(session: Session, at: object) -> list[TrafficForecast]:
    q = select(TrafficForecast).where(TrafficForecast.issued_at == at)
    return list(session.scalars(q.order_by(TrafficForecast.segment_id, TrafficForecast.horizon_min)))


def test_without_history_the_last_value_is_the_forecast(session: Session, tw: TrafficWorld) -> None:
    tw.probes(session, SEGS[0], T0 + timedelta(minutes=1), [55.0])
    service.compute_bins(session, until=T0 + timedelta(minutes=7), network_code="t", max_bins=1)
    rows = _issued(session, T0)
    assert [(r.horizon_min, r.speed_kmh, r.model) for r in rows] == [
        (15, 55.0, "last_value"),
        (30, 55.0, "last_value"),
        (60, 55.0, "last_value"),
    ]
    assert [r.target_at for r in rows] == [T0 + timedelta(minutes=m) for m in (15, 30, 60)]
    assert rows[0].state == 2  # 55 km/h on an expressway: 基本畅通


def test_with_a_day_of_history_the_profile_forecasts_and_errors_are_measured(
    session: Session, tw: TrafficWorld
) -> None:
    _history(session, 1.5)
    tw.probes(session, SEGS[0], T0 + timedelta(minutes=1), [61.0])
    service.compute_bins(session, until=T0 + timedelta(minutes=7), network_code="t", max_bins=1)
    rows = [r for r in _issued(session, T0) if r.segment_id == SEGS[0]]
    assert {r.model for r in rows} == {"historical_average"}
    # The profile at 00:15 is the mean of the history's 00:15 values: the one a day back.
    day_ago = _wave(15)
    assert rows[0].speed_kmh == pytest.approx(day_ago)
    # A segment with no state in the bin still has its usual profile; one never seen has nothing.
    assert {r.segment_id for r in _issued(session, T0)} == set(SEGS)
    tw.probes(session, SEGS[0], T0 + timedelta(minutes=16), [40.0])
    service.compute_bins(session, until=T0 + timedelta(minutes=22), network_code="t")
    mae = forecasts.errors(session, network_code="t", segment_id=SEGS[0], since=T0)
    assert mae[15] == (pytest.approx(abs(day_ago - 40.0)), 1)
    assert mae[60] == (None, 0)


def test_the_learned_model_is_trained_saved_and_used(session: Session, tw: TrafficWorld) -> None:
    net = network.get_network(session, "t")
    with pytest.raises(Invalid):
        forecasts.train(session, net=net, segments=tw.segments, until=T0)  # no history yet
    _history(session, 2.0)
    report = forecasts.train(
        session, net=net, segments=tw.segments, until=T0, params=ModelParams(max_iter=20, threads=1)
    )
    assert report.path.exists()
    assert report.rows[15] > 1000
    tw.probes(session, SEGS[0], T0 + timedelta(minutes=1), [60.0])
    service.compute_bins(session, until=T0 + timedelta(minutes=7), network_code="t", max_bins=1)
    rows = [r for r in _issued(session, T0) if r.segment_id == SEGS[0]]
    assert {r.model for r in rows} == {"learned"}
    assert all(30 < r.speed_kmh < 90 for r in rows)


FAST = ModelParams(max_iter=10, threads=1)


def test_the_learned_model_is_refitted_once_a_night(
    session: Session, tw: TrafficWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    forecasts.model_path("t").unlink(missing_ok=True)
    forecasts._refit_tried.clear()
    _history(session, 2.0)
    clock = {"now": T0}
    monkeypatch.setattr(forecasts, "utcnow", lambda: clock["now"])  # the model's trained_at
    night = T0 - timedelta(hours=5, minutes=30)  # 02:30 in the city: not yet
    assert forecasts.refit_nightly(session, now=night, params=FAST) is None
    assert forecasts.load_model("t") is None
    report = forecasts.refit_nightly(session, now=T0, params=FAST)  # 08:00: today's refit is due
    assert report is not None
    saved = forecasts.load_model("t")
    assert saved is not None
    assert saved.trained_at == T0
    assert forecasts.refit_nightly(session, now=T0 + timedelta(hours=2), params=FAST) is None  # once a day
    forecasts._refit_tried.clear()  # another process: the model saved today is recent enough
    assert forecasts.refit_nightly(session, now=T0 + timedelta(hours=2), params=FAST) is None
    next_night = T0 + timedelta(hours=19, minutes=30)  # 03:30 the next day in the city
    clock["now"] = next_night
    assert forecasts.refit_nightly(session, now=next_night, params=FAST) is not None
    refitted = forecasts.load_model("t")
    assert refitted is not None
    assert refitted.trained_at == next_night


def test_a_nightly_refit_without_a_day_of_history_leaves_the_fallbacks(session: Session, tw: TrafficWorld) -> None:
    forecasts.model_path("t").unlink(missing_ok=True)
    forecasts._refit_tried.clear()
    _history(session, 0.5)
    assert forecasts.refit_nightly(session, now=T0, params=FAST) is None
    assert forecasts.load_model("t") is None
