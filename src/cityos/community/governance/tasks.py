"""Bus handlers and periodic jobs of community.governance: the people a notice, a survey or a
vote reaches are told after the commit that made it; grid workers hear of their new tasks; every
minute, votes and surveys past their deadline close and a new period's tasks are made."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.i18n import DEFAULT_LOCALE, N_, translate
from cityos.identity.models import Account, AccountRole
from cityos.identity.notify import notify
from cityos.people.models import Residence

from . import audience, service, votes
from .events import NoticePublished, SurveyOpened, TasksPlanned, VoteCalled
from .models import GridTask, Notice, OwnersVote, Survey, TaskPlan, Urgency, VoteBallot

MSG_NOTICE = N_("New notice: {title}")
MSG_URGENT = N_("Urgent notice: {title}")
MSG_SURVEY = N_("A survey for you: {title}")
MSG_SURVEY_BODY = N_("Please answer by {date}.")
MSG_VOTE = N_("Owners' vote: {title}")
MSG_VOTE_BODY = N_("As an owner you can vote for each room you own until {date}.")
MSG_TASKS = N_("New grid tasks: {count}")
MSG_TASKS_BODY = N_("{title}: {count} visits to make by {date}.")


def _loc(account: Account) -> str:
    return account.locale or DEFAULT_LOCALE


def on_notice_published(session: Session, evt: NoticePublished) -> None:
    notice = session.get(Notice, evt.notice_id)
    if notice is None:
        return
    urgent = notice.urgency == Urgency.URGENT
    for account in audience.accounts_reached(session, notice.region_path, notice.tags, notice.tag_match):
        loc = _loc(account)
        notify(
            session,
            account.id,
            title=translate(MSG_URGENT if urgent else MSG_NOTICE, loc, title=notice.title),
            body=notice.body[:200],
            link=f"/community/notices/{notice.id}",
            sms=urgent,
        )


def on_survey_opened(session: Session, evt: SurveyOpened) -> None:
    survey = session.get(Survey, evt.survey_id)
    if survey is None:
        return
    day = audience.local(survey.closes_at)[:10]
    for account in audience.accounts_reached(session, survey.region_path, survey.tags, survey.tag_match):
        loc = _loc(account)
        notify(
            session,
            account.id,
            title=translate(MSG_SURVEY, loc, title=survey.title),
            body=translate(MSG_SURVEY_BODY, loc, date=day),
            link=f"/community/surveys/{survey.id}",
        )


def on_vote_called(session: Session, evt: VoteCalled) -> None:
    vote = session.get(OwnersVote, evt.vote_id)
    if vote is None:
        return
    today = audience.local_today()
    owners = (
        select(Residence.person_id)
        .where(Residence.room_id.in_(select(VoteBallot.room_id).where(VoteBallot.vote_id == vote.id)))
        .where(votes._current_owner(today))
    )
    day = audience.local(vote.closes_at)[:10]
    for account in session.scalars(
        select(Account).where(Account.person_id.in_(owners), Account.active.is_(True)).order_by(Account.id)
    ):
        loc = _loc(account)
        notify(
            session,
            account.id,
            title=translate(MSG_VOTE, loc, title=vote.title),
            body=translate(MSG_VOTE_BODY, loc, date=day),
            link=f"/community/votes/{vote.id}",
        )


def on_tasks_planned(session: Session, evt: TasksPlanned) -> None:
    row = session.get(TaskPlan, evt.plan_id)
    if row is None or not evt.grid_ids:
        return
    workers = session.scalars(
        select(Account)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(AccountRole.role == "grid_worker", Account.scope_region_id.in_(evt.grid_ids), Account.active.is_(True))
        .order_by(Account.id)
    )
    for account in workers:
        count = int(
            session.scalar(
                select(func.count())
                .select_from(GridTask)
                .where(
                    GridTask.plan_id == row.id,
                    GridTask.period == evt.period,
                    GridTask.grid_id == account.scope_region_id,
                )
            )
            or 0
        )
        if not count:
            continue
        due = session.scalar(select(GridTask.due_on).where(GridTask.plan_id == row.id, GridTask.period == evt.period))
        loc = _loc(account)
        notify(
            session,
            account.id,
            title=translate(MSG_TASKS, loc, count=count),
            body=translate(MSG_TASKS_BODY, loc, title=row.title, count=count, date=str(due or "")),
            link="/community/tasks",
        )


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""
    bus.subscribe(NoticePublished, "governance.notice_published")(on_notice_published)
    bus.subscribe(SurveyOpened, "governance.survey_opened")(on_survey_opened)
    bus.subscribe(VoteCalled, "governance.vote_called")(on_vote_called)
    bus.subscribe(TasksPlanned, "governance.tasks_planned")(on_tasks_planned)


def periodic(session: Session) -> None:
    """Runs every minute in the server: closes votes (publishing their results) and surveys past
    their deadline, and makes the grid tasks of a period that has begun."""
    service.periodic_work(session)
