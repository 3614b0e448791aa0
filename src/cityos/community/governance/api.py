"""JSON routes of community.governance: notices, surveys, owners' votes, neighbour help and
volunteers, grid tasks. Lists default to the caller's own view (``view=mine``); ``view=area``
is the staff view of their area."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cityos.core.http import DbSession
from cityos.identity.deps import CurrentActor

from . import gridtasks, helping, notices, surveys, votes
from .schemas import (
    AnswerIn,
    AnswerRead,
    BallotIn,
    BallotRead,
    CompletionRead,
    FinishIn,
    HelpCreate,
    HelpRead,
    HoursIn,
    HoursRead,
    NoticeCreate,
    NoticeRead,
    PlanCreate,
    PlanRead,
    ReceiptsRead,
    ResultsRead,
    SurveyCreate,
    SurveyRead,
    TaskRead,
    VisitIn,
    VisitRead,
    VolunteerIn,
    VolunteerRead,
    VoteCreate,
    VoteRead,
)

router = APIRouter(prefix="/api/v1", tags=["community"])

View = Annotated[Literal["mine", "area"], Query()]


# --- notices ---------------------------------------------------------------------------------------------


@router.get("/community/notices", response_model=list[NoticeRead])
def list_notices(session: DbSession, actor: CurrentActor, view: View = "mine") -> list[NoticeRead]:
    """``mine``: the notices addressed to you, newest first, with whether you read each;
    ``area``: those published in your area (notice:write or community:read)."""
    if view == "area":
        return [NoticeRead.of(n, text=votes.notice_text(session, n)) for n in notices.sent(session, actor)]
    rows = notices.my_notices(session, actor, limit=50)
    read = notices.read_ids(session, actor.person_id, [n.id for n in rows])
    return [NoticeRead.of(n, text=votes.notice_text(session, n), read=n.id in read) for n in rows]


@router.post("/community/notices", response_model=NoticeRead, status_code=201)
def publish_notice(body: NoticeCreate, session: DbSession, actor: CurrentActor) -> NoticeRead:
    """Publish to a region subtree, or to people there with ``tags`` (``tag_match`` all or any)."""
    n = notices.publish(session, actor, **body.model_dump())
    return NoticeRead.of(n, text=(n.title, n.body))


@router.get("/community/notices/{notice_id}", response_model=NoticeRead)
def read_notice(notice_id: int, session: DbSession, actor: CurrentActor) -> NoticeRead:
    """A notice; the first reading by a person it reaches is their read receipt."""
    n = notices.open_notice(session, actor, notice_id)
    mine = notices.addressed_to(session, actor, n)
    return NoticeRead.of(n, text=votes.notice_text(session, n), read=True if mine else None)


@router.get("/community/notices/{notice_id}/receipts", response_model=ReceiptsRead)
def notice_receipts(notice_id: int, session: DbSession, actor: CurrentActor) -> ReceiptsRead:
    """How many the notice reaches and how many read it (staff of its area)."""
    return ReceiptsRead.of(notices.receipts(session, actor, notice_id))


# --- surveys ----------------------------------------------------------------------------------------------


@router.get("/community/surveys", response_model=list[SurveyRead])
def list_surveys(session: DbSession, actor: CurrentActor, view: View = "mine") -> list[SurveyRead]:
    """``mine``: open surveys that ask you; ``area``: surveys of your area (staff)."""
    rows = surveys.in_area(session, actor) if view == "area" else surveys.my_surveys(session, actor)
    return [SurveyRead.of(s) for s in rows]


@router.post("/community/surveys", response_model=SurveyRead, status_code=201)
def create_survey(body: SurveyCreate, session: DbSession, actor: CurrentActor) -> SurveyRead:
    data = body.model_dump()
    return SurveyRead.of(surveys.create(session, actor, **data))


@router.get("/community/surveys/{survey_id}", response_model=SurveyRead)
def read_survey(survey_id: int, session: DbSession, actor: CurrentActor) -> SurveyRead:
    """A survey with your own answer, if you gave one."""
    s = surveys.get_survey(session, actor, survey_id)
    return SurveyRead.of(s, mine=surveys.my_answer(session, actor, s))


@router.put("/community/surveys/{survey_id}/answer", response_model=AnswerRead)
def answer_survey(survey_id: int, body: AnswerIn, session: DbSession, actor: CurrentActor) -> AnswerRead:
    """Give or change your one answer: ``{"q1": 0, "q2": [0, 2], "q3": "text", "q4": 5}``."""
    return AnswerRead.of(surveys.answer(session, actor, survey_id=survey_id, answers=body.answers))


@router.get("/community/surveys/{survey_id}/results", response_model=ResultsRead)
def survey_results(survey_id: int, session: DbSession, actor: CurrentActor) -> ResultsRead:
    return ResultsRead.of(surveys.results(session, actor, survey_id=survey_id))


@router.post("/community/surveys/{survey_id}/close", response_model=SurveyRead)
def close_survey(survey_id: int, session: DbSession, actor: CurrentActor) -> SurveyRead:
    return SurveyRead.of(surveys.close(session, actor, survey_id=survey_id))


# --- owners' votes ----------------------------------------------------------------------------------------


def _vote_read(d: votes.VoteDetails) -> VoteRead:
    return VoteRead.of(d.vote, d.tally, d.mine)


@router.get("/community/votes", response_model=list[VoteRead])
def list_votes(session: DbSession, actor: CurrentActor, view: View = "mine") -> list[VoteRead]:
    """``mine``: votes in which you own a room; ``area``: votes of your area (vote:manage,
    community:read)."""
    rows = votes.in_area(session, actor) if view == "area" else votes.my_votes(session, actor)
    return [_vote_read(votes.details(session, actor, v.id)) for v in rows]


@router.post("/community/votes", response_model=VoteRead, status_code=201)
def call_vote(body: VoteCreate, session: DbSession, actor: CurrentActor) -> VoteRead:
    """Call an owners' vote in an estate or a building (``matter`` ordinary or major,
    ``weighting`` area or rooms; ``options`` default to agree / disagree)."""
    v = votes.call(session, actor, **body.model_dump())
    return _vote_read(votes.details(session, actor, v.id))


@router.get("/community/votes/{vote_id}", response_model=VoteRead)
def read_vote(vote_id: int, session: DbSession, actor: CurrentActor) -> VoteRead:
    """The vote with live participation against the quorum, your rooms' ballots, and the
    result once it is closed."""
    return _vote_read(votes.details(session, actor, vote_id))


@router.post("/community/votes/{vote_id}/ballots", response_model=BallotRead, status_code=201)
def cast_ballot(vote_id: int, body: BallotIn, session: DbSession, actor: CurrentActor) -> BallotRead:
    """Vote for one room you own: ``choice`` an option's index, or ``"abstain"``."""
    b = votes.cast(session, actor, vote_id=vote_id, room_id=body.room_id, choice=body.choice)
    return BallotRead(room_id=b.room_id, address="", choice=b.choice, cast_at=b.cast_at, cast_by_me=True)


