"""What the roll-ups count, read straight from the records (people, households and the campaign
tables of ``emergency.campaigns``, read-only).

Every figure is a count over a path range ``[lo, hi)`` of the records' ``region_path``: the
subtree of a region is ``[path, path[:-1] + '0')`` and the path alone is ``[path, path + '!')``
('!' sorts before the digits, so nothing deeper falls in it). One range is one index range scan
on ``(campaign_id, region_path)``. The same queries serve the live figures (``ranges``) and the
materialised rows (``grouped`` joins a table of ranges to a source in one statement).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import Session

from cityos.core.actor import subtree_range
from cityos.emergency.campaigns.kinds import SPECIAL_TAGS
from cityos.emergency.campaigns.models import (
    HelpRequest,
    HelpStatus,
    OrgReport,
    Reach,
    Report,
    SuppliesDelivery,
    Task,
    TaskStatus,
)
from cityos.people.models import Household, Person, PersonTag

EXACT = "!"  # appended to a path: the upper bound of the range that holds only that path
OPEN_HELP = (HelpStatus.OPEN.value, HelpStatus.ESCALATED.value)


def subtree_hi(path: str) -> str:
    return subtree_range(path)[1]


def exact_hi(path: str) -> str:
    return path + EXACT


@dataclass(frozen=True)
class Span:
    """A path range ``[lo, hi)`` and the key its counts are reported under."""

    key: Any
    lo: str
    hi: str


def _in(column: Any, lo: Any, hi: Any) -> Any:
    return and_(column >= lo, column < hi)


# --- the sources: (what is counted) for a campaign over a range ---------------------------------------


def _campaign_wide(campaign_id: int) -> list[tuple[str, Any, Select[Any]]]:
    """(figures, path column, query without the range) of the campaign-wide sources."""
    return [
        ("residents", Person.region_path, select(func.count(Person.id))),
        ("households", Household.region_path, select(func.count(Household.id))),
        (
            "special",
            Person.region_path,
            select(func.count(Person.id)).where(
                exists().where(PersonTag.person_id == Person.id, PersonTag.tag.in_(SPECIAL_TAGS))
            ),
        ),
        ("reached", Reach.region_path, select(func.count(Reach.id)).where(Reach.campaign_id == campaign_id)),
        (
            "tasks",
            Task.region_path,
            select(
                func.coalesce(func.sum(case((Task.status == TaskStatus.OPEN.value, 1), else_=0)), 0),
                func.coalesce(func.sum(case((Task.status == TaskStatus.DONE.value, 1), else_=0)), 0),
            ).where(Task.campaign_id == campaign_id),
        ),
        (
            "supplied",
            SuppliesDelivery.region_path,
            select(func.count(func.distinct(SuppliesDelivery.room_id))).where(
                SuppliesDelivery.campaign_id == campaign_id
            ),
        ),
    ]


def _daily(campaign_id: int, day: date) -> list[tuple[str, Any, Select[Any]]]:
    return [
        (
            "reports",
            Report.region_path,
            select(func.count(Report.id), func.coalesce(func.sum(case((Report.abnormal, 1), else_=0)), 0)).where(
                Report.campaign_id == campaign_id, Report.day == day
            ),
        ),
        (
            "staff",
            OrgReport.region_path,
            select(func.count(OrgReport.id), func.coalesce(func.sum(case((OrgReport.abnormal, 1), else_=0)), 0)).where(
                OrgReport.campaign_id == campaign_id, OrgReport.day == day
            ),
        ),
    ]


def _spread(name: str, row: Sequence[Any]) -> dict[str, int]:
    if name == "tasks":
        return {"tasks_open": int(row[0] or 0), "tasks_done": int(row[1] or 0)}
    if name == "reports":
        return {"reported": int(row[0] or 0), "abnormal": int(row[1] or 0)}
    if name == "staff":
        return {"staff_reported": int(row[0] or 0), "staff_abnormal": int(row[1] or 0)}
    return {name: int(row[0] or 0)}


def campaign_wide(session: Session, campaign_id: int, span: Span) -> dict[str, int]:
    """The campaign-wide counts of one range."""
    out: dict[str, int] = {}
    for name, column, query in _campaign_wide(campaign_id):
        out.update(_spread(name, session.execute(query.where(_in(column, span.lo, span.hi))).one()))
    return out


def daily(session: Session, campaign_id: int, day: date, span: Span) -> dict[str, int]:
    """The counts of one range on one day."""
    out: dict[str, int] = {}
    for name, column, query in _daily(campaign_id, day):
        out.update(_spread(name, session.execute(query.where(_in(column, span.lo, span.hi))).one()))
    return out


def ranges(session: Session, campaign_id: int, day: date, spans: Iterable[Span]) -> dict[Any, dict[str, int]]:
    """Every figure of every range, counted from the records now (the live path)."""
    return {s.key: {**campaign_wide(session, campaign_id, s), **daily(session, campaign_id, day, s)} for s in spans}


# --- grouped: one statement per source over a selectable of ranges --------------------------------------


def grouped_campaign_wide(session: Session, campaign_id: int, targets: Any) -> dict[Any, dict[str, int]]:
    """Campaign-wide counts for each row of ``targets`` (a subquery with columns key, lo, hi)."""
    out: dict[Any, dict[str, int]] = {}
    for name, column, query in _campaign_wide(campaign_id):
        stmt = (
            query.add_columns(targets.c.key)
            .join(targets, _in(column, targets.c.lo, targets.c.hi))
            .group_by(targets.c.key)
        )
        for row in session.execute(stmt):
            out.setdefault(row[-1], {}).update(_spread(name, row[:-1]))
    return out


def grouped_daily(session: Session, campaign_id: int, targets: Any) -> dict[tuple[Any, date], dict[str, int]]:
    """Daily counts for each row of ``targets`` and each day with reports."""
    out: dict[tuple[Any, date], dict[str, int]] = {}
    sources: list[tuple[str, Any, Any, Select[Any]]] = [
        (
            "reports",
            Report.region_path,
            Report.day,
            select(func.count(Report.id), func.coalesce(func.sum(case((Report.abnormal, 1), else_=0)), 0)).where(
                Report.campaign_id == campaign_id
            ),
        ),
        (
            "staff",
            OrgReport.region_path,
            OrgReport.day,
            select(func.count(OrgReport.id), func.coalesce(func.sum(case((OrgReport.abnormal, 1), else_=0)), 0)).where(
                OrgReport.campaign_id == campaign_id
            ),
        ),
    ]
    for name, column, day_column, query in sources:
        stmt = (
            query.add_columns(targets.c.key, day_column)
            .join(targets, _in(column, targets.c.lo, targets.c.hi))
            .group_by(targets.c.key, day_column)
        )
        for row in session.execute(stmt):
            out.setdefault((row[-2], row[-1]), {}).update(_spread(name, row[:-2]))
    return out


# --- help requests: few, time-dependent, always read live ------------------------------------------------


@dataclass(frozen=True)
class HelpCounts:
    total: int = 0
    open: int = 0  # not yet answered (open or escalated)
    overdue: int = 0  # of those, past their time limit
    escalated: int = 0


def help_rows(session: Session, campaign_id: int, lo: str, hi: str) -> list[tuple[str, str, Any]]:
    """(region_path, status, due_at) of the campaign's help requests in the range."""
    rows = session.execute(
        select(HelpRequest.region_path, HelpRequest.status, HelpRequest.due_at).where(
            HelpRequest.campaign_id == campaign_id, _in(HelpRequest.region_path, lo, hi)
        )
    ).all()
    return [(str(p), str(s), d) for p, s, d in rows]
