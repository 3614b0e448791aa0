"""Logic of community.governance (G): plain functions taking a session; they flush, never commit.

The sub-domains live beside this file — ``notices`` (通知公告, read receipts), ``surveys`` (问卷),
``votes`` (业主表决 under 《民法典》第278条), ``helping`` (邻里互助, 志愿者), ``gridtasks``
(网格任务, 走访) — and ``audience`` says who a notice, a survey or a plan reaches. This module
holds what the resident's home page and the community dashboard call (``my_notices``,
``my_open_votes``, ``stats``) and what ``cityos db upgrade`` installs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, HasPath, subtree_clause
from cityos.core.db import utcnow

from . import audience, gridtasks, helping, notices, surveys, votes
from .models import Notice, OwnersVote, Survey, SurveyStatus

__all__ = [
    "audience",
    "gridtasks",
    "helping",
    "install",
    "my_notices",
    "my_open_votes",
    "notices",
    "periodic_work",
    "stats",
    "surveys",
    "votes",
]


def install(session: Session) -> None:
    """Installs what this sub-package ships (idempotent); called by ``cityos db upgrade``.

    Governance ships no data of its own: help cases use the ``help.*`` categories and the
    ``help_request`` process that ``cases`` installs."""


def my_notices(session: Session, actor: Actor, *, limit: int = 5) -> list[Notice]:
    """The newest notices addressed to the actor (where they live, their tags), for the home page."""
    return notices.my_notices(session, actor, limit=limit)


def my_open_votes(session: Session, actor: Actor) -> list[OwnersVote]:
    """The open owners' votes in which the actor owns a room, for the home page."""
    return votes.my_votes(session, actor, open_only=True)


def stats(session: Session, *, region: HasPath, now: datetime | None = None) -> dict[str, int | float]:
    """Governance figures of a region's subtree for the dashboard (the caller checked the scope):
    notices this month, open votes and surveys, grid tasks of this period (how many, done,
    overdue, completion rate 0..1), visits this month, open help posts and volunteers."""
    now = now or utcnow()
    path = region.path
    month_start = audience.local_month_start(now)
    notices_month = int(
        session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(subtree_clause(Notice.region_path, path), Notice.published_at >= month_start)
        )
        or 0
    )
    open_surveys = int(
        session.scalar(
            select(func.count())
            .select_from(Survey)
            .where(subtree_clause(Survey.region_path, path), Survey.status == SurveyStatus.OPEN)
        )
        or 0
    )
    total, done, late = gridtasks.figures(session, path, today=audience.local_today(now))
    return {
        "notices_this_month": notices_month,
        "open_votes": votes.open_count(session, path),
        "open_surveys": open_surveys,
        "tasks_this_period": total,
        "tasks_done": done,
        "tasks_overdue": late,
        "task_completion_rate": round(done / total, 4) if total else 0.0,
        "visits_this_month": gridtasks.visits_since(session, path, month_start),
        "help_open": helping.open_count(session, path),
        "volunteers": helping.volunteer_count(session, path),
    }


def periodic_work(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Close the votes and surveys whose deadline passed (a vote's result is published as a
    notice) and make the grid tasks of a period that has just begun. Each is one indexed query
    when there is nothing to do."""
    now = now or utcnow()
    return {
        "votes_closed": votes.close_due(session, now=now),
        "surveys_closed": surveys.close_due(session, now=now),
        "tasks_made": gridtasks.generate_due(session, today=audience.local_today(now)),
    }
