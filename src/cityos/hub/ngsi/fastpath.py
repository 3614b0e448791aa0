"""A lean path for NGSI-LD partial updates (快速通道), in front of the FastAPI router.

A pure ASGI middleware that answers the hot single-entity writes itself:

- ``PATCH /ngsi-ld/v1/entities/{id}/attrs/{attr}`` (partial attribute update),
- ``PATCH /ngsi-ld/v1/entities/{id}/attrs`` (update attributes),
- ``POST /ngsi-ld/v1/entities/{id}/attrs`` without options (append attributes),

with the same steps as the normal routes (``api.py``), in the same order: tenant header, the
caller's bearer token (``identity.tokens.decode``) resolved through ``identity.deps.actor_cache``,
hub:write, the body as ``application/json`` with the Link header's context, then the same
service function (``attribute_ops``) through the same group-commit writer, which validates,
writes and calls ``changes.emit`` (temporal history, subscriptions). Errors answer the same
ProblemDetails (``problems.error_response``). It saves FastAPI's dependency resolution, request
parsing and response classes, not any check.

Whenever a request is not the plain case, it is passed on untouched (its body replayed) to the
normal route, which answers it: a query string, a cookie sign-in, a token whose actor is not in
the cache yet (the normal route loads and caches it), a caller without hub:write (so the refusal
is audited there), another content type (``application/ld+json``), an empty body, an ``@context``
in the body, several Link headers, or a context that is not cached yet.

Install it in ``create_app`` (anywhere before the app serves): ``fastpath.install(app)``. It puts
itself innermost, so the request context (language, request id, metrics, CSRF) and the per-app
rate limits still run first.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, Unauthorized
from cityos.core.i18n import N_
from cityos.hub.ngsi import api
from cityos.hub.ngsi import context as ld
from cityos.hub.ngsi.deps import JSON, MERGE_PATCH, context_urls, group_writer, tenant_name
from cityos.hub.ngsi.grouped import AttrWrite
from cityos.hub.ngsi.problems import INVALID_REQUEST, NgsiProblem, error_response, retryable
from cityos.identity import tokens
from cityos.identity.deps import actor_cache

_PATH = re.compile(r"^/ngsi-ld/v1/entities/([^/]+)/attrs(?:/([^/]+))?$")
_PREFIX = "/ngsi-ld/v1/entities/"
MAX_BODY = 1 << 20  # larger bodies go the normal way


@dataclass
class Stats:
    """How many requests the fast path answered and how many it passed on (tests, metrics)."""

    handled: int = 0
    passed: int = 0


stats = Stats()


class _PassOn(Exception):
    """Not the plain case: the normal route answers (with the body read so far replayed)."""

    def __init__(self, body: bytes | None = None, more: bool = False) -> None:
        self.body = body
        self.more = more


def _replaying(body: bytes, more: bool, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client went away; _PassOn past ``MAX_BODY``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if size > MAX_BODY:
            raise _PassOn(b"".join(chunks), more=True)


class TokenCache:
    """Bearer tokens whose signature was checked recently, with their claims, so a burst of
    updates checks each token's HMAC once. A hit is used only until the token's expiry (then
    ``tokens.decode`` answers, with its message); the signature of a given string cannot change,
    and revocation is the actor cache's concern, as on the normal route."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: dict[str, tuple[float, tokens.TokenClaims]] = {}

    def decode(self, token: str) -> tokens.TokenClaims:
        hit = self._items.get(token)
        if hit is not None and time.time() < hit[0]:
            return hit[1]
        claims = tokens.decode(token, expect=("access", "client"))
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[token] = (claims.expires_at.timestamp(), claims)
        return claims

    def forget(self) -> None:
        self._items.clear()


token_cache = TokenCache()


def _actor(headers: dict[bytes, bytes], cookie: bool) -> Actor:
    """The caller as ``identity.deps.current_actor`` would find it, or _PassOn."""
    header = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, value = header.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" and value else None
    if token is None:
        if cookie:
            raise _PassOn  # a page session: the normal route checks it (and its revocation)
        raise Unauthorized()
    claims = token_cache.decode(token)
    actor = actor_cache.get(claims)
    if actor is None:
        raise _PassOn  # the normal route loads the account or client and caches it
    if not actor.is_authenticated:
        raise Unauthorized()
    if not actor.can("hub:write"):
        raise _PassOn  # the normal route refuses it and records the refusal
    return actor


