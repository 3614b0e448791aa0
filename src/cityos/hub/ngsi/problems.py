"""NGSI-LD ProblemDetails: the error bodies of every ``/ngsi-ld/v1`` route.

``NgsiRoute`` is the route class of all NGSI-LD routers: it turns the platform's domain errors
(``cityos.core.errors``), request validation errors and ``NgsiProblem`` into a ProblemDetails
body (``{"type", "title", "status", "detail"}``, RFC 7807 as profiled by ETSI GS CIM 009), in the
caller's language, never the platform's ``{"error": ...}`` body. Field errors travel in an extra
``errors`` member.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cityos.core import audit
from cityos.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
)
from cityos.core.i18n import N_, translate

log = structlog.get_logger(__name__)

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"

# ETSI GS CIM 009 error types (clause 5.5.2) and their HTTP status.
INVALID_REQUEST = "InvalidRequest"
BAD_REQUEST_DATA = "BadRequestData"
ALREADY_EXISTS = "AlreadyExists"
OPERATION_NOT_SUPPORTED = "OperationNotSupported"
RESOURCE_NOT_FOUND = "ResourceNotFound"
INTERNAL_ERROR = "InternalError"
TOO_COMPLEX_QUERY = "TooComplexQuery"
TOO_MANY_RESULTS = "TooManyResults"
LD_CONTEXT_NOT_AVAILABLE = "LdContextNotAvailable"
NO_MULTI_TENANT_SUPPORT = "NoMultiTenantSupport"
NONEXISTENT_TENANT = "NonexistentTenant"
# Not defined by the specification (it leaves authentication out); cityos names them.
UNAUTHORIZED = "urn:cityos:errors:Unauthorized"
FORBIDDEN = "urn:cityos:errors:Forbidden"
TOO_MANY_REQUESTS = "urn:cityos:errors:TooManyRequests"
NOT_ACCEPTABLE = "urn:cityos:errors:NotAcceptable"
METHOD_NOT_ALLOWED = "urn:cityos:errors:MethodNotAllowed"

STATUS: dict[str, int] = {
    INVALID_REQUEST: 400,
    BAD_REQUEST_DATA: 400,
    ALREADY_EXISTS: 409,
    OPERATION_NOT_SUPPORTED: 422,
    RESOURCE_NOT_FOUND: 404,
    INTERNAL_ERROR: 500,
    TOO_COMPLEX_QUERY: 403,
    TOO_MANY_RESULTS: 403,
    LD_CONTEXT_NOT_AVAILABLE: 503,
    NO_MULTI_TENANT_SUPPORT: 501,
    NONEXISTENT_TENANT: 404,
    UNAUTHORIZED: 401,
    FORBIDDEN: 403,
    TOO_MANY_REQUESTS: 429,
    NOT_ACCEPTABLE: 406,
    METHOD_NOT_ALLOWED: 405,
}

TITLES: dict[str, str] = {
    INVALID_REQUEST: N_("The request is not valid"),
    BAD_REQUEST_DATA: N_("The request data is not valid"),
    ALREADY_EXISTS: N_("The entity already exists"),
    OPERATION_NOT_SUPPORTED: N_("The operation is not supported"),
    RESOURCE_NOT_FOUND: N_("The resource was not found"),
    INTERNAL_ERROR: N_("Internal error"),
    TOO_COMPLEX_QUERY: N_("The query is too complex"),
    TOO_MANY_RESULTS: N_("Too many results"),
    LD_CONTEXT_NOT_AVAILABLE: N_("The JSON-LD context is not available"),
    NO_MULTI_TENANT_SUPPORT: N_("Tenants are not supported"),
    NONEXISTENT_TENANT: N_("The tenant does not exist"),
    UNAUTHORIZED: N_("Authentication is required"),
    FORBIDDEN: N_("Permission denied"),
    TOO_MANY_REQUESTS: N_("Too many requests"),
    NOT_ACCEPTABLE: N_("The requested representation is not available"),
    METHOD_NOT_ALLOWED: N_("The method is not allowed on this resource"),
}


def type_uri(kind: str) -> str:
    return kind if ":" in kind else ERRORS + kind


class NgsiProblem(DomainError):
    """A domain error that names its NGSI-LD error type (``BAD_REQUEST_DATA``, …).

    Services of the NGSI-LD parts raise it where the type matters to clients (AlreadyExists,
    TooManyResults, LdContextNotAvailable, NonexistentTenant …); plain ``Invalid``/``NotFound``/
    ``Conflict`` work too and map to BadRequestData/ResourceNotFound/AlreadyExists."""

    def __init__(
        self,
        kind: str,
        message: str | None = None,
        *,
        details: list[FieldError] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self.status_code = STATUS.get(kind, 400)
        self.code = kind
        super().__init__(message or TITLES.get(kind), details=details, params=params)


def kind_of(exc: DomainError) -> str:
    if isinstance(exc, NgsiProblem):
        return exc.kind
    if isinstance(exc, Invalid):
        return BAD_REQUEST_DATA
    if isinstance(exc, NotFound):
        return RESOURCE_NOT_FOUND
    if isinstance(exc, Conflict):
        return ALREADY_EXISTS
    if isinstance(exc, Unauthorized):
        return UNAUTHORIZED
    if isinstance(exc, Forbidden):
        return FORBIDDEN
    if isinstance(exc, RateLimited):
        return TOO_MANY_REQUESTS
    return BAD_REQUEST_DATA if exc.status_code < 500 else INTERNAL_ERROR


def problem_body(
    kind: str, detail: str | None = None, errors: list[dict[str, str]] | None = None, **params: Any
) -> dict[str, Any]:
    """A ProblemDetails dict (also what 207 batch results carry per failed entity)."""
    title = translate(TITLES.get(kind, TITLES[BAD_REQUEST_DATA]))
    body: dict[str, Any] = {
        "type": type_uri(kind),
        "title": title,
        "status": STATUS.get(kind, 400),
        "detail": translate(detail, **params) if detail else title,
    }
    if errors:
        body["errors"] = errors
    return body


def field_errors(details: list[FieldError]) -> list[dict[str, str]]:
    return [{"field": d.field, "message": translate(d.message, **d.params)} for d in details]


def problem_of(exc: DomainError) -> dict[str, Any]:
    kind = kind_of(exc)
    body = problem_body(kind, exc.message, field_errors(exc.details), **exc.params)
    body["status"] = STATUS.get(kind, exc.status_code)
    return body


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header"}:
            loc = loc[1:]
        kind = err.get("type", "")
        message = (
            N_("The request body is not valid JSON.") if kind == "json_invalid" else N_("This value is not valid.")
        )
        if kind == "missing":
            message = N_("This field is required.")
        out.append({"field": ".".join(loc) or "body", "message": translate(message)})
    return out


def problem_response(request: Request, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    accept = request.headers.get("accept", "")
    media = "application/problem+json" if "application/problem+json" in accept else "application/json"
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        status_code=int(body["status"]),
        media_type=media,
        headers=headers,
    )


def _record_denial(request: Request, exc: Forbidden) -> None:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return
    session = runtime.session_factory()
    try:
        audit.record(
            session,
            getattr(request.state, "actor", None),
            "access.denied",
            outcome="denied",
            subject_type="endpoint",
            subject_id=f"{request.method} {request.url.path}"[:64],
            detail=str(exc.params.get("permission", "")) or None,
        )
        session.commit()
    except Exception:
        session.rollback()
        log.warning("audit.denial_not_recorded")
    finally:
        session.close()


def retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return "locked" in text or "busy" in text


def error_response(request: Request, exc: Exception) -> Response:
    """The ProblemDetails answer of an error raised by an NGSI-LD route (also used by the
    fast path, ``fastpath.py``, so both answer alike)."""
    if isinstance(exc, DomainError):
        if isinstance(exc, Forbidden):
            _record_denial(request, exc)
        return problem_response(request, problem_of(exc))
    if isinstance(exc, RequestValidationError):
        body = problem_body(BAD_REQUEST_DATA, N_("Some fields are not valid."), _validation_errors(exc))
        return problem_response(request, body)
    if isinstance(exc, StarletteHTTPException):
        kind = {404: RESOURCE_NOT_FOUND, 405: METHOD_NOT_ALLOWED}.get(exc.status_code, BAD_REQUEST_DATA)
        return problem_response(request, problem_body(kind), headers=getattr(exc, "headers", None))
    if isinstance(exc, IntegrityError):
        # A concurrent write took the same id between our check and our insert.
        return problem_response(request, problem_body(ALREADY_EXISTS))
    if isinstance(exc, OperationalError):
        log.exception("ngsi.database_unavailable", path=request.url.path)
        return problem_response(request, problem_body(INTERNAL_ERROR, N_("The database is busy; try again.")))
    raise exc


class NgsiRoute(APIRoute):
    """Route class of the NGSI-LD routers: every error answers ProblemDetails."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def ngsi_handler(request: Request) -> Response:
            try:
                try:
                    return await handler(request)
                except OperationalError as exc:
                    # SQLite: a write after the caller's account was read in the same transaction
                    # finds the snapshot stale when another writer committed in between. The actor
                    # is now cached on the request, so the second try asks for the lock up front.
                    if not retryable(exc) or getattr(request.state, "actor", None) is None:
                        raise
                    return await handler(request)
            except (
                DomainError,
                RequestValidationError,
                StarletteHTTPException,
                IntegrityError,
                OperationalError,
            ) as exc:
                return error_response(request, exc)

        return ngsi_handler
