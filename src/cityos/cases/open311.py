"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over cases.

Service codes are the category codes of the 细类 (``component.01.01``). Reading is public, as
the specification intends, and shows no personal data; help requests and property repairs are
not published. Posting needs the ``api_key`` of a registered app (``<client_id>.<secret>``)
granted ``case:report``. Both formats of the specification are served: ``.json`` and ``.xml``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.cases import service
from cityos.cases.models import Case, Category, Channel
from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.i18n import translate
from cityos.identity import passwords
from cityos.identity.deps import actor_for_client
from cityos.identity.models import OAuthClient
from cityos.people.models import Department

PUBLIC_ROOTS = ("event", "component", "hotline")
CLOSED_STATES = frozenset({"closed", "rejected", "done", "merged"})
MAX_REQUESTS = 1000


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _public(code: str) -> bool:
    return code.split(".", 1)[0] in PUBLIC_ROOTS


def services(session: Session) -> list[dict[str, Any]]:
    rows = service.list_categories(session)
    by_code = {c.code: c for c in rows}
    out = []
    for c in rows:
        if c.level != 3 or not _public(c.code):
            continue
        parent = by_code.get(c.parent_code or "")
        out.append(
            {
                "service_code": c.code,
                "service_name": c.name,
                "description": f"{parent.name} · {c.name}" if parent else c.name,
                "metadata": False,
                "type": "realtime",
                "keywords": c.keywords or "",
                "group": parent.name if parent else "",
            }
        )
    return out


def definition(session: Session, code: str) -> dict[str, Any]:
    category = session.get(Category, code)
    if category is None or category.level != 3 or not _public(code):
        raise Open311Error(404, "service_code not found")
    return {"service_code": code, "attributes": []}


def client_actor(session: Session, api_key: str | None) -> Actor:
    client_id, _, secret = (api_key or "").partition(".")
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id)) if client_id else None
    if client is None or not client.active or not secret or not passwords.verify(client.secret_hash, secret):
        raise Open311Error(403, "api_key is missing or not valid")
    actor = actor_for_client(client, list(client.scopes or []))
    if not actor.can("case:report"):
        raise Open311Error(403, "this api_key may not post service requests")
    return actor


def post_request(session: Session, actor: Actor, form: dict[str, str]) -> list[dict[str, Any]]:
    code = form.get("service_code", "")
    if not code:
        raise Open311Error(400, "service_code is required")
    if not _public(code) or session.get(Category, code) is None:
        raise Open311Error(404, "service_code not found")
    lat, lon = form.get("lat"), form.get("long")
    address = form.get("address_string") or form.get("address_id")
    if not (lat and lon) and not address:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    try:
        x = float(lon) if lon else None
        y = float(lat) if lat else None
    except ValueError as exc:
        raise Open311Error(400, "lat and long must be numbers") from exc
    description = (form.get("description") or "").strip()
    title = description[:60] or (session.get(Category, code).name)  # type: ignore[union-attr]
    try:
        case = service.report(
            session,
            actor,
            category_code=code,
            title=title,
            description=description,
            channel=Channel.OPEN311,
            lon=x,
            lat=y,
            address=address,
            external_ref=form.get("device_id") or None,
        )
    except DomainError as exc:
        detail = "; ".join(f"{d.field}: {translate(d.message, 'en', **d.params)}" for d in exc.details)
        raise Open311Error(400, detail or translate(exc.message, "en")) from exc
    return [{"service_request_id": str(case.id), "service_notice": "", "account_id": ""}]


def _w3c(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def _row(case: Case, names: dict[str, str], agencies: dict[int, str]) -> dict[str, Any]:
    return {
        "service_request_id": str(case.id),
        "status": "closed" if case.closed_at is not None or case.status in CLOSED_STATES else "open",
        "status_notes": case.status,
        "service_name": names.get(case.category_code, ""),
        "service_code": case.category_code,
        "description": case.description or case.title,
        "agency_responsible": agencies.get(case.department_id or 0, ""),
        "service_notice": "",
        "requested_datetime": _w3c(case.created_at),
        "updated_datetime": _w3c(case.updated_at),
        "expected_datetime": _w3c(case.due_at),
        "address": case.address or "",
        "address_id": "",
        "zipcode": "",
        "lat": case.lat if case.lat is not None else "",
        "long": case.lon if case.lon is not None else "",
        "media_url": "",
    }


def _parse_date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a W3C date-time") from exc


def requests(session: Session, params: dict[str, str]) -> list[dict[str, Any]]:
    query = select(Case).where(or_(*[Case.category_code.startswith(root + ".") for root in PUBLIC_ROOTS]))
    ids = [i for i in (params.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        if not all(i.strip().isdigit() for i in ids):
            raise Open311Error(400, "service_request_id must be numbers")
        query = query.where(Case.id.in_([int(i) for i in ids]))
    else:
        codes = [c for c in (params.get("service_code") or "").split(",") if c]
        if codes:
            query = query.where(Case.category_code.in_(codes))
        start = _parse_date(params.get("start_date"), "start_date")
        end = _parse_date(params.get("end_date"), "end_date")
        if start:
            query = query.where(Case.created_at >= start)
        if end:
            query = query.where(Case.created_at <= end)
        status = params.get("status")
        if status not in (None, "", "open", "closed", "open,closed", "closed,open"):
            raise Open311Error(400, "status must be open or closed")
        if status == "open":
            query = query.where(Case.closed_at.is_(None), Case.status.not_in(CLOSED_STATES))
        elif status == "closed":
            query = query.where(or_(Case.closed_at.is_not(None), Case.status.in_(CLOSED_STATES)))
    rows = list(session.scalars(query.order_by(Case.created_at.desc()).limit(MAX_REQUESTS)))
    names = {
        c.code: c.name
        for c in session.scalars(select(Category).where(Category.code.in_({r.category_code for r in rows})))
    }
    agencies = {
        d.id: d.name
        for d in session.scalars(
            select(Department).where(Department.id.in_({r.department_id for r in rows if r.department_id}))
        )
    }
    return [_row(r, names, agencies) for r in rows]


def one_request(session: Session, request_id: str) -> list[dict[str, Any]]:
    if not request_id.isdigit():
        raise Open311Error(404, "service_request_id not found")
    found = requests(session, {"service_request_id": request_id})
    if not found:
        raise Open311Error(404, "service_request_id not found")
    return found


def token(session: Session, token_id: str) -> list[dict[str, Any]]:
    # Requests are created synchronously, so a token is the request id itself.
    found = one_request(session, token_id)
    return [{"service_request_id": found[0]["service_request_id"], "token": token_id}]


# --- formats -------------------------------------------------------------------------------------------------

_XML_ROOTS = {
    "services": ("services", "service"),
    "definition": ("service_definition", None),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def to_xml(kind: str, data: Any) -> bytes:
    root_name, item_name = _XML_ROOTS[kind]
    root = ET.Element(root_name)

    def fill(parent: ET.Element, obj: dict[str, Any]) -> None:
        for key, value in obj.items():
            child = ET.SubElement(parent, key)
            if isinstance(value, list):
                for entry in value:
                    fill(ET.SubElement(child, "attribute"), entry)
            elif isinstance(value, bool):
                child.text = "true" if value else "false"
            else:
                child.text = "" if value is None else str(value)

    if item_name is None:
        fill(root, data)
    else:
        for obj in data:
            fill(ET.SubElement(root, item_name), obj)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml


def errors_body(status: int, description: str) -> list[dict[str, Any]]:
    return [{"code": status, "description": description}]
