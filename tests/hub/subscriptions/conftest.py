"""Helpers of the subscription tests: canonical entities and changes, a local HTTP receiver,
a black-hole endpoint, and a database whose commits are real (for the deliverer's threads)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import make_sessionmaker
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.subscriptions import matching
from cityos.hub.subscriptions.models import HubNotification, HubSubscription

VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def iri(term: str) -> str:
    return VOCAB + term


def entity(eid: str, etype: str = "Sensor", *, lon: float = 104.05, lat: float = 30.05, **values: Any) -> dict:
    now = "2026-12-01T09:00:00.000Z"
    data: dict[str, Any] = {"id": eid, "type": iri(etype), "createdAt": now, "modifiedAt": now}
    for name, value in values.items():
        data[iri(name)] = {"type": "Property", "value": value, "createdAt": now, "modifiedAt": now}
    data[LOCATION] = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}
    return data


def change(
    tenant: str,
    data: dict,
    *,
    kind: str = "updated",
    attrs: list[str] | None = None,
    previous: dict | None = None,
) -> EntityChange:
    names = (
        frozenset(iri(a) for a in attrs) if attrs is not None else frozenset(k for k in data if k.startswith("http"))
    )
    return EntityChange(
        tenant=tenant,
        entity_id=data["id"],
        entity_type=data["type"],
        kind=kind,  # type: ignore[arg-type]
        attrs=names,
        entity=None if kind == "deleted" else data,
        previous=previous if previous is not None else (None if kind == "created" else data),
        at=datetime.now(UTC),
    )


def body(uri: str, **extra: Any) -> dict:
    out: dict[str, Any] = {
        "type": "Subscription",
        "entities": [{"type": "Sensor"}],
        "notification": {"endpoint": {"uri": uri, "accept": "application/json"}},
    }
    out.update(extra)
    return out


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    matching.active.forget()
    yield
    matching.active.forget()


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class Receiver:
    """A local HTTP endpoint that records what it is sent; ``status`` is what it answers."""

    url: str
    got: list[Received] = field(default_factory=list)
    status: int = 204
    event: threading.Event = field(default_factory=threading.Event)

    def wait(self, n: int, timeout: float = 5.0) -> list[Received]:
        end = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < end:
            self.event.wait(0.02)
            self.event.clear()
        return list(self.got)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            size = int(self.headers.get("Content-Length", "0"))
            data = json.loads(self.rfile.read(size) or b"{}")
            rec = holder["r"]
            rec.got.append(Received(time.monotonic(), self.path, {k.lower(): v for k, v in self.headers.items()}, data))
            rec.event.set()
            self.send_response(rec.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/notify")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["r"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def black_hole() -> Iterator[str]:
    """An endpoint that accepts TCP connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)  # kept open, never read from, never answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/never"
    stop.set()
    thread.join(1)
    for conn in held:
        conn.close()
    sock.close()


@pytest.fixture
def committed(isolated_engine: Engine, tenant: str) -> Iterator[sessionmaker[Session]]:
    """Sessions whose commits are real (the deliverer works on its own sessions and threads);
    what the test's tenant left is deleted afterwards."""
    factory = make_sessionmaker(isolated_engine)
    yield factory
    with factory() as s:
        pks = list(s.scalars(select(HubSubscription.id).where(HubSubscription.tenant == tenant)))
        if pks:
            s.execute(delete(HubNotification).where(HubNotification.subscription_pk.in_(pks)))
            s.execute(delete(HubSubscription).where(HubSubscription.id.in_(pks)))
        s.commit()
