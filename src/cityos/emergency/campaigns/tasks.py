"""Bus handlers and periodic jobs of emergency.campaigns: abnormal reports and positive results
are told to the grid workers of the place; help requests to their building lead; the case
process's timers and steps move help requests up the ladder or to answered/closed; every minute
the requests past their 2-hour limit go to the community and overdue key groups are reminded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.db import utcnow
from cityos.core.i18n import translate
from cityos.emergency.campaigns import help as helps
from cityos.emergency.campaigns import kinds
from cityos.emergency.campaigns.events import HelpEscalated, HelpRequested, PositiveResult, ReportReceived
from cityos.emergency.campaigns.models import Campaign, HelpRequest, HelpStatus
from cityos.identity.notify import notify
from cityos.workflow.events import ProcessEscalated, ProcessStateChanged
from cityos.workflow.models import ProcessEvent

TIMER_LEVELS = {"remind": 1, "supervisor": 2, "escalate": 3}


def _tell(session: Session, account_ids: list[int], *, title: str, body: str, link: str, sms: bool = False) -> None:
    for account_id in dict.fromkeys(account_ids):
        notify(session, account_id, title=title, body=body, link=link, sms=sms)


def on_report(session: Session, evt: ReportReceived) -> None:
    if not evt.abnormal:
        return
    campaign = session.get(Campaign, evt.campaign_id)
    if campaign is None:
        return
    link = f"/emergency/reports/{evt.report_id}" if evt.report_id else f"/emergency/campaigns/{campaign.id}"
    _tell(
        session,
        helps.grid_workers(session, evt.region_path),
        title=translate("Abnormal report in {campaign}", campaign=campaign.title),
        body=translate("Please follow up today."),
        link=link,
    )


def on_positive(session: Session, evt: PositiveResult) -> None:
    campaign = session.get(Campaign, evt.campaign_id)
    if campaign is None:
        return
    _tell(
        session,
        helps.grid_workers(session, evt.region_path) + helps.ladder(session, evt.region_path, 2),
        title=translate("Positive test result in {campaign}", campaign=campaign.title),
        body=translate("Please follow up today."),
        link=f"/emergency/campaigns/{campaign.id}",
        sms=True,
    )


def _help_link(row: HelpRequest) -> str:
    return f"/emergency/help/{row.id}"


def on_help_requested(session: Session, evt: HelpRequested) -> None:
    row = session.get(HelpRequest, evt.help_id)
    if row is None:
        return
    title = translate("Help request: {kind}", kind=translate(kinds.HELP_TITLES.get(row.category_code, "")))
    targets = [row.assignee_account_id] if row.assignee_account_id else helps.grid_workers(session, row.region_path)
    _tell(
        session,
        targets,
        title=title,
        body=translate("{text} — please answer within 2 hours.", text=row.text),
        link=_help_link(row),
        sms=True,
    )


def on_help_escalated(session: Session, evt: HelpEscalated) -> None:
    row = session.get(HelpRequest, evt.help_id)
    if row is None or row.status not in helps.OPEN:
        return
    targets = helps.ladder(session, row.region_path, evt.level)
    if evt.level == 1 and row.assignee_account_id:
        targets = [row.assignee_account_id, *targets]
    _tell(
        session,
        targets,
        title=translate("Help request not answered in time (level {level})", level=evt.level),
        body=row.text,
        link=_help_link(row),
        sms=evt.level >= 2,
    )


def _event_time(session: Session, instance_id: int, action: str) -> datetime:
    at = session.scalar(
        select(ProcessEvent.at)
        .where(ProcessEvent.instance_id == instance_id, ProcessEvent.action == action)
        .order_by(ProcessEvent.id.desc())
        .limit(1)
    )
    return at or utcnow()


def on_case_escalated(session: Session, evt: ProcessEscalated) -> None:
    """The help case's timer fired: the request goes up the ladder (remind → the grid's workers)."""
    if evt.subject_type != "case" or not evt.subject_id.isdigit():
        return
    row = helps.for_case(session, int(evt.subject_id))
    if row is None:
        return
    level = TIMER_LEVELS.get(evt.kind, 1)
    helps.escalate(session, row, level, _event_time(session, evt.instance_id, f"timer.{evt.kind}"))


def on_case_step(session: Session, evt: ProcessStateChanged) -> None:
    """A step taken on the help case (on the cases pages) moves the request with it."""
    if evt.subject_type != "case" or not evt.subject_id.isdigit():
        return
    row = helps.for_case(session, int(evt.subject_id))
    if row is None:
        return
    at = _event_time(session, evt.instance_id, evt.action)
    if evt.to_state == "helping" and row.status in helps.OPEN:
        row.status = HelpStatus.ANSWERED
        row.answered_at = row.answered_at or at
        row.answer = row.answer or translate("Taken on the case's page.")
    elif evt.final and row.status != HelpStatus.CLOSED:
        row.status = HelpStatus.CLOSED
        row.answered_at = row.answered_at or at
        row.closed_at = at
    session.flush()


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""
    bus.subscribe(ReportReceived, "campaigns.abnormal_report")(on_report)
    bus.subscribe(PositiveResult, "campaigns.positive_result")(on_positive)
    bus.subscribe(HelpRequested, "campaigns.help_requested")(on_help_requested)
    bus.subscribe(HelpEscalated, "campaigns.help_escalated")(on_help_escalated)
    bus.subscribe(ProcessEscalated, "campaigns.help_timer")(on_case_escalated)
    bus.subscribe(ProcessStateChanged, "campaigns.help_step")(on_case_step)


def periodic(session: Session) -> None:
    """Runs every minute in the server: help requests past their 2-hour limit go to the
    community, and the key groups who have not sent the morning (11:00) or afternoon (17:00)
    report are reminded once. One or two small queries when there is nothing to do."""
    helps.escalate_due(session)
    from cityos.emergency.campaigns import groups

    groups.remind_key_groups(session)
