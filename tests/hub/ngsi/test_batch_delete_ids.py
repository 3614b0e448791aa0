"""``/entityOperations/delete`` takes a JSON array of entity ids as ``application/json`` or as
``application/ld+json`` (FiLiP sends the latter when its entities carry ``@context``): ids
have nothing to expand, so no ``@context`` is needed."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

BASE = "/ngsi-ld/v1"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"


def _things(client: TestClient, auth: dict[str, str], n: int) -> list[str]:
    ids = [f"urn:ngsi-ld:Thing:del{i}" for i in range(n)]
    body = [{"id": i, "type": "Thing", "level": {"type": "Property", "value": 1}} for i in ids]
    assert client.post(f"{BASE}/entityOperations/create", json=body, headers=auth).status_code == 201
    return ids


@pytest.mark.parametrize("media", ["application/ld+json", "application/json"])
def test_an_id_list_deletes_with_either_media_type(client: TestClient, auth: dict[str, str], media: str) -> None:
    ids = _things(client, auth, 3)
    r = client.post(
        f"{BASE}/entityOperations/delete", content=json.dumps(ids[:2]), headers={**auth, "Content-Type": media}
    )
    assert r.status_code == 204, r.text
    for gone in ids[:2]:
        assert client.get(f"{BASE}/entities/{gone}", headers=auth).status_code == 404
    assert client.get(f"{BASE}/entities/{ids[2]}", headers=auth).status_code == 200
    # an unknown id among them: 207 with the per-entity error, the others deleted
    r = client.post(
        f"{BASE}/entityOperations/delete",
        content=json.dumps([ids[2], "urn:ngsi-ld:Thing:nowhere"]),
        headers={**auth, "Content-Type": media},
    )
    assert r.status_code == 207
    assert r.json()["success"] == [ids[2]]
    assert r.json()["errors"][0]["entityId"] == "urn:ngsi-ld:Thing:nowhere"


def test_bad_ld_json_bodies_are_still_refused(client: TestClient, auth: dict[str, str]) -> None:
    ld = {**auth, "Content-Type": "application/ld+json"}
    post = client.post
    # entities (objects) in ld+json still need their @context
    r = post(f"{BASE}/entityOperations/delete", content=json.dumps([{"id": "urn:ngsi-ld:Thing:x"}]), headers=ld)
    assert r.status_code == 400
    assert r.json()["type"] == ERR + "BadRequestData"
    # a mixed list is not an id list
    mixed = json.dumps(["urn:ngsi-ld:Thing:x", {"id": "urn:ngsi-ld:Thing:y"}])
    assert post(f"{BASE}/entityOperations/delete", content=mixed, headers=ld).status_code == 400
    # an empty list: nothing to delete
    assert post(f"{BASE}/entityOperations/delete", content="[]", headers=ld).status_code == 400
    # ids that are not URIs: 207 with a per-id error (nothing deleted)
    r = post(f"{BASE}/entityOperations/delete", content=json.dumps(["not a uri"]), headers=ld)
    assert r.status_code == 207
    assert r.json()["success"] == []
    # a Link header with ld+json is still refused
    linked = {**ld, "Link": f'<{CORE}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'}
    r = post(f"{BASE}/entityOperations/delete", content=json.dumps(["urn:ngsi-ld:Thing:x"]), headers=linked)
    assert r.status_code == 400
    # anonymous: 401
    anon = {"Content-Type": "application/ld+json"}
    assert post(f"{BASE}/entityOperations/delete", content='["urn:ngsi-ld:Thing:x"]', headers=anon).status_code == 401
