"""Pages of cases: report a problem (with photo and map pin), the case list of each role
(my reports, dispatcher queue, department inbox, grid tasks), and the case page with its
timeline, process actions and 好差评."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases import photos, service
from cityos.cases.models import Case, Category, Urgency
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.core.runtime import Runtime
from cityos.core.settings import get_settings
from cityos.identity.deps import CurrentActor
from cityos.people.models import Department
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor, current_region, page_actor
from cityos.web.templating import render
from cityos.workflow import service as workflow
from cityos.workflow.models import ProcessInstance

router = APIRouter(include_in_schema=False)

PER_PAGE = 30
MSG_PLACE_NUMBER = N_("Must be a number.")

URGENCY_LABELS = {
    Urgency.URGENT: N_("Urgent (2 working hours)"),
    Urgency.HIGH: N_("High (24 hours)"),
    Urgency.NORMAL: N_("Normal (7 working days)"),
    Urgency.LOW: N_("Low (15 working days)"),
}

# What each role sees first on /cases.
VIEWS: dict[str, tuple[str, service.CaseFilter]] = {
    "mine": (N_("My reports"), service.CaseFilter()),
    "queue": (
        N_("To file and dispatch"),
        service.CaseFilter(statuses=("found", "reported", "filed", "accepted", "replied", "callback", "checked")),
    ),
    "inbox": (N_("Department inbox"), service.CaseFilter(open_only=True)),
    "tasks": (N_("To verify and check"), service.CaseFilter(statuses=("found", "checking", "requested", "helping"))),
    "overdue": (N_("Overdue"), service.CaseFilter(overdue=True)),
    "all": (N_("All cases"), service.CaseFilter()),
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _default_view(actor: Actor) -> str:
    if "dispatcher" in actor.roles:
        return "queue"
    if "department_staff" in actor.roles:
        return "inbox"
    if "grid_worker" in actor.roles:
        return "tasks"
    if actor.can("case:read"):
        return "all"
    return "mine"


def _views_for(actor: Actor) -> list[str]:
    out = ["mine"]
    if "dispatcher" in actor.roles:
        out.append("queue")
    if "department_staff" in actor.roles:
        out.append("inbox")
    if "grid_worker" in actor.roles:
        out.append("tasks")
    if actor.can("case:read"):
        out += ["overdue", "all"]
    return out


def _filter(view: str, actor: Actor) -> service.CaseFilter:
    base = VIEWS[view][1]
    f = replace(base)
    if view == "inbox" and actor.department_id is not None:
        f.department_id = actor.department_id
    return f


@router.get("/cases", response_class=HTMLResponse)
def case_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    view: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    views = _views_for(actor)
    view = view if view in views else _default_view(actor)
    f = _filter(view, actor)
    f.q = q or None
    f.mine = view == "mine"
    rows, total = service.list_cases(session, actor, PageParams(page=page, size=PER_PAGE), f)
    names = _category_names(session, {c.category_code for c in rows})
    return render(
        request,
        "cases/list.html",
        {
            "cases": rows,
            "total": total or 0,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "view": view,
            "views": [(v, VIEWS[v][0]) for v in views],
            "q": q,
            "category_names": names,
            "state_titles": _state_titles(session, rows),
            "local": _local,
            "can_report": actor.can("case:report"),
        },
    )


def _local(moment: datetime | None) -> str:
    """A moment in the city's time zone."""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def _state_titles(session: Session, rows: list[Case]) -> dict[int, str]:
    """Each case's status as its process names it (as on the case page), by case id."""
    ids = {c.process_instance_id for c in rows if c.process_instance_id is not None}
    if not ids:
        return {}
    instances = {i.id: i for i in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids)))}
    titles: dict[int, str] = {}
    for c in rows:
        instance = instances.get(c.process_instance_id) if c.process_instance_id is not None else None
        if instance is None:
            continue
        states = workflow.spec_of(session, instance).states
        if c.status in states:
            titles[c.id] = states[c.status].title
    return titles


def _category_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {c.code: c.name for c in session.scalars(select(Category).where(Category.code.in_(codes)))}


