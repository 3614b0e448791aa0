"""HTTP routes of Open311 GeoReport v2 at /open311/v2/ (JSON and XML, the specification's errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from cityos.cases import open311
from cityos.core.http import DbSession

router = APIRouter(prefix="/open311/v2", tags=["open311"])


def _answer(fmt: str, kind: str, produce: Callable[[], Any], *, status: int = 200) -> Response:
    if fmt not in ("json", "xml"):
        return JSONResponse(open311.errors_body(404, "format must be json or xml"), status_code=404)
    try:
        data = produce()
    except open311.Open311Error as exc:
        body = open311.errors_body(exc.status, exc.description)
        if fmt == "xml":
            return Response(
                open311.to_xml("errors", body), status_code=exc.status, media_type="text/xml; charset=utf-8"
            )
        return JSONResponse(body, status_code=exc.status)
    if fmt == "xml":
        return Response(open311.to_xml(kind, data), status_code=status, media_type="text/xml; charset=utf-8")
    return JSONResponse(data, status_code=status)


@router.get("/services.{fmt}")
def services(fmt: str, session: DbSession) -> Response:
    """The service list: one service per 细类 of the published categories."""
    return _answer(fmt, "services", lambda: open311.services(session))


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str, session: DbSession) -> Response:
    return _answer(fmt, "definition", lambda: open311.definition(session, service_code))


@router.get("/requests.{fmt}")
def list_requests(fmt: str, request: Request, session: DbSession) -> Response:
    params = dict(request.query_params.items())
    return _answer(fmt, "requests", lambda: open311.requests(session, params))


@router.post("/requests.{fmt}")
async def post_request(fmt: str, request: Request, session: DbSession) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}

    def produce() -> Any:
        actor = open311.client_actor(session, form.get("api_key"))
        return open311.post_request(session, actor, form)

    import anyio

    # The service does blocking database work; keep it off the event loop.
    return await anyio.to_thread.run_sync(lambda: _answer(fmt, "requests", produce, status=201))


@router.get("/requests/{request_id}.{fmt}")
def one_request(request_id: str, fmt: str, session: DbSession) -> Response:
    return _answer(fmt, "requests", lambda: open311.one_request(session, request_id))


@router.get("/tokens/{token_id}.{fmt}")
def token(token_id: str, fmt: str, session: DbSession) -> Response:
    return _answer(fmt, "requests", lambda: open311.token(session, token_id))
