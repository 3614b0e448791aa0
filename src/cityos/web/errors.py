"""One mapping from domain and validation errors to HTTP, in the caller's language."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityos.core import audit
from cityos.core.errors import DomainError, FieldError, Forbidden, Unauthorized
from cityos.core.i18n import N_, translate

log = structlog.get_logger(__name__)

# Pydantic error types -> message ids (English; translated per request).
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Must be at least {min_length} characters."),
    "string_too_long": N_("Must be at most {max_length} characters."),
    "string_pattern_mismatch": N_("The format is not valid."),
    "string_type": N_("Must be text."),
    "int_parsing": N_("Must be a whole number."),
    "int_type": N_("Must be a whole number."),
    "float_parsing": N_("Must be a number."),
    "float_type": N_("Must be a number."),
    "bool_parsing": N_("Must be true or false."),
    "greater_than_equal": N_("Must be at least {ge}."),
    "greater_than": N_("Must be greater than {gt}."),
    "less_than_equal": N_("Must be at most {le}."),
    "less_than": N_("Must be less than {lt}."),
    "enum": N_("Must be one of: {expected}."),
    "literal_error": N_("Must be one of: {expected}."),
    "date_parsing": N_("Must be a date like 2024-05-01."),
    "date_from_datetime_parsing": N_("Must be a date like 2024-05-01."),
    "date_type": N_("Must be a date like 2024-05-01."),
    "datetime_parsing": N_("Must be a date and time."),
    "datetime_from_date_parsing": N_("Must be a date and time."),
    "json_invalid": N_("The request body is not valid JSON."),
    "model_attributes_type": N_("Must be an object."),
    "dict_type": N_("Must be an object."),
    "list_type": N_("Must be a list."),
    "too_short": N_("Must have at least {min_length} items."),
    "too_long": N_("Must have at most {max_length} items."),
    "extra_forbidden": N_("This field is not allowed."),
    "uuid_parsing": N_("The format is not valid."),
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    details = []
    for err in exc.errors():
        ctx = err.get("ctx") or {}
        kind = err.get("type", "")
        if kind == "value_error" and "error" in ctx:
            # Our validators raise ValueError(msgid); translate it.
            message = translate(str(ctx["error"]))
        else:
            msgid = _PYDANTIC_MESSAGES.get(kind, N_("This value is not valid."))
            params: dict[str, Any] = {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
            message = translate(msgid, **params)
        details.append({"field": _field_path(tuple(err.get("loc", ()))), "message": message, "type": kind})
    return details


def _error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _field_errors(details: list[FieldError]) -> list[dict[str, str]]:
    return [{"field": d.field, "message": translate(d.message, **d.params), "type": "invalid"} for d in details]


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
        return False
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _record_denial(request: Request, exc: Forbidden) -> None:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return
    # The request's own transaction is rolled back; the denial is written in its own.
    session = runtime.session_factory()
    try:
        actor = getattr(request.state, "actor", None)
        audit.record(
            session,
            actor,
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


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, Forbidden):
            _record_denial(request, exc)
        if isinstance(exc, Unauthorized) and _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
        message = translate(exc.message, **exc.params)
        if _wants_html(request):
            from cityos.web.templating import render

            return render(
                request, "error.html", {"status": exc.status_code, "message": message}, status_code=exc.status_code
            )
        return JSONResponse(_error_body(exc.code, message, _field_errors(exc.details)), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse(
            _error_body("invalid", translate("Some fields are not valid."), validation_details(exc)),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: N_("Not found."), 405: N_("Method not allowed.")}
        message = translate(messages.get(exc.status_code, str(exc.detail)))
        if _wants_html(request):
            from cityos.web.templating import render

            return render(
                request, "error.html", {"status": exc.status_code, "message": message}, status_code=exc.status_code
            )
        return JSONResponse(
            _error_body("http_error", message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("request.failed", path=request.url.path)
        return JSONResponse(_error_body("internal", translate("Something went wrong on our side.")), status_code=500)
