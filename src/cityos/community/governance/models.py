"""Models of community.governance: notices (通知公告) with read receipts, surveys (问卷), owners'
votes (业主表决) with one ballot per owned room, neighbour help and volunteers (邻里互助,
志愿者), and grid-worker tasks (网格任务) with visit logs (走访记录).

An *audience* (of a notice, a survey or a task plan) is a region subtree, optionally narrowed to
the people holding some tags (``people.models.Tag``): ``tag_match`` "all" keeps those holding
every tag (elderly *and* living alone), "any" those holding at least one.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    IMPORTANT = "important"  # 重要
    URGENT = "urgent"  # 紧急: also sent by SMS


class TagMatch(StrEnum):
    ALL = "all"
    ANY = "any"


class NoticeKind(StrEnum):
    NOTICE = "notice"  # written by community staff
    VOTE_RESULT = "vote_result"  # published when an owners' vote closes


class Notice(Base):
    """通知公告 to everyone living in a region subtree, or to a tagged group there."""

    __tablename__ = "community_notice"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=NoticeKind.NOTICE)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(16), default=Urgency.NORMAL)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tag_match: Mapped[str] = mapped_column(String(8), default=TagMatch.ALL)
    vote_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("community_vote.id", ondelete="SET NULL"), nullable=True, index=True
    )
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    author_label: Mapped[str] = mapped_column(String(128), default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_community_notice_path_published", "region_path", "published_at"),)


class NoticeRead(Base):
    """已读回执: this person opened the notice (once; the first time counts)."""

    __tablename__ = "community_notice_read"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(BigId, ForeignKey("community_notice.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("notice_id", "person_id", name="uq_community_notice_read_once"),)


class QuestionKind(StrEnum):
    SINGLE = "single"  # 单选
    MULTIPLE = "multiple"  # 多选
    TEXT = "text"  # 填空
    RATING = "rating"  # 评分 1-5


class SurveyStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Survey(Base):
    """问卷. ``questions`` is a list of ``{"key", "kind", "text", "options", "required"}``.
    With ``anonymous`` the answers carry no person: one answer per person is kept by a keyed
    hash of the survey and the person, which nobody can turn back into the person."""

    __tablename__ = "community_survey"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tag_match: Mapped[str] = mapped_column(String(8), default=TagMatch.ALL)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.OPEN)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    author_label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_community_survey_status_closes", "status", "closes_at"),)


class SurveyAnswer(Base):
    """One person's answers to one survey (editable until it closes)."""

    __tablename__ = "community_survey_answer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(BigId, ForeignKey("community_survey.id", ondelete="CASCADE"))
    respondent_key: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("survey_id", "respondent_key", name="uq_community_survey_answer_once"),)


class Matter(StrEnum):
    """《民法典》第278条: ordinary matters pass with more than half of the participating area and
    owners; major ones (筹集使用维修资金, 改建重建, 改变共有部分用途 …) with three quarters of both."""

    ORDINARY = "ordinary"
    MAJOR = "major"


class Weighting(StrEnum):
    AREA = "area"  # 专有部分面积 and owners (rooms): both conditions, as the Civil Code says
    ROOMS = "rooms"  # one room one vote, where the matter's rule counts rooms only


class VoteStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class OwnersVote(Base):
    """业主表决 in an estate (or a building, for building matters). The electorate is fixed when
    the vote is called: one ballot per room that has an owner on record, with its floor area
    (``Region.attrs["area"]``, m²) in hundredths of a square metre so every sum is exact."""

    __tablename__ = "community_vote"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    matter: Mapped[str] = mapped_column(String(16), default=Matter.ORDINARY)
    weighting: Mapped[str] = mapped_column(String(16), default=Weighting.AREA)
    options: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default=VoteStatus.OPEN)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    total_rooms: Mapped[int] = mapped_column(Integer, default=0)
    total_area: Mapped[int] = mapped_column(BigInteger, default=0)  # 0.01 m²
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    called_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    called_by_label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # deadline | manager

    __table_args__ = (Index("ix_community_vote_status_closes", "status", "closes_at"),)


ABSTAIN = -1  # a ballot's choice: an option's index, or -1 for 弃权 (counts as taking part)


class VoteBallot(Base):
    """The ballot of one room: co-owners share it and the first to vote decides. It says what
    the room chose, never who chose it (the audit log keeps who voted)."""

    __tablename__ = "community_vote_ballot"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    vote_id: Mapped[int] = mapped_column(BigId, ForeignKey("community_vote.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    area: Mapped[int] = mapped_column(BigInteger, default=0)  # 0.01 m²
    choice: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cast_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("vote_id", "room_id", name="uq_community_vote_ballot_room"),)


class Volunteer(Base):
    """A resident who volunteers (志愿者), with the skills they offer."""

    __tablename__ = "community_volunteer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    intro: Mapped[str] = mapped_column(String(255), default="")
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HelpKind(StrEnum):
    REQUEST = "request"  # 求助
    OFFER = "offer"  # 帮忙


class HelpStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    DONE = "done"
    CANCELLED = "cancelled"


class HelpPost(Base):
    """邻里互助: a request for help or an offer of it, seen by the neighbours of the poster's
    community. An urgent request also opens a help case (``case_id``)."""

    __tablename__ = "community_help"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=HelpStatus.OPEN)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    community_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    taker_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("case.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_community_help_community_status", "community_path", "status"),)


class VolunteerHours(Base):
    """志愿时长: minutes a volunteer gave, for a help post or a community activity."""

    __tablename__ = "community_volunteer_hours"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("community_volunteer.id", ondelete="CASCADE"), index=True)
    help_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("community_help.id", ondelete="SET NULL"), nullable=True
    )
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(255), default="")
    day: Mapped[date] = mapped_column(Date)
    logged_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Period(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class TaskPlan(Base):
    """A recurring grid task (e.g. 每月走访独居老人): each period, one task per person of the
    audience, for the workers of the grid the person lives in. ``last_period`` is the last
    period whose tasks were made, so the periodic job makes each period's tasks once."""

    __tablename__ = "community_task_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    instructions: Mapped[str] = mapped_column(Text, default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tag_match: Mapped[str] = mapped_column(String(8), default=TagMatch.ALL)
    period: Mapped[str] = mapped_column(String(16), default=Period.MONTHLY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_period: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    created_by_label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class GridTask(Base):
    """One visit to make: this person, this period. ``region_path`` is where the person lives,
    so a grid worker's scope finds it; ``grid_id`` is the grid for the completion figures."""

    __tablename__ = "community_grid_task"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("community_task_plan.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True, index=True)
    region_path: Mapped[str] = mapped_column(PathType)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("plan_id", "period", "person_id", name="uq_community_grid_task_once"),
        Index("ix_community_grid_task_path_status", "region_path", "status"),
    )


class VisitOutcome(StrEnum):
    OK = "ok"  # 正常
    NEEDS_HELP = "needs_help"  # 需要帮助
    NOT_HOME = "not_home"  # 不在家: the task stays open


class VisitLog(Base):
    """走访记录 of a grid task; a follow-up case may be opened from it."""

    __tablename__ = "community_visit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("community_grid_task.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    worker_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    worker_label: Mapped[str] = mapped_column(String(128), default="")
    case_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("case.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
