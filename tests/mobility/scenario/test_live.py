"""The demo city's live feed: hour runs of the generator (deterministic, peaks by the city's
clock), windows that add up, and the per-minute tick with its cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.mobility.ingest.models import NavSpeed, ProbePoint, TrafficObservation
from cityos.mobility.network.schema import grid_network
from cityos.mobility.network.service import save_segments
from cityos.mobility.scenario import live, tasks

SEGMENTS = grid_network(4, 4, 250.0)
TRAFFIC = live.DemoTraffic(daily_vehicles=1500, probe_interval_s=30, seed=5)
PEAK = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai
NIGHT = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # 03:00


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_hour_frames_are_deterministic_and_follow_the_peaks() -> None:
    live._cache.clear()
    peak = live.hour_frames(SEGMENTS, PEAK, TRAFFIC)
    live._cache.clear()
    again = live.hour_frames(SEGMENTS, PEAK + timedelta(minutes=17), TRAFFIC)  # same clock hour
    assert peak["probe"].equals(again["probe"])
    night = live.hour_frames(SEGMENTS, NIGHT, TRAFFIC)
    assert peak["probe"].height > 2 * night["probe"].height
    assert peak["probe"]["speed_kmh"].mean() < night["probe"]["speed_kmh"].mean()  # type: ignore[operator]
    for frame in peak.values():
        assert frame["avail"].min() >= PEAK  # type: ignore[operator]
        assert frame["avail"].max() < PEAK + timedelta(hours=1)  # type: ignore[operator]
    # every loop detector reports all twelve intervals that end in the hour
    loops = peak["loop"]
    assert loops.group_by("detector_id").len()["len"].unique().to_list() == [12]
    assert set(peak["nav"]["provider"].unique()) == {live.LIVE_PROVIDER}
    assert peak["probe"]["vehicle_id"].str.starts_with("d").all()
    assert live.hour_vehicles(PEAK, TRAFFIC, 8.0) > live.hour_vehicles(NIGHT, TRAFFIC, 8.0)


def test_windows_add_up() -> None:
    a, b, c = PEAK, PEAK + timedelta(minutes=37), PEAK + timedelta(minutes=95)
    whole = live.window_records(SEGMENTS, a, c, TRAFFIC)
    first = live.window_records(SEGMENTS, a, b, TRAFFIC)
    second = live.window_records(SEGMENTS, b, c, TRAFFIC)
    for source in ("probe", "loop", "nav"):
        assert whole[source] == first[source] + second[source]
    assert whole["probe"]
    assert whole["loop"]


def _demo_network(session: Session) -> None:
    save_segments(session, live.DEMO_NETWORK, SEGMENTS, source=live.DEMO_SOURCE)


def test_tick_is_off_without_the_demo_network(session: Session) -> None:
    assert live.tick(session) is None
    save_segments(session, live.DEMO_NETWORK, SEGMENTS)  # the code alone is not enough: source grid
    assert live.tick(session) is None
    assert _count(session, ProbePoint) == 0


def test_tick_feeds_the_last_minutes_once(session: Session) -> None:
    live._cursor.clear()
    _demo_network(session)
    now = datetime.now(UTC).replace(second=10, microsecond=0) - timedelta(minutes=3)
    first = live.tick(session, now=now, traffic=TRAFFIC)
    assert first is not None
    assert first.start == now - live.MAX_CATCH_UP  # nothing stored yet: the last hour
    assert first.accepted > 0
    assert first.quarantined <= sum(first.sent.values()) * 0.05
    probes, loops = _count(session, ProbePoint), _count(session, TrafficObservation)
    assert loops > 0
    session.commit()  # the job's commit moves the cursor
    assert live.tick(session, now=now, traffic=TRAFFIC) is None
    later = live.tick(session, now=now + timedelta(minutes=2), traffic=TRAFFIC)
    assert later is not None
    assert later.start == now
    assert later.duplicates == 0
    assert _count(session, ProbePoint) > probes


def test_a_rolled_back_tick_is_sent_again(session: Session) -> None:
    live._cursor.clear()
    _demo_network(session)
    session.commit()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    assert live.tick(session, now=now - timedelta(minutes=5), traffic=TRAFFIC) is not None
    session.commit()
    nested = session.begin_nested()
    r = live.tick(session, now=now, traffic=TRAFFIC)
    assert r is not None
    nested.rollback()
    # not committed: the cursor stayed; the next tick starts where the last committed one ended
    again = live.tick(session, now=now, traffic=TRAFFIC)
    assert again is not None
    assert again.start == now - timedelta(minutes=5)


def test_restart_resumes_from_the_stored_navigation_feed(session: Session) -> None:
    live._cursor.clear()
    _demo_network(session)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    assert live.tick(session, now=now - timedelta(minutes=20), traffic=TRAFFIC) is not None
    last_nav = session.scalar(select(func.max(NavSpeed.ts)).where(NavSpeed.provider == live.LIVE_PROVIDER))
    assert last_nav is not None
    live._cursor.clear()  # a new process
    resumed = live.resume_point(session)
    assert resumed is not None
    assert resumed == last_nav.replace(tzinfo=UTC) + timedelta(minutes=5)
    r = live.tick(session, now=now, traffic=TRAFFIC)
    assert r is not None
    assert r.start == resumed


def test_periodic_runs_the_tick(session: Session) -> None:
    live._cursor.clear()
    _demo_network(session)
    tasks.periodic(session)
    assert _count(session, ProbePoint) > 0
    # another network imported later is the active one: the demo feed stops
    save_segments(session, "other", grid_network(2, 2, 100.0, centre_lon=100.0, centre_lat=20.0))
    live._cursor.clear()
    n = _count(session, ProbePoint)
    tasks.periodic(session)
    assert _count(session, ProbePoint) == n


@pytest.mark.parametrize("hour", [PEAK, NIGHT])
def test_hour_records_pass_validation(session: Session, hour: datetime) -> None:
    _demo_network(session)
    report = live.feed(session, SEGMENTS, start=hour, end=hour + timedelta(minutes=30), traffic=TRAFFIC)
    total = sum(report.sent.values())
    assert report.accepted + report.duplicates + report.quarantined == total
    assert report.quarantined <= total * 0.05  # only GPS fixes that the noise put off the grid
    assert report.accepted > 0
