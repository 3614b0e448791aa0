"""The NGSI-LD fast path (``fastpath.py``) answers like the normal routes: the same requests
through an app with it and an app without it give the same responses, stored entities,
history rows and queued notifications; what it does not handle goes to the normal route."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.runtime import Runtime
from cityos.core.settings import Settings
from cityos.hub.ngsi import fastpath
from cityos.hub.ngsi.context import SDM_CONTEXT_URL
from cityos.hub.subscriptions.models import HubNotification
from cityos.hub.temporal.models import SensorObservation

LINK = f'<{SDM_CONTEXT_URL}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
TENANT = "fast"
ENTITIES = "/ngsi-ld/v1/entities"


@pytest.fixture
def fast(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    """The app as ``create_app`` makes it: with the fast path."""
    from cityos.app import create_app

    assert settings.ngsi_fast_path
    with TestClient(create_app(settings, runtime=runtime), headers={"Accept-Language": "en"}) as c:
        yield c


@pytest.fixture
def client(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    """The same app with the fast path switched off: the normal routes answer everything."""
    from cityos.app import create_app

    normal = settings.model_copy(update={"ngsi_fast_path": False})
    with TestClient(create_app(normal, runtime=runtime), headers={"Accept-Language": "en"}) as c:
        yield c


def _entity(entity_id: str) -> dict[str, Any]:
    return {
        "id": entity_id,
        "type": "WasteContainer",
        "fillingLevel": {"type": "Property", "value": 0.5},
        "temperature": {"type": "Property", "value": 12.0, "unitCode": "CEL"},
    }


def _setup(client: TestClient, auth: dict[str, str], ids: list[str]) -> None:
    headers = {**auth, "Link": LINK, "NGSILD-Tenant": TENANT}
    for entity_id in ids:
        made = client.post(ENTITIES, json=_entity(entity_id), headers=headers)
        assert made.status_code == 201, made.text
    sub = {
        "type": "Subscription",
        "entities": [{"type": "WasteContainer"}],
        "watchedAttributes": ["fillingLevel"],
        "q": "fillingLevel>0.8",
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n", "accept": "application/json"}},
    }
    made = client.post("/ngsi-ld/v1/subscriptions", json=sub, headers=headers)
    assert made.status_code == 201, made.text


def _stored(session: Session, client: TestClient, auth: dict[str, str], entity_id: str) -> Any:
    got = client.get(
        f"{ENTITIES}/{entity_id}", headers={**auth, "Link": LINK, "NGSILD-Tenant": TENANT}, params={"sysAttrs": "true"}
    )
    if got.status_code != 200:
        return got.status_code
    return _plain(got.json(), entity_id)


def _plain(data: Any, entity_id: str) -> Any:
    """``data`` without the entity's own id and timestamps, to compare two entities."""
    if isinstance(data, dict):
        return {k: _plain(v, entity_id) for k, v in data.items() if k not in ("createdAt", "modifiedAt")}
    if isinstance(data, list):
        return [_plain(v, entity_id) for v in data]
    if isinstance(data, str):
        return data.replace(entity_id, "<id>")
    return data


def _history(session: Session, entity_id: str) -> list[tuple[Any, ...]]:
    session.expire_all()
    rows = session.scalars(
        select(SensorObservation).where(SensorObservation.entity_id == entity_id).order_by(SensorObservation.id)
    )
    return [(r.tenant, r.attr, r.kind, r.value_num, r.value_text, r.unit, r.dataset_id, r.source) for r in rows]


def _notifications(session: Session, entity_id: str) -> list[Any]:
    session.expire_all()
    out = []
    for n in session.scalars(select(HubNotification).order_by(HubNotification.id)):
        text = json.dumps(n.payload)
        if entity_id in text:
            payload = _plain(n.payload, entity_id)
            if isinstance(payload, dict):
                payload = {k: v for k, v in payload.items() if k not in ("id", "notifiedAt")}
            out.append((n.tenant, n.status, payload))
    return out


def _both(
    session: Session,
    client: TestClient,
    fast: TestClient,
    auth: dict[str, str],
    *,
    method: str,
    suffix: str,
    body: bytes,
    headers: dict[str, str],
    missing: bool = False,
    handled: bool = True,
) -> tuple[Any, Any]:
    """The same request to entity B through the fast path, then to entity A through the normal
    app; asserts both answered and stored alike; returns both responses."""
    a, b = "urn:ngsi-ld:WasteContainer:a", "urn:ngsi-ld:WasteContainer:b"
    _setup(client, auth, [a, b])
    if missing:
        a, b = a + "-gone", b + "-gone"
    before = (fastpath.stats.handled, fastpath.stats.passed)
    quick = fast.request(method, f"{ENTITIES}/{b}{suffix}", content=body, headers={**auth, **headers})
    moved = (fastpath.stats.handled - before[0], fastpath.stats.passed - before[1])
    normal = client.request(method, f"{ENTITIES}/{a}{suffix}", content=body, headers={**auth, **headers})
    assert moved == ((1, 0) if handled else (0, 1))
    assert quick.status_code == normal.status_code, (normal.text, quick.text)
    assert quick.headers.get("content-type") == normal.headers.get("content-type")
    assert quick.headers.get("content-language") == normal.headers.get("content-language")
    assert "x-request-id" in quick.headers
    assert _plain(quick.content.decode(), b) == _plain(normal.content.decode(), a)
    assert _stored(session, fast, auth, b) == _stored(session, client, auth, a)
    assert _history(session, b) == _history(session, a)
    assert _notifications(session, b) == _notifications(session, a)
    return normal, quick


