"""The kernels: stop arrivals found from fixes (passing between fixes, dwelling, a loop that
serves a stop twice, a trip past midnight), delays and the on-time band, headways and bunching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from cityos.mobility.transit import adherence
from cityos.mobility.transit.gtfs import read_feed
from tests.mobility.transit.conftest import TZ, GridFeed

LON, LAT = 104.06, 30.65
M_LAT = 1 / 111_195.0  # degrees per metre north
M_LON = M_LAT / 0.8610  # at 30.65°


def _times(rows: list[tuple[str, int, int, float]]) -> pl.DataFrame:
    """(stop_id, sequence, arrival_s, metres east of LON) on trip T, route R."""
    return pl.DataFrame(
        [("T", "R", s, q, a, LON + x * M_LON, LAT) for s, q, a, x in rows],
        schema=adherence.STOP_TIME_SCHEMA,
        orient="row",
    )


def _fixes(points: list[tuple[datetime, float, float]], trip: str = "T") -> pl.DataFrame:
    return pl.DataFrame(
        [("bus1", t, LON + x * M_LON, LAT + y * M_LAT, "R", trip) for t, x, y in points],
        schema=adherence.FIX_SCHEMA,
        orient="row",
    )


def at(hh: int, mm: int, ss: int = 0, day: date = date(2026, 11, 20)) -> datetime:
    # local (UTC+8) wall time on ``day`` as UTC
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC) - timedelta(hours=8)


def test_a_bus_passing_a_stop_between_two_fixes_arrives_in_between() -> None:
    times = _times([("S1", 1, 7 * 3600, 200.0)])
    fixes = _fixes([(at(7, 1, 0), 0.0, 5.0), (at(7, 1, 40), 400.0, 5.0)])  # 200 m at 5 m off, halfway
    out = adherence.stop_arrivals(fixes, times, tz=TZ)
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["arrived_at"] == at(7, 1, 20)
    assert row["delay_s"] == 80.0
    assert row["on_time"] is True
    assert row["service_date"] == date(2026, 11, 20)


def test_a_bus_far_from_the_stop_does_not_arrive() -> None:
    times = _times([("S1", 1, 7 * 3600, 200.0)])
    fixes = _fixes([(at(7, 1, 0), 0.0, 40.0), (at(7, 1, 40), 400.0, 40.0)])  # the parallel street, 40 m away
    assert adherence.stop_arrivals(fixes, times, tz=TZ).is_empty()


def test_a_dwell_is_one_arrival_at_its_first_fix_and_late_is_late() -> None:
    times = _times([("S1", 1, 7 * 3600, 0.0)])
    fixes = _fixes([(at(7, 6, s), 0.0, 3.0) for s in (0, 20, 40)])
    out = adherence.stop_arrivals(fixes, times, tz=TZ)
    assert out["arrived_at"].to_list() == [at(7, 6, 0)]
    assert out["delay_s"].to_list() == [360.0]
    assert out["on_time"].to_list() == [False]  # more than five minutes late


def test_a_loop_serving_a_stop_twice_assigns_the_visits_in_order() -> None:
    times = _times([("S1", 1, 7 * 3600, 0.0), ("S2", 2, 7 * 3600 + 300, 300.0), ("S1", 3, 7 * 3600 + 600, 0.0)])
    fixes = _fixes(
        [(at(7, 0, 10), 0.0, 0.0), (at(7, 5, 0), 300.0, 0.0), (at(7, 10, 30), 0.0, 0.0)],
    )
    out = adherence.stop_arrivals(fixes, times, tz=TZ).sort("stop_sequence")
    assert out["stop_sequence"].to_list() == [1, 2, 3]
    assert out["delay_s"].to_list() == [10.0, 0.0, 30.0]


def test_a_trip_past_midnight_belongs_to_the_day_before() -> None:
    times = _times([("S1", 1, 25 * 3600 + 600, 0.0)])  # 25:10 of the service day
    fixes = _fixes([(at(1, 11, 0, date(2026, 11, 21)), 0.0, 0.0)])
    out = adherence.stop_arrivals(fixes, times, tz=TZ)
    assert out["service_date"].to_list() == [date(2026, 11, 20)]
    assert out["delay_s"].to_list() == [60.0]


def test_fixes_of_unknown_trips_and_no_fixes_give_nothing() -> None:
    times = _times([("S1", 1, 7 * 3600, 0.0)])
    assert adherence.stop_arrivals(_fixes([(at(7, 0), 0.0, 0.0)], trip="X"), times, tz=TZ).is_empty()
    assert adherence.stop_arrivals(_fixes([]), times, tz=TZ).is_empty()


def test_simulated_buses_are_found_at_their_stops(grid_feed: GridFeed) -> None:
    g = read_feed(grid_feed.path)
    times = g.stop_times.join(g.trips.select("trip_id", "route_id"), on="trip_id").join(
        g.stops.select("stop_id", pl.col("lon").alias("stop_lon"), pl.col("lat").alias("stop_lat")), on="stop_id"
    )
    out = adherence.stop_arrivals(grid_feed.fixes, times, tz=TZ)
    assert out.height >= 0.97 * grid_feed.truth.height
    both = out.join(grid_feed.truth, on=["trip_id", "stop_sequence"], suffix="_true")
    error = (both["arrived_at"] - both["arrived_at_true"]).dt.total_seconds().abs()
    assert error.quantile(0.95) <= 30  # 30 s fixes, 6 m noise
    heads = adherence.headways(out)
    assert heads["scheduled_headway_s"].median() == 600.0  # a missed arrival doubles one gap
    summary = adherence.route_summary(out, heads)
    assert summary["route_id"].to_list() == [r.route_id for r in grid_feed.routes]
    assert all(0.5 < s <= 1.0 for s in summary["on_time_share"])
    assert all(0.0 < cv < 1.0 for cv in summary["headway_cv"])


def test_headways_mean_cv_and_bunching() -> None:
    base = at(7, 0)
    rows = []
    # scheduled every 10 min; actual gaps 10, 2 (bunched), 18 minutes
    for k, actual in enumerate([0, 10, 12, 30]):
        rows.append(
            (
                "v",
                "R",
                f"T{k}",
                "S1",
                1,
                date(2026, 11, 20),
                base + timedelta(minutes=actual),
                base + timedelta(minutes=10 * k),
                0.0,
                True,
            )
        )
    arr = pl.DataFrame(rows, schema=adherence.ARRIVAL_SCHEMA, orient="row")
    h = adherence.headways(arr).row(0, named=True)
    assert h["headways"] == 3
    assert h["mean_headway_s"] == 600.0
    assert h["bunched_share"] == 1 / 3
    assert round(h["cv"], 3) == round(pl.Series([600.0, 120.0, 1080.0]).std() / 600.0, 3)
