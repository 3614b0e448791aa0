"""The subscription routes: create (201 + Location, 409 on a duplicate), list (paging,
NGSILD-Results-Count), get, patch, delete; ProblemDetails with the fields for bad input, in the
caller's language; permissions; tenants; the Link context's terms in what is answered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from tests.factories import bearer, make_account, make_world

URL = "/ngsi-ld/v1/subscriptions"
SDM = "https://smartdatamodels.org/context.jsonld"
LINK = f'<{SDM}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


@pytest.fixture
def auth(session: Session) -> dict[str, str]:
    world = make_world(session)
    account = make_account(session, roles=["data_officer"], scope=world.city)
    session.commit()
    return bearer(account.id)


def sub(uri: str = "http://127.0.0.1:9/n", **extra: object) -> dict:
    return {
        "type": "Subscription",
        "entities": [{"type": "WasteContainer"}],
        "watchedAttributes": ["fillingLevel"],
        "q": "fillingLevel>0.8",
        "notification": {"endpoint": {"uri": uri, "accept": "application/json"}, "attributes": ["fillingLevel"]},
        **extra,
    }


def test_create_get_list_patch_delete(client: TestClient, auth: dict[str, str]) -> None:
    headers = {**auth, "Link": LINK}
    made = client.post(URL, json=sub(id="urn:ngsi-ld:Subscription:bins"), headers=headers)
    assert made.status_code == 201, made.text
    assert made.headers["location"] == f"{URL}/urn:ngsi-ld:Subscription:bins"
    again = client.post(URL, json=sub(id="urn:ngsi-ld:Subscription:bins"), headers=headers)
    assert again.status_code == 409
    assert again.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists"
    client.post(URL, json=sub(), headers=headers)

    got = client.get(f"{URL}/urn:ngsi-ld:Subscription:bins", headers=headers)
    assert got.status_code == 200
    data = got.json()
    assert data["entities"] == [{"type": "WasteContainer"}]  # compacted with the Link context
    assert data["watchedAttributes"] == ["fillingLevel"]
    assert data["notification"]["attributes"] == ["fillingLevel"]
    assert data["status"] == "active"
    assert data["notification"]["timesSent"] == 0
    # without the Link, the names are the full IRIs the SDM context gave
    bare = client.get(f"{URL}/urn:ngsi-ld:Subscription:bins", headers=auth).json()
    assert bare["entities"][0]["type"].startswith("https://")
    ld = client.get(f"{URL}/urn:ngsi-ld:Subscription:bins", headers={**headers, "Accept": "application/ld+json"})
    assert "@context" in ld.json()

    page = client.get(URL, params={"limit": 1, "count": "true"}, headers=headers)
    assert page.status_code == 200
    assert page.headers["ngsild-results-count"] == "2"
    assert len(page.json()) == 1
    second = client.get(URL, params={"limit": 1, "offset": 1}, headers=headers).json()
    assert second[0]["id"] != page.json()[0]["id"]

    patched = client.patch(
        f"{URL}/urn:ngsi-ld:Subscription:bins", json={"isActive": False, "throttling": 10}, headers=headers
    )
    assert patched.status_code == 204, patched.text
    data = client.get(f"{URL}/urn:ngsi-ld:Subscription:bins", headers=headers).json()
    assert data["status"] == "paused"
    assert data["throttling"] == 10

    assert client.delete(f"{URL}/urn:ngsi-ld:Subscription:bins", headers=headers).status_code == 204
    gone = client.get(f"{URL}/urn:ngsi-ld:Subscription:bins", headers=headers)
    assert gone.status_code == 404
    assert gone.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    assert client.delete(f"{URL}/urn:ngsi-ld:Subscription:bins", headers=headers).status_code == 404


def test_ld_json_body_keeps_its_context(client: TestClient, auth: dict[str, str]) -> None:
    body = {**sub(id="urn:ngsi-ld:Subscription:ld"), "@context": SDM}
    made = client.post(URL, json=body, headers={**auth, "Content-Type": "application/ld+json"})
    assert made.status_code == 201, made.text
    data = client.get(f"{URL}/urn:ngsi-ld:Subscription:ld", headers={**auth, "Link": LINK}).json()
    assert data["entities"] == [{"type": "WasteContainer"}]


def test_bad_input_answers_problem_details_with_fields(client: TestClient, auth: dict[str, str]) -> None:
    bad = sub(
        throttling=-1,
        expiresAt="soon",
        notification={"endpoint": {"uri": "gopher://x"}, "format": "flat"},
        entities=[{"id": "urn:x:1"}],
    )
    answer = client.post(URL, json=bad, headers=auth)
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    fields = {e["field"] for e in problem["errors"]}
    assert {"throttling", "expiresAt", "notification.endpoint.uri", "notification.format", "entities[0]"} <= fields
    assert client.get(URL, params={"count": "true"}, headers=auth).headers["ngsild-results-count"] == "0"
    # Chinese by default
    zh = client.post(URL, json=sub(throttling=-1), headers={**auth, "Accept-Language": "zh-CN"})
    message = next(e["message"] for e in zh.json()["errors"] if e["field"] == "throttling")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    # not JSON, a list, bad paging, bad patch
    assert client.post(URL, content=b"{", headers={**auth, "Content-Type": "application/json"}).status_code == 400
    assert client.post(URL, json=[sub()], headers=auth).status_code == 400
    assert client.get(URL, params={"limit": 0}, headers=auth).status_code == 400
    assert client.get(URL, params={"limit": 5000}, headers=auth).status_code in (400, 403)
    client.post(URL, json=sub(id="urn:ngsi-ld:Subscription:p"), headers=auth)
    patch = client.patch(f"{URL}/urn:ngsi-ld:Subscription:p", json={"timeInterval": 0}, headers=auth)
    assert patch.status_code == 400
    assert {e["field"] for e in patch.json()["errors"]} == {"timeInterval"}


def test_permissions_and_tenants(client: TestClient, session: Session, auth: dict[str, str]) -> None:
    assert client.get(URL).status_code == 401
    world = make_world(session)
    developer = make_account(session, roles=["developer"], scope=world.city)
    session.commit()
    denied = client.post(URL, json=sub(), headers=bearer(developer.id))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/")
    assert "type" in denied.json()

    made = client.post(URL, json=sub(id="urn:ngsi-ld:Subscription:a"), headers={**auth, "NGSILD-Tenant": "alpha"})
    assert made.status_code == 201
    assert client.get(f"{URL}/urn:ngsi-ld:Subscription:a", headers={**auth, "NGSILD-Tenant": "beta"}).status_code == 404
    assert (
        client.get(f"{URL}/urn:ngsi-ld:Subscription:a", headers={**auth, "NGSILD-Tenant": "alpha"}).status_code == 200
    )
    assert client.get(f"{URL}/urn:ngsi-ld:Subscription:a", headers=auth).status_code == 404
    assert client.get(URL, headers={**auth, "NGSILD-Tenant": "bad tenant!"}).status_code == 400


def test_expired_subscription_reads_expired(client: TestClient, auth: dict[str, str], session: Session) -> None:
    from datetime import timedelta

    from cityos.hub.subscriptions.models import HubSubscription

    client.post(URL, json=sub(id="urn:ngsi-ld:Subscription:e"), headers=auth)
    row = session.query(HubSubscription).filter_by(subscription_id="urn:ngsi-ld:Subscription:e").one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert client.get(f"{URL}/urn:ngsi-ld:Subscription:e", headers=auth).json()["status"] == "expired"


def test_filip_subscription_model_round_trips(client: TestClient, auth: dict[str, str]) -> None:
    """What FiLiP's ContextBrokerLDClient sends and reads (its SubscriptionLD model, the trailing
    slash and options=count of its listing)."""
    from filip.models.ngsi_ld.subscriptions import SubscriptionLD

    model = SubscriptionLD(
        id="urn:ngsi-ld:Subscription:filip",
        entities=[{"type": "WasteContainer"}],
        watchedAttributes=["fillingLevel"],
        throttling=5,
        notification={"endpoint": {"uri": "http://127.0.0.1:9/n", "accept": "application/json"}},
    )
    data = model.model_dump_json(exclude_unset=False, exclude_defaults=False, exclude_none=True)
    made = client.post(URL + "/", content=data, headers={**auth, "Content-Type": "application/json", "Link": LINK})
    assert made.status_code == 201, made.text
    assert made.headers["location"].split("/")[-1] == "urn:ngsi-ld:Subscription:filip"
    listed = client.get(URL + "/", params={"options": "count", "limit": 10}, headers={**auth, "Link": LINK})
    assert listed.headers["ngsild-results-count"] == "1"
    back = SubscriptionLD(**listed.json()[0])
    assert back.throttling == 5
    assert back.notification.status == "ok"
    assert back.entities is not None
    assert back.entities[0].type == "WasteContainer"
