"""What cases does when the bus says something happened (after the commit that caused it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.cases.events import CaseBadlyRated, DeviceAlarm
from cityos.cases.models import Case, Rectification
from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.core.i18n import translate
from cityos.identity.notify import notify, notify_department
from cityos.workflow import service as workflow
from cityos.workflow.calendar import WorkCalendar
from cityos.workflow.events import ProcessEscalated, ProcessStateChanged
from cityos.workflow.models import ProcessInstance

# States whose arrival the reporter hears about (by SMS as well as in the app).
_TELL_REPORTER_BY_SMS = frozenset({"closed", "done", "rejected"})


def on_state_changed(session: Session, evt: ProcessStateChanged) -> None:
    """Tell the reporter of every step; tell the department when a case is dispatched to it."""
    if evt.subject_type != "case":
        return
    case = session.get(Case, int(evt.subject_id))
    if case is None:
        return
    link = f"/cases/{case.id}"
    instance = session.get(ProcessInstance, evt.instance_id)
    spec = workflow.spec_of(session, instance) if instance is not None else None
    state = spec.states[evt.to_state].title if spec is not None and evt.to_state in spec.states else evt.to_state
    if case.reporter_account_id is not None:
        title = translate("Your case {no} has moved on: {state}", no=case.no, state=state)
        notify(
            session,
            case.reporter_account_id,
            title=title,
            body=case.title,
            link=link,
            sms=evt.to_state in _TELL_REPORTER_BY_SMS,
        )
    if evt.final:
        # Merged cases share the outcome: they end with this one and their reporters are told.
        from cityos.cases.service import duplicates_of

        for duplicate in duplicates_of(session, case):
            if duplicate.closed_at is None:
                duplicate.closed_at = case.closed_at or utcnow()
            if duplicate.reporter_account_id is not None:
                notify(
                    session,
                    duplicate.reporter_account_id,
                    title=translate("Your case {no} has moved on: {state}", no=duplicate.no, state=state),
                    body=case.title,
                    link=f"/cases/{duplicate.id}",
                    sms=True,
                )
        session.flush()
    if evt.action == "dispatch" and case.department_id is not None:
        notify_department(
            session,
            case.department_id,
            title=translate("New case for your department: {no}", no=case.no),
            body=case.title,
            link=link,
        )


def on_escalated(session: Session, evt: ProcessEscalated) -> None:
    """A time limit passed: the department holding the case hears of it."""
    if evt.subject_type != "case":
        return
    case = session.get(Case, int(evt.subject_id))
    if case is None or case.department_id is None:
        return
    notify_department(
        session,
        case.department_id,
        title=translate("Case {no} is past its time limit ({kind})", no=case.no, kind=evt.kind),
        body=case.title,
        link=f"/cases/{case.id}",
    )


def on_badly_rated(session: Session, evt: CaseBadlyRated) -> None:
    """差评 opens a rectification: call back within 1 working day, rectify within 15."""
    case = session.get(Case, evt.case_id)
    if case is None:
        return
    calendar = WorkCalendar.load(session)
    now = utcnow()
    session.add(
        Rectification(
            case_id=case.id,
            rating_level=evt.level,
            department_id=evt.department_id,
            callback_due_at=calendar.add_working_days(now, 1),
            rectify_due_at=calendar.add_working_days(now, 15),
        )
    )
    session.flush()
    if evt.department_id is not None:
        notify_department(
            session,
            evt.department_id,
            title=translate("Dissatisfied rating on case {no}: call back within 1 working day", no=case.no),
            body=case.title,
            link=f"/cases/{case.id}",
        )


def on_device_alarm(session: Session, evt: DeviceAlarm) -> None:
    from cityos.cases.service import machine_report
    from cityos.core.errors import Invalid

    try:
        machine_report(
            session,
            source="device",
            external_ref=evt.alarm_id,
            category_code=evt.category_code,
            title=f"{evt.detail or evt.category_code} ({evt.device_id})"[:128],
            lon=evt.lon,
            lat=evt.lat,
            detail=evt.detail,
        )
    except Invalid:
        # An alarm outside the city or of an unknown category cannot become a case; it stays in
        # the bus's history and the log says why, rather than retrying for ever.
        import structlog

        structlog.get_logger(__name__).warning("cases.alarm_refused", alarm_id=evt.alarm_id, device_id=evt.device_id)


def register(bus: Bus) -> None:
    bus.subscribe(ProcessStateChanged, "cases.notify")(on_state_changed)
    bus.subscribe(ProcessEscalated, "cases.escalated")(on_escalated)
    bus.subscribe(CaseBadlyRated, "cases.rectification")(on_badly_rated)
    bus.subscribe(DeviceAlarm, "cases.device_alarm")(on_device_alarm)
