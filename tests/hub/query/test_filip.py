"""The issue's check: FIWARE's own Python library (FiLiP) drives the hub's NGSI-LD API end to end.

The app runs under uvicorn on a free local port in a thread, over the test database, with its
own runtime (so the outbox poller and the hub's workers — the subscription deliverer — run as in
``cityos serve``). ``filip.clients.ngsi_ld.cb.ContextBrokerLDClient`` authenticates with a
bearer token through a ``requests.Session``. Everything is written in a tenant of its own, which
the test deletes again at the end.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import uvicorn
from filip.clients.ngsi_ld.cb import ContextBrokerLDClient
from filip.models.base import FiwareLDHeader
from filip.models.ngsi_ld.context import ActionTypeLD, ContextLDEntity, ContextProperty
from filip.models.ngsi_ld.subscriptions import EntityInfo, NotificationParams, SubscriptionLD
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cityos.core.settings import Settings
from cityos.identity import tokens
from tests.factories import add_region, make_account

SDM_CONTEXT = "https://smartdatamodels.org/context.jsonld"
NGSI = "/ngsi-ld/v1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """A local HTTP endpoint that records the notifications it receives."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in list(self.received):
                if predicate(body):
                    return body
            self.arrived.wait(0.2)
            self.arrived.clear()
        return None


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    port = _free_port()
    box = Inbox(url=f"http://127.0.0.1:{port}/notify")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                box.received.append(json.loads(raw or b"{}"))
            except ValueError:
                box.received.append({"raw": raw.decode(errors="replace")})
            box.arrived.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@dataclass
class Live:
    url: str
    token: str
    tenant: str