def _category_groups(session: Session) -> list[tuple[str, list[Category]]]:
    """细类 grouped under '大类 · 小类' for the report form's select."""
    rows = service.list_categories(session)
    by_code = {c.code: c for c in rows}
    groups: dict[str, list[Category]] = {}
    for c in rows:
        if c.level == 3 and c.parent_code in by_code:
            parent = by_code[c.parent_code]
            top = by_code.get(parent.parent_code or "")
            label = f"{top.name} · {parent.name}" if top else parent.name
            groups.setdefault(label, []).append(c)
    return list(groups.items())


def _map_region(session: Session, region: Region | None) -> Region | None:
    """The region itself or its nearest ancestor with a shape (a room has none; its building has)."""
    while region is not None and region.geometry is None and region.parent_id is not None:
        region = session.get(Region, region.parent_id)
    return region


def _form(
    request: Request,
    session: Session,
    actor: Actor,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    region = _map_region(session, current_region(request, session, actor))
    return render(
        request,
        "cases/new.html",
        {
            "groups": _category_groups(session),
            "values": values,
            "errors": errors,
            "region": region,
            "urgency_labels": URGENCY_LABELS,
            "staff": bool(actor.roles & {"dispatcher", "grid_worker"}),
        },
        status_code=status_code,
    )


@router.get("/command", response_class=HTMLResponse)
def command(
    request: Request,
    session: DbSession,
    actor: PageActor,
    days: Annotated[int, Query(ge=1, le=3660)] = 30,
) -> HTMLResponse:
    """指挥大屏: KPIs of the region chosen in the switcher, its parts and departments, the map."""
    from datetime import timedelta

    from cityos.cases import dashboard

    region = current_region(request, session, actor)
    since = utcnow() - timedelta(days=days)
    region, totals = dashboard.kpis(session, actor, region_id=region.id if region else None, since=since)
    parts = dashboard.by_part(session, actor, region_id=region.id, since=since)
    departments = dashboard.by_department(session, actor, region_id=region.id, since=since)
    overdue, escalated = dashboard.attention(session, actor, region_id=region.id)
    return render(
        request,
        "cases/command.html",
        {
            "region": region,
            "map_region": _map_region(session, region),
            "days": days,
            "kpis": totals,
            "parts": parts,
            "departments": departments[:20],
            "overdue": overdue,
            "escalated": escalated,
        },
    )


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    actor.require("case:report")
    return _form(request, session, actor, {"urgency": "normal"}, {})


def _number(value: str, field: str, errors: list[FieldError]) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        errors.append(FieldError(field, MSG_PLACE_NUMBER))
        return None


@router.post("/cases/new", response_class=HTMLResponse)
def report_case(
    request: Request,
    session: DbSession,
    actor: PageActor,
    category_code: Annotated[str, Form(max_length=32)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=8000)] = "",
    lon: Annotated[str, Form(max_length=32)] = "",
    lat: Annotated[str, Form(max_length=32)] = "",
    address: Annotated[str, Form(max_length=400)] = "",
    urgency: Annotated[str, Form(max_length=16)] = "normal",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    settings = _runtime(request).settings
    limit = settings.max_upload_mb * 1024 * 1024
    content = photo.file.read(limit + 1) if photo is not None and photo.filename else b""
    values = {
        "category_code": category_code,
        "title": title,
        "description": description,
        "lon": lon,
        "lat": lat,
        "address": address,
        "urgency": urgency,
    }
    problems: list[FieldError] = []
    x = _number(lon, "lon", problems)
    y = _number(lat, "lat", problems)
    channel = "patrol" if "grid_worker" in actor.roles else "hotline" if "dispatcher" in actor.roles else "resident"
    try:
        if problems:
            raise Invalid(details=problems)
        case = service.report(
            session,
            actor,
            category_code=category_code,
            title=title,
            description=description,
            channel=channel,
            urgency=urgency or "normal",
            lon=x,
            lat=y,
            address=address,
        )
        if content:
            photos.attach_photo(
                session,
                actor,
                case=case,
                content=content,
                filename=photo.filename or "" if photo else "",
                upload_dir=settings.upload_dir,
                max_bytes=limit,
            )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _form(request, session, actor, values, errors, status_code=exc.status_code)
    return RedirectResponse(f"/cases/{case.id}?reported=1", status_code=303)


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    case: Case,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    instance = workflow.instance_for(session, "case", case.id)
    spec = workflow.spec_of(session, instance)
    actions = workflow.available_actions(session, instance, actor)
    departments: list[Department] = []
    if any(a.name == "dispatch" for a in actions) and case.region_path:
        prefixes = _prefixes(case.region_path)
        departments = list(
            session.scalars(
                select(Department)
                .where(Department.region_path.in_(prefixes))
                .order_by(Department.region_path, Department.name)
            )
        )
    suggested = (case.routing or {}).get("department_id")
    department = session.get(Department, case.department_id or suggested) if (case.department_id or suggested) else None
    return render(
        request,
        "cases/case.html",
        {
            "case": case,
            "category": ", ".join(c.name for c in reversed(service.lineage(session, case.category_code))),
            "state_title": spec.states[case.status].title if case.status in spec.states else case.status,
            "timeline": workflow.history(session, instance),
            "state_titles": {k: v.title for k, v in spec.states.items()},
            "action_titles": {a.name: a.title or a.name for a in spec.actions},
            "actions": actions,
            "departments": departments,
            "department": department,
            "suggested": suggested,
            "photos": photos.photos(session, case),
            "duplicates": _visible(session, actor, (case.routing or {}).get("possible_duplicates", [])),
            "merged_into": _visible(session, actor, [case.duplicate_of] if case.duplicate_of else []),
            "can_merge": ("dispatcher" in actor.roles) and case.closed_at is None and case.duplicate_of is None,
            "can_rate": case.closed_at is not None
            and case.reporter_account_id == actor.account_id
            and actor.account_id is not None,
            "rating_levels": service.RATING_LEVELS,
            "can_reopen": case.closed_at is not None
            and bool(spec.reopen)
            and bool(actor.roles & set(spec.reopen.roles if spec.reopen else [])),
            "errors": errors or {},
            "notice": notice,
            "overdue": case.due_at is not None and case.closed_at is None and case.due_at < utcnow(),
        },
        status_code=status_code,
    )


def _visible(session: Session, actor: Actor, ids: list[int]) -> list[Case]:
    if not ids:
        return []
    return list(session.scalars(service.case_query(actor).where(Case.id.in_(ids)).order_by(Case.id)))


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return [f"/{'/'.join(parts[: i + 1])}/" for i in range(len(parts))]


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    case_id: int, request: Request, session: DbSession, actor: CurrentActor, reported: int = 0
) -> HTMLResponse:
    case = service.get_case(session, actor, case_id)
    page_actor(request, session, actor)
    notice = N_("Thank you. Your report has been received; you can follow it here.") if reported else None
    return _page(request, session, actor, case, notice=notice)