JSON_LINK = {"Content-Type": "application/json", "Link": LINK, "NGSILD-Tenant": TENANT}


@pytest.mark.parametrize(
    ("method", "suffix", "body", "status"),
    [
        ("PATCH", "/attrs/fillingLevel", {"value": 0.9}, 204),
        ("PATCH", "/attrs/temperature", {"value": 14.5, "unitCode": "CEL", "observedAt": "2026-12-01T10:00:00Z"}, 204),
        ("PATCH", "/attrs", {"fillingLevel": {"type": "Property", "value": 0.95}}, 204),
        ("PATCH", "/attrs", {"fillingLevel": {"type": "Property", "value": 0.2}, "nothere": {"value": 1}}, 207),
        ("POST", "/attrs", {"humidity": {"type": "Property", "value": 40}}, 204),
        ("PATCH", "/attrs/fillingLevel", {"value": 1.5}, 400),  # Smart Data Models: at most 1
        ("PATCH", "/attrs/fillingLevel", {"type": "Relationship", "object": "not a uri"}, 400),
        ("PATCH", "/attrs/createdAt", {"value": 1}, 400),
        ("PATCH", "/attrs/nothere", {"value": 1}, 404),
        ("PATCH", "/attrs/fillingLevel", [1, 2], 400),
        ("PATCH", "/attrs", {}, 400),
    ],
)
def test_same_answers_and_writes(
    session: Session,
    client: TestClient,
    fast: TestClient,
    auth: dict[str, str],
    method: str,
    suffix: str,
    body: Any,
    status: int,
) -> None:
    normal, _ = _both(
        session, client, fast, auth, method=method, suffix=suffix, body=json.dumps(body).encode(), headers=JSON_LINK
    )
    assert normal.status_code == status, normal.text
    if status >= 400:
        assert normal.json()["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")


def test_writes_history_and_notifications(
    session: Session, client: TestClient, fast: TestClient, auth: dict[str, str]
) -> None:
    _both(
        session,
        client,
        fast,
        auth,
        method="PATCH",
        suffix="/attrs/fillingLevel",
        body=b'{"value": 0.9}',
        headers=JSON_LINK,
    )
    assert len(_history(session, "urn:ngsi-ld:WasteContainer:b")) >= 1
    assert len(_notifications(session, "urn:ngsi-ld:WasteContainer:b")) == 1


@pytest.mark.parametrize(
    ("body", "headers", "status", "missing"),
    [
        (b"{bad", JSON_LINK, 400, True),  # not JSON
        (b'{"value": 1}', {**JSON_LINK, "NGSILD-Tenant": "no tenant!"}, 400, True),  # bad tenant name
        (b'{"value": 1}', {**JSON_LINK, "NGSILD-Tenant": "neverwritten"}, 404, False),  # unknown tenant
        (b'{"value": 1}', JSON_LINK, 404, True),  # unknown entity
    ],
)
def test_same_errors(
    session: Session,
    client: TestClient,
    fast: TestClient,
    auth: dict[str, str],
    body: bytes,
    headers: dict[str, str],
    status: int,
    missing: bool,
) -> None:
    normal, quick = _both(
        session,
        client,
        fast,
        auth,
        method="PATCH",
        suffix="/attrs/fillingLevel",
        body=body,
        headers=headers,
        missing=missing,
    )
    assert normal.status_code == status, normal.text


