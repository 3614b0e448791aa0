"""Through the entity store: a subscription made over the API, entities written with the store
API (``upsert_attributes`` emits the change to ``on_changes``), the notification queued in the
writer's transaction and sent by a run of the deliverer — names compacted with the subscriber's
Smart Data Models context."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.hub.ngsi import service as store
from cityos.hub.subscriptions.delivery import Deliverer, Settings
from cityos.hub.subscriptions.models import HubNotification
from tests.factories import bearer, make_account, make_world
from tests.hub.subscriptions.conftest import Receiver

SDM = "https://smartdatamodels.org/context.jsonld"
LINK = f'<{SDM}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


@pytest.fixture
def auth(session: Session) -> dict[str, str]:
    world = make_world(session)
    account = make_account(session, roles=["data_officer"], scope=world.city)
    session.commit()
    return bearer(account.id)


def test_store_write_is_notified_with_the_subscribers_terms(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    auth: dict[str, str],
    receiver: Receiver,
    tenant: str,
) -> None:
    made = client.post(
        "/ngsi-ld/v1/subscriptions",
        json={
            "type": "Subscription",
            "entities": [{"type": "WasteContainer"}],
            "watchedAttributes": ["fillingLevel"],
            "q": "fillingLevel>0.8",
            "notification": {"endpoint": {"uri": receiver.url}, "attributes": ["fillingLevel"], "format": "keyValues"},
        },
        headers={**auth, "Link": LINK, "NGSILD-Tenant": tenant},
    )
    assert made.status_code == 201, made.text
    sid = made.headers["location"].rsplit("/", 1)[1]

    for n, level in enumerate((0.5, 0.95)):
        store.upsert_attributes(
            session,
            tenant=tenant,
            entity_id=f"urn:ngsi-ld:WasteContainer:{n}",
            entity_type="WasteContainer",
            attrs={"fillingLevel": {"type": "Property", "value": level}},
        )
    session.commit()
    queued = session.scalars(select(HubNotification).where(HubNotification.tenant == tenant)).all()
    assert len(queued) == 1  # the half-full one does not match q

    sent = Deliverer(session_factory, Settings(periodic=False, timeout=3)).run_once()
    assert sent == 1
    got = receiver.wait(1)
    assert len(got) == 1
    note = got[0].body
    assert note["subscriptionId"] == sid
    assert note["data"] == [{"id": "urn:ngsi-ld:WasteContainer:1", "type": "WasteContainer", "fillingLevel": 0.95}]
    assert SDM in got[0].headers["link"]
    session.expire_all()
    shown = client.get(f"/ngsi-ld/v1/subscriptions/{sid}", headers={**auth, "NGSILD-Tenant": tenant}).json()
    assert shown["notification"]["timesSent"] == 1
    assert shown["notification"]["lastSuccess"] is not None
    assert shown["notification"]["status"] == "ok"