def _refused_step(request: Request, session: Session, actor: Actor, case_id: int, exc: Invalid) -> HTMLResponse:
    """The case page again, with the step's field errors and nothing of it saved."""
    errors = refused(request, session, actor, exc)
    return _page(request, session, actor, service.get_case(session, actor, case_id), errors=errors, status_code=422)


@router.post("/cases/{case_id}/act", response_class=HTMLResponse)
def act(
    case_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    action: Annotated[str, Form(max_length=64)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    department_id: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        service.act(
            session,
            actor,
            case_id=case_id,
            action=action,
            comment=comment or None,
            department_id=int(department_id) if department_id.isdigit() else None,
        )
    except Invalid as exc:
        return _refused_step(request, session, actor, case_id, exc)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/rate", response_class=HTMLResponse)
def rate(
    case_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    level: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        service.rate(
            session, actor, case_id=case_id, level=int(level) if level.isdigit() else 0, comment=comment or None
        )
    except Invalid as exc:
        return _refused_step(request, session, actor, case_id, exc)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/reopen", response_class=HTMLResponse)
def reopen(
    case_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        service.reopen(session, actor, case_id=case_id, comment=comment)
    except Invalid as exc:
        return _refused_step(request, session, actor, case_id, exc)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/merge", response_class=HTMLResponse)
def merge(
    case_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    into_id: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        service.merge(session, actor, case_id=case_id, into_id=int(into_id) if into_id.isdigit() else 0)
    except Invalid as exc:
        return _refused_step(request, session, actor, case_id, exc)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/cases/photos/{attachment_id}")
def photo(attachment_id: int, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    path, media_type = photos.photo_path(
        session, actor, attachment_id=attachment_id, upload_dir=_runtime(request).settings.upload_dir
    )
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})
