"""What the roll-ups count, read straight from the records (people, households and the campaign
tables of ``emergency.campaigns``, read-only).

Every figure is a count over a path range ``[lo, hi)`` of the records' ``region_path``: the
subtree of a region is ``[path, path[:-1] + '0')`` and the path alone is ``[path, path + '!')``
('!' sorts before the digits, so nothing deeper falls in it). One range is one index range scan
on ``(campaign_id, region_path)``. The same queries serve the live figures (``ranges``); the materialised
rows are built from every source counted per distinct path (``by_path``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, select
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


# --- by path: every source counted per distinct path in one ordered index scan ----------------------------


def by_path(session: Session, campaign_id: int, lo: str, hi: str) -> Iterator[tuple[str, dict[str, int]]]:
    """(path, campaign-wide counts) for every distinct path of every source in ``[lo, hi)``.

    Each source is one ``GROUP BY region_path`` over its ``(campaign_id, region_path)`` (or
    ``region_path``) index, so a million records cost one ordered index scan; the caller maps
    each path to the row that holds it (a building's subtree, or a coarser region exactly).
    """
    for name, column, query in _campaign_wide(campaign_id):
        stmt = query.add_columns(column).where(_in(column, lo, hi)).group_by(column)
        for row in session.execute(stmt):
            yield str(row[-1]), _spread(name, row[:-1])


def by_path_and_day(
    session: Session, campaign_id: int, lo: str, hi: str, *, days: Sequence[date] | None = None
) -> Iterator[tuple[str, date, dict[str, int]]]:
    """(path, day, daily counts) for every distinct path and day with reports in ``[lo, hi)``
    (only ``days`` when given)."""
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
        stmt = query.add_columns(column, day_column).where(_in(column, lo, hi))
        if days is not None:
            stmt = stmt.where(day_column.in_(list(days)))
        for row in session.execute(stmt.group_by(column, day_column)):
            yield str(row[-2]), row[-1], _spread(name, row[:-2])


# --- help requests: few, time-dependent, always read live ------------------------------------------------


@dataclass(frozen=True)
class HelpCounts:
    total: int = 0
    open: int = 0  # not yet answered (open or escalated)
    overdue: int = 0  # of those, past their time limit
    escalated: int = 0


def help_counts(
    session: Session, campaign_id: int, whole: Span, parts: Sequence[Span], now: Any
) -> dict[Any, HelpCounts]:
    """Help requests of a range and of its parts (disjoint sub-ranges), in one statement: one
    index range scan of the whole, grouped by the part each request falls in."""
    opened = HelpRequest.status.in_(OPEN_HELP)
    part = (
        case(*((_in(HelpRequest.region_path, p.lo, p.hi), n) for n, p in enumerate(parts)), else_=-1)
        if parts
        else literal(-1)
    )
    query = (
        select(
            part,
            func.count(HelpRequest.id),
            func.coalesce(func.sum(case((opened, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(opened, HelpRequest.due_at < now), 1), else_=0)), 0),
            func.coalesce(func.sum(case((HelpRequest.status == HelpStatus.ESCALATED.value, 1), else_=0)), 0),
        )
        .where(HelpRequest.campaign_id == campaign_id, _in(HelpRequest.region_path, whole.lo, whole.hi))
        .group_by(part)
    )
    totals = [0, 0, 0, 0]
    out: dict[Any, HelpCounts] = {p.key: HelpCounts() for p in parts}
    for index, *counts in session.execute(query):
        values = [int(v or 0) for v in counts]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        if index is not None and int(index) >= 0:
            out[parts[int(index)].key] = HelpCounts(*values)
    out[whole.key] = HelpCounts(*totals)
    return out


def help_rows(session: Session, campaign_id: int, lo: str, hi: str) -> list[tuple[str, str, Any]]:
    """(region_path, status, due_at) of the campaign's help requests in the range."""
    rows = session.execute(
        select(HelpRequest.region_path, HelpRequest.status, HelpRequest.due_at).where(
            HelpRequest.campaign_id == campaign_id, _in(HelpRequest.region_path, lo, hi)
        )
    ).all()
    return [(str(p), str(s), d) for p, s, d in rows]
