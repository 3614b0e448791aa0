"""API schemas of community.governance. Inputs forbid unknown fields; the services check every
value again (so the pages, the CLI and the API share one set of rules and messages)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from cityos.core.i18n import translate

from . import gridtasks, helping, notices, surveys, votes
from .models import (
    GridTask,
    HelpPost,
    Notice,
    OwnersVote,
    Survey,
    SurveyAnswer,
    TaskPlan,
    VisitLog,
    Volunteer,
    VolunteerHours,
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- notices -------------------------------------------------------------------------------------------------


class NoticeCreate(_In):
    title: str = Field(max_length=400)
    body: str = Field(max_length=20_000)
    region_id: int
    urgency: str = "normal"
    tags: list[str] = Field(default_factory=list, max_length=10)
    tag_match: str = "all"


class NoticeRead(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    urgency: str
    region_id: int
    tags: list[str]
    tag_match: str
    vote_id: int | None
    author: str
    published_at: datetime
    read: bool | None  # for the people it reaches: whether they have read it

    @classmethod
    def of(cls, n: Notice, *, text: tuple[str, str], read: bool | None = None) -> NoticeRead:
        """``text`` is the title and body in the reader's language (``votes.notice_text``)."""
        title, body = text
        return cls(
            id=n.id,
            kind=n.kind,
            title=title,
            body=body,
            urgency=n.urgency,
            region_id=n.region_id,
            tags=list(n.tags),
            tag_match=n.tag_match,
            vote_id=n.vote_id,
            author=n.author_label,
            published_at=n.published_at,
            read=read,
        )


class ReceiptsRead(BaseModel):
    """已读回执: how many the notice reaches and how many have read it; the readers only for
    staff who may read residents."""

    reached: int
    read: int
    unread: int
    rate: float
    readers: list[dict[str, Any]] | None

    @classmethod
    def of(cls, r: notices.Receipts) -> ReceiptsRead:
        return cls(
            reached=r.reached,
            read=r.read,
            unread=r.unread,
            rate=r.rate,
            readers=[{"name": name, "read_at": at} for name, at in r.readers] if r.readers is not None else None,
        )


# --- surveys -------------------------------------------------------------------------------------------------


class QuestionIn(_In):
    kind: str
    text: str = Field(max_length=400)
    options: list[str] = Field(default_factory=list, max_length=20)
    required: bool = True


class SurveyCreate(_In):
    title: str = Field(max_length=400)
    description: str = Field(default="", max_length=8000)
    region_id: int
    tags: list[str] = Field(default_factory=list, max_length=10)
    tag_match: str = "all"
    anonymous: bool = False
    questions: list[QuestionIn] = Field(max_length=60)
    closes_at: str = Field(max_length=40)  # 2026-12-31 (the end of that day here) or an ISO time


class SurveyRead(BaseModel):
    id: int
    title: str
    description: str
    region_id: int
    tags: list[str]
    tag_match: str
    anonymous: bool
    questions: list[dict[str, Any]]
    status: str
    closes_at: datetime
    author: str
    my_answers: dict[str, Any] | None  # the caller's own answer, when they have given one

    @classmethod
    def of(cls, s: Survey, *, mine: SurveyAnswer | None = None) -> SurveyRead:
        return cls(
            id=s.id,
            title=s.title,
            description=s.description,
            region_id=s.region_id,
            tags=list(s.tags),
            tag_match=s.tag_match,
            anonymous=s.anonymous,
            questions=list(s.questions),
            status=s.status,
            closes_at=s.closes_at,
            author=s.author_label,
            my_answers=dict(mine.answers) if mine is not None else None,
        )


class AnswerIn(_In):
    answers: dict[str, Any]


class AnswerRead(BaseModel):
    survey_id: int
    answers: dict[str, Any]
    updated_at: datetime

    @classmethod
    def of(cls, a: SurveyAnswer) -> AnswerRead:
        return cls(survey_id=a.survey_id, answers=dict(a.answers), updated_at=a.updated_at)


class QuestionResultRead(BaseModel):
    key: str
    kind: str
    text: str
    options: list[str]
    counts: list[int]
    answered: int
    average: float | None
    texts: list[dict[str, str | None]]


