"""Per-app rate limits: a pure ASGI middleware in front of ``/api/v1`` and ``/ngsi-ld/v1``.

A request with an OAuth2 client's bearer token is counted in a sliding window of one minute per
client id, against the limit the reviewer set on the light app (``LightApp.rate_limit``). Over
the limit it is answered 429 with ``Retry-After`` and the platform's error body, or NGSI-LD
ProblemDetails under ``/ngsi-ld``. The token is only decoded (signature and expiry, no database);
the limits are cached for ``LimitCache.ttl`` seconds and dropped at once when a reviewer changes
them in this process. Clients that are no light app (registered by an administrator) have no
limit here.

Requests and refusals are counted per client and UTC day in memory and written to ``app_usage``
by ``flush_usage`` (``tasks.periodic``, every minute). Like the sign-in limits, the windows are
per process: with N workers an app gets at most N × its limit.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from datetime import date

import anyio
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from cityos.core.db import utcnow
from cityos.core.errors import RateLimited, Unauthorized
from cityos.core.i18n import N_, negotiate, translate
from cityos.hub.apps.models import AppStatus, AppUsage, LightApp
from cityos.identity import tokens
from cityos.identity.ratelimit import SlidingWindow

PREFIXES = ("/api/v1/", "/ngsi-ld/v1/")
WINDOW_SECONDS = 60.0
MSG_RATE_LIMITED = N_("This app sent more than {limit} requests a minute. Try again in {seconds} seconds.")
# NGSI-LD defines no type for 429: the same as hub.ngsi.problems.TOO_MANY_REQUESTS and its title.
PROBLEM_TYPE = "urn:cityos:errors:TooManyRequests"
PROBLEM_TITLE = N_("Too many requests")


class LimitCache:
    """Client id → requests per minute (None: no limit), for ``ttl`` seconds."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str) -> tuple[bool, int | None]:
        with self._lock:
            hit = self._items.get(client_id)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return False, None
        return True, hit[1]

    def put(self, client_id: str, limit: int | None) -> None:
        with self._lock:
            if len(self._items) > 50_000:
                self._items.clear()
            self._items[client_id] = (time.monotonic(), limit)

    def forget(self, client_id: str | None = None) -> None:
        with self._lock:
            if client_id is None:
                self._items.clear()
            else:
                self._items.pop(client_id, None)


class UsageCounters:
    """Requests and 429s per (client id, UTC day), waiting to be written."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, date], list[int]] = {}
        self._lock = threading.Lock()

    def count(self, client_id: str, *, limited: bool) -> None:
        key = (client_id, utcnow().date())
        with self._lock:
            row = self._counts.setdefault(key, [0, 0])
            row[0] += 1
            if limited:
                row[1] += 1

    def take(self) -> dict[tuple[str, date], list[int]]:
        with self._lock:
            out, self._counts = self._counts, {}
        return out

    def peek(self, client_id: str) -> dict[date, tuple[int, int]]:
        with self._lock:
            return {d: (v[0], v[1]) for (c, d), v in self._counts.items() if c == client_id}

    def put_back(self, counts: dict[tuple[str, date], list[int]]) -> None:
        with self._lock:
            for key, (req, lim) in counts.items():
                row = self._counts.setdefault(key, [0, 0])
                row[0] += req
                row[1] += lim


limits = LimitCache()
window = SlidingWindow()
usage = UsageCounters()


def load_limit(session: Session, client_id: str) -> int | None:
    """The light app's limit for a client id (None: not a light app, or not approved)."""
    row = session.execute(select(LightApp.rate_limit, LightApp.status).where(LightApp.client_id == client_id)).first()
    if row is None or row.status != AppStatus.APPROVED:
        return None
    return int(row.rate_limit)


def _load(factory: sessionmaker[Session], client_id: str) -> int | None:
    with factory() as session:
        try:
            return load_limit(session, client_id)
        finally:
            session.rollback()


def flush_usage(session: Session) -> int:
    """Write the counted requests into ``app_usage``; returns how many (client, day) rows."""
    counts = usage.take()
    try:
        for (client_id, day), (req, lim) in counts.items():
            row = session.scalar(select(AppUsage).where(AppUsage.client_id == client_id, AppUsage.day == day))
            if row is None:
                session.add(AppUsage(client_id=client_id, day=day, requests=req, limited=lim))
            else:
                row.requests += req
                row.limited += lim
        session.flush()
    except Exception:
        usage.put_back(counts)
        raise
    return len(counts)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" and token.strip() else None
    return None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _locale(scope: Scope) -> str:
    cookie = _header(scope, b"cookie") or ""
    chosen = None
    for part in cookie.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "cityos_lang":  # web.templating.LANG_COOKIE
            chosen = value
    return negotiate(_header(scope, b"accept-language"), chosen)


async def _refuse(scope: Scope, send: Send, *, limit: int, seconds: int) -> None:
    locale = _locale(scope)
    message = translate(MSG_RATE_LIMITED, locale, limit=limit, seconds=seconds)
    if str(scope.get("path", "")).startswith("/ngsi-ld/"):
        body = {"type": PROBLEM_TYPE, "title": translate(PROBLEM_TITLE, locale), "status": 429, "detail": message}
    else:
        body = {"error": {"code": RateLimited.code, "message": message, "details": []}}
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"retry-after", str(seconds).encode()),
        (b"x-ratelimit-limit", str(limit).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": data})


_kinds: dict[str, object] = {}
_KINDS_MAX = 4096


def _kind(token: str) -> object:
    """The ``typ`` claim read without checking the signature: only to skip verifying the tokens
    of accounts, which no app limit concerns (a client token is still verified in full). Kept per
    token string (a device sends the same token for an hour): what a string decodes to never changes."""
    kind = _kinds.get(token, _kinds)
    if kind is not _kinds:
        return kind
    try:
        part = token.split(".")[1]
        kind = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))).get("typ")
    except (IndexError, ValueError, binascii.Error, AttributeError):
        kind = None
    if len(_kinds) >= _KINDS_MAX:
        _kinds.clear()
    _kinds[token] = kind
    return kind


class AppRateLimit:
    """Pure ASGI middleware: refuses a client's request over its app's limit (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        client_id: str | None = None
        if token and token.count(".") == 2 and _kind(token) == "client":
            try:
                claims = tokens.decode(token, expect="client")
                client_id = claims.subject
            except Unauthorized:
                client_id = None  # not a client token, or not valid: the route answers for it
        if client_id is None:
            await self.app(scope, receive, send)
            return
        known, limit = limits.get(client_id)
        if not known:
            factory = scope["app"].state.runtime.session_factory
            limit = await anyio.to_thread.run_sync(_load, factory, client_id)
            limits.put(client_id, limit)
        if limit is None:
            await self.app(scope, receive, send)
            return
        try:
            window.hit(client_id, limit=limit, seconds=WINDOW_SECONDS)
        except RateLimited as exc:
            usage.count(client_id, limited=True)
            await _refuse(scope, send, limit=limit, seconds=int(exc.params.get("retry_after", 1)))
            return
        usage.count(client_id, limited=False)
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Adds the middleware (``create_app`` calls it before ``middleware.install``, so the request
    context installed next wraps it)."""
    app.add_middleware(AppRateLimit)


def reset() -> None:
    """Forget every window, cached limit and uncounted request (tests)."""
    window.reset()
    limits.forget()
    usage.take()
