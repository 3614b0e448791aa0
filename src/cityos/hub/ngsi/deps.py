"""Dependencies of the NGSI-LD routes: tenant, caller, JSON-LD context, body and the response
representation (``application/json`` + Link header, ``application/ld+json`` + ``@context``,
``application/geo+json``)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from cityos.core.actor import Actor
from cityos.core.errors import FieldError
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.hub.ngsi import context as ld
from cityos.hub.ngsi import contexts
from cityos.hub.ngsi.problems import BAD_REQUEST_DATA, INVALID_REQUEST, NOT_ACCEPTABLE, NgsiProblem
from cityos.hub.ngsi.writer import GroupWriter
from cityos.identity.deps import CurrentActor

TENANT_HEADER = "NGSILD-Tenant"
DEFAULT_TENANT = "default"
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
JSON = "application/json"
JSON_LD = "application/ld+json"
GEO_JSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")


# -- tenant -----------------------------------------------------------------------------------
def tenant_name(value: str | None) -> str:
    if value is None or value == "":
        return DEFAULT_TENANT
    if not _TENANT.match(value):
        raise NgsiProblem(
            BAD_REQUEST_DATA,
            N_("A tenant name has 1 to 64 letters, digits, '_' or '-'."),
            details=[FieldError(TENANT_HEADER, N_("A tenant name has 1 to 64 letters, digits, '_' or '-'."))],
        )
    return value


async def _tenant(request: Request) -> str:
    return tenant_name(request.headers.get(TENANT_HEADER))


Tenant = Annotated[str, Depends(_tenant)]


# -- caller -----------------------------------------------------------------------------------
NgsiActor = CurrentActor  # unauthenticated: 401 ProblemDetails through NgsiRoute


async def _reader(actor: CurrentActor) -> Actor:
    actor.require("hub:read")
    return actor


async def _writer(actor: CurrentActor) -> Actor:
    actor.require("hub:write")
    return actor


async def _subscriber(actor: CurrentActor) -> Actor:
    actor.require("hub:subscribe")
    return actor


Reader = Annotated[Actor, Depends(_reader)]
Writer = Annotated[Actor, Depends(_writer)]
Subscriber = Annotated[Actor, Depends(_subscriber)]


# -- JSON-LD context --------------------------------------------------------------------------
def link_contexts(request: Request) -> list[str]:
    """The context URLs of the request's Link header(s) with rel json-ld#context."""
    return context_urls(request.headers.getlist("link"))


def context_urls(headers: list[str]) -> list[str]:
    """The context URLs with rel json-ld#context in these Link header values."""
    urls: list[str] = []
    for header in headers:
        for match in _LINK.finditer(header):
            params = match.group(2).replace(" ", "")
            if f'rel="{ld.JSONLD_CONTEXT_REL}"' in params or f"rel={ld.JSONLD_CONTEXT_REL}" in params:
                urls.append(match.group(1).strip())
    return urls


async def context_of(local: Any, session: Session) -> ld.Context:
    """Resolve a caller's context: from the cache on the event loop, otherwise in a worker
    thread (a document may have to be fetched, or read from the hosted contexts)."""
    ctx = ld.cached_context(local)
    if ctx is not None:
        return ctx
    hosted = contexts.hosted_lookup(session)
    return await anyio.to_thread.run_sync(functools.partial(ld.resolve, local, hosted=hosted))


async def _link_context(request: Request, session: DbSession) -> ld.Context:
    urls = link_contexts(request)
    if len(urls) > 1:
        raise NgsiProblem(BAD_REQUEST_DATA, N_("Send at most one JSON-LD context Link header."))
    return await context_of(urls[0] if urls else None, session)


LinkContext = Annotated[ld.Context, Depends(_link_context)]


