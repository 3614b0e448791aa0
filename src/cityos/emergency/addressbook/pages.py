"""Pages of the address book (云上通讯录) and its broadcasts (通知群发); templates in
web/templates/emergency/addressbook/.

- ``/emergency/addressbook``: the tree browser, from the staff member's area down to a building,
  with the groups of each place, a building's members (楼栋长 first) and the forms to choose the
  lead, link a volunteer, build the groups and make a group;
- ``/emergency/addressbook/groups/{id}``: one group's members by role;
- ``/emergency/broadcasts``: the send form with its target picker and the lists (received, sent,
  the area's) with read-rate bars;
- ``/emergency/broadcasts/{id}``: what a recipient reads (opening it is the read receipt), and for
  the sender the receipts per building and who has not read yet.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import DomainError, Forbidden
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.emergency.addressbook import broadcasts, candidates, service
from cityos.emergency.addressbook.models import Group, GroupKind, MemberRole
from cityos.places import service as places
from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
NOTICES = {
    "synced": N_("The groups of this place are up to date."),
    "lead": N_("The building lead is set."),
    "lead-cleared": N_("The building has no lead now."),
    "made": N_("The group is made."),
    "added": N_("Added to the group."),
    "removed": N_("Taken out of the group."),
    "sent": N_("Sent. Each recipient has it in the app; urgent ones also by SMS where a phone is known."),
}
BOX_TITLES = {"received": N_("Received"), "sent": N_("Sent by me"), "area": N_("All in my area")}


async def _posted(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        if key == "member":
            out.setdefault("member", []).append(value)
        else:
            out[key] = value
    return out


def _depth(level: str, default: int) -> int:
    return LEVEL_DEPTH.get(level, default)  # type: ignore[call-overload,no-any-return]


def _page(page: int) -> PageParams:
    return PageParams(page=max(1, page), size=PER_PAGE)


def _default_region(request: Request, session: Session, actor: Actor, region_id: int | None) -> Region:
    if region_id is not None:
        return service.visible_region(session, actor, region_id)
    current = getattr(request.state, "current_region", None)
    rid = current.id if current is not None else actor.scope_region_id
    return service.visible_region(session, actor, rid)


# --- the address book ---------------------------------------------------------------------------------------


def _book_context(
    session: Session, actor: Actor, region: Region, *, errors: dict[str, str], values: dict[str, Any]
) -> dict[str, Any]:
    service.require_read(actor, region.path)
    children: list[Region] = []
    if _depth(region.level, 99) < LEVEL_DEPTH[RegionLevel.BUILDING]:
        children = list(
            session.scalars(
                select(Region).where(Region.parent_id == region.id).order_by(Region.code, Region.id).limit(300)
            )
        )
    here = [g for g in service.groups_for(session, region=region) if actor.covers(g.region_path)]
    below_query = select(Group).where(subtree_clause(Group.region_path, region.path), Group.region_path != region.path)
    if _depth(region.level, 0) < LEVEL_DEPTH[RegionLevel.GRID]:
        below_query = below_query.where(Group.kind != GroupKind.BUILDING)  # a community lists its grids' groups
    below = list(session.scalars(below_query.order_by(Group.kind.desc(), Group.region_path, Group.name).limit(300)))
    counts = service.role_counts(session, [g.id for g in here + below])
    manage = actor.can(service.MANAGE, region=region)
    own = next((g for g in here if g.auto_key == f"{region.level}:{region.id}"), None)
    context: dict[str, Any] = {
        "region": region,
        "level": places.level_label(region.level),
        "trail": places.ancestors(session, region, within=actor.scope_path),
        "children": [(c, places.level_label(c.level)) for c in children],
        "groups_here": here,
        "groups_below": below,
        "counts": counts,
        "kind_titles": service.KIND_TITLES,
        "role_titles": service.ROLE_TITLES,
        "manage": manage,
        "can_send": actor.can(broadcasts.SEND, region=region),
        "needs_sync": region.level in (RegionLevel.GRID, RegionLevel.BUILDING) and own is None,
        "can_sync": manage and _depth(region.level, 0) >= LEVEL_DEPTH[RegionLevel.STREET],
        "errors": errors,
        "values": values,
        "building": None,
    }
    if region.level == RegionLevel.BUILDING and own is not None:
        page = candidates.member_page(session, actor, group_id=own.id, params=PageParams(page=1, size=200))
        lead = candidates.lead_of(session, own)
        context.update(
            building=own,
            members=page,
            lead_account_id=lead.account_id if lead else None,
            candidates=candidates.lead_candidates(session, actor, building=region) if manage else [],
            volunteers=candidates.volunteers_in(session, actor, region=region) if manage else [],
        )
    if manage:
        context["team"] = candidates.team_candidates(session, actor, region=region)
    return context


def _book(
    request: Request,
    session: Session,
    actor: Actor,
    region: Region,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = _book_context(session, actor, region, errors=errors or {}, values=values or {})
    context["notice"] = NOTICES.get(notice or "")
    return render(request, "emergency/addressbook/book.html", context, status_code=status_code)


@router.get("/emergency/addressbook", response_class=HTMLResponse)
def book_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    region_id: Annotated[int | None, Query()] = None,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    region = _default_region(request, session, actor, region_id)
    return _book(request, session, actor, region, notice=notice)


def _back(region_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/emergency/addressbook?region_id={region_id}&notice={notice}", status_code=303)


@router.post("/emergency/addressbook/sync")
async def sync_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region = service.visible_region(session, actor, raw.get("region_id"))
    service.sync_region(session, actor, region_id=region.id)
    return _back(region.id, "synced")


@router.post("/emergency/addressbook/lead")
async def lead_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    building = service.visible_region(session, actor, raw.get("building_id"))
    chosen = raw.get("account_id") or None
    try:
        account = service.set_lead(session, actor, building_id=building.id, account_id=chosen)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        region = service.visible_region(session, actor, building.id)
        return _book(request, session, actor, region, errors=errors, values=raw, status_code=exc.status_code)
    return _back(building.id, "lead" if account is not None else "lead-cleared")


@router.post("/emergency/addressbook/groups")
async def group_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region = service.visible_region(session, actor, raw.get("region_id"))
    try:
        group = service.create_group(
            session,
            actor,
            region_id=region.id,
            name=raw.get("name"),
            members=[{"account_id": m} for m in raw.get("member", [])],
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        region = service.visible_region(session, actor, region.id)
        return _book(request, session, actor, region, errors=errors, values=raw, status_code=exc.status_code)
    return RedirectResponse(f"/emergency/addressbook/groups/{group.id}?notice=made", status_code=303)


# --- one group ------------------------------------------------------------------------------------------------


def _group_page(
    request: Request,
    session: Session,
    actor: Actor,
    group_id: int,
    *,
    role: str | None,
    page: int,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    shown = candidates.member_page(session, actor, group_id=group_id, role=role, params=_page(page))
    group = shown.group
    region = session.get(Region, group.region_id)
    manage = actor.can(service.MANAGE, region=group.region_path)
    return render(
        request,
        "emergency/addressbook/group.html",
        {
            "group": group,
            "region": region,
            "trail": places.ancestors(session, region, within=actor.scope_path) if region else [],
            "shown": shown,
            "role": role,
            "roles": [(r, service.ROLE_TITLES[r]) for r in MemberRole if shown.counts.get(r)],
            "role_titles": service.ROLE_TITLES,
            "kind_titles": service.KIND_TITLES,
            "page": page,
            "pages": max(1, (shown.total + PER_PAGE - 1) // PER_PAGE),
            "manage": manage,
            "manual": group.kind == GroupKind.MANUAL,
            "volunteers": candidates.volunteers_in(session, actor, region=region) if manage and region else [],
            "team": candidates.team_candidates(session, actor, region=region) if manage and region else [],
            "can_send": actor.can(broadcasts.SEND, region=group.region_path),
            "notice": NOTICES.get(notice or ""),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/emergency/addressbook/groups/{group_id}", response_class=HTMLResponse)
def group_page(
    group_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    role: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    chosen = role if role in service.ROLES else None
    return _group_page(request, session, actor, group_id, role=chosen, page=page, notice=notice)


@router.post("/emergency/addressbook/groups/{group_id}/members")
async def member_submit(group_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    try:
        service.add_member(
            session, actor, group_id=group_id, account_id=raw.get("account_id"), role=raw.get("role") or None
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _group_page(
            request, session, actor, group_id, role=None, page=1, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(f"/emergency/addressbook/groups/{group_id}?notice=added", status_code=303)


@router.post("/emergency/addressbook/groups/{group_id}/members/{member_id}/remove")
def member_remove(group_id: int, member_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    service.remove_member(session, actor, group_id=group_id, member_id=member_id)
    return RedirectResponse(f"/emergency/addressbook/groups/{group_id}?notice=removed", status_code=303)


# --- broadcasts ---------------------------------------------------------------------------------------------------


def _boxes(actor: Actor) -> list[str]:
    out = ["received"]
    if actor.can(broadcasts.SEND):
        out.append("sent")
    if actor.can("campaign:read"):
        out.append("area")
    return out


def _broadcasts_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    box: str,
    page: int,
    target: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    boxes = _boxes(actor)
    if box not in boxes:
        box = "sent" if "sent" in boxes and values is not None else boxes[0]
    listed = broadcasts.list_broadcasts(session, actor, box=box, params=_page(page))
    choices: list[broadcasts.Choice] = []
    if actor.can(broadcasts.SEND):
        base = _default_region(request, session, actor, None)
        choices = broadcasts.target_choices(session, actor, base=base)
    return render(
        request,
        "emergency/addressbook/broadcasts.html",
        {
            "box": box,
            "boxes": [(b, BOX_TITLES[b]) for b in boxes],
            "listed": listed,
            "page": page,
            "pages": max(1, (listed.total + PER_PAGE - 1) // PER_PAGE),
            "choices": choices,
            "target": (values or {}).get("target", target),
            "values": values or {},
            "errors": errors or {},
            "urgencies": broadcasts.URGENCY_TITLES,
            "zone": service.local_zone(),
            "title_max": broadcasts.TITLE_MAX,
            "body_max": broadcasts.BODY_MAX,
        },
        status_code=status_code,
    )


@router.get("/emergency/broadcasts", response_class=HTMLResponse)
def broadcasts_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    box: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    target: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    chosen = box or ("sent" if actor.can(broadcasts.SEND) else "received")
    return _broadcasts_page(request, session, actor, box=chosen, page=page, target=target)


def _split_target(value: str) -> tuple[str | None, str | None]:
    kind, _, ident = value.partition(":")
    if kind == "region":
        return ident, None
    if kind == "group":
        return None, ident
    return None, None


@router.post("/emergency/broadcasts")
async def broadcast_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region_id, group_id = _split_target(str(raw.get("target", "")))
    try:
        row = broadcasts.send(
            session,
            actor,
            target_region_id=region_id,
            group_id=group_id,
            title=raw.get("title"),
            body=raw.get("body"),
            urgency=raw.get("urgency", "normal"),
        )
    except DomainError as exc:
        if isinstance(exc, Forbidden):
            raise
        errors = refused(request, session, actor, exc)
        for field in ("target_region_id", "group_id"):
            if field in errors:
                errors.setdefault("target", errors.pop(field))
        return _broadcasts_page(
            request, session, actor, box="sent", page=1, errors=errors, values=raw, status_code=exc.status_code
        )
    return RedirectResponse(f"/emergency/broadcasts/{row.id}?notice=sent", status_code=303)


@router.get("/emergency/broadcasts/{broadcast_id}", response_class=HTMLResponse)
def broadcast_page(
    broadcast_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    building: Annotated[int | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    opened = broadcasts.open_broadcast(session, actor, broadcast_id=broadcast_id)
    unread = None
    if opened.summary is not None:
        unread = broadcasts.unread(session, actor, broadcast_id=broadcast_id, building_id=building, params=_page(page))
    return render(
        request,
        "emergency/addressbook/broadcast.html",
        {
            "row": opened.broadcast,
            "receipt": opened.receipt,
            "summary": opened.summary,
            "unread": unread,
            "building": building,
            "page": page,
            "pages": max(1, ((unread.total if unread else 0) + PER_PAGE - 1) // PER_PAGE),
            "urgencies": broadcasts.URGENCY_TITLES,
            "role_titles": service.ROLE_TITLES,
            "zone": service.local_zone(),
            "notice": NOTICES.get(notice),
        },
    )
