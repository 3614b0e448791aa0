"""Pages of 办件: the generated application form of an item or a bundle (pre-filled, read-only
where an e-licence or the record provides it, with consent), the role lists, the application page
with its timeline (每一步: 谁在办, 从何时, 期限), supplement and rating forms and the department's
buttons; the window clerk's counter (代办) with a printable receipt; and the kiosk (自助终端)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.identity.deps import OptionalActor
from cityos.people import service as people
from cityos.people.models import Person
from cityos.services.applications import progress, schemaform, service, steps, submission
from cityos.services.applications.models import Application, ApplicationStatus
from cityos.services.catalogue.models import ServiceItem
from cityos.services.licences.models import Credential
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 30
KIOSK_IDLE_SECONDS = 120
STATUS_TITLES = {
    ApplicationStatus.DRAFT: N_("Draft"),
    ApplicationStatus.SUBMITTED: N_("Waiting to be received"),
    ApplicationStatus.SUPPLEMENT: N_("Supplement asked for"),
    ApplicationStatus.APPROVING: N_("Being approved"),
    ApplicationStatus.APPROVED: N_("Approved"),
    ApplicationStatus.REJECTED: N_("Refused"),
    ApplicationStatus.WITHDRAWN: N_("Withdrawn"),
}
VIEW_TITLES = {"mine": N_("My applications"), "inbox": N_("Department inbox"), "area": N_("All in my area")}
LOCK_TITLES = {"person": N_("From your resident record"), "organisation": N_("From your business record")}


def _views_for(actor: Actor) -> list[str]:
    out = ["mine"]
    if "department_staff" in actor.roles and actor.department_id is not None:
        out.append("inbox")
    if actor.can("application:read") and actor.roles & service.AREA_ROLES:
        out.append("area")
    return out


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def _form_context(
    session: Session,
    actor: Actor,
    *,
    schema: dict[str, Any],
    filled: service.Prefill,
    values: dict[str, Any],
    region_path: str | None,
) -> dict[str, Any]:
    shown = {**values, **service.masked({k: filled.values[k] for k in filled.locked}, actor, region_path)}
    return {
        "fields": schemaform.fields(schema, shown, filled.locked),
        "credentials": filled.credentials,
        "materials": filled.materials,
        "lock_titles": LOCK_TITLES,
    }


# --- applying -----------------------------------------------------------------------------------------


def _apply_page(
    request: Request,
    session: Session,
    actor: Actor,
    item: ServiceItem,
    *,
    person_id: int | None,
    channel: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    application: Application | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    filled = service.prefill(session, actor, item_code=item.code, person_id=person_id)
    draft_values = service.form_of(application) if application is not None else {}
    context = _form_context(
        session,
        actor,
        schema=item.form_schema or {},
        filled=filled,
        values={**draft_values, **(values or {})},
        region_path=None,
    )
    return render(
        request,
        "services/applications/apply.html",
        {
            **context,
            "item": item,
            "bundle": None,
            "action": f"/services/items/{item.code}/apply",
            "person_id": person_id,
            "channel": channel,
            "errors": errors or {},
            "application": application,
        },
        status_code=status_code,
    )


@router.get("/services/items/{code}/apply", response_class=HTMLResponse)
def apply_form(
    code: str,
    request: Request,
    session: DbSession,
    actor: PageActor,
    person_id: Annotated[int | None, Query()] = None,
    channel: Annotated[str, Query(max_length=16)] = "online",
    draft: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    item = service._item(session, code)
    application = None
    if draft is not None:
        application = service.get_visible(session, actor, draft)
        person_id = application.applicant_person_id if application.filed_by_account_id else None
    return _apply_page(request, session, actor, item, person_id=person_id, channel=channel, application=application)


@router.post("/services/items/{code}/apply", response_class=HTMLResponse)
async def apply_submit(code: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    item = service._item(session, code)
    values = schemaform.coerce(item.form_schema or {}, raw)
    person_id = int(raw["person_id"]) if raw.get("person_id", "").isdigit() else None
    channel = raw.get("channel") or "online"
    draft_id = int(raw["application_id"]) if raw.get("application_id", "").isdigit() else None
    try:
        if draft_id is not None:
            app = service.get_visible(session, actor, draft_id)
        else:
            app = service.start_draft(session, actor, item_code=item.code, person_id=person_id, channel=channel)
        if raw.get("intent") == "draft":
            known = {k: v for k, v in values.items() if k not in service.PII_FIELDS}
            service.save_draft(session, actor, application_id=app.id, form=known)
            return RedirectResponse(f"/applications/{app.id}?saved=1", status_code=303)
        submission.submit(session, actor, application_id=app.id, form=values, consent=raw.get("consent") == "1")
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _apply_page(
            request,
            session,
            actor,
            service._item(session, code),
            person_id=person_id,
            channel=channel,
            values=values,
            errors=errors,
            status_code=exc.status_code,
        )
    target = f"/applications/{app.id}?submitted=1"
    if app.filed_by_account_id is not None:
        target += "&receipt=1"
    return RedirectResponse(target, status_code=303)


def _bundle_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    person_id: int | None,
    channel: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    bundle, items, schema = submission.bundle_form(session, code)
    filled = submission.bundle_prefill(session, actor, bundle_code=code, person_id=person_id)
    context = _form_context(session, actor, schema=schema, filled=filled, values=values or {}, region_path=None)
    return render(
        request,
        "services/applications/apply.html",
        {
            **context,
            "item": None,
            "bundle": bundle,
            "bundle_items": items,
            "action": f"/services/bundles/{code}/apply",
            "person_id": person_id,
            "channel": channel,
            "errors": errors or {},
            "application": None,
        },
        status_code=status_code,
    )


@router.get("/services/bundles/{code}/apply", response_class=HTMLResponse)
def bundle_form(
    code: str,
    request: Request,
    session: DbSession,
    actor: PageActor,
    person_id: Annotated[int | None, Query()] = None,
    channel: Annotated[str, Query(max_length=16)] = "online",
) -> HTMLResponse:
    return _bundle_page(request, session, actor, code, person_id=person_id, channel=channel)


@router.post("/services/bundles/{code}/apply", response_class=HTMLResponse)
async def bundle_submit(code: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    _, _, schema = submission.bundle_form(session, code)
    values = schemaform.coerce(schema, raw)
    person_id = int(raw["person_id"]) if raw.get("person_id", "").isdigit() else None
    channel = raw.get("channel") or "online"
    try:
        apps = submission.submit_bundle(
            session,
            actor,
            bundle_code=code,
            form=values,
            consent=raw.get("consent") == "1",
            person_id=person_id,
            channel=channel,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _bundle_page(
            request,
            session,
            actor,
            code,
            person_id=person_id,
            channel=channel,
            values=values,
            errors=errors,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/applications?view=mine&group={apps[0].bundle_group}", status_code=303)


# --- lists and the application page -------------------------------------------------------------------------


def _item_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {i.code: i.name for i in session.scalars(select(ServiceItem).where(ServiceItem.code.in_(codes)))}


@router.get("/applications", response_class=HTMLResponse)
def application_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    view: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    group: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    views = _views_for(actor)
    if view not in views:
        view = "inbox" if "inbox" in views else "mine"
    rows, total = service.list_applications(session, actor, view=view, params=PageParams(page=page, size=PER_PAGE))
    if group:
        rows = [a for a in rows if a.bundle_group == group]
    return render(
        request,
        "services/applications/list.html",
        {
            "applications": rows,
            "total": total or 0,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "view": view,
            "views": [(v, VIEW_TITLES[v]) for v in views],
            "item_names": _item_names(session, {a.item_code for a in rows}),
            "status_titles": STATUS_TITLES,
            "group": group,
        },
    )


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    app: Application,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    receipt: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.cases.ratings import RATING_LEVELS

    item = session.scalar(select(ServiceItem).where(ServiceItem.code == app.item_code))
    credential = session.get(Credential, app.result_credential_id) if app.result_credential_id else None
    person = session.get(Person, app.applicant_person_id) if app.applicant_person_id else None
    mine_to_file = service._may_file(actor, app)
    my_row = None
    if "department_staff" in actor.roles and actor.department_id is not None:
        my_row = next(
            (row for row, _ in service.departments_of(session, app) if row.department_id == actor.department_id), None
        )
    staff_can_act = my_row is not None and my_row.decision is None and app.status in service.OPEN
    supplement = service.open_supplement(session, app)
    schema = (item.form_schema if item else {}) or {}
    keys = steps.supplement_keys(item) if item else {}
    rateable = (
        app.status in service.DECIDED
        and actor.account_id is not None
        and (
            app.applicant_account_id == actor.account_id
            or (actor.person_id and app.applicant_person_id == actor.person_id)
        )
    )
    answer_fields = []
    if supplement is not None and mine_to_file:
        wanted = {e["key"] for e in supplement.items}
        answer_fields = [f for f in schemaform.fields(schema, service.form_of(app)) if f.key in wanted]
    return render(
        request,
        "services/applications/detail.html",
        {
            "app": app,
            "item": item,
            "applicant": person.name if person else "",
            "form": schemaform.shown(schema, service.masked(service.form_of(app), actor, app.region_path)),
            "form_titles": keys,
            "steps": progress.steps_of(session, app),
            "status_title": STATUS_TITLES.get(ApplicationStatus(app.status), app.status),
            "credential": credential,
            "staff_can_act": staff_can_act,
            "can_receive": staff_can_act and app.status == ApplicationStatus.SUBMITTED,
            "can_approve": staff_can_act and app.status == ApplicationStatus.APPROVING,
            "supplement": supplement,
            "supplement_keys": keys,
            "answer_fields": answer_fields,
            "can_edit_draft": mine_to_file and app.status == ApplicationStatus.DRAFT,
            "can_rate": rateable,
            "rating_levels": RATING_LEVELS,
            "errors": errors or {},
            "notice": notice,
            "receipt": receipt,
        },
        status_code=status_code,
    )


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application_page(
    application_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    submitted: int = 0,
    saved: int = 0,
    receipt: int = 0,
) -> HTMLResponse:
    app = service.get_visible(session, actor, application_id)
    notice = (
        N_("Your application has been submitted; you can follow every step here.")
        if submitted
        else N_("The draft has been saved.")
        if saved
        else None
    )
    return _detail(request, session, actor, app, notice=notice, receipt=bool(receipt))


def _refused_step(request: Request, session: Session, actor: Actor, application_id: int, exc: Invalid) -> Response:
    errors = refused(request, session, actor, exc)
    app = service.get_visible(session, actor, application_id)
    return _detail(request, session, actor, app, errors=errors, status_code=422)


@router.post("/applications/{application_id}/act", response_class=HTMLResponse)
async def act(application_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    try:
        steps.act(
            session, actor, application_id=application_id, action=raw.get("action", ""), comment=raw.get("comment")
        )
    except Invalid as exc:
        return _refused_step(request, session, actor, application_id, exc)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


@router.post("/applications/{application_id}/supplement", response_class=HTMLResponse)
async def supplement(application_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    items = [
        {"key": key.removeprefix("need."), "reason": raw.get("reason." + key.removeprefix("need."), "")}
        for key in raw
        if key.startswith("need.")
    ]
    try:
        steps.request_supplement(session, actor, application_id=application_id, items=items)
    except Invalid as exc:
        return _refused_step(request, session, actor, application_id, exc)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


@router.post("/applications/{application_id}/supplement-answer", response_class=HTMLResponse)
async def supplement_answer(application_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    app = service.get_visible(session, actor, application_id)
    item = session.scalar(select(ServiceItem).where(ServiceItem.code == app.item_code))
    values = schemaform.coerce((item.form_schema if item else {}) or {}, raw)
    values = {k: v for k, v in values.items() if k in raw}
    try:
        steps.answer_supplement(session, actor, application_id=application_id, form=values)
    except Invalid as exc:
        return _refused_step(request, session, actor, application_id, exc)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


@router.post("/applications/{application_id}/rate", response_class=HTMLResponse)
async def rate(application_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    level = raw.get("level", "")
    try:
        steps.rate(
            session,
            actor,
            application_id=application_id,
            level=int(level) if level.isdigit() else 0,
            comment=raw.get("comment") or None,
        )
    except Invalid as exc:
        return _refused_step(request, session, actor, application_id, exc)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


# --- the counter (代办) and the kiosk (自助终端) ---------------------------------------------------------------


@router.get("/counter", response_class=HTMLResponse)
def counter(
    request: Request,
    session: DbSession,
    actor: PageActor,
    id_number: Annotated[str, Query(max_length=32)] = "",
    name: Annotated[str, Query(max_length=64)] = "",
    person_id: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    """The window clerk finds a resident (identity number exactly, or a name in scope) and
    starts an application for them."""
    actor.require("application:proxy")
    found: list[Person] = []
    errors: dict[str, str] = {}
    try:
        if id_number.strip():
            found = people.lookup(session, actor, id_number=id_number)
        elif name.strip():
            page = people.list_people(
                session, actor, PageParams(page=1, size=20), people.PersonFilter(q=name.strip()), count=False
            )
            found = page.items
    except Invalid as exc:
        errors = refused(request, session, actor, exc)
    chosen = None
    if person_id is not None:
        chosen = people.get_visible(session, actor, person_id)
    items = list(session.scalars(select(ServiceItem).where(ServiceItem.active.is_(True)).order_by(ServiceItem.code)))
    items = [i for i in items if not i.channels or "counter" in i.channels]
    return render(
        request,
        "services/applications/counter.html",
        {
            "found": found,
            "chosen": chosen,
            "items": items,
            "id_number": id_number,
            "name": name,
            "errors": errors,
            "searched": bool(id_number.strip() or name.strip()),
        },
    )


@router.get("/kiosk", response_class=HTMLResponse)
def kiosk(request: Request, session: DbSession, actor: OptionalActor) -> HTMLResponse:
    """自助终端: large buttons, sign-in by phone code, signed out after two idle minutes."""
    items: list[ServiceItem] = []
    if actor.is_authenticated:
        items = [
            i
            for i in session.scalars(select(ServiceItem).where(ServiceItem.active.is_(True)).order_by(ServiceItem.code))
            if "kiosk" in (i.channels or [])
        ]
    return render(
        request,
        "services/applications/kiosk.html",
        {"signed_in": actor.is_authenticated, "items": items, "idle": KIOSK_IDLE_SECONDS},
    )
