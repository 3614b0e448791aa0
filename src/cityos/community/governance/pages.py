"""HTML pages of community.governance for residents (phones first, large buttons): notices and
their read receipts, a survey to answer (or its results with charts for staff), owners' votes
with one ballot per room and the live quorum bar, neighbour help. The staff console and the
grid worker's tasks are in ``office``; templates in web/templates/community/governance/."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.web.forms import field_errors, refused
from cityos.web.shell import PageActor, page_actor
from cityos.web.templating import render

from . import audience, helping, notices, office, surveys, votes
from .models import ABSTAIN, HelpKind, QuestionKind, Survey

router = APIRouter(include_in_schema=False)
router.include_router(office.router)

T = "community/governance/"
HELP_STATUS = {
    "open": N_("Waiting for a helper"),
    "taken": N_("Someone is helping"),
    "done": N_("Done"),
    "cancelled": N_("Withdrawn"),
}
MATTER_TITLES = {"ordinary": N_("Ordinary matter"), "major": N_("Major matter")}
FLASH = {
    "answered": N_("Thank you, your answer is saved. You can change it until the survey closes."),
    "cast": N_("Your vote is recorded."),
    "closed": N_("Closed. The result is published as a notice."),
    "posted": N_("Posted. Your neighbours can see it now."),
    "urgent": N_("Posted, and the community has been told at once because it is urgent."),
    "taken": N_("Thank you! You can see the address below."),
    "finished": N_("Marked as done. Thank you for helping each other."),
    "cancelled": N_("Withdrawn."),
    "volunteer": N_("You are registered as a volunteer. Thank you!"),
}


async def posted(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A form's single values and its repeated ones (checkboxes)."""
    form = await request.form()
    single = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    many = {k: [str(v) for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return single, many


def common(request: Request) -> dict[str, Any]:
    flash = request.query_params.get("done", "")
    return {"local": audience.local, "flash": FLASH.get(flash), "tag_labels": audience.TAG_LABELS}


# --- notices -------------------------------------------------------------------------------------------------


@router.get("/community/notices", response_class=HTMLResponse)
def notices_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The notices addressed to me (unread marked) and the surveys that ask me."""
    rows = notices.my_notices(session, actor, limit=50)
    read = notices.read_ids(session, actor.person_id, [n.id for n in rows])
    return render(
        request,
        T + "notices.html",
        {
            **common(request),
            "notices": [(n, votes.notice_text(session, n), n.id in read) for n in rows],
            "surveys": surveys.my_surveys(session, actor),
            "urgency_titles": notices.URGENCY_TITLES,
            "staff": notices.staff_can_read(actor, actor.scope_path),
        },
    )


@router.get("/community/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(notice_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """One notice; opening it is the reader's receipt. Staff see how many read it."""
    n = notices.open_notice(session, actor, notice_id)
    staff = notices.staff_can_read(actor, n.region_path)
    return render(
        request,
        T + "notice.html",
        {
            **common(request),
            "notice": n,
            "text": votes.notice_text(session, n),
            "receipts": notices.receipts(session, actor, n.id) if staff else None,
            "place": notices.region_name(session, n.region_id),
            "urgency_titles": notices.URGENCY_TITLES,
        },
    )


# --- surveys -------------------------------------------------------------------------------------------------


def _answers_from_form(survey: Survey, single: dict[str, str], many: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in survey.questions:
        key, kind = q["key"], q["kind"]
        if kind == QuestionKind.MULTIPLE:
            out[key] = [int(v) for v in many.get(key, []) if v.isdigit()]
        elif kind in (QuestionKind.SINGLE, QuestionKind.RATING):
            value = single.get(key, "")
            out[key] = int(value) if value.isdigit() else (None if value == "" else value)
        else:
            out[key] = single.get(key, "")
    return out


def _survey_page(
    request: Request,
    session: Session,
    actor: Actor,
    survey: Survey,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    staff = notices.staff_can_read(actor, survey.region_path)
    mine = surveys.my_answer(session, actor, survey)
    return render(
        request,
        T + "survey.html",
        {
            **common(request),
            "survey": survey,
            "asked": surveys.asks(session, actor, survey),
            "open": surveys.is_open(survey),
            "values": values if values is not None else (dict(mine.answers) if mine is not None else {}),
            "answered": mine is not None,
            "errors": errors or {},
            "results": surveys.results(session, actor, survey_id=survey.id) if staff else None,
            "can_close": actor.can("notice:write", region=survey.region_path) and survey.status == "open",
            "rating_max": surveys.RATING_MAX,
        },
        status_code=status_code,
    )


@router.get("/community/surveys/{survey_id}", response_class=HTMLResponse)
def survey_page(survey_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _survey_page(request, session, actor, surveys.get_survey(session, actor, survey_id))


@router.post("/community/surveys/{survey_id}", response_class=HTMLResponse)
async def answer_survey(survey_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    single, many = await posted(request)
    survey = surveys.get_survey(session, actor, survey_id)
    answers = _answers_from_form(survey, single, many)
    try:
        surveys.answer(session, actor, survey_id=survey.id, answers=answers)
    except DomainError as exc:
        errors = {k.removeprefix("answers."): v for k, v in refused(request, session, actor, exc).items()}
        survey = surveys.get_survey(session, actor, survey_id)
        return _survey_page(request, session, actor, survey, values=answers, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/community/surveys/{survey.id}?done=answered", status_code=303)


@router.post("/community/surveys/{survey_id}/close")
def close_survey(survey_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    surveys.close(session, actor, survey_id=survey_id)
    return RedirectResponse(f"/community/surveys/{survey_id}", status_code=303)


# --- owners' votes ------------------------------------------------------------------------------------------


@router.get("/community/votes", response_class=HTMLResponse)
def votes_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """My votes (as an owner) and, for managers and observers, the votes of their area."""
    mine = votes.my_votes(session, actor)
    area = votes.in_area(session, actor) if any(actor.can(p) for p in votes.MANAGE_READ) else []
    return render(
        request,
        T + "votes.html",
        {
            **common(request),
            "mine": [(v, votes.tally(session, v)) for v in mine],
            "area": [(v, votes.tally(session, v)) for v in area if v not in mine],
            "matter_titles": MATTER_TITLES,
            "percent": votes.percent,
            "now_open": votes.is_open,
        },
    )


def _vote_page(
    request: Request, session: Session, actor: Actor, vote_id: int, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    d = votes.details(session, actor, vote_id)
    final = votes.Tally.from_dict(d.vote.result) if d.vote.result is not None else None
    return render(
        request,
        T + "vote.html",
        {
            **common(request),
            "vote": d.vote,
            "tally": d.tally,
            "mine": d.mine,
            "final": final,
            "result_text": votes.result_text(d.vote)[1] if final is not None else "",
            "open": votes.is_open(d.vote),
            "manager": actor.can("vote:manage", region=d.vote.region_path),
            "options": [translate(o) for o in d.vote.options],
            "abstain": ABSTAIN,
            "error": error,
            "matter_titles": MATTER_TITLES,
            "percent": votes.percent,
            "area_m2": votes.area_m2,
            "ratio": votes.ratio,
            "quorum": votes.QUORUM,
        },
        status_code=status_code,
    )


@router.get("/community/votes/{vote_id}", response_class=HTMLResponse)
def vote_page(vote_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _vote_page(request, session, actor, vote_id)


@router.post("/community/votes/{vote_id}/ballots", response_class=HTMLResponse)
async def cast_ballot(vote_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    single, _many = await posted(request)
    room = single.get("room_id", "")
    choice: Any = single.get("choice", "")
    choice = int(choice) if choice.isdigit() else choice
    try:
        votes.cast(session, actor, vote_id=vote_id, room_id=int(room) if room.isdigit() else room, choice=choice)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        session.rollback()
        page_actor(request, session, actor)
        message = "; ".join(field_errors(exc).values()) or translate(exc.message, **exc.params)
        return _vote_page(request, session, actor, vote_id, error=message, status_code=exc.status_code)
    return RedirectResponse(f"/community/votes/{vote_id}?done=cast", status_code=303)


@router.post("/community/votes/{vote_id}/close")
def close_vote(vote_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    votes.close(session, actor, vote_id=vote_id)
    return RedirectResponse(f"/community/votes/{vote_id}?done=closed", status_code=303)


# --- neighbour help ----------------------------------------------------------------------------------------


def _help_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    view: str = "open",
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    volunteer_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = helping.neighbourhood(session, actor, status=None if view == "all" else view)
    volunteer = helping.my_volunteer(session, actor)
    minutes = helping.minutes_of(session, [volunteer.id]) if volunteer is not None else {}
    from cityos.people import residences
    from cityos.places.models import Region

    taken_rows = [h for h in rows if h.taker_person_id == actor.person_id and h.region_id is not None]
    regions = [r for r in (session.get(Region, h.region_id) for h in taken_rows if h.region_id) if r is not None]
    return render(
        request,
        T + "help.html",
        {
            **common(request),
            "posts": rows,
            "view": view,
            "addresses": residences.addresses(session, regions) if regions else {},
            "person_id": actor.person_id,
            "can_post": actor.can("help:offer") and actor.person_id is not None,
            "volunteer": volunteer,
            "volunteer_minutes": minutes.get(volunteer.id, 0) if volunteer is not None else 0,
            "categories": helping.CATEGORIES,
            "status_titles": HELP_STATUS,
            "values": values or {"kind": HelpKind.REQUEST},
            "errors": errors or {},
            "volunteer_errors": volunteer_errors or {},
        },
        status_code=status_code,
    )


@router.get("/community/help", response_class=HTMLResponse)
def help_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    view: Annotated[str, Query(max_length=8)] = "open",
) -> HTMLResponse:
    return _help_page(request, session, actor, view=view if view in ("open", "mine", "all") else "open")


@router.post("/community/help", response_class=HTMLResponse)
async def post_help(request: Request, session: DbSession, actor: PageActor) -> Response:
    single, _many = await posted(request)
    values = {k: single.get(k, "") for k in ("kind", "category", "title", "body")}
    urgent = single.get("urgent") == "1"
    try:
        row = helping.post(
            session,
            actor,
            kind=values["kind"],
            category=values["category"],
            title=values["title"],
            body=values["body"],
            urgent=urgent,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _help_page(
            request, session, actor, values={**values, "urgent": urgent}, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(f"/community/help?view=mine&done={'urgent' if row.urgent else 'posted'}", status_code=303)


@router.post("/community/help/{help_id}/{step}")
async def help_step(help_id: int, step: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    """take, finish (with the minutes it took) or cancel."""
    single, _many = await posted(request)
    try:
        if step == "take":
            helping.take(session, actor, help_id=help_id)
            flash = "taken"
        elif step == "finish":
            raw = single.get("minutes", "")
            helping.finish(session, actor, help_id=help_id, minutes=int(raw) if raw.isdigit() else raw)
            flash = "finished"
        elif step == "cancel":
            helping.cancel(session, actor, help_id=help_id)
            flash = "cancelled"
        else:
            from cityos.core.errors import NotFound

            raise NotFound()
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        session.rollback()
        page_actor(request, session, actor)
        message = "; ".join(field_errors(exc).values()) or translate(exc.message, **exc.params)
        return _help_page(request, session, actor, view="mine", errors={"step": message}, status_code=exc.status_code)
    return RedirectResponse(f"/community/help?view=mine&done={flash}", status_code=303)


@router.post("/community/volunteers/me", response_class=HTMLResponse)
async def register_volunteer(request: Request, session: DbSession, actor: PageActor) -> Response:
    single, many = await posted(request)
    try:
        helping.register_volunteer(session, actor, skills=many.get("skills", []), intro=single.get("intro", ""))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _help_page(request, session, actor, volunteer_errors=errors, status_code=exc.status_code)
    return RedirectResponse("/community/help?done=volunteer", status_code=303)
