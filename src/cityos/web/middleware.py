"""Request id, language, request metrics."""

from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter, Histogram
from starlette.datastructures import QueryParams
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityos.core import audit
from cityos.core.i18n import current_locale, negotiate, translate
from cityos.core.settings import get_settings
from cityos.web.templating import LANG_COOKIE

REQUESTS = Counter("cityos_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "cityos_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
log = structlog.get_logger("cityos.http")


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_QUERY_LANGS = frozenset({"zh_CN", "en", "zh", "zh-CN"})
# The headers the middleware reads, each taken once from the scope (the first one wins, as with
# Starlette's ``Headers.get``).
_WANTED = frozenset({b"x-request-id", b"accept-language", b"cookie", b"authorization", b"origin", b"referer", b"host"})


def cross_site(method: str, headers: dict[bytes, bytes], cookies: dict[str, str]) -> bool:
    """A cookie-authenticated write whose Origin (or Referer) names another site: CSRF.

    Browsers send Origin on every cross-site POST, so a request with neither header is not a
    browser form and carries no ambient-credential risk; SameSite=Lax cookies are the second wall.
    """
    if method in _SAFE_METHODS or headers.get(b"authorization"):
        return False
    if get_settings().session_cookie_name not in cookies:
        return False
    raw = headers.get(b"origin") or headers.get(b"referer")
    source = raw.decode("latin-1") if raw else None
    if not source or source == "null":
        return source == "null"
    return urlsplit(source).netloc != headers.get(b"host", b"").decode("latin-1")


@lru_cache(maxsize=512)
def _locale(accept_language: str | None, chosen: str | None) -> str:
    """``negotiate`` of the same two headers again and again: the clients of a city are few."""
    return negotiate(accept_language, chosen)


class _Metrics:
    """The labelled children of the request counter and histogram, looked up once per label set
    (``.labels()`` takes a lock and builds the key on every call)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[tuple[str, str], Any] = {}

    def record(self, method: str, route: str, status: int, elapsed: float) -> None:
        count = self._counts.get((method, route, status))
        if count is None:
            count = self._counts[(method, route, status)] = REQUESTS.labels(method, route, str(status))
        latency = self._latency.get((method, route))
        if latency is None:
            latency = self._latency[(method, route)] = LATENCY.labels(method, route)
        count.inc()
        latency.observe(elapsed)


_metrics = _Metrics()


class RequestContext:
    """Pure ASGI middleware (no extra task per request, unlike ``@app.middleware``): request id,
    language, audit context, CSRF refusal, metrics and one log line per request. It reads the raw
    scope (each header once) rather than a ``Request``: it runs on every request, and the NGSI-LD
    updates come thousands a second."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _WANTED and name not in headers:
                headers[name] = value
        raw_id = headers.get(b"x-request-id")
        request_id = raw_id.decode("latin-1") if raw_id else os.urandom(8).hex()
        raw_cookie = headers.get(b"cookie")
        cookies = cookie_parser(raw_cookie.decode("latin-1")) if raw_cookie else {}
        raw_accept = headers.get(b"accept-language")
        locale = _locale(raw_accept.decode("latin-1") if raw_accept else None, cookies.get(LANG_COOKIE))
        query = scope.get("query_string") or b""
        if b"lang=" in query and (lang := QueryParams(query).get("lang")):
            locale = negotiate(None, lang) if lang in _QUERY_LANGS else locale
        tok_locale = current_locale.set(locale)
        tok_ctx = audit.request_context.set(
            {"request_id": request_id, "ip": scope["client"][0] if scope.get("client") else None}
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        extra_headers = (
            (b"x-request-id", request_id.encode("latin-1")),
            (b"content-language", locale.replace("_", "-").encode()),
        )

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = list(message.get("headers") or ())
                present = {name.lower() for name, _ in out}
                out.extend(pair for pair in extra_headers if pair[0] not in present)
                message["headers"] = out
            await send(message)

        try:
            if cross_site(scope["method"], headers, cookies):
                message = translate("This form was sent from another site and was refused.")
                await PlainTextResponse(message, status_code=403)(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            _metrics.record(method, route_path, status, elapsed)
            if not scope.get("path", "").startswith("/static"):
                log.info("request", method=method, route=route_path, status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")
            audit.request_context.reset(tok_ctx)
            current_locale.reset(tok_locale)


def install(app: FastAPI) -> None:
    app.add_middleware(RequestContext)