class ResultsRead(BaseModel):
    survey_id: int
    respondents: int
    reached: int
    questions: list[QuestionResultRead]

    @classmethod
    def of(cls, r: surveys.SurveyResults) -> ResultsRead:
        return cls(
            survey_id=r.survey.id,
            respondents=r.respondents,
            reached=r.reached,
            questions=[
                QuestionResultRead(
                    key=q.key,
                    kind=q.kind,
                    text=q.text,
                    options=q.options,
                    counts=q.counts,
                    answered=q.answered,
                    average=q.average,
                    texts=[{"name": name, "text": text} for name, text in q.texts],
                )
                for q in r.questions
            ],
        )


# --- votes ----------------------------------------------------------------------------------------------------


class VoteCreate(_In):
    title: str = Field(max_length=400)
    description: str = Field(default="", max_length=8000)
    region_id: int
    matter: str = "ordinary"
    weighting: str = "area"
    options: list[str] = Field(default_factory=list, max_length=20)
    closes_at: str = Field(max_length=40)  # 2026-12-31 (the end of that day here) or an ISO time


class BallotIn(_In):
    room_id: int
    choice: StrictInt | StrictStr  # an option's index, or "abstain"


class BallotRead(BaseModel):
    room_id: int
    address: str
    choice: int | None  # None: not cast yet; -1: abstained
    cast_at: datetime | None
    cast_by_me: bool


class Participation(BaseModel):
    """Live participation against the 2/3 quorum; shares as exact fractions ("5/6") and as
    percentages written for people."""

    total_rooms: int
    voted_rooms: int
    rooms_share: str
    rooms_percent: str
    total_area_m2: str
    voted_area_m2: str
    area_share: str
    area_percent: str
    quorum: str
    quorum_met: bool

    @classmethod
    def of(cls, t: votes.Tally) -> Participation:
        return cls(
            total_rooms=t.total.rooms,
            voted_rooms=t.voted.rooms,
            rooms_share=str(t.rooms_share),
            rooms_percent=votes.percent(t.rooms_share),
            total_area_m2=votes.area_m2(t.total.area),
            voted_area_m2=votes.area_m2(t.voted.area),
            area_share=str(t.area_share),
            area_percent=votes.percent(t.area_share),
            quorum=str(votes.QUORUM),
            quorum_met=t.quorum_met,
        )


class OptionResult(BaseModel):
    option: str
    rooms: int
    area_m2: str


class VoteResult(BaseModel):
    quorum_met: bool
    adopted: int | None
    adopted_option: str | None
    abstained_rooms: int
    options: list[OptionResult]
    text: str


class VoteRead(BaseModel):
    id: int
    title: str
    description: str
    region_id: int
    matter: str
    weighting: str
    options: list[str]
    status: str
    closes_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    participation: Participation
    result: VoteResult | None  # once closed
    my_ballots: list[BallotRead]

    @classmethod
    def of(cls, v: OwnersVote, tally: votes.Tally, mine: list[votes.MyBallot]) -> VoteRead:
        result = None
        if v.result is not None:
            final = votes.Tally.from_dict(v.result)
            adopted = final.adopted
            result = VoteResult(
                quorum_met=final.quorum_met,
                adopted=adopted,
                adopted_option=translate(v.options[adopted]) if adopted is not None else None,
                abstained_rooms=final.abstained.rooms,
                options=[
                    OptionResult(option=translate(v.options[i]), rooms=s.rooms, area_m2=votes.area_m2(s.area))
                    for i, s in enumerate(final.options)
                ],
                text=votes.result_text(v)[1],
            )
        return cls(
            id=v.id,
            title=v.title,
            description=v.description,
            region_id=v.region_id,
            matter=v.matter,
            weighting=v.weighting,
            options=[translate(o) for o in v.options],
            status=v.status,
            closes_at=v.closes_at,
            closed_at=v.closed_at,
            closed_by=v.closed_by,
            participation=Participation.of(tally),
            result=result,
            my_ballots=[
                BallotRead(
                    room_id=m.ballot.room_id,
                    address=m.address,
                    choice=m.ballot.choice,
                    cast_at=m.ballot.cast_at,
                    cast_by_me=m.cast_by_me,
                )
                for m in mine
            ],
        )


# --- help and volunteers --------------------------------------------------------------------------------------


class HelpCreate(_In):
    kind: str
    category: str
    title: str = Field(max_length=400)
    body: str = Field(default="", max_length=4000)
    urgent: bool = False


class FinishIn(_In):
    minutes: int


