"""Entity CRUD over HTTP: create (201/409), retrieve (representations), replace, delete,
attribute operations (207), ProblemDetails, tenants and permissions."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

BASE = "/ngsi-ld/v1"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"


def _entity(i: str = "001", **attrs: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Thing:{i}",
        "type": "Thing",
        "temperature": {"type": "Property", "value": 21.5, "unitCode": "CEL", "observedAt": "2026-12-01T08:00:00Z"},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:p1"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}},
        **attrs,
    }


def _create(client: TestClient, auth: dict[str, str], body: dict[str, Any], **headers: str) -> Any:
    return client.post(f"{BASE}/entities", json=body, headers={**auth, **headers})


def test_create_retrieve_and_duplicate(client: TestClient, auth: dict[str, str]) -> None:
    r = _create(client, auth, _entity())
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{BASE}/entities/urn:ngsi-ld:Thing:001"
    got = client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", headers=auth)
    assert got.status_code == 200
    body = got.json()
    assert body["type"] == "Thing"
    assert body["temperature"] == {
        "type": "Property",
        "value": 21.5,
        "unitCode": "CEL",
        "observedAt": "2026-12-01T08:00:00.000Z",
    }
    assert body["owner"] == {"type": "Relationship", "object": "urn:ngsi-ld:Person:p1"}
    assert "ngsi-ld-core-context" in got.headers["link"]
    dup = _create(client, auth, _entity())
    assert dup.status_code == 409
    assert dup.json()["type"] == ERR + "AlreadyExists"


def test_representations(client: TestClient, auth: dict[str, str]) -> None:
    _create(client, auth, _entity())
    url = f"{BASE}/entities/urn:ngsi-ld:Thing:001"
    kv = client.get(url, params={"options": "keyValues"}, headers=auth).json()
    assert kv == {
        "id": "urn:ngsi-ld:Thing:001",
        "type": "Thing",
        "temperature": 21.5,
        "owner": "urn:ngsi-ld:Person:p1",
        "location": {"type": "Point", "coordinates": [116.4, 39.9]},
    }
    concise = client.get(url, params={"format": "concise"}, headers=auth).json()
    assert concise["owner"] == {"object": "urn:ngsi-ld:Person:p1"}
    assert concise["temperature"] == {"value": 21.5, "unitCode": "CEL", "observedAt": "2026-12-01T08:00:00.000Z"}
    sys_attrs = client.get(url, params={"options": "sysAttrs"}, headers=auth).json()
    assert sys_attrs["createdAt"].endswith("Z")
    assert "modifiedAt" in sys_attrs["temperature"]
    picked = client.get(url, params={"pick": "id,temperature", "options": "keyValues"}, headers=auth).json()
    assert picked == {"id": "urn:ngsi-ld:Thing:001", "temperature": 21.5}
    omitted = client.get(url, params={"omit": "location,owner", "options": "keyValues"}, headers=auth).json()
    assert set(omitted) == {"id", "type", "temperature"}
    attrs = client.get(url, params={"attrs": "owner"}, headers=auth).json()
    assert set(attrs) == {"id", "type", "owner"}
    ld = client.get(url, headers={**auth, "Accept": "application/ld+json"})
    assert ld.headers["content-type"].startswith("application/ld+json")
    assert ld.json()["@context"].startswith("https://uri.etsi.org/ngsi-ld/")
    assert "link" not in ld.headers
    geo = client.get(url, headers={**auth, "Accept": "application/geo+json"}).json()
    assert geo["type"] == "Feature"
    assert geo["geometry"]["coordinates"] == [116.4, 39.9]
    bad = client.get(url, params={"options": "keyValues,concise"}, headers=auth)
    assert bad.status_code == 400
    assert client.get(url, params={"options": "nonsense"}, headers=auth).status_code == 400
    assert client.get(url, params={"pick": "a", "omit": "b"}, headers=auth).status_code == 400


def test_problem_details_and_bad_input(client: TestClient, auth: dict[str, str]) -> None:
    r = _create(client, auth, {"id": "not a uri", "type": "Thing", "t": {"type": "Property"}})
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == ERR + "BadRequestData"
    assert body["status"] == 400
    assert {e["field"] for e in body["errors"]} == {"id", "t.value"}
    assert "error" not in body
    zh = _create(client, auth, {"id": "x", "type": "Thing"}, **{"Accept-Language": "zh-CN"})
    assert zh.json()["title"] != "The request data is not valid"
    bad_geo = _create(client, auth, _entity(location={"type": "GeoProperty", "value": {"type": "Point"}}))
    assert bad_geo.status_code == 400
    assert bad_geo.json()["errors"][0]["field"] == "location.value"
    bad_rel = _create(client, auth, _entity(owner={"type": "Relationship", "object": "no uri"}))
    assert bad_rel.status_code == 400
    bad_time = _create(client, auth, _entity(t={"value": 1, "observedAt": "yesterday"}))
    assert bad_time.json()["errors"][0]["field"] == "t.observedAt"
    reserved = _create(client, auth, _entity(createdAt2={"value": 1}, **{"@id": "x"}))
    assert reserved.status_code == 400
    not_json = client.post(f"{BASE}/entities", content=b"{nope", headers={**auth, "Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.json()["type"] == ERR + "InvalidRequest"
    wrong_media = client.post(f"{BASE}/entities", content=b"{}", headers={**auth, "Content-Type": "text/plain"})
    assert wrong_media.status_code == 400
    with_ctx = client.post(f"{BASE}/entities", json={**_entity(), "@context": "https://x.org/c.jsonld"}, headers=auth)
    assert with_ctx.status_code == 400
    missing = client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:missing", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["type"] == ERR + "ResourceNotFound"
    assert client.get(f"{BASE}/entities/nope", headers=auth).status_code == 400
    # nothing was written by the refused requests
    listed = client.get(f"{BASE}/entities", params={"type": "Thing", "count": "true"}, headers=auth)
    assert listed.headers["NGSILD-Results-Count"] == "0"


def test_replace_and_delete(client: TestClient, auth: dict[str, str]) -> None:
    _create(client, auth, _entity())
    url = f"{BASE}/entities/urn:ngsi-ld:Thing:001"
    r = client.put(url, json={"type": "Thing", "humidity": {"type": "Property", "value": 40}}, headers=auth)
    assert r.status_code == 204, r.text
    body = client.get(url, params={"options": "keyValues"}, headers=auth).json()
    assert body == {"id": "urn:ngsi-ld:Thing:001", "type": "Thing", "humidity": 40}
    bad = client.put(url, json={"id": "urn:ngsi-ld:Thing:002", "type": "Thing"}, headers=auth)
    assert bad.status_code == 400
    assert client.delete(url, headers=auth).status_code == 204
    assert client.get(url, headers=auth).status_code == 404
    assert client.delete(url, headers=auth).status_code == 404


def test_attribute_operations(client: TestClient, auth: dict[str, str]) -> None:
    _create(client, auth, _entity())
    url = f"{BASE}/entities/urn:ngsi-ld:Thing:001"
    # append: new attribute added, existing one kept with noOverwrite -> 207
    r = client.post(
        f"{url}/attrs",
        params={"options": "noOverwrite"},
        json={"humidity": {"type": "Property", "value": 40}, "temperature": {"type": "Property", "value": 99}},
        headers=auth,
    )
    assert r.status_code == 207, r.text
    assert r.json()["updated"] == ["humidity"]
    assert r.json()["notUpdated"][0]["attributeName"] == "temperature"
    assert client.post(f"{url}/attrs", json={"pressure": 1013}, headers=auth).status_code == 204
    # update: only existing attributes
    r = client.patch(f"{url}/attrs", json={"temperature": {"value": 22}, "nothere": {"value": 1}}, headers=auth)
    assert r.status_code == 207
    assert r.json()["notUpdated"][0]["attributeName"] == "nothere"
    assert client.patch(f"{url}/attrs", json={"temperature": {"value": 23}}, headers=auth).status_code == 204
    # partial attribute update keeps the other members
    r = client.patch(f"{url}/attrs/temperature", json={"value": 24.5}, headers=auth)
    assert r.status_code == 204, r.text
    temp = client.get(url, headers=auth).json()["temperature"]
    assert temp["value"] == 24.5
    assert "unitCode" not in temp  # the PATCH /attrs above replaced the instance whole
    assert client.patch(f"{url}/attrs/missing", json={"value": 1}, headers=auth).status_code == 404
    assert client.patch(f"{url}/attrs/temperature", json=[1], headers=auth).status_code == 400
    bad = client.patch(
        f"{url}/attrs/location", json={"value": {"type": "Point", "coordinates": [999, 0]}}, headers=auth
    )
    assert bad.status_code == 400
    # multi-instance attributes and delete by datasetId / deleteAll
    r = client.post(
        f"{url}/attrs",
        json={"speed": [{"value": 1, "datasetId": "urn:ds:a"}, {"value": 2, "datasetId": "urn:ds:b"}]},
        headers=auth,
    )
    assert r.status_code == 204, r.text
    speed = client.get(url, headers=auth).json()["speed"]
    assert sorted(i["datasetId"] for i in speed) == ["urn:ds:a", "urn:ds:b"]
    assert client.delete(f"{url}/attrs/speed", params={"datasetId": "urn:ds:a"}, headers=auth).status_code == 204
    assert client.get(url, headers=auth).json()["speed"]["datasetId"] == "urn:ds:b"
    assert client.delete(f"{url}/attrs/speed", headers=auth).status_code == 404  # no default instance
    assert client.delete(f"{url}/attrs/speed", params={"deleteAll": "true"}, headers=auth).status_code == 204
    assert "speed" not in client.get(url, headers=auth).json()
    # merge-patch: merges members, null deletes
    r = client.patch(url, json={"humidity": {"value": 41}, "pressure": None}, headers=auth)
    assert r.status_code == 204, r.text
    body = client.get(url, params={"options": "keyValues"}, headers=auth).json()
    assert body["humidity"] == 41
    assert "pressure" not in body


def test_tenants_are_isolated(client: TestClient, auth: dict[str, str]) -> None:
    a = {**auth, "NGSILD-Tenant": "tenantA"}
    b = {**auth, "NGSILD-Tenant": "tenantB"}
    assert _create(client, a, _entity()).status_code == 201
    assert _create(client, b, _entity("other")).status_code == 201
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", headers=b).status_code == 404
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", headers=auth).status_code == 404
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", headers=a).status_code == 200
    unknown = client.get(f"{BASE}/entities", params={"type": "Thing"}, headers={**auth, "NGSILD-Tenant": "never"})
    assert unknown.status_code == 404
    assert unknown.json()["type"] == ERR + "NonexistentTenant"
    bad = client.get(f"{BASE}/entities", params={"type": "Thing"}, headers={**auth, "NGSILD-Tenant": "bad tenant!"})
    assert bad.status_code == 400


def test_permissions(client: TestClient, auth: dict[str, str], reader: dict[str, str], nobody: dict[str, str]) -> None:
    anon = _create(client, {}, _entity())
    assert anon.status_code == 401
    assert anon.json()["type"] == "urn:cityos:errors:Unauthorized"
    denied = _create(client, reader, _entity())
    assert denied.status_code == 403
    assert denied.json()["status"] == 403
    assert _create(client, auth, _entity()).status_code == 201
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", headers=reader).status_code == 200
    assert client.get(f"{BASE}/entities/urn:ngsi-ld:Thing:001", headers=nobody).status_code == 403
    assert client.delete(f"{BASE}/entities/urn:ngsi-ld:Thing:001", headers=reader).status_code == 403


def test_bad_input_on_every_write_path(client: TestClient, auth: dict[str, str]) -> None:
    _create(client, auth, _entity())
    url = f"{BASE}/entities/urn:ngsi-ld:Thing:001"
    before = client.get(url, params={"options": "sysAttrs"}, headers=auth).json()
    bad_attr = {"temperature": {"type": "Property"}, "fine": {"value": 1}}
    cases = [
        client.post(f"{url}/attrs", json=bad_attr, headers=auth),
        client.post(f"{url}/attrs", json={}, headers=auth),
        client.post(f"{url}/attrs", params={"options": "nope"}, json={"a": 1}, headers=auth),
        client.patch(f"{url}/attrs", json=bad_attr, headers=auth),
        client.patch(f"{url}/attrs", json=[1, 2], headers=auth),
        client.patch(url, json={"temperature": {"type": "Relationship", "object": "x y"}, "fine": 1}, headers=auth),
        client.patch(url, json={"type": "Other"}, headers=auth),
        client.put(url, json={"type": "Thing", "location": {"type": "GeoProperty", "value": [1, 2]}}, headers=auth),
        client.put(f"{url}/attrs/temperature", json={"type": "Nope", "value": 1}, headers=auth),
        client.delete(f"{url}/attrs/temperature", params={"datasetId": "not a uri"}, headers=auth),
        client.post(f"{BASE}/entityOperations/upsert", params={"options": "update,replace"}, json=[], headers=auth),
        client.post(f"{BASE}/entityOperations/update", json={"id": "x"}, headers=auth),
    ]
    for r in cases:
        assert r.status_code == 400, (r.request.method, r.request.url, r.text)
        assert r.json()["type"].startswith(ERR)
    assert client.patch(f"{BASE}/entities/bad/attrs/x", json={"value": 1}, headers=auth).status_code == 400
    after = client.get(url, params={"options": "sysAttrs"}, headers=auth).json()
    assert after == before  # nothing was written
