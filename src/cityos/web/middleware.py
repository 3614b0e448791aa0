"""Request id, language, request metrics."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
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


def cross_site(request: Request) -> bool:
    """A cookie-authenticated write whose Origin (or Referer) names another site: CSRF.

    Browsers send Origin on every cross-site POST, so a request with neither header is not a
    browser form and carries no ambient-credential risk; SameSite=Lax cookies are the second wall.
    """
    if request.method in _SAFE_METHODS or request.headers.get("authorization"):
        return False
    if get_settings().session_cookie_name not in request.cookies:
        return False
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source == "null"
    return urlsplit(source).netloc != request.headers.get("host", "")


class RequestContext:
    """Pure ASGI middleware (no extra task per request, unlike ``@app.middleware``): request id,
    language, audit context, CSRF refusal, metrics and one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        locale = negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
        if lang := request.query_params.get("lang"):
            locale = negotiate(None, lang) if lang in ("zh_CN", "en", "zh", "zh-CN") else locale
        tok_locale = current_locale.set(locale)
        tok_ctx = audit.request_context.set(
            {"request_id": request_id, "ip": scope["client"][0] if scope.get("client") else None}
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        extra_headers = [
            (b"x-request-id", request_id.encode()),
            (b"content-language", locale.replace("_", "-").encode()),
        ]

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in extra_headers:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
            await send(message)

        try:
            if cross_site(request):
                message = translate("This form was sent from another site and was refused.")
                await PlainTextResponse(message, status_code=403)(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(method, route_path, str(status)).inc()
            LATENCY.labels(method, route_path).observe(elapsed)
            if not scope.get("path", "").startswith("/static"):
                log.info("request", method=method, route=route_path, status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")
            audit.request_context.reset(tok_ctx)
            current_locale.reset(tok_locale)


def install(app: FastAPI) -> None:
    app.add_middleware(RequestContext)
