"""The hub pages: /hub (types, browser, q and geo filters, paging, map data) and entity detail."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.hub.ngsi import service
from tests.factories import session_cookie


def sign_in(client: TestClient, session: Session, account: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account))


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="hub-data">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_home_lists_types_with_counts_and_entities(
    client: TestClient, session: Session, officer: int, hub_entities: str
) -> None:
    sign_in(client, session, officer)
    r = client.get("/hub?tenant=qtest")
    assert r.status_code == 200
    html = r.text
    assert 'data-testid="types-chart"' in html
    assert 'data-type="WasteContainer">3<' in html
    assert 'data-type="ParkingSpot">2<' in html
    assert "Entities found: 6" in html
    data = page_data(html)
    assert data["chart"] == {"names": ["WasteContainer", "ParkingSpot", "Kiosk"], "counts": [3, 2, 1]}
    # the three containers have a location: they are on the map
    assert sorted(f["properties"]["id"] for f in data["features"]["features"]) == [
        "urn:ngsi-ld:WasteContainer:q1",
        "urn:ngsi-ld:WasteContainer:q2",
        "urn:ngsi-ld:WasteContainer:q3",
    ]
    assert 'data-testid="map-partial"' in html  # three of the six have a location
    assert "/static/vendor/maplibre/maplibre-gl.js" in html
    assert "/static/vendor/echarts/echarts.min.js" in html


def test_type_filter_q_and_geo(client: TestClient, session: Session, officer: int, hub_entities: str) -> None:
    sign_in(client, session, officer)
    r = client.get("/hub", params={"tenant": "qtest", "type": "WasteContainer", "q": "fillingLevel>0.5"})
    assert r.status_code == 200
    assert "Entities found: 2" in r.text
    assert "urn:ngsi-ld:WasteContainer:q2" in r.text
    assert "urn:ngsi-ld:WasteContainer:q1" not in r.text
    r = client.get(
        "/hub",
        params={
            "tenant": "qtest",
            "q": "fillingLevel>0.5",
            "georel": "near;maxDistance==5000",
            "geometry": "Point",
            "coordinates": "[104.06, 30.67]",
        },
    )
    assert r.status_code == 200
    assert "Entities found: 1" in r.text
    assert "urn:ngsi-ld:WasteContainer:q2" in r.text
    r = client.get("/hub", params={"tenant": "qtest", "q": 'status=="occupied"'})
    assert "urn:ngsi-ld:ParkingSpot:q2" in r.text
    assert "urn:ngsi-ld:ParkingSpot:q1" not in r.text


def test_bad_filters_show_field_errors(client: TestClient, session: Session, officer: int, hub_entities: str) -> None:
    sign_in(client, session, officer)
    r = client.get("/hub", params={"tenant": "qtest", "q": "fillingLevel>>"}, headers={"Accept-Language": "en"})
    assert r.status_code == 400
    assert 'data-testid="error-q"' in r.text
    assert "A value is expected at character" in r.text
    r = client.get(
        "/hub",
        params={"tenant": "qtest", "georel": "near", "geometry": "Point", "coordinates": "[1,2]"},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 400
    assert 'data-testid="error-georel"' in r.text
    r = client.get("/hub", params={"tenant": "qtest", "type": "Nothing"})
    assert r.status_code == 400
    assert 'data-testid="error-type"' in r.text
    r = client.get("/hub", params={"tenant": "bad tenant"})
    assert r.status_code == 422


def test_errors_in_chinese_by_default(client: TestClient, session: Session, officer: int, hub_entities: str) -> None:
    sign_in(client, session, officer)
    r = client.get("/hub", params={"tenant": "qtest", "q": "(a==1"}, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 400
    assert "查询缺少右括号" in r.text
    r = client.get("/hub?tenant=qtest", headers={"Accept-Language": "zh-CN"})
    assert "数据中台" in r.text


def test_paging(client: TestClient, session: Session, officer: int) -> None:
    for n in range(45):
        service.upsert_attributes(
            session,
            tenant="qpages",
            entity_id=f"urn:ngsi-ld:Counter:{n:03d}",
            entity_type="Counter",
            attrs={"n": {"type": "Property", "value": n}},
        )
    sign_in(client, session, officer)
    r = client.get("/hub?tenant=qpages")
    assert "Entities found: 45" in r.text
    assert "Page 1 of 3" in r.text
    assert "urn:ngsi-ld:Counter:019" in r.text
    assert "urn:ngsi-ld:Counter:020" not in r.text
    r = client.get("/hub?tenant=qpages&page=3")
    assert "urn:ngsi-ld:Counter:044" in r.text
    assert "urn:ngsi-ld:Counter:039" not in r.text
    r = client.get("/hub", params={"tenant": "qpages", "q": "n>=10", "page": 2})
    assert "Entities found: 35" in r.text
    assert "urn:ngsi-ld:Counter:030" in r.text
    assert "urn:ngsi-ld:Counter:029" not in r.text


def test_map_shows_every_match_not_only_the_page(client: TestClient, session: Session, officer: int) -> None:
    for n in range(30):
        service.upsert_attributes(
            session,
            tenant="qmap",
            entity_id=f"urn:ngsi-ld:Lamp:{n:03d}",
            entity_type="Lamp",
            attrs={
                "n": {"type": "Property", "value": n},
                "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [104 + n / 1000, 30.5]}},
            },
        )
    sign_in(client, session, officer)
    data = page_data(client.get("/hub?tenant=qmap").text)
    assert len(data["features"]["features"]) == 30
    data = page_data(client.get("/hub", params={"tenant": "qmap", "q": "n<25"}).text)
    assert len(data["features"]["features"]) == 25
    assert data["features"]["features"][0]["properties"] == {"id": "urn:ngsi-ld:Lamp:000", "type": "Lamp"}


def test_entity_detail(client: TestClient, session: Session, officer: int, hub_entities: str) -> None:
    sign_in(client, session, officer)
    r = client.get("/hub/entities/urn:ngsi-ld:WasteContainer:q2?tenant=qtest")
    assert r.status_code == 200
    html = r.text
    assert 'data-attr="fillingLevel"' in html
    assert 'data-attr="status"' in html
    assert "lidOpen" in html
    data = page_data(html)
    assert data["numeric"] == [
        {"iri": "https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel", "name": "fillingLevel"}
    ]
    assert data["temporal"].startswith("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:WasteContainer:q2?")
    assert "lastN=" in data["temporal"]
    assert data["features"]["features"][0]["geometry"]["coordinates"] == [104.07, 30.68]
    assert 'data-testid="history-chart"' in html
    # a Relationship links to its object; no numeric attribute → no chart
    r = client.get("/hub/entities/urn:ngsi-ld:ParkingSpot:q1?tenant=qtest")
    assert r.status_code == 200
    assert "/hub/entities/urn%3Angsi-ld%3AParkingSite%3A1" in r.text
    assert 'data-testid="history-chart"' not in r.text
    assert client.get("/hub/entities/urn:ngsi-ld:Nope:1?tenant=qtest").status_code == 404


def test_pages_need_hub_read(client: TestClient, session: Session, outsider: int, hub_entities: str) -> None:
    r = client.get("/hub", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
    sign_in(client, session, outsider)
    assert client.get("/hub?tenant=qtest").status_code == 403
    assert client.get("/hub/entities/urn:ngsi-ld:WasteContainer:q1?tenant=qtest").status_code == 403


def test_script_is_served(client: TestClient) -> None:
    r = client.get("/hub/hub.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "temporalValues" in r.text or "values" in r.text


def test_the_history_url_of_the_entity_page_answers(
    client: TestClient, session: Session, officer: int, hub_entities: str
) -> None:
    sign_in(client, session, officer)  # the page's script sends the session cookie, as here
    service.upsert_attributes(
        session,
        tenant=hub_entities,
        entity_id="urn:ngsi-ld:WasteContainer:q2",
        entity_type="WasteContainer",
        attrs={"fillingLevel": {"type": "Property", "value": 0.92}},
    )
    session.flush()
    data = page_data(client.get("/hub/entities/urn:ngsi-ld:WasteContainer:q2?tenant=qtest").text)
    r = client.get(
        data["temporal"],
        headers={"NGSILD-Tenant": data["tenant"], "Link": data["link"], "Accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    history = body.get("fillingLevel")
    assert history is not None, body
    values = history["values"] if isinstance(history, dict) else [[i["value"], i.get("observedAt")] for i in history]
    assert 0.92 in [v[0] for v in values]
