"""The transit API (feeds, upload import with refusals, routes with statistics, a stop's
arrivals) and the pages (the feed's routes on a map with the chart data, a route's page)."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.mobility.ingest import service as ingest
from cityos.mobility.transit import service
from tests.factories import bearer, session_cookie
from tests.mobility.transit.conftest import GridFeed, People, bus_records

API = "/api/v1/mobility/transit"


def test_importing_a_feed_by_upload(client: TestClient, session: Session, people: People, grid_feed: GridFeed) -> None:
    session.commit()
    auth = bearer(people.operator_id)
    with grid_feed.path.open("rb") as fh:
        made = client.post(
            f"{API}/feeds", data={"code": "grid", "name": "网格公交"}, files={"file": ("grid.zip", fh)}, headers=auth
        )
    assert made.status_code == 201, made.text
    assert made.json()["routes"] == 2
    assert made.json()["source_ref"] == "grid.zip"
    bad = client.post(
        f"{API}/feeds",
        data={"code": "bad", "name": "x"},
        files={"file": ("x.zip", b"not a zip")},
        headers={**auth, "Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    details = bad.json()["error"]["details"]
    assert [(d["field"], d["message"]) for d in details] == [("file", "该文件不是 GTFS 压缩包。")]
    empty = client.post(f"{API}/feeds", data={"name": "x"}, headers=auth)
    assert empty.status_code == 422
    assert [d["field"] for d in empty.json()["error"]["details"]] == ["file", "code"]
    with grid_feed.path.open("rb") as fh:
        refused = client.post(
            f"{API}/feeds",
            data={"code": "x", "name": "x"},
            files={"file": ("g.zip", fh)},
            headers=bearer(people.reader_id),
        )
    assert refused.status_code == 403
    listed = client.get(f"{API}/feeds", headers=bearer(people.reader_id))
    assert [f["code"] for f in listed.json()] == ["grid"]
    assert client.get(f"{API}/feeds/nope", headers=bearer(people.reader_id)).status_code == 404


def test_routes_arrivals_and_pages(client: TestClient, session: Session, people: People, grid_feed: GridFeed) -> None:
    feed = service.import_gtfs(session, people.operator, path=grid_feed.path, code="grid", name="网格公交")
    records = bus_records(grid_feed.fixes)
    for i in range(0, len(records), 5000):
        ingest.ingest(session, people.operator, source="bus", records=records[i : i + 5000])
    route_pk = service.list_routes(session, people.reader, feed)[0].id
    session.commit()
    window = {"start": "2026-11-20T07:00:00+08:00", "end": "2026-11-20T09:00:00+08:00"}
    routes = client.get(f"{API}/feeds/grid/routes", params=window, headers=bearer(people.reader_id))
    assert routes.status_code == 200, routes.text
    body = {r["route_id"]: r for r in routes.json()}
    assert set(body) == {"B1", "B2"}
    assert body["B1"]["arrivals"] > 50
    assert 0.5 < body["B1"]["on_time_share"] <= 1
    assert body["B1"]["headway_cv"] is not None
    quiet = client.get(f"{API}/feeds/grid/routes", headers=bearer(people.reader_id))  # the last 24 hours: no buses
    assert all(r["arrivals"] == 0 and r["on_time_share"] is None for r in quiet.json())
    stop_id = grid_feed.routes[0].stops[0][1].stop_id
    arrivals = client.get(f"{API}/feeds/grid/stops/{stop_id}/arrivals", params=window, headers=bearer(people.reader_id))
    assert arrivals.status_code == 200
    assert len(arrivals.json()["arrivals"]) >= 8
    assert client.get(f"{API}/feeds/grid/stops/nope/arrivals", headers=bearer(people.reader_id)).status_code == 404
    reversed_window = client.get(
        f"{API}/feeds/grid/routes",
        params={"start": window["end"], "end": window["start"]},
        headers=bearer(people.reader_id),
    )
    assert reversed_window.status_code == 422

    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, people.reader_id))
    page = client.get("/tocc/transit", params={"day": "2026-11-20"}, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text[-500:]
    assert "公交运行" in page.text
    assert 'data-testid="route-B1"' in page.text
    data = json.loads(re.search(r'<script type="application/json" id="tr-data">(.*?)</script>', page.text, re.S)[1])
    assert len(data["lines"]["features"]) == 4  # two routes, two directions each
    assert data["chart"]["names"] == ["1", "2"]
    route = client.get(f"/tocc/transit/routes/{route_pk}", params={"day": "2026-11-20"})
    assert route.status_code == 200
    assert 'data-testid="hours-chart"' in route.text
    data = json.loads(re.search(r'<script type="application/json" id="tr-data">(.*?)</script>', route.text, re.S)[1])
    assert data["hours"]["labels"][:2] == ["07:00", "08:00"]
    assert client.get("/tocc/transit/routes/999999").status_code == 404


def test_the_page_without_a_feed(client: TestClient, session: Session, people: People) -> None:
    session.commit()
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, people.reader_id))
    page = client.get("/tocc/transit")
    assert page.status_code == 200
    assert 'data-testid="no-feed"' in page.text
