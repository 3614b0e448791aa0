"""The property office's pages of 电子出入码 under /property/access: an estate's figures, gates
(register one: its key is shown once; last seen), the join QR to print, the access log with
filters and pages, passes (revoke), rules and blocked rooms, goods-out slips and the guard's
check. access:read sees everything; only pass:manage changes anything (a street observer reads)."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.access import gates, goods, service, visitors
from cityos.community.access import rules as rules_
from cityos.community.access.models import PassKind
from cityos.community.access.qr import join_url, qr_svg
from cityos.core.actor import Actor
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.core.settings import get_settings
from cityos.people import residences
from cityos.people.pii import mask_name
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
MSG_NO_ESTATE = N_("There is no estate in your area.")
MSG_DATE = N_("Must be a date like 2024-05-01.")
SECTIONS = (
    ("", N_("Overview")),
    ("log", N_("Access log")),
    ("passes", N_("Passes")),
    ("rules", N_("Rules and blocked rooms")),
    ("goods", N_("Goods-out slips")),
)
NUMBER_FIELDS = (
    "max_passes_per_person",
    "max_passes_per_household",
    "exit_limit",
    "exit_period_hours",
    "visitor_max_hours",
    "visitor_max_entries",
    "rotation_seconds",
    "validity_days",
)


def estates_in_scope(session: Session, actor: Actor, *, limit: int = 500) -> list[Region]:
    return list(
        session.scalars(
            select(Region)
            .where(Region.level == "estate", actor.scope_clause(Region.path))
            .order_by(Region.path)
            .limit(limit)
        )
    )


def chosen_estate(request: Request, session: Session, actor: Actor, estate: str | int | None) -> Region:
    """The estate asked for, or the one the region switcher points at (or lies in), or the first."""
    actor.require("access:read")
    if isinstance(estate, int) or (isinstance(estate, str) and estate.isdigit()):
        return rules_.estate_of(session, actor, int(estate))
    current = getattr(request.state, "current_region", None)
    if current is not None:
        if current.level == "estate":
            return rules_.estate_of(session, actor, current.id)
        below = session.scalar(
            select(Region)
            .where(Region.level == "estate", Region.path.startswith(current.path))
            .order_by(Region.path)
            .limit(1)
        )
        if below is not None and actor.covers(below):
            return below
    found = estates_in_scope(session, actor, limit=1)
    if not found:
        raise Invalid(MSG_NO_ESTATE)
    return found[0]


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    template: str,
    section: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        f"community/access/{template}",
        {
            "estate": estate,
            "estates": estates_in_scope(session, actor),
            "section": section,
            "sections": SECTIONS,
            "can_manage": actor.can("pass:manage", region=estate),
            "zone": ZoneInfo(get_settings().timezone),
            "status_labels": service.STATUS_LABELS,
            "kind_labels": service.KIND_LABELS,
            "slip_labels": goods.STATUS_LABELS,
            "relation_labels": rules_.RELATION_LABELS,
            "direction_labels": gates.DIRECTION_LABELS,
            "result_labels": gates.RESULT_LABELS,
            "reasons": gates.REASONS,
            **context,
        },
        status_code=status_code,
    )


# --- overview and gates --------------------------------------------------------------------------


def _overview(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    *,
    new_gate: Any = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    kid, public = service.public_key(session, estate.id)
    url = join_url(str(request.base_url), estate.id)
    return _page(
        request,
        session,
        actor,
        estate,
        "office.html",
        "",
        {
            "stats": service.stats(session, region=estate),
            "gates": gates.gates(session, actor, estate_id=estate.id),
            "join_url": url,
            "join_qr": qr_svg(url, scale=5),
            "short_url": f"{str(request.base_url).rstrip('/')}/community/j/{estate.code}",
            "kid": kid,
            "public_key": public,
            "new_gate": new_gate,
            "errors": errors or {},
            "values": values or {},
        },
        status_code,
    )


@router.get("/property/access", response_class=HTMLResponse)
def overview(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    """An estate's entry figures today, its gates and the join QR to print."""
    return _overview(request, session, actor, chosen_estate(request, session, actor, estate))


