"""The workers' phone pages: ``/emergency/tasks`` (the tasks of their buildings), a task's
door-to-door check (households with their people, special groups first; mark who was reached,
answer the form for someone, record a test result, hand out supplies, finish the task), a
report read with its own form version, and a help request with its answer and close buttons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, FieldError, Invalid, NotFound
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.emergency.campaigns import forms, groups, reports, supplies, work
from cityos.emergency.campaigns import help as helps
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import Campaign, Task
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "reached": N_("Saved: the people you checked are marked as reached."),
    "reported": N_("The report has been saved."),
    "tested": N_("The test result has been recorded."),
    "supplied": N_("The delivery has been recorded."),
    "helped": N_("The help request has been filed and sent to the building lead."),
    "done": N_("The task is done."),
}


async def multi(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def first(raw: dict[str, list[str]], key: str) -> str:
    return (raw.get(key) or [""])[0].strip()


@router.get("/emergency/tasks", response_class=HTMLResponse)
def task_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: Annotated[str, Query(max_length=8)] = "open",
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    views = work.list_tasks(session, actor, status=status if status in ("open", "done") else None)
    return render(request, "emergency/campaigns/tasks.html", common(tasks=views, status=status))


def _task_page(
    request: Request,
    session: Session,
    actor: Actor,
    task: Task,
    campaign: Campaign,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    day = campaigns.local_day()
    lines, buildings = groups.lines_for(session, actor, campaign, task.region_path, day)
    groups.audit_names(session, actor, "campaign.task", campaign.id, len(lines))
    households: dict[int, list[groups.PersonLine]] = {}
    for line in sorted(lines, key=lambda x: (x.room, not x.special, x.person_id)):
        households.setdefault(line.room_id, []).append(line)
    ordered = sorted(households.items(), key=lambda kv: (not any(p.special for p in kv[1]), kv[1][0].room))
    view = work.task_view(session, actor, task.id)
    return render(
        request,
        "emergency/campaigns/task.html",
        common(
            task=task,
            view=view,
            campaign=campaign,
            households=ordered,
            items=supplies.items(session, actor, campaign_id=campaign.id),
            help_categories=[str(c) for c in campaign.settings.get("help_categories") or []],
            can_help=actor.can("case:report"),
            can_test=actor.can("campaign:task", region=task.region_path),
            errors=errors or {},
            notice=notice,
        ),
        status_code=status_code,
    )


@router.get("/emergency/tasks/{task_id}", response_class=HTMLResponse)
def task_page(
    task_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    done: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    task, campaign = work.get_task(session, actor, task_id)
    return _task_page(request, session, actor, task, campaign, notice=NOTICES.get(done))


def _refused_task(request: Request, session: Session, actor: Actor, task_id: int, exc: DomainError) -> HTMLResponse:
    errors = refused(request, session, actor, exc)
    task, campaign = work.get_task(session, actor, task_id)
    return _task_page(request, session, actor, task, campaign, errors=errors, status_code=exc.status_code)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@router.post("/emergency/tasks/{task_id}/reach", response_class=HTMLResponse)
async def task_reach(task_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await multi(request)
    task, campaign = work.get_task(session, actor, task_id)
    try:
        door, phone = _ids(raw.get("door", [])), _ids(raw.get("phone", []))
        if not door and not phone:
            raise Invalid(details=[FieldError("person_ids", reports.MSG_PEOPLE, {"max": 500})])
        for how, ids in (("door", door), ("phone", [p for p in phone if p not in door])):
            if ids:
                reports.mark_reached(session, actor, campaign_id=campaign.id, person_ids=ids, how=how)
    except DomainError as exc:
        return _refused_task(request, session, actor, task_id, exc)
    return RedirectResponse(f"/emergency/tasks/{task.id}?done=reached", status_code=303)


@router.post("/emergency/tasks/{task_id}/done", response_class=HTMLResponse)
async def task_done(task_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await multi(request)
    try:
        if first(raw, "reopen") == "1":
            work.reopen_task(session, actor, task_id=task_id)
        else:
            work.finish_task(session, actor, task_id=task_id, note=first(raw, "note") or None)
    except DomainError as exc:
        return _refused_task(request, session, actor, task_id, exc)
    return RedirectResponse(f"/emergency/tasks/{task_id}?done=done", status_code=303)


@router.post("/emergency/tasks/{task_id}/test", response_class=HTMLResponse)
async def task_test(task_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await multi(request)
    task, campaign = work.get_task(session, actor, task_id)
    person = first(raw, "person_id")
    try:
        groups.record_test_result(
            session,
            actor,
            campaign_id=campaign.id,
            person_id=int(person) if person.isdigit() else 0,
            kind=first(raw, "kind"),
            result=first(raw, "result"),
        )
    except DomainError as exc:
        return _refused_task(request, session, actor, task_id, exc)
    return RedirectResponse(f"/emergency/tasks/{task.id}?done=tested", status_code=303)


@router.post("/emergency/tasks/{task_id}/supplies", response_class=HTMLResponse)
async def task_supplies(task_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await multi(request)
    task, campaign = work.get_task(session, actor, task_id)
    room = first(raw, "room_id")
    quantities: dict[str, Any] = {k.removeprefix("qty-"): first(raw, k) for k in raw if k.startswith("qty-")}
    quantities = {k: v for k, v in quantities.items() if v != ""}
    try:
        supplies.deliver(
            session,
            actor,
            campaign_id=campaign.id,
            room_id=int(room) if room.isdigit() else 0,
            quantities={k: _number(v) for k, v in quantities.items()},
            note=first(raw, "note") or None,
        )
    except DomainError as exc:
        return _refused_task(request, session, actor, task_id, exc)
    return RedirectResponse(f"/emergency/tasks/{task.id}?done=supplied", status_code=303)


def _number(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


@router.post("/emergency/tasks/{task_id}/help", response_class=HTMLResponse)
async def task_help(task_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await multi(request)
    task, campaign = work.get_task(session, actor, task_id)
    person = first(raw, "person_id")
    try:
        helps.request_help(
            session,
            actor,
            campaign_id=campaign.id,
            category_code=first(raw, "category_code"),
            text=first(raw, "text"),
            person_id=int(person) if person.isdigit() else 0,
        )
    except DomainError as exc:
        return _refused_task(request, session, actor, task_id, exc)
    return RedirectResponse(f"/emergency/tasks/{task.id}?done=helped", status_code=303)


# --- answering for a person ----------------------------------------------------------------------------------


def _person_form(
    request: Request,
    session: Session,
    actor: Actor,
    task: Task,
    campaign: Campaign,
    person_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    lines, _ = groups.lines_for(session, actor, campaign, task.region_path, campaigns.local_day())
    person = next((p for p in lines if p.person_id == person_id), None)
    if person is None:
        raise NotFound()
    schema = campaigns.form_of(session, campaign).schema
    return render(
        request,
        "emergency/campaigns/person_report.html",
        common(
            task=task,
            campaign=campaign,
            person=person,
            fields=forms.fields(schema, values or {}),
            form_title=str(schema.get("title") or ""),
            errors=errors or {},
        ),
        status_code=status_code,
    )


@router.get("/emergency/tasks/{task_id}/report/{person_id}", response_class=HTMLResponse)
def person_report(task_id: int, person_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    task, campaign = work.get_task(session, actor, task_id)
    return _person_form(request, session, actor, task, campaign, person_id)


@router.post("/emergency/tasks/{task_id}/report/{person_id}", response_class=HTMLResponse)
async def person_report_post(
    task_id: int, person_id: int, request: Request, session: DbSession, actor: PageActor
) -> Response:
    raw = await multi(request)
    task, campaign = work.get_task(session, actor, task_id)
    schema = campaigns.form_of(session, campaign).schema
    values = forms.coerce(schema, raw)
    try:
        reports.submit_report(
            session, actor, campaign_id=campaign.id, person_id=person_id, answers=values, channel="door"
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        task, campaign = work.get_task(session, actor, task_id)
        return _person_form(
            request,
            session,
            actor,
            task,
            campaign,
            person_id,
            values=values,
            errors=errors,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/emergency/tasks/{task.id}?done=reported", status_code=303)


# --- a report and a help request --------------------------------------------------------------------------------


@router.get("/emergency/reports/{report_id}", response_class=HTMLResponse)
def report_page(report_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    view = reports.get_report(session, actor, report_id=report_id)
    campaign = campaigns.get_campaign(session, actor, view.report.campaign_id)
    return render(request, "emergency/campaigns/report.html", common(view=view, campaign=campaign))


def _help_page(
    request: Request,
    session: Session,
    actor: Actor,
    help_id: int,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    row = helps.get_help(session, actor, help_id)
    campaign = campaigns.get_campaign(session, actor, row.campaign_id)
    lines = helps.list_help(session, actor, campaign_id=campaign.id) if helps.is_staff(actor, row.region_path) else []
    line = next((x for x in lines if x.help.id == row.id), None)
    may_answer = True
    try:
        helps.may_answer(actor, row)
    except DomainError:
        may_answer = False
    return render(
        request,
        "emergency/campaigns/help.html",
        common(help=row, line=line, campaign=campaign, may_answer=may_answer, errors=errors or {}),
        status_code=status_code,
    )


@router.get("/emergency/help/{help_id}", response_class=HTMLResponse)
def help_page(help_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _help_page(request, session, actor, help_id)


@router.post("/emergency/help/{help_id}", response_class=HTMLResponse)
async def help_post(help_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await multi(request)
    try:
        if first(raw, "intent") == "close":
            helps.close(session, actor, help_id=help_id, note=first(raw, "note"))
        else:
            helps.answer(session, actor, help_id=help_id, answer=first(raw, "answer"))
    except DomainError as exc:
        if not exc.details:
            if exc.status_code != 409:
                raise
            exc = Invalid(details=[FieldError("intent", exc.message, exc.params)])
        errors = refused(request, session, actor, exc)
        return _help_page(
            request, session, actor, help_id, errors=errors, status_code=409 if "intent" in errors else 422
        )
    return RedirectResponse(f"/emergency/help/{help_id}", status_code=303)
