"""A simulated day at a hub delivered through the ingest service, then its flow: arrivals by
mode with peaks, the evening and morning taxi shortage, mode share, origins and destinations
located to the test world's districts; bad windows refused."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from sqlalchemy.orm import Session

from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.mobility.hubs import flow, service, simulate
from cityos.mobility.ingest import service as ingest
from tests.mobility.hubs.conftest import HUB, WINDOW, People


def deliver(session: Session, people: People, day: simulate.HubDay) -> None:
    video, probes = simulate.records(day)
    for source, records in (("video", video), ("probe", probes)):
        for i in range(0, len(records), 5000):
            report = ingest.ingest(session, people.operator, source=source, records=records[i : i + 5000])
            assert report.quarantined == 0, report.reasons


def make_hub(session: Session, people: People) -> None:
    service.create_hub(
        session, people.operator, code="EAST", name="东站", kind="rail", lon=HUB[0], lat=HUB[1], radius_m=300
    )


def test_a_day_at_the_hub(session: Session, people: People, hub_day: simulate.HubDay) -> None:
    make_hub(session, people)
    deliver(session, people, hub_day)
    f = flow.flow(session, people.reader, hub_code="EAST", start=WINDOW[0], end=WINDOW[1])
    modes = dict(zip(f.mode_share["mode"], f.mode_share["source"], strict=True))
    assert modes == {
        "metro": "video",
        "bus": "video",
        "car": "video",
        "pedestrian": "video",
        "taxi": "probe",
        "ridehail": "probe",
    }
    assert abs(f.mode_share["share"].sum() - 1.0) < 1e-9
    metro = (
        f.arrivals.filter(pl.col("mode") == "metro")
        .group_by(pl.col("minute").dt.convert_time_zone("Asia/Shanghai").dt.hour().alias("h"))
        .agg(pl.col("arrivals").sum())
    )
    by_hour = dict(metro.iter_rows())
    assert by_hour[8] > 2 * by_hour[14]  # the morning peak
    assert by_hour[18] > 2 * by_hour[14]  # the evening peak
    taxi = f.mode_share.filter(pl.col("mode") == "taxi").row(0, named=True)
    assert taxi["arrivals"] > 100
    assert taxi["departures"] > 100
    assert f.supply["shortage"].any()
    assert f.supply.filter(pl.col("shortage"))["ratio"].max() < 0.5
    names = set(f.origins["name"]) | set(f.destinations["name"])
    assert names == {"甲区", "乙区"}
    a = f.origins.filter(pl.col("name") == "甲区")["trips"].item()
    b = f.origins.filter(pl.col("name") == "乙区")["trips"].item()
    assert a > b > 0  # two thirds of the trip ends lie in district A
    assert f.unlocated == {"unknown_end": 0, "outside_area": 0}


def test_the_flow_of_a_quiet_hub_is_empty(session: Session, people: People) -> None:
    make_hub(session, people)
    f = flow.flow(session, people.reader, hub_code="EAST", start=WINDOW[0], end=WINDOW[1])
    for table in (f.arrivals, f.supply, f.mode_share, f.origins, f.destinations):
        assert table.is_empty()


def test_bad_windows_unknown_hubs_and_permissions(session: Session, people: People) -> None:
    make_hub(session, people)
    start, end = WINDOW
    with pytest.raises(Invalid) as exc:
        flow.flow(session, people.reader, hub_code="EAST", start=end, end=start)
    assert exc.value.details[0].field == "end"
    with pytest.raises(Invalid):
        flow.flow(session, people.reader, hub_code="EAST", start=start - timedelta(days=3), end=end)
    with pytest.raises(Invalid):
        flow.flow(session, people.reader, hub_code="EAST", start=start.replace(tzinfo=None), end=end)
    with pytest.raises(NotFound):
        flow.flow(session, people.reader, hub_code="WEST")
    with pytest.raises(NotFound):
        flow.flow(session, people.operator_b, hub_code="EAST")  # outside district B
    from cityos.core.actor import ANONYMOUS

    with pytest.raises(Forbidden):
        flow.flow(session, ANONYMOUS, hub_code="EAST")
