"""网格任务: community staff plan recurring tasks ("visit every elderly resident living alone each
month"); each period the plan makes one task per person of its audience, once, for the workers
of the grid the person lives in. A grid worker logs each visit (time, outcome, note, optionally
a follow-up case); a visit that found the person (ok, needs help) finishes the task, "not home"
keeps it open. Staff see completion per grid and the overdue tasks.

"This period" in the figures is every task due from the first day of the current month on (a
monthly plan's tasks of this month, a weekly plan's weeks of this month, a quarterly plan's
quarter); overdue tasks are the open ones past their due day, whatever their period."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.people.models import Person, Residence
from cityos.places.models import Region

from . import audience
from .events import TasksPlanned
from .models import GridTask, Period, TagMatch, TaskPlan, TaskStatus, VisitLog, VisitOutcome
from .notices import check_title, clean_text

PERIODS: tuple[str, ...] = tuple(p.value for p in Period)
OUTCOMES: tuple[str, ...] = tuple(o.value for o in VisitOutcome)
STAFF_READ = ("task:manage", "community:read")
PLAN_LEVELS = ("district", "street", "community", "grid", "estate", "building", "unit")

MSG_PERIOD = N_("Must be one of: {expected}.")
MSG_INSTRUCTIONS = N_("At most {max_length} characters.")
MSG_OUTCOME = N_("Must be one of: {expected}.")
MSG_NOTE = N_("At most {max_length} characters.")
MSG_NEEDS_NOTE = N_("Say what help is needed.")
MSG_VISITED_AT = N_("Give the time of the visit: not in the future, and not before the task was made.")
MSG_FOLLOW_UP = N_("Must be true or false.")
MSG_DONE = N_("This task is already done.")
MSG_PLAN_REGION = N_("Choose a grid, a community or an estate in your area.")


# --- periods ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    key: str  # 2026-12, 2026-W49, 2026-Q4
    start: date
    end: date  # the due day


def window(period: str, day: date) -> Window:
    if period == Period.WEEKLY:
        iso = day.isocalendar()
        start = day - timedelta(days=day.weekday())
        return Window(f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=6))
    if period == Period.QUARTERLY:
        q = (day.month - 1) // 3 + 1
        last_month = 3 * q
        return Window(
            f"{day.year}-Q{q}",
            date(day.year, last_month - 2, 1),
            date(day.year, last_month, calendar.monthrange(day.year, last_month)[1]),
        )
    return Window(
        f"{day.year}-{day.month:02d}", day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    )


# --- planning ----------------------------------------------------------------------------------------------


def plan(
    session: Session,
    actor: Actor,
    *,
    title: Any,
    region_id: Any,
    period: Any = Period.MONTHLY,
    tags: Any = None,
    tag_match: Any = TagMatch.ALL,
    instructions: Any = "",
    now: datetime | None = None,
) -> TaskPlan:
    """Plan a recurring task over the people of a region (and tags) in the actor's area
    (task:manage); this period's tasks are made at once."""
    actor.require("task:manage")
    now = now or utcnow()
    errors: list[FieldError] = []
    clean_title = check_title(title, errors)
    text = clean_text(instructions)
    if len(text) > 4000:
        errors.append(FieldError("instructions", MSG_INSTRUCTIONS, {"max_length": 4000}))
    if period not in PERIODS:
        errors.append(FieldError("period", MSG_PERIOD, {"expected": ", ".join(PERIODS)}))
    region, clean_tags = audience.check(
        session,
        actor,
        region_id=region_id,
        tags=tags,
        tag_match=tag_match,
        errors=errors,
        levels=PLAN_LEVELS,
        region_message=MSG_PLAN_REGION,
    )
    if errors or region is None:
        raise Invalid(details=errors)
    actor.require("task:manage", region=region)
    row = TaskPlan(
        title=clean_title,
        instructions=text,
        region_id=region.id,
        region_path=region.path,
        tags=clean_tags,
        tag_match=tag_match,
        period=period,
        active=True,
        created_by_account_id=actor.account_id,
        created_by_label=actor.label[:128],
        created_at=now,
    )
    session.add(row)
    session.flush()
    generate(session, row, today=audience.local_today(now))
    return row


def set_active(session: Session, actor: Actor, *, plan_id: int, active: Any) -> TaskPlan:
    row = get_plan(session, actor, plan_id)
    actor.require("task:manage", region=row.region_path)
    if not isinstance(active, bool):
        raise Invalid(details=[FieldError("active", MSG_FOLLOW_UP)])
    row.active = active
    session.flush()
    return row