@router.post("/community/votes/{vote_id}/close", response_model=VoteRead)
def close_vote(vote_id: int, session: DbSession, actor: CurrentActor) -> VoteRead:
    """Close now, count, and publish the result as a notice (vote:manage)."""
    votes.close(session, actor, vote_id=vote_id)
    return _vote_read(votes.details(session, actor, vote_id))


# --- neighbour help and volunteers ------------------------------------------------------------------------


@router.get("/community/help", response_model=list[HelpRead])
def list_help(
    session: DbSession, actor: CurrentActor, status: Annotated[Literal["open", "mine", "all"], Query()] = "open"
) -> list[HelpRead]:
    """Requests and offers of your community (open ones, your own, or all)."""
    rows = helping.neighbourhood(session, actor, status=None if status == "all" else status)
    return [HelpRead.of(h, person_id=actor.person_id) for h in rows]


@router.post("/community/help", response_model=HelpRead, status_code=201)
def post_help(body: HelpCreate, session: DbSession, actor: CurrentActor) -> HelpRead:
    """Ask for help or offer it; an urgent request also opens a help case."""
    return HelpRead.of(helping.post(session, actor, **body.model_dump()), person_id=actor.person_id)


@router.post("/community/help/{help_post_id}/take", response_model=HelpRead)
def take_help(help_post_id: int, session: DbSession, actor: CurrentActor) -> HelpRead:
    return HelpRead.of(helping.take(session, actor, help_id=help_post_id), person_id=actor.person_id)


