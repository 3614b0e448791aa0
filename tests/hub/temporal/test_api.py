"""The NGSI-LD temporal API over HTTP: every query form, the representations, writes of
instances, ProblemDetails for bad input (in the caller's language), tenants and permissions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.hub.ngsi import service as store
from cityos.hub.temporal.models import SensorObservation
from tests.hub.temporal.helpers import FILL, bin_id, seed

URL = "/ngsi-ld/v1/temporal/entities"
BETWEEN = {"timerel": "between", "timeAt": "2026-11-30T00:00:00Z", "endTimeAt": "2026-11-30T06:00:00Z"}
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


def get(client: TestClient, auth: dict[str, str], url: str = URL, **params: Any) -> Any:
    return client.get(url, params=params, headers=auth)


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def test_query_forms(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    seed(session)
    session.commit()
    r = get(client, auth, type="Bin", count="true", **BETWEEN)
    assert r.status_code == 200, r.text
    assert r.headers["NGSILD-Results-Count"] == "3"
    assert "json-ld#context" in r.headers["Link"]
    docs = r.json()
    assert [d["id"] for d in docs] == [bin_id(1), bin_id(2), bin_id(3)]
    assert docs[0]["type"] == "Bin"
    fill = docs[1]["fill"]
    assert [i["value"] for i in fill] == [20, 21, 22, 23, 24, 25]
    assert fill[0]["observedAt"] == "2026-11-30T00:00:00Z"
    assert fill[0]["unitCode"] == "P1"
    assert fill[0]["instanceId"].startswith("urn:ngsi-ld:attribute-instance:")
    assert [i["value"] for i in docs[1]["state"]][-2:] == ["full", "full"]

    paged = get(client, auth, type="Bin", limit="1", offset="1", attrs="fill", lastN="2", **BETWEEN).json()
    assert [(d["id"], [i["value"] for i in d["fill"]]) for d in paged] == [(bin_id(2), [24, 25])]
    assert "state" not in paged[0]

    simple = get(client, auth, id=bin_id(3), attrs="fill", options="temporalValues", **BETWEEN).json()
    assert simple[0]["fill"]["type"] == "Property"
    assert simple[0]["fill"]["values"][:2] == [[30, "2026-11-30T00:00:00Z"], [31, "2026-11-30T01:00:00Z"]]

    agg = get(
        client,
        auth,
        idPattern=r"Bin:00[12]$",
        attrs="fill",
        options="aggregatedValues",
        aggrMethods="sum,avg,max,totalCount",
        aggrPeriodDuration="PT3H",
        **BETWEEN,
    ).json()
    assert [d["id"] for d in agg] == [bin_id(1), bin_id(2)]
    one = agg[0]["fill"]
    assert one["sum"] == [
        [33, "2026-11-30T00:00:00Z", "2026-11-30T03:00:00Z"],
        [42, "2026-11-30T03:00:00Z", "2026-11-30T06:00:00Z"],
    ]
    assert [p[0] for p in one["avg"]] == [11, 14]
    assert [p[0] for p in one["max"]] == [12, 15]
    assert [p[0] for p in one["totalCount"]] == [3, 3]

    ld = client.get(
        URL, params={"type": "Bin", "limit": "1", **BETWEEN}, headers={**auth, "Accept": "application/ld+json"}
    )
    assert ld.headers["content-type"].startswith("application/ld+json")
    assert "@context" in ld.json()[0]

    before = get(client, auth, id=bin_id(1), attrs="fill", timerel="before", timeAt="2026-11-30T02:00:00Z").json()
    assert [i["value"] for i in before[0]["fill"]] == [10, 11]
    after = get(client, auth, id=bin_id(1), attrs="fill", timerel="after", timeAt="2026-11-30T04:00:00Z").json()
    assert [i["value"] for i in after[0]["fill"]] == [15]


def test_history_of_the_entity_store_and_q(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    for n, status in ((1, "ok"), (2, "full")):
        store.upsert_attributes(
            session,
            tenant="default",
            entity_id=f"urn:ngsi-ld:Thing:{n}",
            entity_type="Thing",
            attrs={"level": {"type": "Property", "value": n / 10}},
        )
        store.upsert_attributes(
            session,
            tenant="default",
            entity_id=f"urn:ngsi-ld:Thing:{n}",
            entity_type="Thing",
            attrs={
                "level": {"type": "Property", "value": n / 10 + 0.5},
                "status": {"type": "Property", "value": status},
            },
        )
    store.upsert_attributes(
        session,
        tenant="default",
        entity_id="urn:ngsi-ld:Thing:1",
        entity_type="Thing",
        attrs={"level": {"type": "Property", "value": 9.0}},
        history=False,
    )
    session.commit()
    window = {"timerel": "after", "timeAt": "2000-01-01T00:00:00Z"}
    docs = get(client, auth, type="Thing", attrs="level", **window).json()
    assert [(d["id"], [i["value"] for i in d["level"]]) for d in docs] == [
        ("urn:ngsi-ld:Thing:1", [0.1, 0.6]),
        ("urn:ngsi-ld:Thing:2", [0.2, 0.7]),
    ]
    full = get(client, auth, type="Thing", q='status=="full"', **window).json()
    assert [d["id"] for d in full] == ["urn:ngsi-ld:Thing:2"]
    one = client.get(f"{URL}/urn:ngsi-ld:Thing:2", params={"attrs": "status"}, headers=auth)
    assert one.status_code == 200
    assert one.json()["status"][0]["value"] == "full"
    assert "level" not in one.json()


def test_bad_queries_answer_problem_details(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    seed(session, bins=1, hours=1)
    session.commit()
    cases: list[tuple[dict[str, str], str]] = [
        ({"type": "Bin"}, "timerel"),
        ({"type": "Bin", "timerel": "during", "timeAt": "2026-11-30T00:00:00Z"}, "timerel"),
        ({"type": "Bin", "timerel": "after"}, "timeAt"),
        ({"type": "Bin", "timerel": "after", "timeAt": "noon"}, "timeAt"),
        ({"type": "Bin", "timerel": "between", "timeAt": "2026-11-30T00:00:00Z"}, "endTimeAt"),
        (
            {
                "type": "Bin",
                **BETWEEN,
                "aggrPeriodDuration": "1 hour",
                "options": "aggregatedValues",
                "aggrMethods": "sum",
            },
            "aggrPeriodDuration",
        ),
        ({"type": "Bin", **BETWEEN, "options": "aggregatedValues"}, "aggrMethods"),
        ({"type": "Bin", **BETWEEN, "options": "aggregatedValues", "aggrMethods": "median"}, "aggrMethods"),
        ({"type": "Bin", **BETWEEN, "lastN": "0"}, "lastN"),
        ({"type": "Bin", **BETWEEN, "limit": "5000"}, "limit"),
        ({"type": "Bin", **BETWEEN, "options": "fancy"}, "options"),
        ({"type": "Bin", **BETWEEN, "timeproperty": "seenAt"}, "timeproperty"),
        ({"type": "Bin", **BETWEEN, "idPattern": "(a+)+"}, "idPattern"),
        ({"type": "Bin", **BETWEEN, "q": "status=="}, "q"),
        (dict(BETWEEN), "type"),
    ]
    for params, field in cases:
        r = get(client, auth, **params)
        assert r.status_code == 400, (params, r.text)
        body = r.json()
        assert body["type"] == ERRORS + "BadRequestData", params
        assert field in fields(r), (params, body)
        assert "error" not in body
    zh = client.get(URL, params={"type": "Bin"}, headers={**auth, "Accept-Language": "zh-CN"})
    assert zh.status_code == 400
    assert "timerel" in zh.json()["errors"][0]["message"]
    assert zh.json()["errors"][0]["message"] != "Give timerel (before, after or between) and timeAt."
    missing = client.get(f"{URL}/urn:ngsi-ld:Bin:999", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["type"] == ERRORS + "ResourceNotFound"


def _rows(session: Session, entity_id: str) -> int:
    stmt = select(func.count()).select_from(SensorObservation).where(SensorObservation.entity_id == entity_id)
    return int(session.scalar(stmt) or 0)


def test_writes_of_instances(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    eid = "urn:ngsi-ld:Bin:w1"
    body = {
        "id": eid,
        "type": "Bin",
        "fill": [
            {"type": "Property", "value": 0.3, "observedAt": "2026-11-30T01:00:00Z"},
            {"type": "Property", "value": 0.4, "observedAt": "2026-11-30T02:00:00Z"},
        ],
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Org:1", "observedAt": "2026-11-30T01:00:00Z"},
    }
    made = client.post(URL, json=body, headers=auth)
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == f"{URL}/{eid}"
    again = client.post(
        URL,
        json={
            "id": eid,
            "type": "Bin",
            "fill": {"type": "Property", "value": 0.5, "observedAt": "2026-11-30T03:00:00Z"},
        },
        headers=auth,
    )
    assert again.status_code == 204
    added = client.post(
        f"{URL}/{eid}/attrs",
        json={"fill": {"type": "Property", "value": 0.6, "observedAt": "2026-11-30T04:00:00Z"}},
        headers=auth,
    )
    assert added.status_code == 204, added.text
    doc = client.get(f"{URL}/{eid}", headers=auth).json()
    assert [i["value"] for i in doc["fill"]] == [0.3, 0.4, 0.5, 0.6]
    assert doc["owner"][0] == {
        "type": "Relationship",
        "object": "urn:ngsi-ld:Org:1",
        "observedAt": "2026-11-30T01:00:00Z",
        "instanceId": doc["owner"][0]["instanceId"],
    }
    instance = doc["fill"][1]["instanceId"]
    patched = client.patch(
        f"{URL}/{eid}/attrs/fill/{instance}", json={"fill": {"type": "Property", "value": 0.45}}, headers=auth
    )
    assert patched.status_code == 204, patched.text
    doc = client.get(f"{URL}/{eid}", params={"attrs": "fill", "lastN": "3"}, headers=auth).json()
    assert [i["value"] for i in doc["fill"]] == [0.45, 0.5, 0.6]
    assert (
        client.patch(
            f"{URL}/{eid}/attrs/fill/urn:ngsi-ld:attribute-instance:nope",
            json={"type": "Property", "value": 1},
            headers=auth,
        ).status_code
        == 404
    )
    assert client.delete(f"{URL}/{eid}/attrs/owner", headers=auth).status_code == 204
    assert "owner" not in client.get(f"{URL}/{eid}", headers=auth).json()
    assert client.delete(f"{URL}/{eid}/attrs/owner", headers=auth).status_code == 404
    assert client.delete(f"{URL}/{eid}", headers=auth).status_code == 204
    assert client.get(f"{URL}/{eid}", headers=auth).status_code == 404
    assert client.delete(f"{URL}/{eid}", headers=auth).status_code == 404


def test_bad_writes_store_nothing(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    eid = "urn:ngsi-ld:Bin:bad"
    cases: list[tuple[Any, set[str]]] = [
        ({"type": "Bin", "fill": {"type": "Property", "value": 1}}, {"id"}),
        ({"id": "not a uri", "fill": {"type": "Property", "value": 1}}, {"id", "type"}),
        ({"id": eid, "type": "Bin"}, {"body"}),
        ({"id": eid, "type": "Bin", "fill": {"type": "Property"}}, {"fill"}),
        (
            {"id": eid, "type": "Bin", "fill": [{"type": "Property", "value": 1}, {"value": 2, "observedAt": "soon"}]},
            {"fill.observedAt"},
        ),
        ({"id": eid, "type": "Bin", "owner": {"type": "Relationship", "object": "nobody"}}, {"owner.object"}),
        ({"id": eid, "type": "Bin", "where": {"type": "GeoProperty", "value": {"type": "Point"}}}, {"where.value"}),
        ({"id": eid, "type": "Bin", "fill": {"type": "Property", "value": 1, "datasetId": "x y"}}, {"fill.datasetId"}),
        ([{"id": eid}], {"body"}),
    ]
    for body, expected in cases:
        r = client.post(URL, json=body, headers=auth)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["type"] == ERRORS + "BadRequestData"
        assert expected <= fields(r), (body, r.json())
    not_json = client.post(URL, content=b"{", headers={**auth, "Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert _rows(session, eid) == 0
    assert (
        client.post(f"{URL}/{eid}/attrs", json={"fill": {"type": "Property", "value": 1}}, headers=auth).status_code
        == 404
    )
    client.post(URL, json={"id": eid, "type": "Bin", "fill": {"type": "Property", "value": 1}}, headers=auth)
    bad_patch = client.post(f"{URL}/{eid}/attrs", json={"fill": {"type": "Property"}}, headers=auth)
    assert bad_patch.status_code == 400
    instance = client.get(f"{URL}/{eid}", headers=auth).json()["fill"][0]["instanceId"]
    r = client.patch(
        f"{URL}/{eid}/attrs/fill/{instance}", json={"fill": {"type": "Relationship", "object": 3}}, headers=auth
    )
    assert r.status_code == 400
    assert _rows(session, eid) == 1
    assert client.get(f"{URL}/{eid}", headers=auth).json()["fill"][0]["value"] == 1


def test_tenants_and_permissions(
    client: TestClient, session: Session, auth: dict[str, str], nobody: dict[str, str]
) -> None:
    north = {**auth, "NGSILD-Tenant": "north"}
    body = {
        "id": "urn:ngsi-ld:Bin:n1",
        "type": "Bin",
        "fill": {"type": "Property", "value": 5, "observedAt": "2026-11-30T01:00:00Z"},
    }
    unknown = client.get(URL, params={"type": "Bin", **BETWEEN}, headers={**auth, "NGSILD-Tenant": "south"})
    assert unknown.status_code == 404
    assert unknown.json()["type"] == ERRORS + "NonexistentTenant"
    assert client.post(URL, json=body, headers=north).status_code == 201
    assert [d["id"] for d in client.get(URL, params={"type": "Bin", **BETWEEN}, headers=north).json()] == [
        "urn:ngsi-ld:Bin:n1"
    ]
    assert client.get(URL, params={"type": "Bin", **BETWEEN}, headers=auth).json() == []
    assert client.get(f"{URL}/urn:ngsi-ld:Bin:n1", headers=auth).status_code == 404
    assert client.get(URL, params={"type": "Bin", **BETWEEN}).status_code == 401
    denied = client.get(URL, params={"type": "Bin", **BETWEEN}, headers=nobody)
    assert denied.status_code == 403
    assert client.post(URL, json=body, headers=nobody).status_code == 403
    assert client.delete(f"{URL}/urn:ngsi-ld:Bin:n1", headers={**nobody, "NGSILD-Tenant": "north"}).status_code == 403
    assert _rows(session, "urn:ngsi-ld:Bin:n1") == 1
    assert FILL  # the seeded attribute's IRI is the default vocabulary's "fill"


def test_purged_days_still_answer(client: TestClient, session: Session, auth: dict[str, str], archive_dir: Any) -> None:
    from datetime import date

    from cityos.hub.temporal import archive

    seed(session)
    session.commit()
    params = {"type": "Bin", "attrs": "fill", **BETWEEN}
    agg = {"options": "aggregatedValues", "aggrMethods": "avg,sum", "aggrPeriodDuration": "PT2H"}
    before = get(client, auth, **params).json()
    before_agg = get(client, auth, **params, **agg).json()
    moved = archive.purge(session, archive_dir=archive_dir, today=date(2026, 12, 31), zone="Asia/Shanghai")
    session.commit()
    assert sum(r.purged for r in moved) == 36
    assert _rows(session, bin_id(1)) == 0
    assert get(client, auth, **params).json() == before
    assert get(client, auth, **params, **agg).json() == before_agg
    last = client.get(f"{URL}/{bin_id(2)}", params={"attrs": "fill", "lastN": "1"}, headers=auth).json()
    assert [i["value"] for i in last["fill"]] == [25]
    assert client.delete(f"{URL}/{bin_id(2)}", headers=auth).status_code == 204
    assert [d["id"] for d in get(client, auth, **params).json()] == [bin_id(1), bin_id(3)]


def test_q_on_history_only_entities_and_created_at(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    from cityos.core.db import utcnow

    for n, level in ((1, 0.2), (2, 0.9)):
        body = {
            "id": f"urn:ngsi-ld:Tank:{n}",
            "type": "Tank",
            "level": [
                {"type": "Property", "value": 0.5, "observedAt": "2026-11-30T01:00:00Z"},
                {"type": "Property", "value": level, "observedAt": "2026-11-30T02:00:00Z"},
            ],
        }
        assert client.post(URL, json=body, headers=auth).status_code == 201
    window = {"timerel": "after", "timeAt": "2026-11-30T00:00:00Z"}
    high = get(client, auth, type="Tank", q="level>0.8", **window).json()
    assert [d["id"] for d in high] == ["urn:ngsi-ld:Tank:2"]  # the latest instance, not any instance
    assert [i["value"] for i in high[0]["level"]] == [0.5, 0.9]
    stored_since = (utcnow() - timedelta(minutes=5)).isoformat()
    recent = get(client, auth, type="Tank", timerel="after", timeAt=stored_since, timeproperty="createdAt").json()
    assert [d["id"] for d in recent] == ["urn:ngsi-ld:Tank:1", "urn:ngsi-ld:Tank:2"]
    future = (utcnow() + timedelta(minutes=5)).isoformat()
    assert get(client, auth, type="Tank", timerel="after", timeAt=future, timeproperty="createdAt").json() == []
    full = get(client, auth, type="Tank", options="sysAttrs", **window).json()
    assert "createdAt" in full[0]["level"][0]


def test_query_by_body(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    seed(session)
    session.commit()
    url = "/ngsi-ld/v1/temporal/entityOperations/query"
    body = {
        "type": "Query",
        "entities": [{"type": "Bin", "id": bin_id(3)}, {"type": "Bin", "idPattern": "Bin:001$"}],
        "attrs": ["fill"],
        "temporalQ": {"timerel": "between", "timeAt": BETWEEN["timeAt"], "endTimeAt": BETWEEN["endTimeAt"], "lastN": 2},
    }
    r = client.post(url, json=body, params={"count": "true"}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["NGSILD-Results-Count"] == "2"
    assert [(d["id"], [i["value"] for i in d["fill"]]) for d in r.json()] == [
        (bin_id(1), [14, 15]),
        (bin_id(3), [34, 35]),
    ]
    agg = client.post(
        url,
        json={**body, "aggrMethods": ["min"]},
        params={"options": "aggregatedValues"},
        headers=auth,
    ).json()
    assert [d["fill"]["min"][0][0] for d in agg] == [14, 34]
    for bad, field in (
        ({"entities": [{"type": "Bin"}]}, "temporalQ"),
        ({**body, "entities": "Bin"}, "entities"),
        ({**body, "attrs": "fill"}, "attrs"),
        ({**body, "temporalQ": {"timerel": "after"}}, "timeAt"),
        ({**body, "entities": [{"type": 3}]}, "entities[0].type"),
    ):
        r = client.post(url, json=bad, headers=auth)
        assert r.status_code == 400, (bad, r.text)
        assert field in fields(r), (bad, r.json())


def test_smart_data_models_names_with_a_link_context(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    from datetime import UTC, datetime

    sdm = "https://smartdatamodels.org/context.jsonld"
    link = f'<{sdm}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    for hour, level in ((8, 0.4), (9, 0.85)):
        store.upsert_attributes(
            session,
            tenant="default",
            entity_id="urn:ngsi-ld:WasteContainer:t1",
            entity_type="WasteContainer",
            attrs={"fillingLevel": {"type": "Property", "value": level}},
            observed_at=datetime(2026, 11, 30, hour, tzinfo=UTC),
        )
    session.commit()
    params = {"type": "WasteContainer", "attrs": "fillingLevel", **BETWEEN, "endTimeAt": "2026-11-30T12:00:00Z"}
    docs = client.get(URL, params=params, headers={**auth, "Link": link}).json()
    assert docs[0]["type"] == "WasteContainer"
    assert [(i["value"], i["observedAt"]) for i in docs[0]["fillingLevel"]] == [
        (0.4, "2026-11-30T08:00:00Z"),
        (0.85, "2026-11-30T09:00:00Z"),
    ]
    assert client.get(URL, params=params, headers=auth).json() == []  # without the context: another type