@pytest.fixture(scope="module")
def live(isolated_engine: Engine, isolated_url: str) -> Iterator[Live]:
    engine = isolated_engine
    from cityos.app import create_app

    with Session(engine) as s:
        city = add_region(s, None, "city", "FiLiP 测试市")
        account = make_account(s, roles=["data_officer"], scope=city, username=f"filip-{uuid.uuid4().hex[:8]}")
        account_id = account.id
        s.commit()
    token, _ = tokens.issue("access", str(account_id), timedelta(minutes=30))
    app_settings = Settings(env="test", database_url=isolated_url, log_level="WARNING")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(app_settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    tenant = f"filip_{uuid.uuid4().hex[:10]}"
    try:
        yield Live(url=f"http://127.0.0.1:{port}", token=token, tenant=tenant)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        _forget_tenant(engine, tenant)


def _forget_tenant(engine: Engine, tenant: str) -> None:
    """What the test left in the shared test database: its tenant's rows."""
    from cityos.hub.ngsi.models import NgsiEntity, NgsiTenant

    with Session(engine) as s:
        s.execute(delete(NgsiEntity).where(NgsiEntity.tenant == tenant))
        s.execute(delete(NgsiTenant).where(NgsiTenant.name == tenant))
        s.commit()


def http(live: Live) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {live.token}"
    return session


def broker(live: Live, *, page: int = 1000) -> ContextBrokerLDClient:
    header = FiwareLDHeader(ngsild_tenant=live.tenant)
    header.set_context(SDM_CONTEXT)
    return ContextBrokerLDClient(url=live.url, session=http(live), fiware_header=header, pagination_limit=page)


def container(n: int, level: float, lon: float = 104.06, lat: float = 30.67) -> ContextLDEntity:
    return ContextLDEntity(
        id=f"urn:ngsi-ld:WasteContainer:filip{n:03d}",
        type="WasteContainer",
        fillingLevel={"type": "Property", "value": level},
        status={"type": "Property", "value": "ok"},
        location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
    )


def test_filip_drives_the_hub_end_to_end(live: Live, inbox: Inbox) -> None:
    # create_tenant=True: FiLiP writes and deletes a temporary entity, which creates the tenant
    cb = broker(live)
    raw = http(live)
    headers = {"NGSILD-Tenant": live.tenant, "Link": f'<{SDM_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"'}

    # create, and a duplicate create answers 409
    location = cb.post_entity(container(1, 0.3))
    assert location is not None
    assert location.endswith("urn:ngsi-ld:WasteContainer:filip001")
    with pytest.raises(requests.HTTPError) as dup:
        cb.post_entity(container(1, 0.3))
    assert dup.value.response is not None
    assert dup.value.response.status_code == 409

    # get
    got = cb.get_entity("urn:ngsi-ld:WasteContainer:filip001")
    assert got.id == "urn:ngsi-ld:WasteContainer:filip001"
    assert got.type == "WasteContainer"
    assert got.model_dump()["fillingLevel"]["value"] == 0.3

    # batch create of 24 more: 11 of the 25 are fuller than 0.5; 5 lie 20 km away
    batch = [container(n, 0.05 * (n % 20), lon=104.06 + (0.2 if n > 20 else 0.0)) for n in range(2, 26)]
    cb.entity_batch_operation(entities=batch, action_type=ActionTypeLD.CREATE)

    # query by type, paging through NGSILD-Results-Count with pages of 7
    paged = broker(live, page=7)
    everything = paged.get_entity_list(entity_type="WasteContainer")
    assert len(everything) == 25
    assert len({e.id for e in everything}) == 25
    first_ten = paged.get_entity_list(entity_type="WasteContainer", limit=10)
    assert len(first_ten) == 10
    counted = raw.get(
        f"{live.url}{NGSI}/entities", params={"type": "WasteContainer", "count": "true", "limit": 3}, headers=headers
    )
    assert counted.status_code == 200
    assert counted.headers["NGSILD-Results-Count"] == "25"
    assert len(counted.json()) == 3

    # q and geo
    expected_full = {f"urn:ngsi-ld:WasteContainer:filip{n:03d}" for n in range(2, 26) if 0.05 * (n % 20) > 0.5}
    full = cb.get_entity_list(entity_type="WasteContainer", q="fillingLevel>0.5")
    assert {e.id for e in full} == expected_full
    near = cb.get_entity_list(
        entity_type="WasteContainer", georel="near;maxDistance==1000", geometry="Point", coordinates="[104.06,30.67]"
    )
    assert len(near) == 20
    both = cb.get_entity_list(
        entity_type="WasteContainer",
        q='fillingLevel>0.5;status=="ok"',
        georel="near;maxDistance==1000",
        geometry="Point",
        coordinates="[104.06,30.67]",
    )
    assert {e.id for e in both} == {i for i in expected_full if int(i[-3:]) <= 20}
    bad_q = raw.get(
        f"{live.url}{NGSI}/entities", params={"type": "WasteContainer", "q": "fillingLevel>>"}, headers=headers
    )
    assert bad_q.status_code == 400
    assert bad_q.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"

    # update one attribute, append one, replace existing ones
    cb.update_entity_attribute(
        entity_id="urn:ngsi-ld:WasteContainer:filip001", attr=ContextProperty(value=0.45), attr_name="fillingLevel"
    )
    assert cb.get_entity("urn:ngsi-ld:WasteContainer:filip001").model_dump()["fillingLevel"]["value"] == 0.45
    extra = ContextLDEntity(
        id="urn:ngsi-ld:WasteContainer:filip001",
        type="WasteContainer",
        storedWasteKind={"type": "Property", "value": "glass"},
    )
    cb.append_entity_attributes(extra)
    assert cb.get_entity("urn:ngsi-ld:WasteContainer:filip001").model_dump()["storedWasteKind"]["value"] == "glass"
    cb.replace_existing_attributes_of_entity(
        ContextLDEntity(
            id="urn:ngsi-ld:WasteContainer:filip001",
            type="WasteContainer",
            status={"type": "Property", "value": "lidOpen"},
        )
    )
    assert cb.get_entity("urn:ngsi-ld:WasteContainer:filip001").model_dump()["status"]["value"] == "lidOpen"
    # a Smart Data Models violation is refused with the field named
    refused = raw.patch(
        f"{live.url}{NGSI}/entities/urn:ngsi-ld:WasteContainer:filip001/attrs/fillingLevel",
        json={"value": 1.7},
        headers=headers,
    )
    assert refused.status_code == 400
    assert "fillingLevel" in json.dumps(refused.json())

    # batch upsert with one bad entity: 207, the good ones written, the bad one not
    good = container(30, 0.1)
    bad = container(31, 5.0)  # fillingLevel is 0..1
    cb.entity_batch_operation(entities=[good, bad], action_type=ActionTypeLD.UPSERT, options="update")
    assert cb.get_entity("urn:ngsi-ld:WasteContainer:filip030").id == "urn:ngsi-ld:WasteContainer:filip030"
    with pytest.raises(requests.HTTPError) as missing:
        cb.get_entity("urn:ngsi-ld:WasteContainer:filip031")
    assert missing.value.response is not None
    assert missing.value.response.status_code == 404
    partial = raw.post(
        f"{live.url}{NGSI}/entityOperations/upsert",
        json=[
            container(32, 0.2).model_dump(exclude_none=True),
            container(33, -1).model_dump(exclude_none=True),
        ],
        headers=headers,
    )
    assert partial.status_code == 207
    report = partial.json()
    assert report["success"] == ["urn:ngsi-ld:WasteContainer:filip032"]
    assert [e["entityId"] for e in report["errors"]] == ["urn:ngsi-ld:WasteContainer:filip033"]

    # subscribe: the subscription round-trips, and a matching change is notified to our endpoint
    subscription = SubscriptionLD(
        type="Subscription",
        entities=[EntityInfo(type="WasteContainer")],
        watchedAttributes=["fillingLevel"],
        q="fillingLevel>0.8",
        notification=NotificationParams(
            attributes=["fillingLevel"], endpoint={"uri": inbox.url, "accept": "application/json"}
        ),
    )
    subscription_id = cb.post_subscription(subscription)
    assert subscription_id
    stored = cb.get_subscription(subscription_id)
    assert stored.q == "fillingLevel>0.8"
    assert [e.type for e in stored.entities or []] == ["WasteContainer"]
    assert str(stored.notification.endpoint.uri) == inbox.url
    assert subscription_id in {s.id for s in cb.get_subscription_list()}

    cb.update_entity_attribute(
        entity_id="urn:ngsi-ld:WasteContainer:filip002", attr=ContextProperty(value=0.95), attr_name="fillingLevel"
    )

    def about_filip002(body: dict[str, Any]) -> bool:
        return any(e.get("id") == "urn:ngsi-ld:WasteContainer:filip002" for e in body.get("data", []))

    notification = inbox.wait_for(about_filip002)
    assert notification is not None, "no notification arrived"
    assert notification["type"] == "Notification"
    assert notification["subscriptionId"] == subscription_id
    entity = next(e for e in notification["data"] if e["id"] == "urn:ngsi-ld:WasteContainer:filip002")
    assert entity["fillingLevel"]["value"] == 0.95
    # the delivery figures come back through FiLiP's subscription model
    deadline = time.monotonic() + 15
    while (cb.get_subscription(subscription_id).notification.timesSent or 0) < 1:
        assert time.monotonic() < deadline, "timesSent never counted the delivery"
        time.sleep(0.2)
    assert cb.get_subscription(subscription_id).notification.lastSuccess
    cb.delete_subscription(subscription_id)
    with pytest.raises(requests.HTTPError):
        cb.get_subscription(subscription_id)

    # delete: one by id, the rest in a batch
    cb.delete_entity_by_id("urn:ngsi-ld:WasteContainer:filip001")
    with pytest.raises(requests.HTTPError) as gone:
        cb.get_entity("urn:ngsi-ld:WasteContainer:filip001")
    assert gone.value.response is not None
    assert gone.value.response.status_code == 404
    rest = cb.get_entity_list(entity_type="WasteContainer")
    assert len(rest) == 26
    # entities read as application/ld+json carry @context, so FiLiP sends the id list as
    # application/ld+json: the hub takes an id list with either media type
    assert all(e.model_dump().get("@context") is not None for e in rest)
    cb.entity_batch_operation(entities=rest, action_type=ActionTypeLD.DELETE)
    assert cb.get_entity_list(entity_type="WasteContainer") == []
