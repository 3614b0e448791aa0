"""The building tasks of a running campaign (逐楼排查): the grid worker's list with each
building's residents, special-group residents and those reached, and finishing or reopening a
task."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.emergency.campaigns import kinds
from cityos.emergency.campaigns.models import Campaign, CampaignStatus, Reach, Task, TaskStatus
from cityos.emergency.campaigns.service import MSG_NOTE, require_any, running
from cityos.people.models import PersonTag, Residence
from cityos.places.models import Region

MSG_TASK_DONE = N_("This task is already done.")


@dataclass(frozen=True)
class TaskView:
    task: Task
    campaign_title: str
    place: str
    residents: int
    special: int  # residents of a special group (listed first)
    reached: int


def _task_query(actor: Actor) -> Select[Task, Campaign]:
    require_any(actor, ("campaign:task", "campaign:read", "campaign:manage"))
    return (
        select(Task, Campaign)
        .join(Campaign, Campaign.id == Task.campaign_id)
        .where(actor.scope_clause(Task.region_path), Campaign.status == CampaignStatus.PUBLISHED)
    )


def _resident_counts(session: Session, targets: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, int, int]]:
    """(residents, special, reached) of each (campaign, path), in two queries for the whole list:
    the residences under any of the paths (with whether the person is in a special group) and
    the campaigns' reach rows under them, each row counted for every listed path above it."""
    paths = {path for _, path in targets}
    if not paths:
        return {}
    special_person = (
        select(PersonTag.person_id)
        .where(PersonTag.person_id == Residence.person_id, PersonTag.tag.in_(kinds.SPECIAL_TAGS))
        .exists()
    )
    residents: dict[str, set[int]] = {path: set() for path in paths}
    special: dict[str, set[int]] = {path: set() for path in paths}
    rows = session.execute(
        select(Region.path, Residence.person_id, special_person)
        .join(Region, Region.id == Residence.room_id)
        .where(or_(*(subtree_clause(Region.path, path) for path in sorted(paths))), Residence.until.is_(None))
    )
    for room_path, person_id, is_special in rows:
        for path in _listed_above(room_path, paths):
            residents[path].add(person_id)
            if is_special:
                special[path].add(person_id)
    wanted = set(targets)
    reached: Counter[tuple[int, str]] = Counter()
    reach_rows = session.execute(
        select(Reach.campaign_id, Reach.region_path).where(
            Reach.campaign_id.in_({campaign_id for campaign_id, _ in targets}),
            or_(*(subtree_clause(Reach.region_path, path) for path in sorted(paths))),
        )
    )
    for campaign_id, reach_path in reach_rows:
        for path in _listed_above(reach_path, paths):
            if (campaign_id, path) in wanted:
                reached[(campaign_id, path)] += 1
    return {
        (campaign_id, path): (len(residents[path]), len(special[path]), reached[(campaign_id, path)])
        for campaign_id, path in targets
    }


def _listed_above(path: str, listed: set[str]) -> list[str]:
    """The paths of ``listed`` whose subtree holds ``path`` (itself included): its prefixes that
    end at a '/', as ``subtree_clause`` selects them."""
    return [path[: i + 1] for i, char in enumerate(path) if char == "/" and path[: i + 1] in listed]


def list_tasks(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[TaskView]:
    """The tasks of the actor's buildings; those with special-group residents first."""
    query = _task_query(actor)
    if campaign_id is not None:
        query = query.where(Task.campaign_id == campaign_id)
    if status:
        query = query.where(Task.status == status)
    rows = session.execute(query.order_by(Task.status.desc(), Task.region_path).limit(limit)).all()
    views = _views(session, [(t, c) for t, c in rows])
    return sorted(views, key=lambda v: (v.task.status != TaskStatus.OPEN, v.special == 0, v.task.region_path))


def _views(session: Session, rows: list[tuple[Task, Campaign]]) -> list[TaskView]:
    regions = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_({t.region_id for t, _ in rows})))}
    counts = _resident_counts(session, [(t.campaign_id, t.region_path) for t, _ in rows])
    from cityos.people.residences import addresses

    names = addresses(session, list(regions.values()))
    return [
        TaskView(t, c.title, names.get(t.region_id, ""), *counts.get((t.campaign_id, t.region_path), (0, 0, 0)))
        for t, c in rows
        if t.region_id in regions
    ]


def task_view(session: Session, actor: Actor, task_id: int) -> TaskView:
    return _views(session, [get_task(session, actor, task_id)])[0]


def get_task(session: Session, actor: Actor, task_id: int) -> tuple[Task, Campaign]:
    row = session.execute(_task_query(actor).where(Task.id == task_id)).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def finish_task(
    session: Session, actor: Actor, *, task_id: int, note: str | None = None, now: datetime | None = None
) -> Task:
    task, campaign = get_task(session, actor, task_id)
    actor.require("campaign:task", region=task.region_path)
    text = (note or "").strip() or None
    if text is not None and len(text) > 1000:
        raise Invalid(details=[FieldError("note", MSG_NOTE, {"max_length": 1000})])
    running(campaign)
    if task.status == TaskStatus.DONE:
        raise Conflict(MSG_TASK_DONE)
    task.status = TaskStatus.DONE
    task.note = text
    task.done_by_account_id = actor.account_id
    task.done_at = now or utcnow()
    session.flush()
    return task


def reopen_task(session: Session, actor: Actor, *, task_id: int) -> Task:
    task, campaign = get_task(session, actor, task_id)
    actor.require("campaign:task", region=task.region_path)
    running(campaign)
    task.status = TaskStatus.OPEN
    task.done_at = None
    task.done_by_account_id = None
    session.flush()
    return task