class HelpRead(BaseModel):
    id: int
    kind: str
    category: str
    category_title: str
    title: str
    body: str
    urgent: bool
    status: str
    mine: bool
    taken_by_me: bool
    case_id: int | None
    minutes: int | None
    created_at: datetime

    @classmethod
    def of(cls, h: HelpPost, *, person_id: int | None) -> HelpRead:
        return cls(
            id=h.id,
            kind=h.kind,
            category=h.category,
            category_title=translate(helping.CATEGORIES.get(h.category, h.category)),
            title=h.title,
            body=h.body,
            urgent=h.urgent,
            status=h.status,
            mine=person_id is not None and h.person_id == person_id,
            taken_by_me=person_id is not None and h.taker_person_id == person_id,
            case_id=h.case_id if person_id is not None and h.person_id == person_id else None,
            minutes=h.minutes,
            created_at=h.created_at,
        )


class VolunteerIn(_In):
    skills: list[str] = Field(max_length=20)
    intro: str = Field(default="", max_length=500)


class VolunteerRead(BaseModel):
    id: int
    skills: list[str]
    intro: str
    active: bool
    name: str | None = None
    minutes: int = 0

    @classmethod
    def of(cls, v: Volunteer, *, name: str | None = None, minutes: int = 0) -> VolunteerRead:
        return cls(id=v.id, skills=list(v.skills), intro=v.intro, active=v.active, name=name, minutes=minutes)


class HoursIn(_In):
    minutes: int
    note: str = Field(default="", max_length=500)
    day: date | None = None


class HoursRead(BaseModel):
    id: int
    volunteer_id: int
    minutes: int
    note: str
    day: date

    @classmethod
    def of(cls, h: VolunteerHours) -> HoursRead:
        return cls(id=h.id, volunteer_id=h.volunteer_id, minutes=h.minutes, note=h.note, day=h.day)


# --- grid tasks ------------------------------------------------------------------------------------------------


class PlanCreate(_In):
    title: str = Field(max_length=400)
    instructions: str = Field(default="", max_length=8000)
    region_id: int
    tags: list[str] = Field(default_factory=list, max_length=10)
    tag_match: str = "all"
    period: str = "monthly"


class PlanRead(BaseModel):
    id: int
    title: str
    instructions: str
    region_id: int
    tags: list[str]
    tag_match: str
    period: str
    active: bool
    last_period: str | None

    @classmethod
    def of(cls, p: TaskPlan) -> PlanRead:
        return cls(
            id=p.id,
            title=p.title,
            instructions=p.instructions,
            region_id=p.region_id,
            tags=list(p.tags),
            tag_match=p.tag_match,
            period=p.period,
            active=p.active,
            last_period=p.last_period,
        )


class TaskRead(BaseModel):
    id: int
    plan_id: int
    plan_title: str
    period: str
    person_id: int
    person_name: str
    address: str
    grid_id: int | None
    due_on: date
    status: str
    overdue: bool
    visits: int

    @classmethod
    def of(cls, r: gridtasks.TaskRow) -> TaskRead:
        t: GridTask = r.task
        return cls(
            id=t.id,
            plan_id=t.plan_id,
            plan_title=r.plan_title,
            period=t.period,
            person_id=t.person_id,
            person_name=r.person_name,
            address=r.address,
            grid_id=t.grid_id,
            due_on=t.due_on,
            status=t.status,
            overdue=r.overdue,
            visits=r.visits,
        )


class VisitIn(_In):
    outcome: str
    note: str = Field(default="", max_length=4000)
    visited_at: datetime | None = None
    follow_up: bool = False


class VisitRead(BaseModel):
    id: int
    task_id: int
    visited_at: datetime
    outcome: str
    note: str
    case_id: int | None

    @classmethod
    def of(cls, v: VisitLog) -> VisitRead:
        return cls(
            id=v.id, task_id=v.task_id, visited_at=v.visited_at, outcome=v.outcome, note=v.note, case_id=v.case_id
        )


class CompletionRead(BaseModel):
    grid_id: int | None
    grid_name: str
    total: int
    done: int
    overdue: int
    rate: float

    @classmethod
    def of(cls, c: gridtasks.GridCompletion) -> CompletionRead:
        return cls(grid_id=c.grid_id, grid_name=c.grid_name, total=c.total, done=c.done, overdue=c.overdue, rate=c.rate)