def get_plan(session: Session, actor: Actor, plan_id: int) -> TaskPlan:
    row = session.get(TaskPlan, plan_id)
    if row is None or not any(actor.can(p, region=row.region_path) for p in STAFF_READ):
        raise NotFound()
    return row


def plans(session: Session, actor: Actor) -> list[TaskPlan]:
    if not any(actor.can(p) for p in STAFF_READ):
        raise Forbidden(params={"permission": "task:manage"})
    return list(
        session.scalars(
            select(TaskPlan).where(actor.scope_clause(TaskPlan.region_path)).order_by(TaskPlan.id.desc()).limit(100)
        )
    )


def _homes(session: Session, person_ids: list[int], within: str, today: date) -> dict[int, str]:
    """Each person's home path inside ``within``: a current room there, else their registered region."""
    homes: dict[int, str] = {}
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        for pid, path in session.execute(
            select(Residence.person_id, Region.path)
            .join(Region, Region.id == Residence.room_id)
            .where(
                Residence.person_id.in_(chunk),
                Residence.since <= today,
                or_(Residence.until.is_(None), Residence.until >= today),
                subtree_clause(Region.path, within),
            )
            .order_by(Residence.id)
        ):
            homes.setdefault(int(pid), str(path))
        for pid, registered in session.execute(select(Person.id, Person.region_path).where(Person.id.in_(chunk))):
            if registered and str(registered).startswith(within):
                homes.setdefault(int(pid), str(registered))
    return homes


def _grids(session: Session, paths: list[str]) -> dict[str, int]:
    ids = {int(p) for path in paths for p in path.strip("/").split("/") if p}
    grid_ids: set[int] = set()
    for start in range(0, len(ids), 900):
        chunk = sorted(ids)[start : start + 900]
        grid_ids.update(session.scalars(select(Region.id).where(Region.id.in_(chunk), Region.level == "grid")))
    out: dict[str, int] = {}
    for path in paths:
        for p in path.strip("/").split("/"):
            if p and int(p) in grid_ids:
                out[path] = int(p)
    return out


def generate(session: Session, row: TaskPlan, *, today: date | None = None) -> list[GridTask]:
    """Make this period's tasks of the plan, one per person of its audience who has none yet."""
    today = today or audience.local_today()
    win = window(row.period, today)
    wanted = [
        int(p) for p in session.scalars(audience.people_in(row.region_path, row.tags, row.tag_match, today=today))
    ]
    have = set(
        session.scalars(select(GridTask.person_id).where(GridTask.plan_id == row.id, GridTask.period == win.key))
    )
    missing = sorted(set(wanted) - have)
    homes = _homes(session, missing, row.region_path, today)
    grids = _grids(session, list(homes.values()))
    made: list[GridTask] = []
    for pid in missing:
        path = homes.get(pid)
        if path is None:
            continue
        task = GridTask(
            plan_id=row.id,
            period=win.key,
            person_id=pid,
            grid_id=grids.get(path),
            region_path=path,
            due_on=win.end,
            status=TaskStatus.OPEN,
        )
        session.add(task)
        made.append(task)
    row.last_period = win.key
    session.flush()
    if made:
        grid_ids = sorted({t.grid_id for t in made if t.grid_id is not None})
        bus.publish(session, TasksPlanned(plan_id=row.id, period=win.key, grid_ids=grid_ids))
    return made


def generate_due(session: Session, *, today: date | None = None) -> int:
    """The per-minute job: plans whose current period has no tasks yet get them (once)."""
    today = today or audience.local_today()
    keys = {p: window(p, today).key for p in PERIODS}
    due = list(
        session.scalars(
            select(TaskPlan).where(
                TaskPlan.active.is_(True),
                or_(
                    *(
                        and_(TaskPlan.period == p, or_(TaskPlan.last_period.is_(None), TaskPlan.last_period != k))
                        for p, k in keys.items()
                    )
                ),
            )
        )
    )
    return sum(len(generate(session, row, today=today)) for row in due)


# --- the grid worker's list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    task: GridTask
    plan_title: str
    instructions: str
    person_name: str
    address: str
    overdue: bool
    visits: int


