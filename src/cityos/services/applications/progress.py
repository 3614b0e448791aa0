"""全流程可视: every step of an application — who holds it, since when, its deadline, done or
current — read from the process history and its timers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.people.models import Person
from cityos.services.applications import service
from cityos.services.applications.models import Application, ApplicationStatus
from cityos.workflow import service as workflow
from cityos.workflow.models import ProcessTimer


@dataclass
class Party:
    """One approving department of a parallel approval (并联审批) and whether it has decided."""

    name: str
    done: bool
    decision: str | None
    at: datetime | None


@dataclass
class Step:
    key: str  # applied | a state of the process (submitted, approving, supplement, approved, rejected)
    title: str
    holder: str  # department names or the applicant's name
    holder_kind: str  # department | applicant | ""
    since: datetime | None
    deadline: datetime | None
    done: bool
    current: bool
    by: str = ""  # who moved it here
    comment: str | None = None
    parties: list[Party] = field(default_factory=list)


APPLIED_TITLE = "申请"


def _applicant_name(session: Session, app: Application) -> str:
    if app.applicant_person_id is not None:
        person = session.get(Person, app.applicant_person_id)
        if person is not None:
            return person.name
    return ""


def steps_of(session: Session, app: Application) -> list[Step]:
    """The steps of an application the caller may already see (no scope check here)."""
    if app.status == ApplicationStatus.DRAFT or app.submitted_at is None:
        return [Step("draft", "草稿", _applicant_name(session, app), "applicant", app.created_at, None, False, True)]
    instance = workflow.instance_for(session, "application", app.id)
    spec = workflow.spec_of(session, instance)
    departments = service.departments_of(session, app)
    names = "、".join(d.name for _, d in departments)
    timers: dict[str, list[ProcessTimer]] = defaultdict(list)
    for timer in session.scalars(
        select(ProcessTimer)
        .where(ProcessTimer.instance_id == instance.id, ProcessTimer.state.is_not(None), ProcessTimer.level == 1)
        .order_by(ProcessTimer.id)
    ):
        timers[str(timer.state)].append(timer)
    events = [e for e in workflow.history(session, instance) if e.to_state is not None]
    applicant = _applicant_name(session, app)
    out = [Step("applied", APPLIED_TITLE, applicant, "applicant", app.submitted_at, None, True, False, by=applicant)]
    for n, event in enumerate(events):
        state = str(event.to_state)
        state_spec = spec.states.get(state)
        last = n == len(events) - 1
        final = bool(state_spec and state_spec.final)
        deadline = None
        if state_spec is not None and state_spec.limit is not None and timers[state]:
            deadline = timers[state].pop(0).due_at
        elif not final:
            deadline = instance.due_at
        if state == ApplicationStatus.SUPPLEMENT:
            holder, kind = applicant, "applicant"
        elif final:
            holder, kind = "", ""
        else:
            holder, kind = names, "department"
        step = Step(
            key=state,
            title=state_spec.title if state_spec else state,
            holder=holder,
            holder_kind=kind,
            since=event.at,
            deadline=deadline,
            done=not last or final,
            current=last,
            by=event.actor_label,
            comment=event.comment,
        )
        if state == ApplicationStatus.APPROVING and len(departments) > 1:
            step.parties = [
                Party(d.name, row.decision is not None, row.decision, row.decided_at) for row, d in departments
            ]
        out.append(step)
    if out and len(out) > 1:
        out[0].done = True
    return out


def progress(session: Session, actor: Actor, application_id: int) -> list[Step]:
    """Every step of an application the actor may see, oldest first; the last is current."""
    app = service.get_visible(session, actor, application_id)
    return steps_of(session, app)