@router.post("/property/access/gates", response_class=HTMLResponse)
def gate_add(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[int, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    region = rules_.estate_of(session, actor, estate)
    try:
        made = gates.register_gate(session, actor, estate_id=region.id, name=name, code=code or None)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        values = {"name": name, "code": code}
        return _overview(request, session, actor, region, errors=errors, values=values, status_code=exc.status_code)
    return _overview(request, session, actor, region, new_gate=made)


# --- the access log ------------------------------------------------------------------------------


def _date(errors: list[FieldError], name: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(name, MSG_DATE))
        return None


@router.get("/property/access/log", response_class=HTMLResponse)
def log(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[str, Query(max_length=12)] = "",
    gate: Annotated[str, Query(max_length=12)] = "",
    direction: Annotated[str, Query(max_length=8)] = "",
    result: Annotated[str, Query(max_length=8)] = "",
    kind: Annotated[str, Query(max_length=12)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    offline_only: Annotated[str, Query(max_length=1)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Who came and went, newest first; filters by gate, direction, result, kind and dates."""
    region = chosen_estate(request, session, actor, estate)
    problems: list[FieldError] = []
    filters = gates.LogFilter(
        gate_id=int(gate) if gate.isdigit() else None,
        direction=direction if direction in gates.DIRECTIONS else None,
        result=result if result in gates.RESULTS else None,
        kind=kind if kind in ("resident", "visitor", "goods", "unknown") else None,
        date_from=_date(problems, "date_from", date_from),
        date_to=_date(problems, "date_to", date_to),
        offline_only=offline_only == "1",
    )
    errors: dict[str, str] = {}
    rows: list[gates.LogRow] = []
    total: int | None = 0
    masked = True
    status_code = 200
    try:
        if problems:
            raise Invalid(details=problems)
        rows, total, masked = gates.access_log(
            session, actor, estate_id=region.id, filters=filters, params=PageParams(page=page, size=PAGE_SIZE)
        )
    except Invalid as exc:
        errors, status_code = refused(request, session, actor, exc), 422
        region = rules_.estate_of(session, actor, region.id)
    query = {
        "estate": region.id,
        "gate": gate,
        "direction": direction,
        "result": result,
        "kind": kind,
        "date_from": date_from,
        "date_to": date_to,
        "offline_only": offline_only,
    }
    return _page(
        request,
        session,
        actor,
        region,
        "office_log.html",
        "log",
        {
            "rows": rows,
            "total": total or 0,
            "page": page,
            "pages": max(1, math.ceil((total or 0) / PAGE_SIZE)),
            "masked": masked,
            "gates": gates.gates(session, actor, estate_id=region.id),
            "q": query,
            "errors": errors,
        },
        status_code,
    )


# --- passes --------------------------------------------------------------------------------------


def _passes(
    request: Request,
    session: Session,
    actor: Actor,
    region: Region,
    *,
    kind: str = "",
    status: str = "",
    page: int = 1,
    errors: dict[str, str] | None = None,
    revoke_id: int | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = service.list_passes(
        session,
        actor,
        estate_id=region.id,
        params=PageParams(page=page, size=PAGE_SIZE),
        kind=kind or None,
        status=status or None,
    )
    names = service.holder_names(session, {p.holder_person_id for p in rows})
    items = []
    for p in rows:
        if p.kind == PassKind.VISITOR:
            holder = visitors.visitor_name(p, masked=True)
        else:
            holder = mask_name(names.get(p.holder_person_id or 0, ""))
        items.append({"p": p, "holder": holder, "state": service.state_of(p)})
    return _page(
        request,
        session,
        actor,
        region,
        "office_passes.html",
        "passes",
        {
            "items": items,
            "total": total or 0,
            "page": page,
            "pages": max(1, math.ceil((total or 0) / PAGE_SIZE)),
            "kind": kind,
            "status": status,
            "errors": errors or {},
            "revoke_id": revoke_id,
        },
        status_code,
    )


@router.get("/property/access/passes", response_class=HTMLResponse)
def passes(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[str, Query(max_length=12)] = "",
    kind: Annotated[str, Query(pattern="^(|resident|visitor)$")] = "",
    status: Annotated[str, Query(pattern="^(|active|expired|revoked|cancelled|used_up)$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The estate's passes (holders' names masked); revoke one with its reason."""
    region = chosen_estate(request, session, actor, estate)
    return _passes(request, session, actor, region, kind=kind, status=status, page=page)


@router.post("/property/access/passes/{pass_id}/revoke", response_class=HTMLResponse)
def revoke(
    pass_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    entry_pass = service.managed_pass(session, actor, pass_id)
    estate_id = entry_pass.estate_id
    try:
        service.revoke_pass(session, actor, pass_id=pass_id, reason=reason)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        region = rules_.estate_of(session, actor, estate_id)
        return _passes(request, session, actor, region, errors=errors, revoke_id=pass_id, status_code=exc.status_code)
    return RedirectResponse(f"/property/access/passes?estate={estate_id}", status_code=303)


# --- rules and blocked rooms ---------------------------------------------------------------------


def _rooms(session: Session, estate: Region) -> list[tuple[int, str]]:
    rooms = list(
        session.scalars(
            select(Region)
            .where(Region.level == "room", Region.path.startswith(estate.path))
            .order_by(Region.path)
            .limit(5000)
        )
    )
    labels = residences.addresses(session, rooms, within=estate.path)
    return [(r.id, labels.get(r.id, r.name)) for r in rooms]


def _rules(
    request: Request,
    session: Session,
    actor: Actor,
    region: Region,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rules = rules_.for_estate(session, region)
    current = rules_.as_dict(rules)
    shown = dict(values or {})
    for key in NUMBER_FIELDS:
        shown.setdefault(key, "" if current[key] is None else str(current[key]))
    for relation in rules_.RELATIONS:
        window = (current["windows"] or {}).get(relation) or ["", ""]
        shown.setdefault(f"{relation}.start", window[0])
        shown.setdefault(f"{relation}.end", window[1])
    return _page(
        request,
        session,
        actor,
        region,
        "office_rules.html",
        "rules",
        {
            "rules": rules,
            "v": shown,
            "relations": rules_.RELATIONS,
            "blocked": service.blocked_rooms(session, actor, estate_id=region.id),
            "rooms": _rooms(session, region) if actor.can("pass:manage", region=region) else [],
            "errors": errors or {},
            "saved": request.query_params.get("saved") == "1",
        },
        status_code,
    )


@router.get("/property/access/rules", response_class=HTMLResponse)
def rules_page(
    request: Request, session: DbSession, actor: PageActor, estate: Annotated[str, Query(max_length=12)] = ""
) -> HTMLResponse:
    """The estate's rules (passes per person and household, time windows, exits per period,
    visitors, the QR's rotation, validity) and its blocked rooms."""
    return _rules(request, session, actor, chosen_estate(request, session, actor, estate))


@router.post("/property/access/rules", response_class=HTMLResponse)
async def rules_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    form = await request.form()
    estate_id = str(form.get("estate", ""))
    region = chosen_estate(request, session, actor, estate_id if estate_id.isdigit() else None)
    values: dict[str, Any] = {k: str(form.get(k, "")).strip()[:12] for k in NUMBER_FIELDS}
    windows: dict[str, list[str]] = {}
    for relation in rules_.RELATIONS:
        start = str(form.get(f"{relation}.start", "")).strip()[:8]
        end = str(form.get(f"{relation}.end", "")).strip()[:8]
        values[f"{relation}.start"], values[f"{relation}.end"] = start, end
        if start or end:
            windows[relation] = [start, end]
    changes: dict[str, Any] = {
        k: (v if v or k != "exit_limit" else None) for k, v in values.items() if k in NUMBER_FIELDS
    }
    changes["windows"] = windows
    try:
        rules_.update(session, actor, estate_id=region.id, changes=changes)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        region = rules_.estate_of(session, actor, region.id)
        return _rules(request, session, actor, region, errors=errors, values=values, status_code=exc.status_code)
    return RedirectResponse(f"/property/access/rules?estate={region.id}&saved=1", status_code=303)


@router.post("/property/access/blocked", response_class=HTMLResponse)
def block(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[int, Form()],
    room_id: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    region = rules_.estate_of(session, actor, estate)
    try:
        service.block_room(
            session, actor, estate_id=region.id, room_id=int(room_id) if room_id.isdigit() else -1, reason=reason
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        region = rules_.estate_of(session, actor, estate)
        values = {"block.room_id": room_id, "block.reason": reason}
        return _rules(request, session, actor, region, errors=errors, values=values, status_code=exc.status_code)
    return RedirectResponse(f"/property/access/rules?estate={region.id}", status_code=303)


@router.post("/property/access/blocked/{room_id}/delete")
def unblock(room_id: int, session: DbSession, actor: PageActor, estate: Annotated[int, Form()]) -> Response:
    service.unblock_room(session, actor, estate_id=estate, room_id=room_id)
    return RedirectResponse(f"/property/access/rules?estate={estate}", status_code=303)


# --- goods-out slips -----------------------------------------------------------------------------


def _goods(
    request: Request,
    session: Session,
    actor: Actor,
    region: Region,
    *,
    code: str = "",
    status: str = "",
    page: int = 1,
    checked: goods.Checked | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = goods.list_slips(
        session, actor, estate_id=region.id, params=PageParams(page=page, size=PAGE_SIZE), status=status or None
    )
    names = service.holder_names(session, {s.person_id for s in rows})
    found = goods.find(session, region, code) if code and checked is None else None
    return _page(
        request,
        session,
        actor,
        region,
        "office_goods.html",
        "goods",
        {
            "rows": [
                {"s": s, "state": goods.state_of(s), "person": mask_name(names.get(s.person_id, ""))} for s in rows
            ],
            "total": total or 0,
            "page": page,
            "pages": max(1, math.ceil((total or 0) / PAGE_SIZE)),
            "status": status,
            "code": code,
            "found": found,
            "found_state": goods.state_of(found) if found else None,
            "looked": bool(code) and checked is None,
            "checked": checked,
        },
        status_code,
    )


@router.get("/property/access/goods", response_class=HTMLResponse)
def goods_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[str, Query(max_length=12)] = "",
    code: Annotated[str, Query(max_length=32)] = "",
    status: Annotated[str, Query(pattern="^(|active|used|cancelled|expired)$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The estate's goods-out slips; a slip's QR opens this page with its code for the guard."""
    slip = goods.slip_for_guard(session, actor, code) if code and not estate else None
    region = chosen_estate(request, session, actor, slip.estate_id if slip else estate)
    return _goods(request, session, actor, region, code=code.strip().upper(), status=status, page=page)


@router.post("/property/access/goods/check", response_class=HTMLResponse)
def goods_check(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[int, Form()],
    code: Annotated[str, Form(max_length=32)] = "",
) -> HTMLResponse:
    """The guard lets the goods out (pass:manage); the check is logged either way."""
    region = rules_.estate_of(session, actor, estate)
    checked = goods.let_out(session, region, code=code, actor=actor)
    return _goods(request, session, actor, region, code=code.strip().upper(), checked=checked)
