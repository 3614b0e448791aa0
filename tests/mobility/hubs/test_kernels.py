"""The flow kernels on hand-made rows: drop-offs and pick-ups with the other end of the trip
(and without it when the run began before the fixes or across a long gap), camera counts spread
over their minutes, one source per mode, taxi supply against the queue, mode share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from cityos.mobility.hubs import kernels

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
LON, LAT = 104.05, 30.05
FAR = (104.12, 30.04)
START, END = T0, T0 + timedelta(hours=2)


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def probes(rows: list[tuple[str, str, float, float, float, bool | None]]) -> pl.DataFrame:
    return pl.DataFrame([(k, v, t(m), x, y, o) for k, v, m, x, y, o in rows], schema=kernels.PROBE_SCHEMA, orient="row")


def video(rows: list[tuple[str, float, int, str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(c, t(m), i, mo, d, n) for c, m, i, mo, d, n in rows], schema=kernels.VIDEO_SCHEMA, orient="row"
    )


def events(p: pl.DataFrame) -> pl.DataFrame:
    return kernels.hub_events(p, lon=LON, lat=LAT, radius_m=300, start=START, end=END)


def test_a_trip_to_the_hub_is_a_drop_off_from_where_it_began() -> None:
    p = probes(
        [
            ("taxi", "a", 10, *FAR, False),
            ("taxi", "a", 11, *FAR, True),  # picked up far away
            ("taxi", "a", 20, 104.08, 30.05, True),
            ("taxi", "a", 30, LON, LAT, True),
            ("taxi", "a", 31, LON + 0.001, LAT, False),  # dropped at the hub (about 100 m off)
        ]
    )
    e = events(p)
    assert e.select("event", "ts", "other_lon", "other_lat").rows() == [("dropoff", t(31), *FAR)]


def test_a_pick_up_at_the_hub_goes_where_the_run_ends() -> None:
    p = probes(
        [
            ("ridehail", "b", 40, LON, LAT, False),
            ("ridehail", "b", 41, LON, LAT, True),
            ("ridehail", "b", 50, 104.08, 30.05, True),
            ("ridehail", "b", 60, *FAR, True),
            ("ridehail", "b", 61, *FAR, False),
        ]
    )
    assert events(p).select("kind", "event", "other_lon").rows() == [("ridehail", "pickup", FAR[0])]


def test_unknown_other_ends_and_long_gaps() -> None:
    p = probes(
        [
            ("taxi", "c", 5, *FAR, True),  # the run began before the fixes: its start is unknown
            ("taxi", "c", 30, LON, LAT, True),
            ("taxi", "c", 31, LON, LAT, False),
            ("taxi", "d", 50, LON, LAT, True),
            ("taxi", "d", 70, LON, LAT, False),  # 20 minutes without a fix: no drop-off counted
            ("taxi", "e", 80, LON, LAT, False),
            ("taxi", "e", 81, LON, LAT, True),  # a pick-up whose run never ends in the fixes
            ("taxi", "f", 90, *FAR, True),
            ("taxi", "f", 91, *FAR, False),  # a drop-off, but far from the hub
        ]
    )
    e = events(p)
    assert e.select("vehicle_key", "event", "other_lon").rows() == [("c", "dropoff", None), ("e", "pickup", None)]


def test_camera_counts_spread_over_minutes_and_one_source_per_mode() -> None:
    v = video(
        [("cam", 0, 300, "metro", "in", 50), ("cam", 0, 300, "metro", "out", 10), ("cam", 0, 60, "taxi", "in", 3)]
    )
    p = probes(
        [
            ("taxi", "a", 0, *FAR, False),
            ("taxi", "a", 1, *FAR, True),
            ("taxi", "a", 2, LON, LAT, True),
            ("taxi", "a", 3, LON, LAT, False),
            ("ridehail", "r", 0, *FAR, False),
            ("ridehail", "r", 1, *FAR, True),
            ("ridehail", "r", 2, LON, LAT, True),
            ("ridehail", "r", 3, LON, LAT, False),
        ]
    )
    a = kernels.arrivals(v, events(p), start=START, end=END)
    metro = a.filter(pl.col("mode") == "metro")
    assert metro["minute"].to_list() == [t(m) for m in range(5)]
    assert metro["arrivals"].to_list() == [10.0] * 5
    assert metro["departures"].to_list() == [2.0] * 5
    # the cameras counted taxis, so the taxis' drop-off is not counted again; ride-hailing comes from fixes
    assert a.filter(pl.col("mode") == "taxi").select("source", "arrivals").rows() == [("video", 3.0)]
    assert a.filter(pl.col("mode") == "ridehail").select("minute", "source", "arrivals").rows() == [
        (t(3), "probe", 1.0)
    ]
    share = kernels.mode_share(a)
    assert share["mode"].to_list() == ["metro", "taxi", "ridehail"]
    assert abs(share["share"].sum() - 1.0) < 1e-9
    assert share.filter(pl.col("mode") == "metro")["total"].item() == 60.0


def test_counts_outside_the_window_are_left_out() -> None:
    v = video([("cam", -10, 1200, "bus", "in", 100), ("cam", 120, 60, "bus", "in", 7)])  # half inside; after
    a = kernels.arrivals(v, events(probes([])), start=START, end=END)
    assert a["arrivals"].sum() == 50.0


def test_taxi_supply_against_the_queue() -> None:
    v = video(
        [("q1", 0, 300, "taxi", "queue", 12), ("q2", 0, 300, "taxi", "queue", 4), ("q1", 5, 300, "taxi", "queue", 2)]
    )
    p = probes(
        [
            ("taxi", "a", 0.1, LON, LAT, False),
            ("taxi", "a", 0.5, LON, LAT, False),  # one taxi twice in a minute: once
            ("taxi", "b", 0.2, LON, LAT + 0.001, False),
            ("taxi", "c", 0.3, LON, LAT, True),  # occupied: not supply
            ("ridehail", "d", 0.3, LON, LAT, False),  # not a taxi
            ("taxi", "e", 0.4, *FAR, False),  # outside the radius
            ("taxi", "a", 6.0, LON, LAT, False),
        ]
    )
    s = kernels.taxi_supply(v, p, lon=LON, lat=LAT, radius_m=300, start=START, end=END)
    first = s.filter(pl.col("minute") == t(0)).row(0, named=True)
    assert (first["empty_taxis"], first["waiting"], first["ratio"], first["shortage"]) == (2, 16, 0.125, True)
    later = s.filter(pl.col("minute") == t(6)).row(0, named=True)
    assert (later["empty_taxis"], later["waiting"], later["shortage"]) == (1, 2, False)  # few waiting: no shortage
    assert s.height == 10
