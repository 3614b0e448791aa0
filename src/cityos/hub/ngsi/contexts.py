"""The JSON-LD contexts the hub hosts and caches (``/ngsi-ld/v1/jsonldContexts``).

A hosted context is stored in ``hub_ngsi_context`` and served at
``/ngsi-ld/v1/jsonldContexts/{id}``; a Link header naming that path (on any host name) is
resolved from the table, never over the network. Cached contexts are the remote documents the
``ContextLoader`` holds (per process)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.hub.ngsi import context as ld
from cityos.hub.ngsi.attributes import iso
from cityos.hub.ngsi.models import NgsiContextDoc
from cityos.hub.ngsi.problems import BAD_REQUEST_DATA, RESOURCE_NOT_FOUND, NgsiProblem

PATH = "/ngsi-ld/v1/jsonldContexts/"
_HOSTED = re.compile(r"^https?://[^/]+/ngsi-ld/v1/jsonldContexts/([A-Za-z0-9_-]{1,64})$")
MAX_HOSTED = 256 * 1024


def hosted_lookup(session: Session) -> ld.Hosted:
    """A lookup of hosted context documents by URL, over the caller's session."""

    def lookup(url: str) -> Any | None:
        match = _HOSTED.match(url)
        if match is None:
            return None
        row = session.scalar(select(NgsiContextDoc).where(NgsiContextDoc.key == match.group(1)))
        return None if row is None else row.body

    return lookup


def _url(base: str, key: str) -> str:
    return base.rstrip("/") + PATH + key


def add_context(session: Session, *, body: Any, base: str) -> str:
    """Stores a context document; returns its URL."""
    if not isinstance(body, dict) or "@context" not in body:
        raise NgsiProblem(
            BAD_REQUEST_DATA,
            N_("Send a JSON-LD context document: an object with an @context member."),
            details=[FieldError("@context", N_("This field is required."))],
        )
    if len(json.dumps(body)) > MAX_HOSTED:
        raise NgsiProblem(BAD_REQUEST_DATA, N_("The context document is too large."))
    local = body["@context"]
    if isinstance(local, str) or (isinstance(local, list) and any(isinstance(x, str) for x in local)):
        ld.resolve(local, hosted=hosted_lookup(session))  # referenced contexts must be available
    else:
        ld.build(local)  # the definitions must be valid
    key = uuid.uuid4().hex
    session.add(NgsiContextDoc(key=key, body=body))
    session.flush()
    return _url(base, key)


def _row(session: Session, key: str) -> NgsiContextDoc:
    row = session.scalar(select(NgsiContextDoc).where(NgsiContextDoc.key == key))
    if row is None:
        raise NgsiProblem(RESOURCE_NOT_FOUND, N_("No JSON-LD context has the id {id}."), params={"id": key[:64]})
    return row


def get_context(session: Session, *, key: str, details: bool = False) -> Any:
    if key in ("core", "ngsi-ld-core-context"):
        doc = ld.LOADER.document(ld.CORE_CONTEXT_URL)
        return {"url": ld.CORE_CONTEXT_URL, "kind": "ImplicitlyCreated", "localId": key} if details else doc
    row = _row(session, key)
    if details:
        return {"url": PATH + key, "localId": key, "kind": "Hosted", "createdAt": iso(row.created_at)}
    return row.body


def list_contexts(session: Session, *, base: str, details: bool = False, kind: str | None = None) -> list[Any]:
    if kind is not None and kind not in ("Hosted", "Cached", "ImplicitlyCreated"):
        raise NgsiProblem(BAD_REQUEST_DATA, N_("kind is Hosted, Cached or ImplicitlyCreated."))
    out: list[dict[str, Any]] = []
    if kind in (None, "Hosted"):
        for row in session.scalars(select(NgsiContextDoc).order_by(NgsiContextDoc.id)):
            out.append(
                {"url": _url(base, row.key), "localId": row.key, "kind": "Hosted", "createdAt": iso(row.created_at)}
            )
    if kind in (None, "Cached"):
        for url, size, left in ld.LOADER.entries():
            out.append({"url": url, "kind": "Cached", "size": size, "expiresIn": round(left)})
    if kind in (None, "ImplicitlyCreated"):
        out.append({"url": ld.CORE_CONTEXT_URL, "localId": "core", "kind": "ImplicitlyCreated"})
    return out if details else [x["url"] for x in out]


def delete_context(session: Session, *, key: str) -> None:
    """Deletes a hosted context (and forgets the contexts resolved with it in this process)."""
    row = session.scalar(select(NgsiContextDoc).where(NgsiContextDoc.key == key))
    if row is None:
        raise NgsiProblem(RESOURCE_NOT_FOUND, N_("No JSON-LD context has the id {id}."), params={"id": key[:64]})
    session.delete(row)
    session.flush()
    ld.forget_resolved()
