"""Request id, language, request metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter, Histogram

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


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        locale = negotiate(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))
        if lang := request.query_params.get("lang"):
            locale = negotiate(None, lang) if lang in ("zh_CN", "en", "zh", "zh-CN") else locale
        tok_locale = current_locale.set(locale)
        tok_ctx = audit.request_context.set(
            {"request_id": request_id, "ip": request.client.host if request.client else None}
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        try:
            if cross_site(request):
                status = 403
                message = translate("This form was sent from another site and was refused.")
                return PlainTextResponse(message, status_code=403)
            response = await call_next(request)
            status = response.status_code
            response.headers["x-request-id"] = request_id
            response.headers.setdefault("content-language", locale.replace("_", "-"))
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            REQUESTS.labels(request.method, route_path, str(status)).inc()
            LATENCY.labels(request.method, route_path).observe(elapsed)
            if not request.url.path.startswith("/static"):
                log.info("request", method=request.method, route=route_path, status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")
            audit.request_context.reset(tok_ctx)
            current_locale.reset(tok_locale)
