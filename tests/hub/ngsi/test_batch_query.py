"""Batch operations (201/204/207) and queries (filters, paging, counts, POST query)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

BASE = "/ngsi-ld/v1"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"


def _thing(i: int, kind: str = "Thing", **attrs: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:{kind}:{i:03d}",
        "type": kind,
        "level": {"type": "Property", "value": i},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.0 + i / 100, 39.9]}},
        **attrs,
    }


def test_batch_create_partial_and_full(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post(f"{BASE}/entityOperations/create", json=[_thing(1), _thing(2)], headers=auth)
    assert r.status_code == 201, r.text
    assert r.json() == ["urn:ngsi-ld:Thing:001", "urn:ngsi-ld:Thing:002"]
    r = client.post(
        f"{BASE}/entityOperations/create",
        json=[_thing(2), _thing(3), {"id": "bad", "type": "Thing"}],
        headers=auth,
    )
    assert r.status_code == 207
    body = r.json()
    assert body["success"] == ["urn:ngsi-ld:Thing:003"]
    errors = {e["entityId"]: e["error"] for e in body["errors"]}
    assert errors["urn:ngsi-ld:Thing:002"]["type"] == ERR + "AlreadyExists"
    assert errors["bad"]["type"] == ERR + "BadRequestData"
    assert client.post(f"{BASE}/entityOperations/create", json={"id": "x"}, headers=auth).status_code == 400
    assert client.post(f"{BASE}/entityOperations/create", json=[], headers=auth).status_code == 400


def test_batch_upsert_update_delete(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post(f"{BASE}/entityOperations/upsert", json=[_thing(1)], headers=auth)
    assert r.status_code == 201
    r = client.post(
        f"{BASE}/entityOperations/upsert", json=[{"id": _thing(1)["id"], "type": "Thing", "x": 1}], headers=auth
    )
    assert r.status_code == 204
    got = client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", params={"options": "keyValues"}, headers=auth).json()
    assert got == {"id": "urn:ngsi-ld:Thing:001", "type": "Thing", "x": 1}  # replace (the default)
    r = client.post(
        f"{BASE}/entityOperations/upsert",
        params={"options": "update"},
        json=[{"id": _thing(1)["id"], "type": "Thing", "y": 2}],
        headers=auth,
    )
    assert r.status_code == 204
    got = client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", params={"options": "keyValues"}, headers=auth).json()
    assert got["x"] == 1
    assert got["y"] == 2
    r = client.post(
        f"{BASE}/entityOperations/update",
        json=[
            {"id": _thing(1)["id"], "type": "Thing", "x": 5},
            {"id": "urn:ngsi-ld:Thing:404", "type": "Thing", "x": 1},
        ],
        headers=auth,
    )
    assert r.status_code == 207
    assert r.json()["success"] == ["urn:ngsi-ld:Thing:001"]
    assert r.json()["errors"][0]["error"]["type"] == ERR + "ResourceNotFound"
    r = client.post(
        f"{BASE}/entityOperations/update",
        params={"options": "noOverwrite"},
        json=[{"id": _thing(1)["id"], "type": "Thing", "x": 9}],
        headers=auth,
    )
    assert r.status_code == 204
    got = client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", params={"options": "keyValues"}, headers=auth).json()
    assert got["x"] == 5
    r = client.post(f"{BASE}/entityOperations/delete", json=[_thing(1)["id"], "urn:ngsi-ld:Thing:404"], headers=auth)
    assert r.status_code == 207
    assert r.json()["success"] == [_thing(1)["id"]]
    assert client.post(f"{BASE}/entityOperations/delete", json=["nope"], headers=auth).status_code == 207
    assert client.post(f"{BASE}/entityOperations/delete", json="x", headers=auth).status_code == 400


def test_query_filters_and_paging(client: TestClient, auth: dict[str, str]) -> None:
    things = [_thing(i) for i in range(1, 8)] + [_thing(1, "Other", extra={"value": True})]
    assert client.post(f"{BASE}/entityOperations/create", json=things, headers=auth).status_code == 201
    r = client.get(f"{BASE}/entities", params={"type": "Thing", "limit": 3, "count": "true"}, headers=auth)
    assert r.status_code == 200
    assert r.headers["NGSILD-Results-Count"] == "7"
    assert [e["id"] for e in r.json()] == [f"urn:ngsi-ld:Thing:{i:03d}" for i in (1, 2, 3)]
    r = client.get(f"{BASE}/entities", params={"type": "Thing", "limit": 3, "offset": 6}, headers=auth)
    assert [e["id"] for e in r.json()] == ["urn:ngsi-ld:Thing:007"]
    assert "NGSILD-Results-Count" not in r.headers
    both = client.get(f"{BASE}/entities", params={"type": "Thing,Other", "options": "count"}, headers=auth)
    assert both.headers["NGSILD-Results-Count"] == "8"
    q = client.get(f"{BASE}/entities", params={"type": "Thing", "q": "level>=5", "count": "true"}, headers=auth)
    assert [e["id"] for e in q.json()] == [f"urn:ngsi-ld:Thing:{i:03d}" for i in (5, 6, 7)]
    assert q.headers["NGSILD-Results-Count"] == "3"
    ids = client.get(
        f"{BASE}/entities", params={"id": "urn:ngsi-ld:Thing:002,urn:ngsi-ld:Other:001"}, headers=auth
    ).json()
    assert {e["id"] for e in ids} == {"urn:ngsi-ld:Thing:002", "urn:ngsi-ld:Other:001"}
    pattern = client.get(f"{BASE}/entities", params={"idPattern": "^urn:ngsi-ld:Thing:00[12]$"}, headers=auth).json()
    assert [e["id"] for e in pattern] == ["urn:ngsi-ld:Thing:001", "urn:ngsi-ld:Thing:002"]
    attrs = client.get(f"{BASE}/entities", params={"attrs": "extra"}, headers=auth).json()
    assert [e["id"] for e in attrs] == ["urn:ngsi-ld:Other:001"]
    assert set(attrs[0]) == {"id", "type", "extra"}
    near = client.get(
        f"{BASE}/entities",
        params={
            "type": "Thing",
            "georel": "near;maxDistance==2000",
            "geometry": "Point",
            "coordinates": "[116.01,39.9]",
        },
        headers=auth,
    ).json()
    assert [e["id"] for e in near] == ["urn:ngsi-ld:Thing:001", "urn:ngsi-ld:Thing:002", "urn:ngsi-ld:Thing:003"]
    geo = client.get(
        f"{BASE}/entities", params={"type": "Thing", "limit": 2}, headers={**auth, "Accept": "application/geo+json"}
    )
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert len(geo.json()["features"]) == 2
    only_count = client.get(f"{BASE}/entities", params={"type": "Thing", "limit": 0, "count": "true"}, headers=auth)
    assert only_count.json() == []
    assert only_count.headers["NGSILD-Results-Count"] == "7"


def test_query_bad_input(client: TestClient, auth: dict[str, str]) -> None:
    def get(**params: Any) -> Any:
        return client.get(f"{BASE}/entities", params=params, headers=auth)

    assert get().status_code == 400
    too_many = get(type="Thing", limit=1001)
    assert too_many.status_code == 403
    assert too_many.json()["type"] == ERR + "TooManyResults"
    assert get(type="Thing", limit=-1).status_code == 400
    assert get(type="Thing", limit="x").status_code == 400
    assert get(type="Thing", limit=0).status_code == 400
    assert get(type="Thing", q="level>>").status_code == 400
    assert get(idPattern="(a+)+$").status_code == 400
    assert get(type="Thing", georel="near;maxDistance==10", geometry="Point").status_code == 400
    assert get(type="A;B").status_code == 400
    assert get(id="not a uri").status_code == 400


def test_post_query(client: TestClient, auth: dict[str, str]) -> None:
    things = [_thing(i) for i in range(1, 5)]
    client.post(f"{BASE}/entityOperations/create", json=things, headers=auth)
    r = client.post(
        f"{BASE}/entityOperations/query",
        params={"count": "true", "options": "keyValues"},
        json={
            "type": "Query",
            "entities": [{"type": "Thing", "idPattern": ".*:00[234]$"}],
            "attrs": ["level"],
            "q": "level<4",
            "geoQ": {
                "georel": "within",
                "geometry": "Polygon",
                "coordinates": [[[115, 39], [117, 39], [117, 41], [115, 39]]],
            },
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"id": "urn:ngsi-ld:Thing:002", "type": "Thing", "level": 2},
        {"id": "urn:ngsi-ld:Thing:003", "type": "Thing", "level": 3},
    ]
    assert r.headers["NGSILD-Results-Count"] == "2"
    bad = client.post(f"{BASE}/entityOperations/query", json={"type": "Nope"}, headers=auth)
    assert bad.status_code == 400
    empty = client.post(f"{BASE}/entityOperations/query", json={"type": "Query"}, headers=auth)
    assert empty.status_code == 400
    assert json.loads(empty.text)["type"] == ERR + "BadRequestData"