@router.post("/community/help/{help_post_id}/finish", response_model=HelpRead)
def finish_help(help_post_id: int, body: FinishIn, session: DbSession, actor: CurrentActor) -> HelpRead:
    return HelpRead.of(
        helping.finish(session, actor, help_id=help_post_id, minutes=body.minutes), person_id=actor.person_id
    )


@router.post("/community/help/{help_post_id}/cancel", response_model=HelpRead)
def cancel_help(help_post_id: int, session: DbSession, actor: CurrentActor) -> HelpRead:
    return HelpRead.of(helping.cancel(session, actor, help_id=help_post_id), person_id=actor.person_id)


@router.put("/community/volunteers/me", response_model=VolunteerRead)
def register_volunteer(body: VolunteerIn, session: DbSession, actor: CurrentActor) -> VolunteerRead:
    """Register as a volunteer, or change your skills."""
    return VolunteerRead.of(helping.register_volunteer(session, actor, skills=body.skills, intro=body.intro))


@router.get("/community/volunteers", response_model=list[VolunteerRead])
def list_volunteers(session: DbSession, actor: CurrentActor) -> list[VolunteerRead]:
    """The volunteers of your area with their minutes given (staff)."""
    return [VolunteerRead.of(v, name=n, minutes=m) for v, n, m in helping.volunteers_in_area(session, actor)]


@router.post("/community/volunteers/{volunteer_id}/hours", response_model=HoursRead, status_code=201)
def log_hours(volunteer_id: int, body: HoursIn, session: DbSession, actor: CurrentActor) -> HoursRead:
    """Log a volunteer's time at a community activity (task:manage)."""
    return HoursRead.of(
        helping.log_hours(session, actor, volunteer_id=volunteer_id, minutes=body.minutes, note=body.note, day=body.day)
    )


# --- grid tasks ------------------------------------------------------------------------------------------------


@router.get("/community/task-plans", response_model=list[PlanRead])
def list_plans(session: DbSession, actor: CurrentActor) -> list[PlanRead]:
    return [PlanRead.of(p) for p in gridtasks.plans(session, actor)]


@router.post("/community/task-plans", response_model=PlanRead, status_code=201)
def create_plan(body: PlanCreate, session: DbSession, actor: CurrentActor) -> PlanRead:
    """Plan a recurring task over the people of a region (and tags); this period's tasks are made at once."""
    return PlanRead.of(gridtasks.plan(session, actor, **body.model_dump()))


@router.get("/community/tasks", response_model=list[TaskRead])
def list_tasks(
    session: DbSession, actor: CurrentActor, status: Annotated[Literal["open", "done"], Query()] = "open"
) -> list[TaskRead]:
    """The grid tasks of your area (task:visit): open ones by due day, or those done."""
    return [TaskRead.of(r) for r in gridtasks.my_tasks(session, actor, status=status)]


@router.post("/community/tasks/{grid_task_id}/visits", response_model=VisitRead, status_code=201)
def log_visit(grid_task_id: int, body: VisitIn, session: DbSession, actor: CurrentActor) -> VisitRead:
    """Log a visit: outcome ok / needs_help (the task is done) or not_home (it stays open)."""
    return VisitRead.of(gridtasks.log_visit(session, actor, task_id=grid_task_id, **body.model_dump()))


@router.get("/community/task-completion", response_model=list[CompletionRead])
def task_completion(session: DbSession, actor: CurrentActor) -> list[CompletionRead]:
    """This period's tasks per grid of your area: total, done, overdue."""
    return [CompletionRead.of(c) for c in gridtasks.completion(session, actor)]