def test_no_token_401_and_no_permission_403(
    session: Session, client: TestClient, fast: TestClient, auth: dict[str, str], reader: dict[str, str]
) -> None:
    _setup(client, auth, ["urn:ngsi-ld:WasteContainer:a", "urn:ngsi-ld:WasteContainer:b"])
    for who, status, handled in (({}, 401, True), ({"Authorization": "Bearer nonsense"}, 401, True)):
        before = fastpath.stats.handled
        answers = [
            c.patch(
                f"{ENTITIES}/urn:ngsi-ld:WasteContainer:{x}/attrs/fillingLevel",
                content=b'{"value": 0.9}',
                headers={**JSON_LINK, **who},
            )
            for c, x in ((client, "a"), (fast, "b"))
        ]
        assert [r.status_code for r in answers] == [status, status]
        assert answers[0].json() == answers[1].json()
        assert fastpath.stats.handled - before == (1 if handled else 0)
    # 403: the fast path hands it to the normal route (which records the refusal)
    answers = [
        c.patch(
            f"{ENTITIES}/urn:ngsi-ld:WasteContainer:{x}/attrs/fillingLevel",
            content=b'{"value": 0.9}',
            headers={**JSON_LINK, **reader},
        )
        for c, x in ((client, "a"), (fast, "b"))
    ]
    assert [r.status_code for r in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()
    assert _stored(session, client, auth, "urn:ngsi-ld:WasteContainer:a") == _stored(
        session, client, auth, "urn:ngsi-ld:WasteContainer:b"
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/ld+json", "NGSILD-Tenant": TENANT},  # the context in the body
        {
            "Content-Type": "application/json",
            "NGSILD-Tenant": TENANT,
            "Link": LINK.replace(
                SDM_CONTEXT_URL, "https://smart-data-models.github.io/dataModel.WasteManagement/context.jsonld"
            ),
        },
    ],
)
def test_unusual_requests_go_to_the_normal_route(
    session: Session, client: TestClient, fast: TestClient, auth: dict[str, str], headers: dict[str, str]
) -> None:
    body: dict[str, Any] = {"value": 0.9}
    if headers["Content-Type"] == "application/ld+json":
        body["@context"] = SDM_CONTEXT_URL
    _both(
        session,
        client,
        fast,
        auth,
        method="PATCH",
        suffix="/attrs/fillingLevel",
        body=json.dumps(body).encode(),
        headers=headers,
        handled=False,
    )


def test_a_context_once_resolved_is_then_served_fast(
    session: Session, client: TestClient, fast: TestClient, auth: dict[str, str]
) -> None:
    other = LINK.replace(
        SDM_CONTEXT_URL, "https://smart-data-models.github.io/dataModel.WasteManagement/context.jsonld"
    )
    headers = {"Content-Type": "application/json", "NGSILD-Tenant": TENANT, "Link": other}
    _setup(client, auth, ["urn:ngsi-ld:WasteContainer:a", "urn:ngsi-ld:WasteContainer:b"])
    url = f"{ENTITIES}/urn:ngsi-ld:WasteContainer:b/attrs/fillingLevel"
    before = (fastpath.stats.handled, fastpath.stats.passed)
    assert fast.patch(url, content=b'{"value": 0.3}', headers={**auth, **headers}).status_code == 204
    assert fast.patch(url, content=b'{"value": 0.4}', headers={**auth, **headers}).status_code == 204
    assert (fastpath.stats.handled - before[0], fastpath.stats.passed - before[1]) == (1, 1)


def test_query_strings_and_other_routes_pass(client: TestClient, fast: TestClient, auth: dict[str, str]) -> None:
    _setup(client, auth, ["urn:ngsi-ld:WasteContainer:b"])
    before = fastpath.stats.handled
    got = fast.post(
        f"{ENTITIES}/urn:ngsi-ld:WasteContainer:b/attrs?options=noOverwrite",
        content=b'{"fillingLevel": {"type": "Property", "value": 0.1}}',
        headers={**auth, **JSON_LINK},
    )
    assert got.status_code == 207, got.text
    assert fast.get(f"{ENTITIES}/urn:ngsi-ld:WasteContainer:b", headers={**auth, **JSON_LINK}).status_code == 200
    assert fastpath.stats.handled == before


def test_install_after_start_is_refused(fast: TestClient) -> None:
    fast.get("/healthz")
    with pytest.raises(RuntimeError):
        fastpath.install(fast.app)  # type: ignore[arg-type]


def test_a_cached_token_is_refused_once_expired(
    session: Session, client: TestClient, fast: TestClient, auth: dict[str, str]
) -> None:
    from datetime import timedelta

    from cityos.identity import tokens

    _setup(client, auth, ["urn:ngsi-ld:WasteContainer:b"])
    subject = tokens.decode(auth["Authorization"].split()[1], expect="access").subject
    token, _ = tokens.issue("access", subject, timedelta(seconds=2))
    headers = {**JSON_LINK, "Authorization": f"Bearer {token}"}
    url = f"{ENTITIES}/urn:ngsi-ld:WasteContainer:b/attrs/fillingLevel"
    assert fast.patch(url, content=b'{"value": 0.3}', headers=headers).status_code == 204  # actor cached
    assert fast.patch(url, content=b'{"value": 0.4}', headers=headers).status_code == 204  # token cached
    time.sleep(2.1)
    late = fast.patch(url, content=b'{"value": 0.5}', headers=headers)
    assert late.status_code == 401
    assert late.json()["type"] == "urn:cityos:errors:Unauthorized"
