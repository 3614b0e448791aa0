"""一网通办 statistics for a region (the subtree of the applications' ``region_path``) and a period
(applications submitted in it): per item, per approving department and per district (child region).

Definitions:
- applications: submitted applications (drafts are not counted).
- handling time: from ``submitted_at`` to ``decided_at`` in working days on the official calendar
  (``cityos.workflow.calendar.WorkCalendar``): the working days after the day of submission up to
  and including the day of the decision, so a decision on the day of submission is 0 days. For a
  department, its own decision time (``ApplicationDepartment.decided_at``) when it has one.
- on time: decided within the item's legal limit (``time_limit_days``); the average legal limit of
  the decided applications is shown beside the average handling time.
- 即办率: applications of instant items (即办件) decided on the day they were submitted, over all
  decided applications.
- zero-material rate: applications with ``zero_material`` over all applications.
- 好差评: the latest rating (``cases.models.Rating``, subject_type ``application``, subject_id the
  application's id) of each application; 4–5 is 好评, 1–2 差评, each over all rated applications.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from cityos.cases.models import Rating
from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import NotFound
from cityos.people.models import Department
from cityos.places.models import Region
from cityos.services.applications.models import Application, ApplicationDepartment
from cityos.services.catalogue.models import ServiceItem
from cityos.workflow.calendar import WorkCalendar

GOOD = 4  # 满意 and 非常满意
BAD = 2  # 不满意 and 非常不满意
DURATION_UNIT = "working_days"


@dataclass
class Figures:
    applications: int = 0
    decided: int = 0
    handling_days: int = 0  # sum over decided
    limit_days: int = 0  # sum of legal limits over decided
    on_time: int = 0
    instant_same_day: int = 0
    zero_material: int = 0
    rated: int = 0
    good: int = 0
    bad: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def average_days(self) -> float | None:
        return round(self.handling_days / self.decided, 1) if self.decided else None

    @property
    def average_limit_days(self) -> float | None:
        return round(self.limit_days / self.decided, 1) if self.decided else None

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.on_time, self.decided)

    @property
    def instant_rate(self) -> float | None:
        return self._rate(self.instant_same_day, self.decided)

    @property
    def zero_material_rate(self) -> float | None:
        return self._rate(self.zero_material, self.applications)

    @property
    def good_rate(self) -> float | None:
        return self._rate(self.good, self.rated)

    @property
    def bad_rate(self) -> float | None:
        return self._rate(self.bad, self.rated)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "average_days": self.average_days,
            "average_limit_days": self.average_limit_days,
            "on_time_rate": self.on_time_rate,
            "instant_rate": self.instant_rate,
            "zero_material_rate": self.zero_material_rate,
            "good_rate": self.good_rate,
            "bad_rate": self.bad_rate,
        }


@dataclass
class Report:
    region: Region
    since: datetime | None
    until: datetime | None
    totals: Figures
    items: list[tuple[ServiceItem, Figures]] = field(default_factory=list)
    departments: list[tuple[Department, Figures]] = field(default_factory=list)
    districts: list[tuple[Region, Figures]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": {"id": self.region.id, "name": self.region.name, "level": self.region.level},
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "duration_unit": DURATION_UNIT,
            "totals": self.totals.as_dict(),
            "items": [{"code": i.code, "name": i.name, "figures": f.as_dict()} for i, f in self.items],
            "departments": [{"id": d.id, "name": d.name, "figures": f.as_dict()} for d, f in self.departments],
            "districts": [{"id": r.id, "name": r.name, "figures": f.as_dict()} for r, f in self.districts],
        }


@dataclass(frozen=True)
class _Row:
    id: int
    item_code: str
    region_path: str
    submitted_at: datetime
    decided_at: datetime | None
    zero_material: bool


class _Counter:
    def __init__(self, calendar: WorkCalendar, items: dict[str, ServiceItem], ratings: dict[str, int]) -> None:
        self.calendar, self.items, self.ratings = calendar, items, ratings
        self._days: dict[tuple[date, date], int] = {}

    def working_days(self, start: datetime, end: datetime) -> int:
        a, b = start.astimezone(self.calendar.zone).date(), end.astimezone(self.calendar.zone).date()
        key = (a, b)
        if key not in self._days:
            n, day = 0, a
            while day < b:
                day += timedelta(days=1)
                n += self.calendar.is_workday(day)
            self._days[key] = n
        return self._days[key]

    def add(self, figures: Figures, row: _Row, decided_at: datetime | None) -> None:
        figures.applications += 1
        figures.zero_material += bool(row.zero_material)
        item = self.items.get(row.item_code)
        if decided_at is not None:
            days = self.working_days(row.submitted_at, decided_at)
            limit = item.time_limit_days if item else 0
            figures.decided += 1
            figures.handling_days += days
            figures.limit_days += limit
            figures.on_time += days <= limit
            zone = self.calendar.zone
            same_day = row.submitted_at.astimezone(zone).date() == decided_at.astimezone(zone).date()
            figures.instant_same_day += bool(item is not None and item.instant and same_day)
        level = self.ratings.get(str(row.id))
        if level is not None:
            figures.rated += 1
            figures.good += level >= GOOD
            figures.bad += level <= BAD


def _region(session: Session, actor: Actor, region_id: int | None) -> Region:
    actor.require("service:stats")
    region = session.get(Region, region_id if region_id is not None else actor.scope_region_id)
    if region is None or not actor.covers(region):
        raise NotFound()
    return region


def _rows(session: Session, path: str, since: datetime | None, until: datetime | None) -> list[_Row]:
    query = select(
        Application.id,
        Application.item_code,
        Application.region_path,
        Application.submitted_at,
        Application.decided_at,
        Application.zero_material,
    ).where(subtree_clause(Application.region_path, path), Application.submitted_at.is_not(None))
    if since is not None:
        query = query.where(Application.submitted_at >= since)
    if until is not None:
        query = query.where(Application.submitted_at < until)
    return [
        _Row(id=i, item_code=code, region_path=path or "/", submitted_at=at, decided_at=done, zero_material=zero)
        for i, code, path, at, done, zero in session.execute(query)
        if at is not None
    ]


def _latest_ratings(session: Session, ids: Iterable[int]) -> dict[str, int]:
    wanted = [str(i) for i in ids]
    out: dict[str, tuple[int, int]] = {}
    for chunk in range(0, len(wanted), 500):
        for subject_id, revision, level in session.execute(
            select(Rating.subject_id, Rating.revision, Rating.level).where(
                and_(Rating.subject_type == "application", Rating.subject_id.in_(wanted[chunk : chunk + 500]))
            )
        ):
            if subject_id not in out or revision >= out[subject_id][0]:
                out[subject_id] = (revision, level)
    return {k: v[1] for k, v in out.items()}


def report(
    session: Session,
    actor: Actor,
    *,
    region_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """The figures of the region chosen (the actor's scope by default) and period."""
    region = _region(session, actor, region_id)
    rows = _rows(session, region.path, since, until)
    codes = {r.item_code for r in rows}
    items = {i.code: i for i in session.scalars(select(ServiceItem).where(ServiceItem.code.in_(codes)))}
    counter = _Counter(WorkCalendar.load(session), items, _latest_ratings(session, [r.id for r in rows]))
    totals = Figures()
    per_item: dict[str, Figures] = defaultdict(Figures)
    children = list(session.scalars(select(Region).where(Region.parent_id == region.id).order_by(Region.code)))
    per_child: dict[int, Figures] = {c.id: Figures() for c in children}
    child_by_prefix = {c.path: c.id for c in children}
    depth = region.path.count("/")
    for row in rows:
        counter.add(totals, row, row.decided_at)
        counter.add(per_item[row.item_code], row, row.decided_at)
        prefix = "/".join(row.region_path.split("/")[: depth + 1]) + "/"
        if prefix in child_by_prefix:
            counter.add(per_child[child_by_prefix[prefix]], row, row.decided_at)
    per_department: dict[int, Figures] = defaultdict(Figures)
    by_id = {r.id: r for r in rows}
    ids = list(by_id)
    for chunk in range(0, len(ids), 500):
        for app_id, dept_id, decided_at in session.execute(
            select(
                ApplicationDepartment.application_id,
                ApplicationDepartment.department_id,
                ApplicationDepartment.decided_at,
            ).where(ApplicationDepartment.application_id.in_(ids[chunk : chunk + 500]))
        ):
            row = by_id[app_id]
            counter.add(per_department[dept_id], row, decided_at or row.decided_at)
    departments = {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(list(per_department))))}
    return Report(
        region=region,
        since=since,
        until=until,
        totals=totals,
        items=sorted(
            ((items[c], f) for c, f in per_item.items() if c in items), key=lambda p: (-p[1].applications, p[0].code)
        ),
        departments=sorted(
            ((departments[d], f) for d, f in per_department.items() if d in departments),
            key=lambda p: (-p[1].applications, p[0].code),
        ),
        districts=[(c, per_child[c.id]) for c in children],
    )