def _rows(session: Session, tasks: list[GridTask], today: date) -> list[TaskRow]:
    if not tasks:
        return []
    from cityos.people import residences

    plan_rows = {p.id: p for p in session.scalars(select(TaskPlan).where(TaskPlan.id.in_({t.plan_id for t in tasks})))}
    names = {
        int(i): str(n)
        for i, n in session.execute(select(Person.id, Person.name).where(Person.id.in_({t.person_id for t in tasks})))
    }
    regions = list(session.scalars(select(Region).where(Region.path.in_({t.region_path for t in tasks}))))
    by_path = {r.path: r for r in regions}
    addresses = residences.addresses(session, regions)
    visits = {
        int(t): int(n)
        for t, n in session.execute(
            select(VisitLog.task_id, func.count())
            .where(VisitLog.task_id.in_([t.id for t in tasks]))
            .group_by(VisitLog.task_id)
        )
    }
    out = []
    for t in tasks:
        p = plan_rows.get(t.plan_id)
        region = by_path.get(t.region_path)
        out.append(
            TaskRow(
                task=t,
                plan_title=p.title if p else "",
                instructions=p.instructions if p else "",
                person_name=names.get(t.person_id, ""),
                address=addresses.get(region.id, "") if region is not None else "",
                overdue=t.status == TaskStatus.OPEN and t.due_on < today,
                visits=visits.get(t.id, 0),
            )
        )
    return out


def my_tasks(session: Session, actor: Actor, *, status: str = "open", limit: int = 200) -> list[TaskRow]:
    """The tasks in the grid worker's area: open ones (overdue first, then by due day), or done."""
    actor.require("task:visit")
    today = audience.local_today()
    query = select(GridTask).where(actor.scope_clause(GridTask.region_path))
    if status == "done":
        query = query.where(GridTask.status == TaskStatus.DONE).order_by(GridTask.done_at.desc())
    else:
        query = query.where(GridTask.status == TaskStatus.OPEN).order_by(GridTask.due_on, GridTask.id)
    return _rows(session, list(session.scalars(query.limit(limit))), today)


def get_task(session: Session, actor: Actor, task_id: int) -> GridTask:
    task = session.get(GridTask, task_id)
    if task is None or not (
        actor.can("task:visit", region=task.region_path)
        or any(actor.can(p, region=task.region_path) for p in STAFF_READ)
    ):
        raise NotFound()
    return task


def task_row(session: Session, actor: Actor, task_id: int) -> TaskRow:
    return _rows(session, [get_task(session, actor, task_id)], audience.local_today())[0]


def visits_of(session: Session, actor: Actor, task_id: int) -> list[VisitLog]:
    task = get_task(session, actor, task_id)
    return list(session.scalars(select(VisitLog).where(VisitLog.task_id == task.id).order_by(VisitLog.visited_at)))


def log_visit(
    session: Session,
    actor: Actor,
    *,
    task_id: int,
    outcome: Any,
    note: Any = "",
    visited_at: Any = None,
    follow_up: Any = False,
    now: datetime | None = None,
) -> VisitLog:
    """Log a visit of a task in the worker's area (task:visit). ``follow_up`` opens a help case
    about the visit (the note is its description)."""
    actor.require("task:visit")
    task = get_task(session, actor, task_id)
    actor.require("task:visit", region=task.region_path)
    now = now or utcnow()
    errors: list[FieldError] = []
    if outcome not in OUTCOMES:
        errors.append(FieldError("outcome", MSG_OUTCOME, {"expected": ", ".join(OUTCOMES)}))
    text = clean_text(note)
    if len(text) > 2000:
        errors.append(FieldError("note", MSG_NOTE, {"max_length": 2000}))
    elif outcome == VisitOutcome.NEEDS_HELP and not text:
        errors.append(FieldError("note", MSG_NEEDS_NOTE))
    when = visited_at if visited_at is not None else now
    if (
        not isinstance(when, datetime)
        or when.tzinfo is None
        or when > now + timedelta(minutes=5)
        or when < task.created_at - timedelta(days=1)
    ):
        errors.append(FieldError("visited_at", MSG_VISITED_AT))
    if not isinstance(follow_up, bool):
        errors.append(FieldError("follow_up", MSG_FOLLOW_UP))
    if errors:
        raise Invalid(details=errors)
    if task.status == TaskStatus.DONE:
        raise Conflict(MSG_DONE)
    visit = VisitLog(
        task_id=task.id,
        person_id=task.person_id,
        region_path=task.region_path,
        visited_at=when,
        outcome=outcome,
        note=text,
        worker_account_id=actor.account_id,
        worker_label=actor.label[:128],
    )
    session.add(visit)
    if outcome in (VisitOutcome.OK, VisitOutcome.NEEDS_HELP):
        task.status = TaskStatus.DONE
        task.done_at = now
    session.flush()
    if follow_up:
        visit.case_id = _follow_up_case(session, actor, task, text, now=now)
        session.flush()
    return visit


