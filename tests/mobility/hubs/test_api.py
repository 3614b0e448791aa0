"""The hubs API: create (201, 409, 422 with fields in the caller's language, 403), read, change,
delete, the flow; and the pages: the list with its map data, a hub's charts and tables."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.mobility.hubs import simulate
from tests.factories import bearer, session_cookie
from tests.mobility.hubs.conftest import HUB, WINDOW, People
from tests.mobility.hubs.test_flow import deliver

BODY = {"code": "EAST", "name": "成都东站", "kind": "rail", "lon": HUB[0], "lat": HUB[1], "radius_m": 300}


def test_hub_crud_over_the_api(client: TestClient, session: Session, people: People) -> None:
    session.commit()
    auth = bearer(people.operator_id)
    made = client.post("/api/v1/mobility/hubs", json=BODY, headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["region_id"] == people.world.grid1.id
    assert client.post("/api/v1/mobility/hubs", json=BODY, headers=auth).status_code == 409
    bad = client.post(
        "/api/v1/mobility/hubs",
        json={**BODY, "code": "WEST", "kind": "boat", "radius_m": "wide"},
        headers={**auth, "Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"kind", "radius_m"}
    assert client.post("/api/v1/mobility/hubs", json=BODY, headers=bearer(people.reader_id)).status_code == 403
    listed = client.get("/api/v1/mobility/hubs", headers=bearer(people.reader_id))
    assert [h["code"] for h in listed.json()] == ["EAST"]
    changed = client.patch("/api/v1/mobility/hubs/EAST", json={"name": "东站", "camera_ids": ["c1"]}, headers=auth)
    assert changed.status_code == 200
    assert changed.json()["camera_ids"] == ["c1"]
    assert client.patch("/api/v1/mobility/hubs/EAST", json={"lat": 91}, headers=auth).status_code == 422
    assert client.get("/api/v1/mobility/hubs/NOPE", headers=auth).status_code == 404
    assert client.delete("/api/v1/mobility/hubs/EAST", headers=auth).status_code == 204
    assert client.get("/api/v1/mobility/hubs/EAST", headers=auth).status_code == 404


def test_the_flow_over_the_api_and_the_pages(
    client: TestClient, session: Session, people: People, hub_day: simulate.HubDay
) -> None:
    from cityos.mobility.hubs import service

    service.create_hub(
        session, people.operator, code="EAST", name="东站", kind="rail", lon=HUB[0], lat=HUB[1], radius_m=300
    )
    deliver(session, people, hub_day)
    session.commit()
    got = client.get(
        "/api/v1/mobility/hubs/EAST/flow",
        params={"start": "2026-11-20T00:00:00+08:00", "end": "2026-11-21T00:00:00+08:00"},  # the city's time
        headers=bearer(people.reader_id),
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert {m["mode"] for m in body["mode_share"]} >= {"metro", "taxi", "ridehail"}
    assert any(s["shortage"] for s in body["supply"])
    assert {o["name"] for o in body["origins"]} == {"甲区", "乙区"}
    reversed_window = client.get(
        "/api/v1/mobility/hubs/EAST/flow",
        params={"start": WINDOW[1].isoformat(), "end": WINDOW[0].isoformat()},
        headers=bearer(people.reader_id),
    )
    assert reversed_window.status_code == 422
    assert reversed_window.json()["error"]["details"][0]["field"] == "end"

    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, people.reader_id))
    listing = client.get("/tocc/hubs", headers={"Accept-Language": "zh-CN"})
    assert listing.status_code == 200, listing.text[-500:]
    assert "交通枢纽" in listing.text
    data = json.loads(re.search(r'<script type="application/json" id="hb-data">(.*?)</script>', listing.text, re.S)[1])
    assert [p["code"] for p in data["points"]] == ["EAST"]
    page = client.get("/tocc/hubs/EAST", params={"day": "2026-11-20"})
    assert page.status_code == 200, page.text[-500:]
    for testid in ("arrivals-chart", "supply-chart", "share-chart", "places-chart", "od-map", "share-metro"):
        assert f'data-testid="{testid}"' in page.text
    data = json.loads(re.search(r'<script type="application/json" id="hb-data">(.*?)</script>', page.text, re.S)[1])
    assert len(data["labels"]) == 1440
    assert all(len(s["data"]) == 1440 for s in data["series"])
    assert client.get("/tocc/hubs/NOPE").status_code == 404
