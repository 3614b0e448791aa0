"""compute_bins: finished bins once and in order, late records, the cursor across a restart,
districts and corridors, values against a hand-computed case, incidents, the event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.core.models import OutboxEvent
from cityos.mobility.monitor import service
from cityos.mobility.monitor.corridors import create_corridor
from cityos.mobility.monitor.models import MonitorCursor, SegmentState, VitalSign
from cityos.mobility.monitor.schemas import CorridorCreate
from tests.mobility.monitor.conftest import T0, TrafficWorld

ART = "n0_0-n0_1"  # an expressway on the south border line


def _states(session: Session) -> list[SegmentState]:
    return list(session.scalars(select(SegmentState).order_by(SegmentState.bin_start, SegmentState.segment_id)))


def test_a_bin_is_computed_two_minutes_after_its_end_once_and_in_order(session: Session, tw: TrafficWorld) -> None:
    tw.probes(session, ART, T0 + timedelta(minutes=1), [60.0, 62.0])
    tw.probes(session, ART, T0 + timedelta(minutes=6), [30.0])
    # 00:06:59: bin 00:00 ends at 00:05, finished at 00:07 — not yet.
    first = service.compute_bins(session, until=T0 + timedelta(minutes=6, seconds=59), network_code="t", max_bins=1)
    assert first == [T0 - timedelta(minutes=5)]
    done = service.compute_bins(session, until=T0 + timedelta(minutes=7), network_code="t")
    assert done == [T0]
    again = service.compute_bins(session, until=T0 + timedelta(minutes=7, seconds=30), network_code="t")
    assert again == []
    later = service.compute_bins(session, until=T0 + timedelta(minutes=21), network_code="t")
    assert later == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]
    rows = _states(session)
    assert [(r.bin_start, r.speed_kmh) for r in rows] == [(T0, pytest.approx(61.0)), (T0 + timedelta(minutes=5), 30.0)]
    assert rows[0].state == 2
    assert rows[0].probe_n == 2
    cursor = session.scalar(select(MonitorCursor))
    assert cursor is not None
    assert cursor.last_bin_start == T0 + timedelta(minutes=10)


EXP = "n0_0-n0_1"  # expressway, district A (west of 104.1)
ARTERIAL = "n4_3-n4_4"  # arterial, district B (east of 104.1)


def _vital(session: Session, level: str, area: str) -> VitalSign:
    row = session.scalar(select(VitalSign).where(VitalSign.level == level, VitalSign.area_id == area))
    assert row is not None, (level, area)
    return row


def test_vital_signs_match_a_hand_computed_case(session: Session, tw: TrafficWorld) -> None:
    tw.loop(session, EXP, T0, count=100, speed=40.0)
    tw.probes(session, ARTERIAL, T0 + timedelta(minutes=2), [10.0, 10.0])
    create_corridor(
        session, tw.operator, data=CorridorCreate(code="c1", name="一号通道", segment_ids=[EXP, "n0_1-n0_2"])
    )
    seg = {r["segment_id"]: r for r in tw.segments.iter_rows(named=True)}
    lon, lat = sum(seg[EXP]["lons"]) / 2, sum(seg[EXP]["lats"]) / 2 + 0.0002  # 20 m off the expressway
    case, _ = cases.machine_report(
        session, source="test", external_ref="crash-1", category_code="event.09.02", title="追尾", lon=lon, lat=lat
    )
    case.created_at = T0 + timedelta(minutes=3)
    session.flush()
    report = service.compute_bins_report(session, until=T0 + timedelta(minutes=7), network_code="t", max_bins=1)
    assert report.bins == [T0]
    le, la = seg[EXP]["length_m"] / 1000, seg[ARTERIAL]["length_m"] / 1000
    we, wa = 100.0, seg[ARTERIAL]["lanes"] * 50.0  # a loop's count, else 50 vehicles a lane
    city = _vital(session, "city", "city")
    assert city.segments == 2
    assert city.vehicles == 100
    assert city.vkt_km == pytest.approx(100 * le)
    tti = (we * le / 40 + wa * la / 10) / (we * le / 80 + wa * la / 60)
    assert city.tti == pytest.approx(tti)
    assert city.congested_ratio == pytest.approx(wa * la / (we * le + wa * la))
    assert (city.tpi, city.tpi_band, city.tpi_band_name) == (10.0, 5, "严重拥堵")
    assert city.arterial_speed_kmh == pytest.approx(10.0)
    assert city.expressway_speed_kmh == pytest.approx(40.0)
    assert city.incidents == 1
    assert city.safety_index == pytest.approx(1 / (100 * le / 1e6))
    west = _vital(session, "district", tw.w.district_a.code)
    assert west.segments == 1
    assert west.tti == pytest.approx(2.0)
    assert west.tpi == 0
    assert west.incidents == 1
    east = _vital(session, "district", tw.w.district_b.code)
    assert east.segments == 1
    assert east.tti == pytest.approx(6.0)
    assert east.incidents == 0
    corridor = _vital(session, "corridor", "c1")
    assert corridor.segments == 1
    assert corridor.expressway_speed_kmh == pytest.approx(40.0)
    assert corridor.incidents == 1
    assert {r.segment_id: r.state for r in _states(session)} == {EXP: 3, ARTERIAL: 5}


def test_late_records_count_until_the_bin_is_finished_and_a_recompute_takes_the_rest(
    session: Session, tw: TrafficWorld
) -> None:
    tw.probes(session, EXP, T0 + timedelta(minutes=4), [70.0])
    # Received at 00:06, two minutes late for an interval that ended 00:05: still in time.
    tw.probes(session, EXP, T0 + timedelta(minutes=4, seconds=50), [50.0])
    assert service.compute_bins(session, until=T0 + timedelta(minutes=7), network_code="t", max_bins=1) == [T0]
    assert _states(session)[0].speed_kmh == pytest.approx(60.0)
    tw.probes(session, EXP, T0 + timedelta(minutes=4, seconds=55), [30.0])  # too late for the live run
    assert service.compute_bins(session, until=T0 + timedelta(minutes=8), network_code="t") == []
    assert _states(session)[0].speed_kmh == pytest.approx(60.0)
    report = service.compute_window(session, since=T0, until=T0 + timedelta(minutes=5), network_code="t")
    assert report.bins == [T0]
    rows = _states(session)
    assert len(rows) == 1
    assert rows[0].speed_kmh == pytest.approx(50.0)
    assert session.scalar(select(MonitorCursor.last_bin_start)) == T0


def test_a_restart_continues_from_the_cursor(session: Session, tw: TrafficWorld) -> None:
    service.compute_bins(session, until=T0 + timedelta(minutes=7), network_code="t", max_bins=1)
    # The server was down for an hour: it catches up in order, 12 bins a run, skipping none.
    first = service.compute_bins(session, until=T0 + timedelta(hours=1, minutes=12), network_code="t")
    second = service.compute_bins(session, until=T0 + timedelta(hours=1, minutes=12), network_code="t")
    assert first == [T0 + timedelta(minutes=5 * k) for k in range(1, 13)]
    assert second == [T0 + timedelta(minutes=65)]
    assert service.status(session, now=T0 + timedelta(hours=1, minutes=12), network_code="t").behind_bins == 0


def test_each_bin_publishes_its_event_and_bad_rows_are_reported(session: Session, tw: TrafficWorld) -> None:
    tw.probes(session, EXP, T0 + timedelta(minutes=1), [50.0, 300.0])  # 300 km/h: quarantined by the kernel
    report = service.compute_bins_report(session, until=T0 + timedelta(minutes=12), network_code="t", max_bins=2)
    assert report.quarantined == {"speed out of range": 1}
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "mobility.states_computed")).all()
    assert sorted((e.payload["bin_start"], e.payload["segments"]) for e in events) == [
        (T0.isoformat(), 1),
        ((T0 + timedelta(minutes=5)).isoformat(), 0),
    ]
    assert session.scalar(select(func.count()).select_from(SegmentState)) == 1


def test_no_network_means_nothing_to_compute(session: Session) -> None:
    assert service.compute_bins(session, until=T0, network_code="missing") == []


def test_the_per_minute_job_computes_the_active_networks_last_hour(session: Session, tw: TrafficWorld) -> None:
    from cityos.core.db import utcnow
    from cityos.mobility.monitor import tasks

    before = service.last_finished_bin(utcnow())
    tasks.periodic(session)
    after = service.last_finished_bin(utcnow())
    cursor = session.scalar(select(MonitorCursor))
    assert cursor is not None
    assert cursor.network_code == "t"
    assert cursor.last_bin_start in {before, after}  # a bin may finish while it runs
    assert cursor.stats["bins"] == 12


def test_a_failing_nightly_refit_does_not_undo_the_minutes_bins(
    session: Session, tw: TrafficWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityos.mobility.monitor import forecasts, tasks

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the model could not be fitted")

    monkeypatch.setattr(forecasts, "refit_nightly", broken)
    tasks.periodic(session)  # logs the failure, raises nothing
    cursor = session.scalar(select(MonitorCursor))
    assert cursor is not None
    assert cursor.stats["bins"] == 12
