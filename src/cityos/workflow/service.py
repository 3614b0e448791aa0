"""The process engine: versioned definitions, instances that move by actions, their history,
deadlines in working time, escalation timers, countersign and reopen.

Other modules (cases, services, community, emergency) start an instance for their subject and
call ``act``; they learn about changes from the bus (``workflow.state_changed``,
``workflow.escalated``), never by importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.workflow.calendar import WorkCalendar
from cityos.workflow.events import ProcessEscalated, ProcessStateChanged
from cityos.workflow.models import ProcessDefinition, ProcessEvent, ProcessInstance, ProcessTimer
from cityos.workflow.spec import ActionSpec, Limit, ProcessSpec, StateSpec, graph_errors

MSG_NOT_HERE = N_("The action {action} is not possible in the state {state}.")
MSG_ROLE = N_("Your roles may not take the action {action}.")
MSG_CONDITION = N_("The action {action} needs {field} first.")
MSG_COMMENT = N_("Please give a reason.")
MSG_PARTY = N_("{party} is not one of the parties who must sign.")
MSG_SIGNED = N_("{party} has already signed.")
MSG_CLOSED = N_("This process has ended.")
MSG_NOT_CLOSED = N_("Only an ended process can be reopened.")
MSG_REOPEN_LATE = N_("The time to reopen has passed ({days} days after the end).")
MSG_NO_REOPEN = N_("This process cannot be reopened.")
MSG_NO_DEFINITION = N_("No process is defined under the key {key}.")


# --- definitions -------------------------------------------------------------------------------------


def parse_spec(raw: Any) -> ProcessSpec:
    """A checked definition, or ``Invalid`` listing every problem (shape first, then the graph)."""
    try:
        spec = ProcessSpec.model_validate(raw)
    except ValidationError as exc:
        details = [
            FieldError(".".join(str(p) for p in err["loc"]) or "spec", str(err["msg"]).removeprefix("Value error, "))
            for err in exc.errors()
        ]
        raise Invalid(details=details) from exc
    errors = graph_errors(spec)
    if errors:
        raise Invalid(details=errors)
    return spec


def save_definition(session: Session, actor: Actor, raw: Any) -> ProcessDefinition:
    """Store a new version of a definition; running instances keep the version they started with."""
    actor.require("process:write")
    spec = parse_spec(raw)
    latest = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == spec.key))
    session.execute(update(ProcessDefinition).where(ProcessDefinition.key == spec.key).values(active=False))
    row = ProcessDefinition(
        key=spec.key,
        version=(latest or 0) + 1,
        title=spec.title,
        spec=spec.model_dump(mode="json", by_alias=True, exclude_none=True),
        active=True,
        created_by=actor.label,
    )
    session.add(row)
    session.flush()
    return row


def ensure_definition(session: Session, raw: dict[str, Any]) -> ProcessDefinition:
    """Install a shipped definition unless the same content is already the active version."""
    spec = parse_spec(raw)
    current = active_definition(session, spec.key, required=False)
    dumped = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    if current is not None and current.spec == dumped:
        return current
    from cityos.core.actor import SYSTEM

    return save_definition(session, SYSTEM, raw)


def active_definition(session: Session, key: str, *, required: bool = True) -> ProcessDefinition | None:
    row = session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key, ProcessDefinition.active.is_(True))
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    if row is None and required:
        raise NotFound(MSG_NO_DEFINITION, params={"key": key})
    return row


def list_definitions(session: Session, actor: Actor) -> list[ProcessDefinition]:
    actor.require("process:read")
    return list(
        session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc()))
    )


_spec_cache: dict[tuple[int, str, int, datetime], ProcessSpec] = {}


def spec_of(session: Session, instance: ProcessInstance) -> ProcessSpec:
    """The definition version the instance runs. Parsed specs are cached by the row's identity
    and version (a rolled-back id may be reused by another definition, so the id alone is not enough)."""
    definition = session.get(ProcessDefinition, instance.definition_id)
    if definition is None:
        raise NotFound()
    key = (definition.id, definition.key, definition.version, definition.created_at)
    spec = _spec_cache.get(key)
    if spec is None:
        if len(_spec_cache) > 1000:
            _spec_cache.clear()
        spec = ProcessSpec.model_validate(definition.spec)
        _spec_cache[key] = spec
    return spec


# --- instances -------------------------------------------------------------------------------------------


def _record(
    session: Session,
    instance: ProcessInstance,
    by: Actor,
    action: str,
    *,
    now: datetime,
    from_state: str | None,
    to_state: str | None,
    comment: str | None = None,
    attachments: list[Any] | None = None,
    party: str | None = None,
) -> ProcessEvent:
    event = ProcessEvent(
        instance_id=instance.id,
        at=now,
        account_id=by.account_id,
        actor_label=by.label[:128],
        action=action,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        attachments=attachments or [],
        party=party,
    )
    session.add(event)
    return event


def _enter(
    session: Session, instance: ProcessInstance, state: StateSpec, name: str, now: datetime, cal: WorkCalendar
) -> None:
    """Move to ``name``: cancel the old state's timers, set the new state's deadline and ladder."""
    session.execute(
        update(ProcessTimer)
        .where(
            ProcessTimer.instance_id == instance.id,
            ProcessTimer.state.is_not(None),
            ProcessTimer.fired_at.is_(None),
            ProcessTimer.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
    )
    instance.state = name
    instance.state_since = now
    instance.escalation_level = 0
    instance.state_due_at = None
    if state.final:
        instance.closed_at = now
        session.execute(
            update(ProcessTimer)
            .where(
                ProcessTimer.instance_id == instance.id,
                ProcessTimer.fired_at.is_(None),
                ProcessTimer.cancelled_at.is_(None),
            )
            .values(cancelled_at=now)
        )
        return
    instance.closed_at = None
    if state.limit is None:
        return
    due = cal.add(now, state.limit.amount, state.limit.unit)
    instance.state_due_at = due
    steps = state.escalation or []
    if not steps:
        session.add(ProcessTimer(instance_id=instance.id, state=name, kind="overdue", level=1, due_at=due))
    for level, step in enumerate(steps, start=1):
        at = cal.add_working_hours(due, step.after_hours) if step.after_hours else due
        session.add(ProcessTimer(instance_id=instance.id, state=name, kind=step.kind, level=level, due_at=at))


def start(
    session: Session,
    *,
    key: str,
    subject_type: str,
    subject_id: object,
    by: Actor,
    region_path: str | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
    limit: Limit | None = None,
) -> ProcessInstance:
    """Start the active version of ``key`` for a subject. ``limit`` replaces the definition's
    overall time limit (e.g. a 12345 case's limit depends on its urgency)."""
    now = now or utcnow()
    cal = calendar or WorkCalendar.load(session)
    definition = active_definition(session, key)
    assert definition is not None
    spec = ProcessSpec.model_validate(definition.spec)
    instance = ProcessInstance(
        definition_id=definition.id,
        subject_type=subject_type,
        subject_id=str(subject_id),
        state=spec.initial,
        region_path=region_path,
        data=dict(data or {}),
        started_at=now,
        state_since=now,
        escalation_level=0,
    )
    session.add(instance)
    session.flush()
    overall = limit or spec.limit
    if overall is not None:
        instance.due_at = cal.add(now, overall.amount, overall.unit)
        session.add(ProcessTimer(instance_id=instance.id, state=None, kind="overdue", level=1, due_at=instance.due_at))
    _enter(session, instance, spec.states[spec.initial], spec.initial, now, cal)
    _record(session, instance, by, "start", now=now, from_state=None, to_state=spec.initial)
    session.flush()
    return instance


def may_take(actor: Actor, action: ActionSpec) -> bool:
    return "*" in actor.permissions or bool(actor.roles & set(action.roles))


def available_actions(session: Session, instance: ProcessInstance, actor: Actor) -> list[ActionSpec]:
    """What ``actor`` may do now (role allowed and condition met)."""
    if instance.closed_at is not None:
        return []
    spec = spec_of(session, instance)
    return [
        a
        for a in spec.actions_from(instance.state)
        if may_take(actor, a) and (a.when is None or a.when.holds(instance.data or {}))
    ]


def signed_parties(session: Session, instance: ProcessInstance, action: str) -> set[str]:
    rows = session.scalars(
        select(ProcessEvent.party).where(
            ProcessEvent.instance_id == instance.id,
            ProcessEvent.action == action,
            ProcessEvent.party.is_not(None),
            ProcessEvent.at >= instance.state_since,
            ProcessEvent.from_state == instance.state,
        )
    )
    return {str(p) for p in rows}


@dataclass(frozen=True)
class Step:
    instance: ProcessInstance
    moved: bool  # False while a countersign is still waiting for other parties
    event: ProcessEvent


def act(
    session: Session,
    instance: ProcessInstance,
    *,
    action: str,
    by: Actor,
    comment: str | None = None,
    attachments: list[Any] | None = None,
    data: dict[str, Any] | None = None,
    party: str | None = None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Step:
    """Take ``action`` on the instance. The caller has checked that ``by`` may see the subject;
    this checks the state, the role, the condition, the comment and the countersign."""
    now = now or utcnow()
    if instance.closed_at is not None:
        raise Conflict(MSG_CLOSED)
    spec = spec_of(session, instance)
    chosen = spec.action(instance.state, action)
    if chosen is None:
        raise Conflict(MSG_NOT_HERE, params={"action": action, "state": instance.state})
    if not may_take(by, chosen):
        raise Forbidden(MSG_ROLE, params={"action": action, "permission": f"process:{action}"})
    merged = {**(instance.data or {}), **(data or {})}
    if chosen.when is not None and not chosen.when.holds(merged):
        raise Invalid(
            details=[FieldError(chosen.when.field, MSG_CONDITION, {"action": action, "field": chosen.when.field})]
        )
    text = (comment or "").strip() or None
    if chosen.comment_required and text is None:
        raise Invalid(details=[FieldError("comment", MSG_COMMENT)])
    from_state = instance.state
    if chosen.countersign:
        parties = {str(p) for p in merged.get(chosen.countersign, [])}
        who = str(party) if party is not None else None
        if who is None or who not in parties:
            raise Invalid(details=[FieldError("party", MSG_PARTY, {"party": who or "?"})])
        if who in signed_parties(session, instance, action):
            raise Conflict(MSG_SIGNED, params={"party": who})
        instance.data = merged
        if parties - signed_parties(session, instance, action) - {who}:
            event = _record(
                session,
                instance,
                by,
                action,
                now=now,
                from_state=from_state,
                to_state=None,
                comment=text,
                attachments=attachments,
                party=who,
            )
            session.flush()
            return Step(instance, False, event)
        event = _record(
            session,
            instance,
            by,
            action,
            now=now,
            from_state=from_state,
            to_state=chosen.to,
            comment=text,
            attachments=attachments,
            party=who,
        )
    else:
        instance.data = merged
        event = _record(
            session,
            instance,
            by,
            action,
            now=now,
            from_state=from_state,
            to_state=chosen.to,
            comment=text,
            attachments=attachments,
        )
    _enter(session, instance, spec.states[chosen.to], chosen.to, now, calendar or WorkCalendar.load(session))
    session.flush()
    bus.publish(
        session,
        ProcessStateChanged(
            instance_id=instance.id,
            subject_type=instance.subject_type,
            subject_id=instance.subject_id,
            action=action,
            from_state=from_state,
            to_state=chosen.to,
            final=instance.closed_at is not None,
        ),
    )
    return Step(instance, True, event)


def reopen(
    session: Session,
    instance: ProcessInstance,
    *,
    by: Actor,
    comment: str | None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Step:
    """Reopen an ended process within the definition's window (e.g. the resident is not satisfied)."""
    now = now or utcnow()
    spec = spec_of(session, instance)
    if spec.reopen is None:
        raise Conflict(MSG_NO_REOPEN)
    if instance.closed_at is None:
        raise Conflict(MSG_NOT_CLOSED)
    if "*" not in by.permissions and not by.roles & set(spec.reopen.roles):
        raise Forbidden(MSG_ROLE, params={"action": "reopen", "permission": "process:reopen"})
    if now - instance.closed_at > timedelta(days=spec.reopen.within_days):
        raise Conflict(MSG_REOPEN_LATE, params={"days": spec.reopen.within_days})
    text = (comment or "").strip() or None
    if text is None:
        raise Invalid(details=[FieldError("comment", MSG_COMMENT)])
    from_state = instance.state
    event = _record(
        session, instance, by, "reopen", now=now, from_state=from_state, to_state=spec.reopen.to, comment=text
    )
    _enter(session, instance, spec.states[spec.reopen.to], spec.reopen.to, now, calendar or WorkCalendar.load(session))
    session.flush()
    bus.publish(
        session,
        ProcessStateChanged(
            instance_id=instance.id,
            subject_type=instance.subject_type,
            subject_id=instance.subject_id,
            action="reopen",
            from_state=from_state,
            to_state=spec.reopen.to,
            final=False,
        ),
    )
    return Step(instance, True, event)


def history(session: Session, instance: ProcessInstance) -> list[ProcessEvent]:
    return list(
        session.scalars(
            select(ProcessEvent)
            .where(ProcessEvent.instance_id == instance.id)
            .order_by(ProcessEvent.at, ProcessEvent.id)
        )
    )


def instance_for(session: Session, subject_type: str, subject_id: object) -> ProcessInstance:
    row = session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.subject_type == subject_type, ProcessInstance.subject_id == str(subject_id))
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    )
    if row is None:
        raise NotFound()
    return row


# --- timers ------------------------------------------------------------------------------------------------


def fire_due_timers(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Fire every timer that is due and not yet fired or cancelled. Run it every minute; a timer
    is marked fired in the same transaction that records and announces the escalation, so after a
    crash or restart nothing is lost and nothing fires twice."""
    now = now or utcnow()
    from cityos.core.actor import SYSTEM

    query = (
        select(ProcessTimer)
        .where(ProcessTimer.fired_at.is_(None), ProcessTimer.cancelled_at.is_(None), ProcessTimer.due_at <= now)
        .order_by(ProcessTimer.due_at, ProcessTimer.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    timers = list(session.scalars(query))
    for timer in timers:
        timer.fired_at = now
        instance = session.get(ProcessInstance, timer.instance_id)
        if instance is None or instance.closed_at is not None:
            continue
        instance.escalation_level = max(instance.escalation_level or 0, timer.level)
        _record(
            session,
            instance,
            SYSTEM,
            f"timer.{timer.kind}",
            now=now,
            from_state=instance.state,
            to_state=None,
            comment=None,
        )
        bus.publish(
            session,
            ProcessEscalated(
                instance_id=instance.id,
                subject_type=instance.subject_type,
                subject_id=instance.subject_id,
                state=timer.state,
                kind=timer.kind,
                level=timer.level,
            ),
            key=f"timer:{timer.id}",
        )
    session.flush()
    return len(timers)


# --- the calendar, for administrators --------------------------------------------------------------------


def calendar_year(session: Session, actor: Actor, year: int) -> tuple[list[Any], bool]:
    """The year's exceptions to the Monday-to-Friday week, and whether the year's official data is loaded."""
    from cityos.workflow.calendar import missing_years, year_exceptions

    actor.require("process:read")
    return year_exceptions(session, year), not missing_years(session, [year])


def set_calendar_day(session: Session, actor: Actor, *, day: Any, workday: bool, name: str) -> Any:
    from cityos.workflow.calendar import set_day

    actor.require("process:write")
    if not 2000 <= day.year <= 2100:
        raise Invalid(details=[FieldError("day", N_("Choose a day between 2000 and 2100."))])
    return set_day(session, day=day, workday=workday, name=name.strip())


def end(
    session: Session,
    instance: ProcessInstance,
    *,
    by: Actor,
    action: str,
    comment: str | None,
    now: datetime | None = None,
) -> ProcessEvent:
    """End an instance outside its steps (e.g. its case was merged into another): the history
    records why, pending timers are cancelled, and no state change is announced."""
    now = now or utcnow()
    if instance.closed_at is not None:
        raise Conflict(MSG_CLOSED)
    event = _record(session, instance, by, action, now=now, from_state=instance.state, to_state=None, comment=comment)
    instance.closed_at = now
    session.execute(
        update(ProcessTimer)
        .where(
            ProcessTimer.instance_id == instance.id,
            ProcessTimer.fired_at.is_(None),
            ProcessTimer.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
    )
    session.flush()
    return event