@dataclass
class Payload:
    """A parsed request body with the context it is to be read with. For a list body in
    ``application/ld+json``, ``contexts`` holds each item's context."""

    data: Any
    context: ld.Context
    contexts: list[ld.Context] | None = None


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _payload(request: Request, session: DbSession) -> Payload:
    media = _media(request)
    if media not in (JSON, JSON_LD, MERGE_PATCH):
        raise NgsiProblem(INVALID_REQUEST, N_("Send the body as application/json or application/ld+json."), params={})
    raw = await request.body()
    if not raw:
        raise NgsiProblem(INVALID_REQUEST, N_("The request has no body."))
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise NgsiProblem(INVALID_REQUEST, N_("The request body is not valid JSON.")) from exc
    urls = link_contexts(request)
    if media == JSON_LD:
        if urls:
            raise NgsiProblem(
                BAD_REQUEST_DATA, N_("With application/ld+json the context goes in the body, not a Link.")
            )
        if isinstance(data, dict):
            if "@context" not in data:
                raise NgsiProblem(BAD_REQUEST_DATA, N_("An application/ld+json body needs an @context member."))
            return Payload(data, await context_of(data["@context"], session))
        if isinstance(data, list) and data and all(isinstance(item, str) for item in data):
            # a list of entity ids (batch delete; FiLiP sends it as ld+json): nothing to expand
            return Payload(data, ld.core_context())
        if isinstance(data, list):
            contexts = []
            for item in data:
                if not isinstance(item, dict) or "@context" not in item:
                    raise NgsiProblem(BAD_REQUEST_DATA, N_("An application/ld+json body needs an @context member."))
                contexts.append(await context_of(item["@context"], session))
            return Payload(data, contexts[0] if contexts else ld.core_context(), contexts)
        raise NgsiProblem(BAD_REQUEST_DATA, N_("Send the entity as a JSON object."))
    if _has_context(data):
        raise NgsiProblem(BAD_REQUEST_DATA, N_("With application/json the context goes in a Link header."))
    if len(urls) > 1:
        raise NgsiProblem(BAD_REQUEST_DATA, N_("Send at most one JSON-LD context Link header."))
    return Payload(data, await context_of(urls[0] if urls else None, session))


def _has_context(data: Any) -> bool:
    if isinstance(data, dict):
        return "@context" in data
    return isinstance(data, list) and any(isinstance(x, dict) and "@context" in x for x in data)


Body = Annotated[Payload, Depends(_payload)]


async def _json(request: Request) -> Any:
    """A plain JSON body (``@context`` allowed: a JSON-LD context document)."""
    if _media(request) not in (JSON, JSON_LD):
        raise NgsiProblem(INVALID_REQUEST, N_("Send the body as application/json or application/ld+json."))
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise NgsiProblem(INVALID_REQUEST, N_("The request body is not valid JSON.")) from exc


JsonBody = Annotated[Any, Depends(_json)]


# -- writes -----------------------------------------------------------------------------------
T = TypeVar("T")


async def run_write(request: Request, work: Callable[[Session], T]) -> T:
    """Runs a write and its commit in one worker thread, with the write lock asked up front,
    together with the writes that arrive meanwhile (group commit, see ``writer.py``).

    A request's session (``DbSession``) commits in a second thread hop after the endpoint; on
    SQLite a write transaction that holds the lock between two hops can starve the few worker
    threads (the next writers wait for the lock in them) until the busy timeout. Here the lock
    is taken, used and released within one hop."""
    result: T = await group_writer(request.app).submit(work)
    return result


def group_writer(app: Any) -> GroupWriter:
    """The application's group-commit writer (one per app, made on first use)."""
    factory = app.state.runtime.session_factory
    state = app.state
    group: GroupWriter | None = getattr(state, "ngsi_writer", None)
    if group is None or group.factory is not factory:
        group = GroupWriter(factory)
        state.ngsi_writer = group
    return group


# -- representation ---------------------------------------------------------------------------
def accepted(request: Request, *, geo: bool = False) -> str:
    """The response media type the caller asked for (json, ld+json, or geo+json where offered)."""
    header = request.headers.get("accept")
    if not header:
        return JSON
    offers = [JSON, JSON_LD, *([GEO_JSON] if geo else [])]
    best: tuple[float, int, str] | None = None
    for part in header.split(","):
        kind, _, params = part.strip().partition(";")
        kind = kind.strip().lower()
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if kind in ("*/*", "application/*"):
            candidates = [JSON]
        else:
            candidates = [kind] if kind in offers else []
        for c in candidates:
            rank = (q, -offers.index(c), c)
            if best is None or rank > best:
                best = rank
    if best is None:
        raise NgsiProblem(NOT_ACCEPTABLE, N_("This resource is offered as application/json or application/ld+json."))
    return best[2]


def link_header(ctx: ld.Context) -> str:
    return f'<{ctx.link}>; rel="{ld.JSONLD_CONTEXT_REL}"; type="application/ld+json"'


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def respond(
    request: Request,
    data: Any,
    ctx: ld.Context,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    media: str | None = None,
) -> Response:
    """A JSON response in the representation the caller accepts."""
    media = media or accepted(request)
    out_headers = dict(headers or {})
    if media == JSON_LD:
        if isinstance(data, dict):
            data = {"@context": ctx.response_context, **data}
        elif isinstance(data, list):
            data = [{"@context": ctx.response_context, **x} if isinstance(x, dict) else x for x in data]
    else:
        out_headers["Link"] = link_header(ctx)
    return Response(dumps(data), status_code=status, media_type=media, headers=out_headers)
