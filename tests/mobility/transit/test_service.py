"""Importing feeds (idempotent per code, refused without traffic:manage or with bad names) and
the performance of buses delivered through the ingest service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.mobility.ingest import service as ingest
from cityos.mobility.transit import performance, service
from cityos.mobility.transit.models import TransitShape, TransitStop, TransitStopTime, TransitTrip
from tests.mobility.transit.conftest import WINDOW, GridFeed, People, bus_records, sample_feed


def _count(session: Session, model: type, feed_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.feed_id == feed_id)) or 0  # type: ignore[attr-defined]


def test_import_stores_the_feed_and_a_reimport_replaces_it(session: Session, people: People) -> None:
    path = sample_feed("cairns_gtfs.zip")
    feed = service.import_gtfs(session, people.operator, path=path, code="cairns", name="Cairns")
    assert (feed.routes, feed.stops, feed.trips, feed.stop_times) == (22, 416, 1339, 37790)
    assert feed.timezone == "Australia/Brisbane"
    assert _count(session, TransitStopTime, feed.id) == 37790
    again = service.import_gtfs(session, people.operator, path=path, code="cairns", name="Cairns again")
    assert again.id == feed.id
    assert again.name == "Cairns again"
    assert _count(session, TransitStopTime, feed.id) == 37790
    assert _count(session, TransitStop, feed.id) == 416
    assert _count(session, TransitShape, feed.id) == feed.shapes
    assert [f.code for f in service.list_feeds(session, people.reader)] == ["cairns"]
    shapes = service.route_shapes(session, feed)
    assert len(shapes) == 22
    assert all(g["type"] == "LineString" for gs in shapes.values() for g in gs)
    route = service.list_routes(session, people.reader, feed)[0]
    stops = service.route_stops(session, feed, route.route_id)
    assert stops[0]["sequence"] == 1
    assert {s["direction_id"] for s in stops} <= {0, 1}


def test_a_bad_feed_leaves_the_stored_one_untouched(
    session: Session, people: People, grid_feed: GridFeed, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    feed = service.import_gtfs(session, people.operator, path=grid_feed.path, code="grid", name="Grid")
    trips = _count(session, TransitTrip, feed.id)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK not really")
    with pytest.raises(Invalid) as exc:
        service.import_gtfs(session, people.operator, path=bad, code="grid", name="Grid")
    assert exc.value.details[0].field == "file"
    assert _count(session, TransitTrip, feed.id) == trips


@pytest.mark.parametrize(
    ("code", "name", "field"),
    [("", "x", "code"), ("a b", "x", "code"), ("ok", "  ", "name"), ("ok", "x" * 201, "name")],
)
def test_bad_codes_and_names_are_refused(
    session: Session, people: People, grid_feed: GridFeed, code: str, name: str, field: str
) -> None:
    with pytest.raises(Invalid) as exc:
        service.import_gtfs(session, people.operator, path=grid_feed.path, code=code, name=name)
    assert [d.field for d in exc.value.details] == [field]


def test_import_and_reading_need_their_permissions(session: Session, people: People, grid_feed: GridFeed) -> None:
    with pytest.raises(Forbidden):
        service.import_gtfs(session, people.reader, path=grid_feed.path, code="grid", name="Grid")
    with pytest.raises(Forbidden):
        service.list_feeds(session, people.resident)
    with pytest.raises(NotFound):
        service.get_feed(session, people.reader, "nope")


def test_bus_positions_through_the_ingest_give_route_performance(
    session: Session, people: People, grid_feed: GridFeed
) -> None:
    service.import_gtfs(session, people.operator, path=grid_feed.path, code="grid", name="Grid")
    records = bus_records(grid_feed.fixes)
    for i in range(0, len(records), 5000):
        report = ingest.ingest(session, people.operator, source="bus", records=records[i : i + 5000])
        assert report.quarantined == 0
    start, end = WINDOW
    perf = performance.performance(session, people.reader, feed_code="grid", start=start, end=end)
    assert (
        perf.arrivals.height
        >= 0.95
        * grid_feed.truth.filter(
            (grid_feed.truth["arrived_at"] >= start) & (grid_feed.truth["arrived_at"] < end)
        ).height
    )
    assert perf.routes["route_id"].to_list() == ["B1", "B2"]
    assert perf.routes["on_time_share"].min() > 0.5
    stop_id = grid_feed.routes[0].stops[0][2].stop_id
    stop, arrivals = performance.stop_arrivals(
        session, people.reader, feed_code="grid", stop_id=stop_id, start=start, end=end
    )
    assert stop.stop_id == stop_id
    assert arrivals.height >= 8  # nine trips from 07:00 to 08:20
    assert arrivals["arrived_at"].is_sorted(descending=True)
    with pytest.raises(NotFound):
        performance.stop_arrivals(session, people.reader, feed_code="grid", stop_id="nope", start=start, end=end)


def test_bad_windows_are_refused(session: Session, people: People, grid_feed: GridFeed) -> None:
    service.import_gtfs(session, people.operator, path=grid_feed.path, code="grid", name="Grid")
    start, end = WINDOW
    with pytest.raises(Invalid) as exc:
        performance.performance(session, people.reader, feed_code="grid", start=end, end=start)
    assert exc.value.details[0].field == "end"
    with pytest.raises(Invalid):
        performance.performance(session, people.reader, feed_code="grid", start=start - timedelta(days=8), end=end)
    with pytest.raises(Invalid):
        performance.performance(session, people.reader, feed_code="grid", start=start.replace(tzinfo=None), end=end)
