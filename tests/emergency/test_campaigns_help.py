"""Help requests: each becomes an urgent case (help.* category) with a 2-hour limit, is routed
to the building lead, answered and closed by the lead (the case moves with it), escalated by
the engine's ladder when nobody answers, and visible to the requester."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.cases.models import Case
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.runtime import Runtime
from cityos.emergency.addressbook import service as addressbook
from cityos.emergency.campaigns import help as helps
from cityos.emergency.campaigns import tasks
from cityos.emergency.campaigns.models import HelpRequest
from cityos.identity.models import Notification
from cityos.workflow import service as workflow
from tests.emergency.campaigns_fixtures import NOW, CampWorld, camp_world  # noqa: F401


def _told(session: Session, account_id: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(
                Notification.account_id == account_id, Notification.link.startswith("/emergency/help/")
            )
        )
    )


def _lead(session: Session, cw: CampWorld) -> None:
    addressbook.set_lead(session, cw.staff, building_id=cw.world.building.id, account_id=cw.volunteer_account_id)


def test_a_help_request_becomes_an_urgent_case_routed_to_the_building_lead(session: Session, cw: CampWorld) -> None:
    _lead(session, cw)
    row = helps.request_help(
        session, cw.resident, campaign_id=cw.campaign.id, category_code="help.01.01", text="需要降压药", now=NOW
    )
    assert row.status == "open"
    assert row.due_at == NOW + timedelta(hours=2)
    assert row.assignee_account_id == cw.volunteer_account_id
    assert row.building_id == cw.world.building.id
    assert row.via == "resident"
    case = session.get(Case, row.case_id)
    assert case is not None
    assert case.category_code == "help.01.01"
    assert case.urgency == "urgent"
    assert case.channel == "resident"
    assert case.title == "代买药品: 需要降压药"
    assert case.region_path is not None
    assert case.region_path.startswith(cw.world.building.path)
    assert case.reporter_account_id == cw.resident_account_id
    session.commit()
    assert len(_told(session, cw.volunteer_account_id)) == 1
    assert _told(session, cw.grid_worker_account_id) == []


def test_without_a_lead_the_grid_workers_are_told(session: Session, cw: CampWorld) -> None:
    row = helps.request_help(
        session,
        cw.grid_worker,
        campaign_id=cw.campaign.id,
        category_code="help.01.03",
        text="独居老人需要送餐",
        person_id=cw.neighbour.id,
        now=NOW,
    )
    assert row.assignee_account_id is None
    assert row.via == "staff"
    assert session.get(Case, row.case_id).channel == "patrol"  # type: ignore[union-attr]
    session.commit()
    assert len(_told(session, cw.grid_worker_account_id)) == 1


def test_the_lead_answers_and_closes_and_the_case_follows(session: Session, cw: CampWorld) -> None:
    _lead(session, cw)
    row = helps.request_help(
        session, cw.resident, campaign_id=cw.campaign.id, category_code="help.01.01", text="需要降压药", now=NOW
    )
    answered = helps.answer(
        session, cw.volunteer, help_id=row.id, answer="半小时内送到", now=NOW + timedelta(minutes=20)
    )
    assert answered.status == "answered"
    assert answered.answered_by_account_id == cw.volunteer_account_id
    instance = workflow.instance_for(session, "case", row.case_id)
    assert instance.state == "helping"
    history = workflow.history(session, instance)
    assert history[-1].account_id == cw.volunteer_account_id  # the step is the lead's own
    seen = helps.get_help(session, cw.resident, row.id)
    assert seen.answer == "半小时内送到"
    with pytest.raises(Conflict):
        helps.answer(session, cw.volunteer, help_id=row.id, answer="再说一次")
    closed = helps.close(session, cw.volunteer, help_id=row.id, note="药已送到", now=NOW + timedelta(minutes=50))
    assert closed.status == "closed"
    assert workflow.instance_for(session, "case", row.case_id).state == "done"
    assert session.get(Case, row.case_id).status == "done"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        helps.close(session, cw.volunteer, help_id=row.id, note="again")


def test_an_unanswered_request_is_escalated_within_its_limit(session: Session, cw: CampWorld, runtime: Runtime) -> None:
    _lead(session, cw)
    row = helps.request_help(
        session, cw.resident, campaign_id=cw.campaign.id, category_code="help.02.01", text="隔壁老人联系不上", now=NOW
    )
    session.commit()
    workflow.fire_due_timers(session, now=NOW + timedelta(minutes=59))
    session.commit()
    session.refresh(row)
    assert row.status == "open"
    workflow.fire_due_timers(session, now=NOW + timedelta(minutes=61))
    session.commit()  # the engine's reminder is delivered: the grid's workers take over
    runtime.bus.deliver_pending()  # (the poller's round: the escalation's own event)
    session.refresh(row)
    assert row.status == "escalated"
    assert row.escalation_level == 1
    assert row.escalated_at is not None
    assert row.escalated_at <= row.due_at
    assert len(_told(session, cw.grid_worker_account_id)) == 1
    # At the 2-hour limit the community hears of it.
    assert helps.escalate_due(session, now=NOW + timedelta(minutes=119)) == 0
    assert helps.escalate_due(session, now=NOW + timedelta(hours=2)) == 1
    session.commit()
    runtime.bus.deliver_pending()
    session.refresh(row)
    assert row.escalation_level == 2
    assert len(_told(session, cw.staff_account_id)) == 1
    assert helps.escalate_due(session, now=NOW + timedelta(hours=3)) == 0  # once
    # The requester sees it was escalated; a grid worker can still answer it.
    assert helps.get_help(session, cw.resident, row.id).status == "escalated"
    done = helps.answer(session, cw.grid_worker, help_id=row.id, answer="已联系上老人", now=NOW + timedelta(hours=2))
    assert done.status == "answered"
    lines = helps.list_help(session, cw.staff, campaign_id=cw.campaign.id, now=NOW + timedelta(hours=3))
    assert [(x.help.id, x.overdue) for x in lines] == [(row.id, False)]


def test_a_step_on_the_cases_pages_moves_the_request(session: Session, cw: CampWorld) -> None:
    row = helps.request_help(
        session, cw.resident, campaign_id=cw.campaign.id, category_code="help.01.03", text="送餐", now=NOW
    )
    session.commit()
    cases.act(session, cw.grid_worker, case_id=row.case_id, action="take", now=NOW + timedelta(minutes=5))
    session.commit()
    session.refresh(row)
    assert row.status == "answered"
    assert row.answered_at == NOW + timedelta(minutes=5)
    cases.act(
        session, cw.grid_worker, case_id=row.case_id, action="finish", comment="送到了", now=NOW + timedelta(minutes=30)
    )
    session.commit()
    session.refresh(row)
    assert row.status == "closed"


def test_bad_help_requests_are_refused_and_nothing_is_written(session: Session, cw: CampWorld) -> None:
    with pytest.raises(Invalid) as exc:
        helps.request_help(session, cw.resident, campaign_id=cw.campaign.id, category_code="event.01.01", text=" ")
    assert {d.field for d in exc.value.details} == {"category_code", "text"}
    with pytest.raises(Invalid) as exc:
        helps.request_help(
            session,
            cw.grid_worker,
            campaign_id=cw.campaign.id,
            category_code="help.01.01",
            text="药",
            person_id=cw.stranger.id,
        )
    assert [d.field for d in exc.value.details] == ["person_id"]
    with pytest.raises(Invalid):  # a neighbour is not of the resident's household
        helps.request_help(
            session,
            cw.resident,
            campaign_id=cw.campaign.id,
            category_code="help.01.01",
            text="药",
            person_id=cw.neighbour.id,
        )
    with pytest.raises(Forbidden):  # volunteers answer requests; they do not file cases
        helps.request_help(
            session,
            cw.volunteer,
            campaign_id=cw.campaign.id,
            category_code="help.01.01",
            text="药",
            person_id=cw.person.id,
        )
    assert session.scalar(select(func.count()).select_from(HelpRequest)) == 0
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    row = helps.request_help(session, cw.resident, campaign_id=cw.campaign.id, category_code="help.01.01", text="药")
    with pytest.raises(Invalid):
        helps.answer(session, cw.volunteer, help_id=row.id, answer="")
    with pytest.raises(Conflict):
        helps.close(session, cw.volunteer, help_id=row.id, note="没响应就办结")
    with pytest.raises(Forbidden):
        helps.answer(session, cw.observer, help_id=row.id, answer="看看")
    with pytest.raises(NotFound):
        helps.answer(session, cw.grid_worker2, help_id=row.id, answer="不是我的")


def test_who_sees_help_requests(session: Session, cw: CampWorld) -> None:
    mine = helps.request_help(session, cw.resident, campaign_id=cw.campaign.id, category_code="help.01.01", text="药")
    theirs = helps.request_help(
        session, cw.grid_worker2, campaign_id=cw.campaign.id, category_code="help.01.03", text="饭", person_id=cw.far.id
    )
    assert [x.help.id for x in helps.list_help(session, cw.resident, campaign_id=cw.campaign.id)] == [mine.id]
    assert {x.help.id for x in helps.list_help(session, cw.observer, campaign_id=cw.campaign.id)} == {
        mine.id,
        theirs.id,
    }
    assert [x.help.id for x in helps.list_help(session, cw.grid_worker, campaign_id=cw.campaign.id)] == [mine.id]
    staff_view = helps.list_help(session, cw.staff, campaign_id=cw.campaign.id)
    assert {x.name for x in staff_view} == {"居**"}
    with pytest.raises(NotFound):
        helps.get_help(session, cw.resident, theirs.id)
    with pytest.raises(NotFound):
        helps.list_help(session, cw.other_staff, campaign_id=cw.campaign.id)


def test_the_periodic_job_is_cheap_and_escalates(session: Session, cw: CampWorld) -> None:
    tasks.periodic(session)  # nothing due
    row = helps.request_help(
        session,
        cw.resident,
        campaign_id=cw.campaign.id,
        category_code="help.01.01",
        text="药",
        now=utcnow() - timedelta(hours=3),
    )
    tasks.periodic(session)
    assert row.escalation_level == 2
