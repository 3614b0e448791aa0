"""Discovery routes: /types, /types/{type}, /attributes, /attributes/{attr} per tenant."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.hub.ngsi import query_views as views
from cityos.hub.ngsi import service
from tests.factories import bearer

SDM = "https://smartdatamodels.org/"
V = "https://uri.etsi.org/ngsi-ld/default-context/"
SDM_LINK = '<https://smartdatamodels.org/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'
WASTE = SDM + "dataModel.WasteManagement/WasteContainer"
PARKING = SDM + "dataModel.Parking/ParkingSpot"


def get(client: TestClient, account: int, url: str, tenant: str | None = "qtest", **headers: str):  # type: ignore[no-untyped-def]
    h = {**bearer(account), **headers}
    if tenant:
        h["NGSILD-Tenant"] = tenant
    return client.get(url, headers=h)


def test_type_list_compacted_with_the_request_context(client: TestClient, officer: int, hub_entities: str) -> None:
    r = get(client, officer, "/ngsi-ld/v1/types")
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "EntityTypeList"
    assert body["id"].startswith("urn:ngsi-ld:EntityTypeList:")
    # the core context alone: Smart Data Models types stay expanded, the vocabulary's are short
    assert sorted(body["typeList"]) == sorted([WASTE, PARKING, "Kiosk"])
    assert "ngsi-ld-core-context" in r.headers["link"]
    r = get(client, officer, "/ngsi-ld/v1/types", Link=SDM_LINK)
    assert sorted(r.json()["typeList"]) == ["Kiosk", "ParkingSpot", "WasteContainer"]


def test_type_details_and_info(client: TestClient, officer: int, hub_entities: str) -> None:
    r = get(client, officer, "/ngsi-ld/v1/types?details=true", Link=SDM_LINK)
    assert r.status_code == 200
    by_name = {t["typeName"]: t for t in r.json()}
    assert by_name["WasteContainer"]["id"] == WASTE
    assert by_name["WasteContainer"]["type"] == "EntityType"
    assert by_name["WasteContainer"]["attributeNames"] == ["fillingLevel", "location", "status"]
    assert by_name["ParkingSpot"]["attributeNames"] == ["refParkingSite", "status"]

    r = get(client, officer, "/ngsi-ld/v1/types/WasteContainer", Link=SDM_LINK)
    assert r.status_code == 200
    info = r.json()
    assert info["type"] == "EntityTypeInfo"
    assert info["typeName"] == "WasteContainer"
    assert info["entityCount"] == 3
    details = {a["attributeName"]: a["attributeTypes"] for a in info["attributeDetails"]}
    assert details == {"fillingLevel": ["Property"], "location": ["GeoProperty"], "status": ["Property"]}
    # the full IRI in the path works without a context
    from urllib.parse import quote

    r = get(client, officer, "/ngsi-ld/v1/types/" + quote(WASTE, safe=""))
    assert r.status_code == 200
    assert r.json()["entityCount"] == 3


def test_attribute_list_details_and_info(client: TestClient, officer: int, hub_entities: str) -> None:
    r = get(client, officer, "/ngsi-ld/v1/attributes", Link=SDM_LINK)
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "AttributeList"
    assert body["attributeList"] == ["fillingLevel", "location", "refParkingSite", "status", "visitors"]

    r = get(client, officer, "/ngsi-ld/v1/attributes?details=true", Link=SDM_LINK)
    attrs = {a["attributeName"]: a for a in r.json()}
    assert attrs["status"]["attributeCount"] == 5
    assert attrs["status"]["typeNames"] == ["ParkingSpot", "WasteContainer"]
    assert attrs["refParkingSite"]["attributeTypes"] == ["Relationship"]

    r = get(client, officer, "/ngsi-ld/v1/attributes/visitors")
    assert r.status_code == 200
    visitors = r.json()
    assert visitors == {
        "id": V + "visitors",
        "type": "Attribute",
        "attributeName": "visitors",
        "attributeCount": 1,
        "attributeTypes": ["Property"],
        "typeNames": ["Kiosk"],
    }


def test_ld_json_representation(client: TestClient, officer: int, hub_entities: str) -> None:
    r = get(client, officer, "/ngsi-ld/v1/attributes", Accept="application/ld+json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    assert "@context" in r.json()


def test_unknown_type_or_attribute_is_404_problem(client: TestClient, officer: int, hub_entities: str) -> None:
    r = get(client, officer, "/ngsi-ld/v1/types/Nothing")
    assert r.status_code == 404
    assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    r = get(client, officer, "/ngsi-ld/v1/attributes/nothing")
    assert r.status_code == 404
    assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"


def test_tenants_are_separate(client: TestClient, officer: int, hub_entities: str) -> None:
    r = get(client, officer, "/ngsi-ld/v1/types", tenant=None)
    assert r.status_code == 200
    assert "Kiosk" not in r.json()["typeList"]
    r = get(client, officer, "/ngsi-ld/v1/types", tenant="never-written")
    assert r.status_code == 404
    assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant"
    r = get(client, officer, "/ngsi-ld/v1/types", tenant="bad tenant!")
    assert r.status_code == 400
    assert r.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def test_needs_hub_read(client: TestClient, outsider: int, hub_entities: str) -> None:
    r = client.get("/ngsi-ld/v1/types", headers={"NGSILD-Tenant": "qtest"})
    assert r.status_code == 401
    assert r.json()["status"] == 401
    r = get(client, outsider, "/ngsi-ld/v1/attributes")
    assert r.status_code == 403
    assert "title" in r.json()


def test_bad_details_parameter_is_400(client: TestClient, officer: int, hub_entities: str) -> None:
    r = get(client, officer, "/ngsi-ld/v1/types?details=maybe")
    assert r.status_code == 400
    assert r.json()["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")


def test_statistics_in_sql_agree_with_the_scan(session: Session, hub_entities: str) -> None:
    # a multi-instance attribute counts every instance
    service.upsert_attributes(
        session,
        tenant=hub_entities,
        entity_id="urn:ngsi-ld:Kiosk:2",
        entity_type="Kiosk",
        attrs={"visitors": {"type": "Property", "value": 3, "datasetId": "urn:ngsi-ld:Dataset:a"}},
    )
    service.upsert_attributes(
        session,
        tenant=hub_entities,
        entity_id="urn:ngsi-ld:Kiosk:2",
        entity_type="Kiosk",
        attrs={"visitors": {"type": "Property", "value": 4, "datasetId": "urn:ngsi-ld:Dataset:b"}},
    )
    session.flush()
    fast = views.attribute_stats(session, hub_entities)
    slow = views.attribute_stats_scan(session, hub_entities)
    assert {k: (v.count, v.attribute_types, v.type_names) for k, v in fast.items()} == {
        k: (v.count, v.attribute_types, v.type_names) for k, v in slow.items()
    }
    assert fast[V + "visitors"].count == 3
    only_kiosks = views.attribute_stats(session, hub_entities, entity_type=V + "Kiosk")
    assert set(only_kiosks) == {V + "visitors"}