def _context(links: list[str], data: Any) -> ld.Context:
    if isinstance(data, dict) and "@context" in data:
        raise _PassOn
    if isinstance(data, list) and any(isinstance(x, dict) and "@context" in x for x in data):
        raise _PassOn
    urls = context_urls(links)
    if len(urls) > 1:
        raise _PassOn
    ctx = ld.cached_context(urls[0] if urls else None)
    if ctx is None:
        raise _PassOn  # fetched (or read from the hosted contexts) by the normal route
    return ctx


class NgsiFastPath:
    """The middleware (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[tuple[str, bool], APIRoute | None] | None = None

    def _route(self, scope: Scope, method: str, single: bool) -> APIRoute | None:
        """The normal route of the request when the app mounts it (metrics and logs name it)."""
        if self._routes is None:
            endpoints = {
                api.patch_attribute: ("PATCH", True),
                api.update_attrs: ("PATCH", False),
                api.append_attrs: ("POST", False),
            }
            found: dict[tuple[str, bool], APIRoute | None] = {}
            todo = list(getattr(scope["app"], "routes", ()))
            while todo:
                route = todo.pop()
                inner = getattr(route, "original_router", None)  # FastAPI's included routers
                if inner is not None:
                    todo.extend(inner.routes)
                elif isinstance(route, APIRoute) and route.endpoint in endpoints:
                    found[endpoints[route.endpoint]] = route
            self._routes = found
        return self._routes.get((method, single))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("PATCH", "POST")
            or not scope["path"].startswith(_PREFIX)
            or scope.get("query_string")
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        match = _PATH.match(scope["path"])
        method = scope["method"]
        route = None
        if match is not None and not (method == "POST" and match.group(2) is not None):
            route = self._route(scope, method, match.group(2) is not None)
        if match is None or route is None:  # not a fast route (or not mounted in this app)
            await self.app(scope, receive, send)
            return
        try:
            response = await self._answer(scope, receive, route, match.group(1), match.group(2), method)
        except _PassOn as passed:
            stats.passed += 1
            if passed.body is not None:
                receive = _replaying(passed.body, passed.more, receive)
            await self.app(scope, receive, send)
            return
        if response is None:
            return  # the client went away
        stats.handled += 1
        await response(scope, receive, send)

    async def _answer(
        self, scope: Scope, receive: Receive, route: APIRoute, entity_id: str, attr: str | None, method: str
    ) -> ASGIApp | None:
        headers: dict[bytes, bytes] = {}
        links: list[str] = []
        for name, value in scope["headers"]:
            if name == b"link":
                links.append(value.decode("latin-1"))
            else:
                headers[name] = value
        scope["route"] = route
        try:
            # the normal route's order: tenant, caller, body
            raw_tenant = headers.get(b"ngsild-tenant")
            tenant = tenant_name(raw_tenant.decode("latin-1") if raw_tenant is not None else None)
            actor = _actor(headers, b"cookie" in headers)
            media = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            if media not in (JSON, MERGE_PATCH):
                raise _PassOn
            raw = await _read_body(receive)
            if raw is None:
                return None
            if not raw:
                raise _PassOn(raw)
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise NgsiProblem(INVALID_REQUEST, N_("The request body is not valid JSON.")) from exc
            try:
                ctx = _context(links, data)
            except _PassOn as passed:
                raise _PassOn(raw) from passed
        except DomainError as exc:
            return error_response(Request(scope), exc)
        scope.setdefault("state", {})["actor"] = actor
        work = _work(method, attr, tenant, entity_id, data, ctx)
        writer = group_writer(scope["app"])
        try:
            try:
                result = await writer.submit(work)
            except OperationalError as exc:
                if not retryable(exc):
                    raise
                result = await writer.submit(work)
        except (DomainError, IntegrityError, OperationalError) as exc:
            return error_response(Request(scope), exc)
        if attr is not None or not result.not_updated:
            return _no_content
        return api.write_result(result, ctx)


async def _no_content(scope: Scope, receive: Receive, send: Send) -> None:
    """What ``Response(status_code=204)`` sends (no headers, no body), without making one."""
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _work(method: str, attr: str | None, tenant: str, entity_id: str, data: Any, ctx: ld.Context) -> AttrWrite:
    if attr is not None:
        return AttrWrite("patch", tenant, entity_id, data, ctx, attr=attr)
    return AttrWrite("update" if method == "PATCH" else "append", tenant, entity_id, data, ctx)


def install(app: FastAPI) -> None:
    """Adds the fast path innermost (after every other middleware, before the router)."""
    if app.middleware_stack is not None:
        raise RuntimeError("install the NGSI-LD fast path before the application starts")
    app.user_middleware.append(Middleware(NgsiFastPath))
