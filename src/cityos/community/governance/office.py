"""Pages of the community office (社区工作台: publish a notice, open a survey, call an owners'
vote, plan grid tasks; read receipts, results, participation, completion per grid, overdue
visits, volunteers) and of the grid worker's phone (网格任务: the visits to make and the log)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, FieldError, Forbidden, Invalid, NotFound
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

from . import audience, gridtasks, helping, notices, surveys, votes
from .models import Period, VisitOutcome

router = APIRouter(include_in_schema=False)

T = "community/governance/"
OFFICE_PERMISSIONS = ("notice:write", "vote:manage", "task:manage")
NOTICE_LEVELS = ("street", "community", "grid", "estate", "building", "unit")
PERIOD_TITLES = {
    Period.WEEKLY: N_("Every week"),
    Period.MONTHLY: N_("Every month"),
    Period.QUARTERLY: N_("Every quarter"),
}
OUTCOME_TITLES = {
    VisitOutcome.OK: N_("All well"),
    VisitOutcome.NEEDS_HELP: N_("Needs help"),
    VisitOutcome.NOT_HOME: N_("Not at home"),
}
WEIGHTING_TITLES = {"area": N_("By floor area and owners (Civil Code art. 278)"), "rooms": N_("One room, one vote")}
MATTER_TITLES = {
    "ordinary": N_("Ordinary matter: more than half of the area and of the owners taking part"),
    "major": N_("Major matter (maintenance fund, rebuilding, use of common parts): three quarters of both"),
}
FORMS = ("notice", "survey", "vote", "plan")
DONE = {
    "notice": N_("The notice is published; the people it reaches are being told."),
    "survey": N_("The survey is open; the people it asks are being told."),
    "vote": N_("The owners' vote is called; the owners are being told."),
    "plan": N_("The plan is saved and this period's tasks are made."),
    "visit": N_("The visit is logged."),
}
MSG_QUESTION = N_("Question {n}: {message}")


async def _posted(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    form = await request.form()
    single = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    many = {k: [str(v) for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return single, many


def _int(value: str) -> int | str:
    return int(value) if value.strip().isdigit() else value


def _office_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if not any(actor.can(p) for p in OFFICE_PERMISSIONS):
        raise Forbidden(params={"permission": "notice:write"})
    can = {p: actor.can(p) for p in ("notice:write", "vote:manage", "task:manage", "person:read")}
    staff_read = any(actor.can(p) for p in notices.STAFF_READ)
    sent = notices.sent(session, actor, limit=20) if staff_read else []
    area_votes = votes.in_area(session, actor, limit=20)
    return render(
        request,
        T + "office.html",
        {
            "local": audience.local,
            "flash": DONE.get(request.query_params.get("done", "")),
            "can": can,
            "form": form,
            "values": values or {},
            "errors": errors or {},
            "tags": audience.TAG_LABELS,
            "notice_regions": audience.region_options(session, actor, NOTICE_LEVELS),
            "vote_regions": audience.region_options(session, actor, votes.VOTE_LEVELS),
            "plan_regions": audience.region_options(session, actor, gridtasks.PLAN_LEVELS),
            "notices": [(n, votes.notice_text(session, n)[0], notices.receipts(session, actor, n.id)) for n in sent],
            "surveys": [
                (s, surveys.respondents(session, s))
                for s in (surveys.in_area(session, actor, limit=20) if staff_read else [])
            ],
            "votes": [(v, votes.tally(session, v)) for v in area_votes],
            "plans": gridtasks.plans(session, actor) if can["task:manage"] or staff_read else [],
            "completion": gridtasks.completion(session, actor) if can["task:manage"] or staff_read else [],
            "overdue": gridtasks.overdue(session, actor, limit=30) if can["task:manage"] or staff_read else [],
            "volunteers": helping.volunteers_in_area(session, actor) if can["task:manage"] or staff_read else [],
            "urgencies": notices.URGENCIES,
            "urgency_titles": notices.URGENCY_TITLES,
            "periods": PERIOD_TITLES,
            "matters": MATTER_TITLES,
            "weightings": WEIGHTING_TITLES,
            "percent": votes.percent,
            "skills": helping.SKILLS,
        },
        status_code=status_code,
    )


@router.get("/community/office", response_class=HTMLResponse)
def office_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _office_page(request, session, actor)


def _question_errors(exc: Invalid) -> Invalid:
    """Question-level problems shown under the questions box, numbered as the staff wrote them."""
    details = []
    for d in exc.details:
        parts = d.field.split(".")
        if parts[0] == "questions" and len(parts) > 1 and parts[1].isdigit():
            message = translate(d.message, **d.params)
            details.append(FieldError("questions", MSG_QUESTION, {"n": int(parts[1]) + 1, "message": message}))
        else:
            details.append(d)
    return Invalid(details=details)


@router.post("/community/office/{form}", response_class=HTMLResponse)
async def office_submit(form: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    if form not in FORMS:
        raise NotFound()
    single, many = await _posted(request)
    values: dict[str, Any] = {**single, "tags": many.get("tags", [])}
    region_id = _int(single.get("region_id", ""))
    tags = many.get("tags", [])
    tag_match = single.get("tag_match", "all")
    try:
        if form == "notice":
            notices.publish(
                session,
                actor,
                title=single.get("title", ""),
                body=single.get("body", ""),
                region_id=region_id,
                urgency=single.get("urgency", "normal"),
                tags=tags,
                tag_match=tag_match,
            )
        elif form == "survey":
            questions, problems = surveys.parse_questions(single.get("questions", ""))
            if problems:
                raise Invalid(details=problems)
            try:
                surveys.create(
                    session,
                    actor,
                    title=single.get("title", ""),
                    description=single.get("description", ""),
                    region_id=region_id,
                    tags=tags,
                    tag_match=tag_match,
                    anonymous=single.get("anonymous") == "1",
                    questions=questions,
                    closes_at=single.get("closes_on", ""),
                )
            except Invalid as exc:
                raise _question_errors(exc) from exc
        elif form == "vote":
            lines = [line.strip() for line in single.get("options", "").splitlines() if line.strip()]
            votes.call(
                session,
                actor,
                title=single.get("title", ""),
                description=single.get("description", ""),
                region_id=region_id,
                matter=single.get("matter", "ordinary"),
                weighting=single.get("weighting", "area"),
                options=lines or None,
                closes_at=single.get("closes_on", ""),
            )
        else:
            gridtasks.plan(
                session,
                actor,
                title=single.get("title", ""),
                instructions=single.get("instructions", ""),
                region_id=region_id,
                tags=tags,
                tag_match=tag_match,
                period=single.get("period", "monthly"),
            )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _office_page(
            request, session, actor, form=form, values=values, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(f"/community/office?done={form}#{form}", status_code=303)


# --- the grid worker's tasks --------------------------------------------------------------------------------


def _tasks_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    status: str = "open",
    failed: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = gridtasks.my_tasks(session, actor, status=status)
    now_local = datetime.now(audience.zone()).strftime("%Y-%m-%dT%H:%M")
    return render(
        request,
        T + "tasks.html",
        {
            "local": audience.local,
            "flash": DONE.get(request.query_params.get("done", "")),
            "rows": rows,
            "status": status,
            "overdue": sum(1 for r in rows if r.overdue),
            "outcomes": OUTCOME_TITLES,
            "now_local": now_local,
            "failed": failed,
            "values": values or {},
            "errors": errors or {},
            "can_report": actor.can("case:report"),
        },
        status_code=status_code,
    )


@router.get("/community/tasks", response_class=HTMLResponse)
def tasks_page(
    request: Request, session: DbSession, actor: PageActor, status: Annotated[str, Query(max_length=8)] = "open"
) -> HTMLResponse:
    return _tasks_page(request, session, actor, status="done" if status == "done" else "open")


def _visited_at(raw: str) -> datetime | str | None:
    """The form's local time (``2026-12-01T15:30``) as an aware moment; empty is now."""
    if not raw.strip():
        return None
    try:
        return datetime.fromisoformat(raw.strip()).replace(tzinfo=audience.zone())
    except ValueError:
        return raw


@router.post("/community/tasks/{task_id}/visits", response_class=HTMLResponse)
async def log_visit(task_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    single, _many = await _posted(request)
    try:
        gridtasks.log_visit(
            session,
            actor,
            task_id=task_id,
            outcome=single.get("outcome", ""),
            note=single.get("note", ""),
            visited_at=_visited_at(single.get("visited_at", "")),
            follow_up=single.get("follow_up") == "1",
        )
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        if exc.details:
            errors = refused(request, session, actor, exc)
        else:
            session.rollback()
            from cityos.web.shell import page_actor

            page_actor(request, session, actor)
            errors = {"outcome": translate(exc.message, **exc.params)}
        return _tasks_page(
            request, session, actor, failed=task_id, values=single, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse("/community/tasks?done=visit", status_code=303)