def _follow_up_case(session: Session, actor: Actor, task: GridTask, note: str, *, now: datetime) -> int:
    from cityos.cases import service as cases
    from cityos.core.i18n import DEFAULT_LOCALE, translate
    from cityos.people import residences
    from cityos.places import index

    home = session.scalar(select(Region).where(Region.path == task.region_path))
    address = residences.address(session, home) if home is not None else ""
    point = audience.located(session, task.region_path)
    lon = lat = None
    if point is not None and point.lon is not None and point.lat is not None:
        if index.locate(session, point.lon, point.lat) is not None:
            lon, lat = point.lon, point.lat
    title = translate("Follow-up of a visit: {address}", DEFAULT_LOCALE, address=address)[:128]
    case_row = cases.report(
        session,
        actor,
        category_code="help.01",
        title=title,
        description=note,
        channel="patrol",
        lon=lon,
        lat=lat,
        address=address or None,
        now=now,
    )
    return case_row.id


# --- completion ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridCompletion:
    grid_id: int | None
    grid_name: str
    total: int
    done: int
    overdue: int

    @property
    def rate(self) -> float:
        return round(self.done / self.total, 4) if self.total else 0.0


def _figures(session: Session, where: Any, today: date) -> Any:
    month_start = today.replace(day=1)
    current = GridTask.due_on >= month_start
    return (
        select(
            GridTask.grid_id,
            func.sum(case((current, 1), else_=0)),
            func.sum(case((and_(current, GridTask.status == TaskStatus.DONE), 1), else_=0)),
            func.sum(case((and_(GridTask.status == TaskStatus.OPEN, GridTask.due_on < today), 1), else_=0)),
        )
        .where(where)
        .group_by(GridTask.grid_id)
    )


def completion(session: Session, actor: Actor, *, today: date | None = None) -> list[GridCompletion]:
    """This period's tasks per grid of the actor's area: how many, how many done, how many overdue."""
    if not any(actor.can(p) for p in STAFF_READ):
        raise Forbidden(params={"permission": "task:manage"})
    today = today or audience.local_today()
    rows = list(session.execute(_figures(session, actor.scope_clause(GridTask.region_path), today)))
    names = {
        int(i): str(n)
        for i, n in session.execute(
            select(Region.id, Region.name).where(Region.id.in_([g for g, *_ in rows if g is not None]))
        )
    }
    out = [
        GridCompletion(g, names.get(g, "") if g is not None else "", int(t or 0), int(d or 0), int(o or 0))
        for g, t, d, o in rows
    ]
    return sorted(out, key=lambda c: (c.grid_name == "", c.grid_name))


def overdue(session: Session, actor: Actor, *, limit: int = 100) -> list[TaskRow]:
    if not any(actor.can(p) for p in STAFF_READ):
        raise Forbidden(params={"permission": "task:manage"})
    today = audience.local_today()
    tasks = list(
        session.scalars(
            select(GridTask)
            .where(
                actor.scope_clause(GridTask.region_path), GridTask.status == TaskStatus.OPEN, GridTask.due_on < today
            )
            .order_by(GridTask.due_on, GridTask.id)
            .limit(limit)
        )
    )
    return _rows(session, tasks, today)


def figures(session: Session, region_path: str, *, today: date | None = None) -> tuple[int, int, int]:
    """(tasks this period, done, overdue) in a subtree, for the dashboard."""
    today = today or audience.local_today()
    total = done = late = 0
    for _g, t, d, o in session.execute(_figures(session, subtree_clause(GridTask.region_path, region_path), today)):
        total, done, late = total + int(t or 0), done + int(d or 0), late + int(o or 0)
    return total, done, late


def visits_since(session: Session, region_path: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(VisitLog)
            .where(subtree_clause(VisitLog.region_path, region_path), VisitLog.visited_at >= since)
        )
        or 0
    )
