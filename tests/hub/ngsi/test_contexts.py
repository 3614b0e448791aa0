"""JSON-LD contexts: expansion/compaction, user contexts fetched over HTTP (a local server),
the loader's cache limits, @context in application/ld+json bodies, hosted contexts, and the
Smart Data Models contexts shipped with the hub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityos.hub.ngsi import context as ld
from cityos.hub.ngsi.problems import NgsiProblem

BASE = "/ngsi-ld/v1"
ERR = "https://uri.etsi.org/ngsi-ld/errors/"
REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


class ContextServer:
    def __init__(self) -> None:
        self.docs: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body = server.docs.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def put(self, path: str, doc: Any) -> str:
        self.docs[path] = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
        return self.base + path


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ContextServer]:
    monkeypatch.setattr(ld.LOADER, "allow_private", True)
    srv = ContextServer()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_expand_and_compact() -> None:
    ctx = ld.resolve(
        [
            {"ex": "http://example.org/", "speed": "ex:speed", "size": {"@id": "http://example.org/size"}},
            {"@vocab": "http://vocab.org/"},
        ]
    )
    assert ctx.expand("speed") == "http://example.org/speed"
    assert ctx.expand("size") == "http://example.org/size"
    assert ctx.expand("ex:other") == "http://example.org/other"
    assert ctx.expand("unknown") == "http://vocab.org/unknown"
    assert ctx.expand("urn:ngsi-ld:x") == "urn:ngsi-ld:x"
    assert ctx.expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert ctx.compact("http://example.org/speed") == "speed"
    assert ctx.compact("http://example.org/other") == "ex:other"
    assert ctx.compact("http://vocab.org/unknown") == "unknown"
    assert (
        ctx.compact("https://uri.etsi.org/ngsi-ld/default-context/t")
        == "https://uri.etsi.org/ngsi-ld/default-context/t"
    )
    core = ld.core_context()
    assert core.expand("t") == "https://uri.etsi.org/ngsi-ld/default-context/t"
    assert core.compact(core.expand("t")) == "t"
    # the core context is applied last: a user context cannot redefine a core term
    assert ld.resolve({"location": "http://example.org/loc"}).expand("location") == ld.NGSI_LD + "location"
    with pytest.raises(NgsiProblem):
        ld.resolve(42)
    with pytest.raises(NgsiProblem):
        ld.resolve({"a": "b:x", "b": "a:y"})


def test_user_context_from_link_header(client: TestClient, auth: dict[str, str], server: ContextServer) -> None:
    url = server.put(
        "/ctx.jsonld", {"@context": {"speed": "http://example.org/speed", "Car": "http://example.org/Car"}}
    )
    link = {**auth, "Link": f"<{url}>; {REL}"}
    body = {"id": "urn:ngsi-ld:Car:1", "type": "Car", "speed": {"type": "Property", "value": 50}}
    assert client.post(f"{BASE}/entities", json=body, headers=link).status_code == 201
    # without the context the names come back expanded
    plain = client.get(f"{BASE}/entities/urn:ngsi-ld:Car:1", headers=auth).json()
    assert plain["type"] == "http://example.org/Car"
    assert "http://example.org/speed" in plain
    got = client.get(f"{BASE}/entities/urn:ngsi-ld:Car:1", headers=link)
    assert got.json()["speed"]["value"] == 50
    assert got.headers["link"].startswith(f"<{url}>")
    assert client.get(f"{BASE}/entities", params={"type": "Car"}, headers=link).json()[0]["type"] == "Car"
    assert client.get(f"{BASE}/entities", params={"type": "Car"}, headers=auth).json() == []
    assert server.hits["/ctx.jsonld"] == 1  # fetched once, then cached
    missing = client.get(
        f"{BASE}/entities", params={"type": "Car"}, headers={**auth, "Link": f"<{server.base}/none>; {REL}"}
    )
    assert missing.status_code == 503
    assert missing.json()["type"] == ERR + "LdContextNotAvailable"


def test_nested_remote_contexts(server: ContextServer) -> None:
    inner = server.put("/inner.jsonld", {"@context": {"ex": "http://example.org/"}})
    outer = server.put("/outer.jsonld", {"@context": [inner, {"speed": "ex:speed"}]})
    ctx = ld.resolve(outer)
    assert ctx.expand("speed") == "http://example.org/speed"
    loop = server.put("/loop.jsonld", {"@context": server.base + "/loop.jsonld"})
    with pytest.raises(NgsiProblem):
        ld.resolve(loop)


def test_loader_limits(server: ContextServer) -> None:
    loader = ld.ContextLoader(max_entries=2, max_bytes=400, max_document=300, allow_private=True, ttl=60)
    urls = [server.put(f"/c{i}.jsonld", {"@context": {f"t{i}": f"http://example.org/{i}"}}) for i in range(3)]
    for url in urls:
        loader.document(url)
    assert loader.stats()["entries"] == 2  # bounded in entries: the oldest left
    assert urls[0] not in [u for u, _, _ in loader.entries()]
    big = server.put("/big.jsonld", {"@context": {f"t{i}": f"http://example.org/{i}" for i in range(40)}})
    with pytest.raises(NgsiProblem) as err:
        loader.document(big)
    assert err.value.kind == "LdContextNotAvailable"
    small = ld.ContextLoader(max_entries=10, max_bytes=100, allow_private=True)
    small.document(urls[0])
    small.document(urls[1])
    assert small.stats()["bytes"] <= 100  # bounded in bytes
    expired = ld.ContextLoader(ttl=-1, allow_private=True)
    expired.document(urls[2])
    expired.document(urls[2])
    assert expired.fetches == 2
    for strict in (ld.ContextLoader(), ld.ContextLoader(allow_private=False)):
        with pytest.raises(NgsiProblem):
            strict.document(urls[0])  # a private address is not fetched by default
    not_json = server.put("/bad.jsonld", b"not json")
    with pytest.raises(NgsiProblem):
        loader.document(not_json)


def test_ld_json_bodies(client: TestClient, auth: dict[str, str]) -> None:
    ctx = {"ex": "http://example.org/", "speed": "ex:speed"}
    body = {"@context": ctx, "id": "urn:ngsi-ld:Car:2", "type": "ex:Car", "speed": {"value": 3}}
    headers = {**auth, "Content-Type": "application/ld+json"}
    r = client.post(f"{BASE}/entities", content=json.dumps(body), headers=headers)
    assert r.status_code == 201, r.text
    plain = client.get(f"{BASE}/entities/urn:ngsi-ld:Car:2", headers=auth).json()
    assert plain["type"] == "http://example.org/Car"
    no_ctx = {k: v for k, v in body.items() if k != "@context"}
    r = client.post(f"{BASE}/entities", content=json.dumps(no_ctx), headers=headers)
    assert r.status_code == 400
    link = {**headers, "Link": f"<https://example.org/c.jsonld>; {REL}"}
    assert client.post(f"{BASE}/entities", content=json.dumps(body), headers=link).status_code == 400


def test_hosted_contexts(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post(f"{BASE}/jsonldContexts", json={"@context": {"speed": "http://example.org/speed"}}, headers=auth)
    assert r.status_code == 201, r.text
    url = r.headers["location"]
    key = url.rsplit("/", 1)[1]
    assert client.get(f"{BASE}/jsonldContexts/{key}", headers=auth).json() == {
        "@context": {"speed": "http://example.org/speed"}
    }
    assert url in client.get(f"{BASE}/jsonldContexts", headers=auth).json()
    link = {**auth, "Link": f"<{url}>; {REL}"}
    body = {"id": "urn:ngsi-ld:Car:3", "type": "Car", "speed": 7}
    assert client.post(f"{BASE}/entities", json=body, headers=link).status_code == 201
    stored = client.get(f"{BASE}/entities/urn:ngsi-ld:Car:3", headers=auth).json()
    assert "http://example.org/speed" in stored
    assert client.post(f"{BASE}/jsonldContexts", json={"speed": 1}, headers=auth).status_code == 400
    assert client.delete(f"{BASE}/jsonldContexts/{key}", headers=auth).status_code == 204
    assert client.get(f"{BASE}/jsonldContexts/{key}", headers=auth).status_code == 404


def test_smart_data_models_context_and_validation(client: TestClient, auth: dict[str, str]) -> None:
    link = {**auth, "Link": f"<{ld.SDM_CONTEXT_URL}>; {REL}"}
    good = {
        "id": "urn:ngsi-ld:WasteContainer:w1",
        "type": "WasteContainer",
        "fillingLevel": {"type": "Property", "value": 0.5},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}},
    }
    r = client.post(f"{BASE}/entities", json=good, headers=link)
    assert r.status_code == 201, r.text
    stored = client.get(f"{BASE}/entities/urn:ngsi-ld:WasteContainer:w1", headers=auth).json()
    assert stored["type"] == "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer"
    bad = {**good, "id": "urn:ngsi-ld:WasteContainer:w2", "fillingLevel": {"type": "Property", "value": 7}}
    r = client.post(f"{BASE}/entities", json=bad, headers=link)
    assert r.status_code == 400
    assert any("fillingLevel" in e["field"] for e in r.json()["errors"])
    r = client.patch(
        f"{BASE}/entities/urn:ngsi-ld:WasteContainer:w1/attrs/fillingLevel", json={"value": 3}, headers=link
    )
    assert r.status_code == 400
