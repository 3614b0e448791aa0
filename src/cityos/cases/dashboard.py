"""The command dashboard's figures (指挥大屏): KPIs for a region and period, the same broken down by
the region's parts and by department, open cases for the map, overdue and escalated lists.

KPI definitions (cases reported in the period, in the region's subtree):
- 响应率 response rate: cases that moved past their first state.
- 结案率 closure rate: cases that are closed.
- 按期结案率 on-time closure: closed cases closed by their due time.
- 返工率 rework rate: closed cases that were sent back, failed a check or review, or reopened.
- 满意率 satisfaction: rated cases rated 基本满意 or better.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import NotFound
from cityos.people.models import Department
from cityos.places.models import Region
from cityos.workflow.models import ProcessEvent, ProcessInstance

REWORK_ACTIONS = ("send_back", "check_fail", "review_fail", "reopen")
SATISFIED = 3


@dataclass
class Kpis:
    total: int = 0
    responded: int = 0
    closed: int = 0
    on_time: int = 0
    reworked: int = 0
    rated: int = 0
    satisfied: int = 0
    open: int = 0
    overdue: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def response_rate(self) -> float | None:
        return self._rate(self.responded, self.total)

    @property
    def closure_rate(self) -> float | None:
        return self._rate(self.closed, self.total)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.on_time, self.closed)

    @property
    def rework_rate(self) -> float | None:
        return self._rate(self.reworked, self.closed)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "response_rate": self.response_rate,
            "closure_rate": self.closure_rate,
            "on_time_rate": self.on_time_rate,
            "rework_rate": self.rework_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }


def _region(session: Session, actor: Actor, region_id: int | None) -> Region:
    actor.require("case:read")
    region = session.get(Region, region_id if region_id is not None else actor.scope_region_id)
    if region is None or not actor.covers(region):
        raise NotFound()
    return region


def _columns(now: datetime) -> list[Any]:
    moved = (
        select(func.count())
        .select_from(ProcessEvent)
        .where(ProcessEvent.instance_id == Case.process_instance_id, ProcessEvent.action != "start")
        .correlate(Case)
        .scalar_subquery()
    )
    reworked = (
        select(func.count())
        .select_from(ProcessEvent)
        .where(ProcessEvent.instance_id == Case.process_instance_id, ProcessEvent.action.in_(REWORK_ACTIONS))
        .correlate(Case)
        .scalar_subquery()
    )
    closed = Case.closed_at.is_not(None)
    return [
        func.count(),
        func.sum(case((moved > 0, 1), else_=0)),
        func.sum(case((closed, 1), else_=0)),
        func.sum(case((and_(closed, (Case.due_at.is_(None)) | (Case.closed_at <= Case.due_at)), 1), else_=0)),
        func.sum(case((and_(closed, reworked > 0), 1), else_=0)),
        func.sum(case((Case.rating.is_not(None), 1), else_=0)),
        func.sum(case((Case.rating >= SATISFIED, 1), else_=0)),
        func.sum(case((Case.closed_at.is_(None), 1), else_=0)),
        func.sum(case((and_(Case.closed_at.is_(None), Case.due_at < now), 1), else_=0)),
    ]


def _kpis(row: Any) -> Kpis:
    values = [int(v or 0) for v in row]
    return Kpis(*values)


def _period(query: Select[Any], since: datetime | None, until: datetime | None) -> Select[Any]:
    if since is not None:
        query = query.where(Case.created_at >= since)
    if until is not None:
        query = query.where(Case.created_at < until)
    return query.where(Case.duplicate_of.is_(None))


def kpis(
    session: Session,
    actor: Actor,
    *,
    region_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Region, Kpis]:
    region = _region(session, actor, region_id)
    return region, _subtree_kpis(session, region.path, since, until, now)


def _subtree_kpis(
    session: Session, path: str, since: datetime | None, until: datetime | None, now: datetime | None
) -> Kpis:
    query = _period(select(*_columns(now or utcnow())).where(subtree_clause(Case.region_path, path)), since, until)
    return _kpis(session.execute(query).one())


def by_part(
    session: Session,
    actor: Actor,
    *,
    region_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> list[tuple[Region, Kpis]]:
    """The KPIs of each part (child region) of the region: the drill-down."""
    region = _region(session, actor, region_id)
    children = list(
        session.scalars(select(Region).where(Region.parent_id == region.id).order_by(Region.code).limit(200))
    )
    return [(child, _subtree_kpis(session, child.path, since, until, now)) for child in children]


def by_department(
    session: Session,
    actor: Actor,
    *,
    region_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> list[tuple[Department, Kpis]]:
    region = _region(session, actor, region_id)
    query = _period(
        select(Case.department_id, *_columns(now or utcnow()))
        .where(subtree_clause(Case.region_path, region.path), Case.department_id.is_not(None))
        .group_by(Case.department_id),
        since,
        until,
    )
    rows = session.execute(query).all()
    departments = {d.id: d for d in session.scalars(select(Department).where(Department.id.in_([r[0] for r in rows])))}
    return sorted(((departments[r[0]], _kpis(r[1:])) for r in rows if r[0] in departments), key=lambda p: -p[1].total)


def open_points(session: Session, actor: Actor, *, region_id: int | None = None, limit: int = 5000) -> dict[str, Any]:
    """Open cases with a position, as GeoJSON points for the map (heat by where they are)."""
    region = _region(session, actor, region_id)
    now = utcnow()
    rows = session.execute(
        select(Case.id, Case.no, Case.title, Case.status, Case.lon, Case.lat, Case.due_at, Case.category_code)
        .where(subtree_clause(Case.region_path, region.path), Case.closed_at.is_(None), Case.lon.is_not(None))
        .order_by(Case.created_at.desc())
        .limit(limit)
    ).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "id": cid,
                    "no": no,
                    "title": title,
                    "status": status,
                    "category": cat,
                    "overdue": bool(due is not None and due < now),
                },
            }
            for cid, no, title, status, lon, lat, due, cat in rows
        ],
    }


def attention(
    session: Session, actor: Actor, *, region_id: int | None = None, limit: int = 50
) -> tuple[list[Case], list[Case]]:
    """Overdue open cases (most overdue first) and escalated ones (highest level first)."""
    region = _region(session, actor, region_id)
    now = utcnow()
    in_region = subtree_clause(Case.region_path, region.path)
    overdue = list(
        session.scalars(
            select(Case)
            .where(in_region, Case.closed_at.is_(None), Case.due_at < now)
            .order_by(Case.due_at)
            .limit(limit)
        )
    )
    escalated = list(
        session.scalars(
            select(Case)
            .join(ProcessInstance, ProcessInstance.id == Case.process_instance_id)
            .where(in_region, Case.closed_at.is_(None), ProcessInstance.escalation_level > 0)
            .order_by(ProcessInstance.escalation_level.desc(), Case.created_at)
            .limit(limit)
        )
    )
    return overdue, escalated
