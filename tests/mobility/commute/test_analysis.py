"""OD matrices (district and H3 level, AM/PM peaks in local time), the average commute per home
district beside the reference, data scope, and refused arguments."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy.orm import Session

from cityos.core.errors import Forbidden, Invalid
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account
from cityos.mobility.commute import analysis, config, service
from cityos.mobility.commute.derive import TRIP_COLUMNS
from cityos.places.models import Region
from tests.factories import make_account
from tests.mobility.commute.conftest import AM, NOON, OUT, PM, A, B, CommuteWorld, trip

DAY = date(2026, 12, 2)


def seed(session: Session) -> None:
    rows = [
        trip("am1", A, B, minutes=30, km=10),
        trip("am2", A, B, minutes=50, km=14),
        trip("am3", A, B, at=AM + timedelta(minutes=50), minutes=40, km=12),
        trip("am4", B, B, minutes=10, km=3),
        trip("pm1", B, A, at=PM, minutes=45, km=11),
        trip("noon", A, A, at=NOON, minutes=15, km=4),
        trip("lost", A, OUT, minutes=500, km=900),  # ends in no district
        trip("nextday", A, B, at=AM + timedelta(days=1)),
    ]
    service.save_trips(session, pl.DataFrame(rows, schema=TRIP_COLUMNS))


def test_the_district_matrix_of_each_peak(session: Session, cw: CommuteWorld) -> None:
    seed(session)
    a, b = str(cw.w.district_a.id), str(cw.w.district_b.id)
    am = analysis.od_matrix(session, cw.operator, day=DAY, peak="am")
    assert [(p.origin, p.dest, p.trips) for p in am.pairs] == [(a, b, 3), (b, b, 1)]
    assert am.pairs[0].mean_minutes == 40.0
    assert am.pairs[0].mean_km == 12.0
    assert am.zones[a].name == "甲区"
    assert am.window.day == DAY
    assert am.trips == 4  # the trip ending outside every district is left out
    pm = analysis.od_matrix(session, cw.operator, day=DAY, peak="pm")
    assert [(p.origin, p.dest, p.trips) for p in pm.pairs] == [(b, a, 1)]
    whole = analysis.od_matrix(session, cw.operator, day=DAY, peak="all")
    assert sum(p.trips for p in whole.pairs) == 6


def test_the_h3_matrix_and_a_range(session: Session, cw: CommuteWorld) -> None:
    seed(session)
    m = analysis.od_matrix(
        session, cw.operator, start=AM - timedelta(hours=8), end=AM + timedelta(days=2), level="h3", peak="am"
    )
    assert m.level == "h3"
    assert m.trips == 5 + 1  # the next day's trip too, and the one leaving the city
    assert all(len(p.origin) == 15 for p in m.pairs)
    assert m.zones[m.pairs[0].origin].lat == pytest.approx(30.05, abs=0.01)
    top = m.pairs[0]
    # Cells are named by the street at their centre, else the district, and a part of their id.
    assert m.zones[top.origin].name == f"一街道 · {top.origin[4:10]}"
    assert m.zones[top.dest].name == f"乙区 · {top.dest[4:10]}"


def test_configurable_peaks(session: Session, cw: CommuteWorld) -> None:
    seed(session)
    early = config.Peaks(am=(6, 8), pm=(12, 13))
    am = analysis.od_matrix(session, cw.operator, day=DAY, peak="am", peaks=early)
    assert am.pairs == []  # the morning trips start at 08:00 and 08:50: outside [06:00, 08:00)
    late = analysis.od_matrix(session, cw.operator, day=DAY, peak="am", peaks=config.Peaks(am=(8, 9)))
    assert sum(p.trips for p in late.pairs) == 4
    pm = analysis.od_matrix(session, cw.operator, day=DAY, peak="pm", peaks=early)
    assert [p.trips for p in pm.pairs] == [1]  # the noon trip


def test_average_commute_by_home_district(session: Session, cw: CommuteWorld) -> None:
    seed(session)
    d = analysis.district_commutes(session, cw.operator, day=DAY)
    by_name = {x.name: x for x in d.districts}
    assert by_name["甲区"].trips == 4  # AM trips from 甲区, the one leaving the city included
    assert by_name["乙区"].mean_minutes == 10.0
    assert by_name["乙区"].mean_km == 3.0
    assert (d.reference.minutes, d.reference.km) == (52.0, 19.2)


def test_the_default_day_is_the_latest_trips(session: Session, cw: CommuteWorld) -> None:
    seed(session)
    assert analysis.window(session).day == DAY + timedelta(days=1)


def test_the_default_day_prefers_yesterday_to_a_day_not_over(session: Session, cw: CommuteWorld) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(analysis.tz()).date()
    today_start, _ = analysis.local_day(today)
    rows = [trip("now", A, B, at=max(now - timedelta(minutes=40), today_start + timedelta(seconds=1)))]
    service.save_trips(session, pl.DataFrame(rows, schema=TRIP_COLUMNS))
    assert analysis.window(session).day == today  # nothing yesterday: today it is
    start, _ = analysis.local_day(today - timedelta(days=1))
    service.save_trips(session, pl.DataFrame([trip("yday", A, B, at=start + timedelta(hours=8))], schema=TRIP_COLUMNS))
    assert analysis.window(session).day == today - timedelta(days=1)


def test_a_district_reader_sees_trips_touching_its_district(session: Session, cw: CommuteWorld) -> None:
    seed(session)
    m = analysis.od_matrix(session, cw.reader, day=DAY, peak="all")
    assert sum(p.trips for p in m.pairs) == 5  # all but the noon trip inside 甲区
    district_a = session.get(Region, cw.w.district_a.id)
    assert district_a is not None
    other = actor_for_account(session, make_account(session, roles=["department_staff"], scope=district_a))
    assert sum(p.trips for p in analysis.od_matrix(session, other, day=DAY).pairs) == 5  # all but B → B


def test_a_grid_reader_sees_the_trips_of_its_grid(session: Session, cw: CommuteWorld) -> None:
    seed(session)
    in_grid2 = (104.07, 30.05)
    service.save_trips(session, pl.DataFrame([trip("g2", in_grid2, B)], schema=TRIP_COLUMNS))
    grid2 = session.get(Region, cw.w.grid2.id)
    assert grid2 is not None
    reader = actor_for_account(session, make_account(session, roles=["department_staff"], scope=grid2))
    m = analysis.od_matrix(session, reader, day=DAY)
    assert [(p.origin, p.dest, p.trips) for p in m.pairs] == [(str(cw.w.district_a.id), str(cw.w.district_b.id), 1)]


def test_bad_arguments_and_permissions(session: Session, cw: CommuteWorld) -> None:
    with pytest.raises(Invalid) as bad_peak:
        analysis.od_matrix(session, cw.operator, day=DAY, peak="noon")
    assert bad_peak.value.details[0].field == "peak"
    with pytest.raises(Invalid):
        analysis.od_matrix(session, cw.operator, day=DAY, level="street")
    with pytest.raises(Invalid):
        analysis.od_matrix(session, cw.operator, start=AM, end=AM - timedelta(hours=1))
    with pytest.raises(Invalid):
        analysis.od_matrix(session, cw.operator, start=AM, end=AM + timedelta(days=40))
    with pytest.raises(Invalid):
        analysis.od_matrix(session, cw.operator, start=AM)
    account = session.get(Account, cw.outsider_id)
    assert account is not None
    with pytest.raises(Forbidden):
        analysis.od_matrix(session, actor_for_account(session, account), day=DAY)
