"""Residents' pages of 电子出入码: the join page a gate's QR opens (/community/join/{estate_id},
or the short /community/j/{code}), the pass with its rotating QR (/community/pass), visitors
(/community/visitors, and the visitor's own page /community/visit/{code} with no account) and
goods-out slips (/community/goods). The property office's pages are in ``office``; the gates'
API (``api.device_router``) is mounted here too. Templates in web/templates/community/access/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.access import api, goods, office, residents, service, visitors
from cityos.community.access import rules as rules_
from cityos.community.access.models import EntryPass, PassStatus
from cityos.community.access.qr import join_url, qr_svg
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import DomainError, FieldError, Invalid, NotFound
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(api.device_router)
router.include_router(office.router)

MSG_WHEN = N_("Give a date and time like 2026-12-01 08:00.")
MSG_WHOLE = N_("Must be a whole number.")
T = TypeVar("T")
Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def parse_when(errors: list[FieldError], name: str, value: str) -> datetime | None:
    """A form's datetime-local value (the city's local time); None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        errors.append(FieldError(name, MSG_WHEN))
        return None


def parse_int(errors: list[FieldError], name: str, value: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        errors.append(FieldError(name, MSG_WHOLE))
        return None
    return int(text)


def checked(problems: list[FieldError], call: Callable[[], T]) -> T:
    """Run the service with what could be read from the form, and report the form's own problems
    (a date that is not a date) together with the service's; a write made despite a form problem
    is undone by the caller's rollback (``refused``)."""
    try:
        result = call()
    except Invalid as exc:
        seen = {p.field for p in problems}
        raise Invalid(details=problems + [d for d in exc.details if d.field not in seen]) from exc
    if problems:
        raise Invalid(details=problems)
    return result


def common() -> dict[str, Any]:
    return {
        "zone": zone(),
        "status_labels": service.STATUS_LABELS,
        "slip_labels": goods.STATUS_LABELS,
        "relation_labels": rules_.RELATION_LABELS,
    }


# --- joining -------------------------------------------------------------------------------------


@router.get("/community/j/{code}")
def short_join(code: Code, session: DbSession) -> Response:
    """The short form printed under a gate's QR: the estate's code."""
    estate = session.scalar(select(Region).where(Region.code == code, Region.level == "estate"))
    if estate is None:
        raise NotFound(rules_.MSG_ESTATE)
    return RedirectResponse(f"/community/join/{estate.id}", status_code=303)


@router.get("/community/join/{estate_id}/qr.svg")
def join_qr(estate_id: int, request: Request, session: DbSession) -> Response:
    """The estate's join QR to print at its gates."""
    estate = rules_.estate_by_id(session, estate_id)
    return Response(qr_svg(join_url(base_url(request), estate.id), scale=10), media_type="image/svg+xml")


def _join(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    choices = service.join_choices(session, actor, estate_id=estate.id)
    return render(
        request,
        "community/access/join.html",
        {"estate": estate, "choices": choices, "errors": errors or {}, **common()},
        status_code=status_code,
    )


@router.get("/community/join/{estate_id}", response_class=HTMLResponse)
def join(estate_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """Scanned at the gate: your room(s) here are filled in from your residence record; one tap."""
    actor.require("pass:request")
    return _join(request, session, actor, rules_.estate_by_id(session, estate_id))


@router.post("/community/join/{estate_id}", response_class=HTMLResponse)
def join_submit(
    estate_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    room_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    estate = rules_.estate_by_id(session, estate_id)
    errors: list[FieldError] = []
    room = parse_int(errors, "room_id", room_id)
    try:
        entry_pass = checked(errors, lambda: service.issue_pass(session, actor, estate_id=estate.id, room_id=room))
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        return _join(request, session, actor, estate, errors=shown, status_code=exc.status_code)
    return RedirectResponse(f"/community/pass?new={entry_pass.id}", status_code=303)


# --- the pass ------------------------------------------------------------------------------------


def pass_qr(session: Session, entry_pass: EntryPass) -> dict[str, Any]:
    """What the QR fragment shows: the current token as a QR, or why there is none."""
    if not service.usable(entry_pass):
        return {"p": entry_pass, "qr": None, "state": service.state_of(entry_pass), **common()}
    token = service.sign_token(session, entry_pass)
    return {
        "p": entry_pass,
        "qr": qr_svg(token.token, scale=5),
        "token": token,
        "refresh": token.rotation,
        "state": PassStatus.ACTIVE,
        **common(),
    }


@router.get("/community/pass", response_class=HTMLResponse)
def my_pass(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """My entry pass: a large QR that renews itself every few seconds (a screenshot soon stops working)."""
    actor.require("pass:request")
    passes = service.my_passes(session, actor)
    held = {p.estate_id for p in passes}
    today = residents.local_date(utcnow())
    estates = (
        [e for e in residents.estates_of(session, actor.person_id, today=today) if e.id not in held]
        if actor.person_id
        else []
    )
    return render(
        request,
        "community/access/pass.html",
        {"cards": [pass_qr(session, p) for p in passes], "estates": estates, **common()},
    )


@router.get("/community/pass/{pass_id}/qr", response_class=HTMLResponse)
def my_pass_qr(pass_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The QR fragment the pass page fetches every rotation period."""
    entry_pass = service.own_pass(session, actor, pass_id)
    return render(request, "community/access/_pass_qr.html", pass_qr(session, entry_pass))


@router.post("/community/pass/{pass_id}/cancel")
def my_pass_cancel(pass_id: int, session: DbSession, actor: PageActor) -> Response:
    service.cancel_pass(session, actor, pass_id=pass_id)
    return RedirectResponse("/community/pass", status_code=303)


# --- visitors ------------------------------------------------------------------------------------


def _visitors(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rooms = residents.my_rooms(session, actor)
    rows = visitors.my_invitations(session, actor)
    invited = request.query_params.get("invited", "")
    shown = None
    for p in rows:
        if invited.isdigit() and p.id == int(invited) and service.state_of(p) == PassStatus.ACTIVE:
            link = f"{base_url(request)}/community/visit/{visitors.link_of(p)}"
            shown = {"p": p, "link": link, "qr": qr_svg(link, scale=5)}
    context: dict[str, Any] = {
        "rooms": rooms,
        "rows": [
            {
                "p": p,
                "name": visitors.visitor_name(p, masked=False),
                "phone": visitors.visitor_phone(p),
                "state": service.state_of(p),
                "link": f"/community/visit/{visitors.link_of(p)}",
            }
            for p in rows
        ],
        "shown": shown,
        "errors": errors or {},
        "values": values or {},
        **common(),
    }
    return render(request, "community/access/visitors.html", context, status_code=status_code)


@router.get("/community/visitors", response_class=HTMLResponse)
def visitors_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """Invite a visitor (time-boxed, a number of entries), see and cancel invitations."""
    actor.require("pass:request")
    return _visitors(request, session, actor)


@router.post("/community/visitors", response_class=HTMLResponse)
async def visitors_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, ""))[:200] for k in ("room_id", "name", "phone", "valid_from", "valid_until", "max_entries")
    }
    errors: list[FieldError] = []
    room = parse_int(errors, "room_id", values["room_id"])
    start = parse_when(errors, "valid_from", values["valid_from"])
    end = parse_when(errors, "valid_until", values["valid_until"])
    entries = parse_int(errors, "max_entries", values["max_entries"])
    try:
        invitation = checked(
            errors,
            lambda: visitors.invite(
                session,
                actor,
                room_id=room,
                name=values["name"],
                phone=values["phone"],
                valid_from=start,
                valid_until=end,
                max_entries=entries,
            ),
        )
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        return _visitors(request, session, actor, errors=shown, values=values, status_code=exc.status_code)
    return RedirectResponse(f"/community/visitors?invited={invitation.entry_pass.id}", status_code=303)


@router.post("/community/visitors/{pass_id}/cancel")
def visitors_cancel(pass_id: int, session: DbSession, actor: PageActor) -> Response:
    visitors.cancel(session, actor, pass_id=pass_id)
    return RedirectResponse("/community/visitors", status_code=303)


def visit_qr(session: Session, entry_pass: EntryPass, code: str) -> dict[str, Any]:
    context = pass_qr(session, entry_pass)
    context.update(code=code, name=visitors.visitor_name(entry_pass, masked=True), visitor=True)
    if context["qr"] is None and entry_pass.valid_from > utcnow() and context["state"] == PassStatus.ACTIVE:
        context["not_yet"] = True
    return context


@router.get("/community/visit/{code}", response_class=HTMLResponse)
def visit(code: Code, request: Request, session: DbSession) -> HTMLResponse:
    """The visitor's page (no account): the pass's QR while the visit lasts."""
    entry_pass = visitors.by_link(session, code)
    return render(request, "community/access/visit.html", visit_qr(session, entry_pass, code))


@router.get("/community/visit/{code}/qr", response_class=HTMLResponse)
def visit_qr_fragment(code: Code, request: Request, session: DbSession) -> HTMLResponse:
    entry_pass = visitors.by_link(session, code)
    return render(request, "community/access/_pass_qr.html", visit_qr(session, entry_pass, code))


# --- goods-out slips -----------------------------------------------------------------------------


def _goods(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = []
    for slip in goods.my_slips(session, actor):
        state = goods.state_of(slip)
        url = f"{base_url(request)}/property/access/goods?code={slip.code}"
        rows.append({"s": slip, "state": state, "qr": qr_svg(url, scale=4) if state == "active" else None})
    return render(
        request,
        "community/access/goods.html",
        {
            "rooms": residents.my_rooms(session, actor),
            "rows": rows,
            "errors": errors or {},
            "values": values or {},
            **common(),
        },
        status_code=status_code,
    )


@router.get("/community/goods", response_class=HTMLResponse)
def goods_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """出门条: register goods leaving (what, when); show the slip's QR to the guard."""
    actor.require("pass:request")
    return _goods(request, session, actor)


@router.post("/community/goods", response_class=HTMLResponse)
async def goods_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, ""))[:1000] for k in ("room_id", "description", "valid_from", "valid_until")}
    errors: list[FieldError] = []
    room = parse_int(errors, "room_id", values["room_id"])
    start = parse_when(errors, "valid_from", values["valid_from"])
    end = parse_when(errors, "valid_until", values["valid_until"])
    try:
        checked(
            errors,
            lambda: goods.register(
                session, actor, room_id=room, description=values["description"], valid_from=start, valid_until=end
            ),
        )
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        return _goods(request, session, actor, errors=shown, values=values, status_code=exc.status_code)
    return RedirectResponse("/community/goods?registered=1", status_code=303)


@router.post("/community/goods/{slip_id}/cancel")
def goods_cancel(slip_id: int, session: DbSession, actor: PageActor) -> Response:
    goods.cancel(session, actor, slip_id=slip_id)
    return RedirectResponse("/community/goods", status_code=303)
