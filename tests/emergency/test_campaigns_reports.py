"""Daily self-reports: one per person and day (a second replaces the first and is counted once),
late reports for yesterday, abnormal answers flagged and told to the grid worker, the household
picker, people reached, and the bus event after the commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.models import OutboxEvent
from cityos.emergency.campaigns import reports
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import Reach, Report, ReportEntry
from cityos.identity.models import Notification
from tests.emergency.campaigns_fixtures import FEVER, GOOD, NOW, TODAY, CampWorld, camp_world  # noqa: F401


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_household_picker_lists_the_residents_own_household(session: Session, cw: CampWorld) -> None:
    members = reports.household(
        session, cw.resident, campaign_id=cw.campaign.id, building_id=cw.world.building.id, now=NOW
    )
    assert [m.name for m in members] == ["居民甲", "居民乙"]  # themself first; not the neighbours of 102
    assert not any(m.reported_today for m in members)
    elsewhere = reports.household(
        session, cw.resident, campaign_id=cw.campaign.id, building_id=cw.building2.id, now=NOW
    )
    assert elsewhere == []  # they do not live in 2栋
    with pytest.raises(NotFound):  # a building outside the campaign
        reports.household(session, cw.resident, campaign_id=cw.campaign.id, building_id=cw.other_building.id)
    with pytest.raises(Forbidden):
        reports.household(session, cw.observer, campaign_id=cw.campaign.id, building_id=cw.world.building.id)


def test_a_second_report_the_same_day_replaces_the_first_and_counts_once(session: Session, cw: CampWorld) -> None:
    first = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=FEVER, now=NOW
    )
    assert first.abnormal
    assert first.abnormal_fields == ["temperature", "symptoms"]
    assert first.channel == "qr"
    second = reports.submit_report(
        session,
        cw.resident,
        campaign_id=cw.campaign.id,
        person_id=cw.person.id,
        answers=GOOD,
        now=NOW + timedelta(hours=2),
    )
    assert second.id == first.id
    assert second.entries == 2
    assert not second.abnormal
    assert second.answers["temperature"] == 36.6
    assert second.first_reported_at == NOW
    assert second.reported_at == NOW + timedelta(hours=2)
    assert _count(session, Report) == 1
    assert _count(session, ReportEntry) == 2
    assert _count(session, Reach) == 1
    reach = session.scalar(select(Reach))
    assert reach is not None
    assert reach.how == "report"
    lines, total = reports.list_reports(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY)
    assert total == 1


def test_a_late_report_for_yesterday_is_accepted_and_flagged(session: Session, cw: CampWorld) -> None:
    yesterday = TODAY - timedelta(days=1)
    late = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, answers=GOOD, day=yesterday, now=NOW
    )
    assert late.late
    assert late.day == yesterday
    today = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, answers=GOOD, now=NOW
    )
    assert not today.late
    assert today.id != late.id
    for day in (TODAY - timedelta(days=2), TODAY + timedelta(days=1)):
        with pytest.raises(Invalid) as exc:
            reports.submit_report(
                session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, answers=GOOD, day=day, now=NOW
            )
        assert [d.field for d in exc.value.details] == ["day"]
    # Yesterday is refused when the campaign started only today.
    fresh = campaigns.create_from_template(
        session, cw.staff, template="epidemic_screening", scope_region_id=cw.world.grid1.id, now=NOW
    )
    campaigns.publish(session, cw.staff, campaign_id=fresh.id, now=NOW)
    with pytest.raises(Invalid) as exc:
        reports.submit_report(
            session, cw.resident, campaign_id=fresh.id, person_id=cw.person.id, answers=GOOD, day=yesterday, now=NOW
        )
    assert exc.value.details[0].message == reports.MSG_BEFORE_START


def test_bad_answers_and_people_are_refused_and_nothing_is_written(session: Session, cw: CampWorld) -> None:
    with pytest.raises(Invalid) as exc:
        reports.submit_report(
            session,
            cw.resident,
            campaign_id=cw.campaign.id,
            person_id=cw.person.id,
            answers={"temperature": "hot", "symptoms": ["sneeze"], "extra": 1},
            now=NOW,
        )
    fields = [d.field for d in exc.value.details]
    assert fields == ["temperature", "symptoms", "test_result", "extra"]
    with pytest.raises(Invalid) as exc:  # a neighbour is not of the resident's household
        reports.submit_report(
            session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.neighbour.id, answers=GOOD, now=NOW
        )
    assert exc.value.details[0].message == reports.MSG_NOT_HOUSEHOLD
    with pytest.raises(Invalid) as exc:  # lives in another community
        reports.submit_report(
            session, cw.staff, campaign_id=cw.campaign.id, person_id=cw.stranger.id, answers=GOOD, now=NOW
        )
    assert exc.value.details[0].message == reports.MSG_OUTSIDE_CAMPAIGN
    with pytest.raises(Invalid):
        reports.submit_report(session, cw.staff, campaign_id=cw.campaign.id, person_id=999_999, answers=GOOD, now=NOW)
    with pytest.raises(Forbidden):  # grid 2's worker may not report for a resident of grid 1
        reports.submit_report(
            session, cw.grid_worker2, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=GOOD, now=NOW
        )
    with pytest.raises(Forbidden):
        reports.submit_report(
            session, cw.observer, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=GOOD, now=NOW
        )
    assert _count(session, Report) == 0
    assert _count(session, Reach) == 0
    campaigns.close(session, cw.staff, campaign_id=cw.campaign.id, now=NOW)
    with pytest.raises(Conflict):
        reports.submit_report(
            session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=GOOD, now=NOW
        )


def test_abnormal_reports_reach_the_grid_worker_after_the_commit(session: Session, cw: CampWorld) -> None:
    report = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=FEVER, now=NOW
    )
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "campaigns.report_received")).all()
    assert len(events) == 1
    assert events[0].delivered_at is None  # not before the commit
    assert events[0].payload["region_path"] == cw.world.room.path
    assert events[0].payload["day"] == TODAY.isoformat()
    session.commit()
    session.refresh(events[0])
    assert events[0].delivered_at is not None
    told = session.scalars(
        select(Notification).where(
            Notification.account_id == cw.grid_worker_account_id, Notification.link.startswith("/emergency/reports/")
        )
    ).all()
    assert [n.link for n in told] == [f"/emergency/reports/{report.id}"]
    assert "异常" in told[0].title or "Abnormal" in told[0].title
    # A normal report tells nobody.
    reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, answers=GOOD, now=NOW
    )
    session.commit()
    reported = select(func.count()).select_from(Notification).where(Notification.link.startswith("/emergency/reports/"))
    assert session.scalar(reported) == 1


def test_staff_report_for_residents_and_mark_them_reached(session: Session, cw: CampWorld) -> None:
    door = reports.submit_report(
        session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.neighbour.id, answers=GOOD, now=NOW
    )
    assert door.channel == "staff"
    assert door.reported_by_account_id == cw.grid_worker_account_id
    added = reports.mark_reached(
        session, cw.volunteer, campaign_id=cw.campaign.id, person_ids=[cw.neighbour.id, cw.key.id], how="door", now=NOW
    )
    assert added == 1  # the neighbour was reached by the report already
    hows = dict(session.execute(select(Reach.person_id, Reach.how)).all())
    assert hows == {cw.neighbour.id: "report", cw.key.id: "door"}
    with pytest.raises(Invalid) as exc:
        reports.mark_reached(session, cw.volunteer, campaign_id=cw.campaign.id, person_ids=[], how="shout")
    assert {d.field for d in exc.value.details} == {"how", "person_ids"}
    with pytest.raises(Invalid):  # grid 2's resident is outside the volunteer's building
        reports.mark_reached(session, cw.volunteer, campaign_id=cw.campaign.id, person_ids=[cw.far.id], how="door")
    with pytest.raises(Forbidden):
        reports.mark_reached(session, cw.resident, campaign_id=cw.campaign.id, person_ids=[cw.person.id], how="door")


def test_a_resident_reads_their_households_reports_only(session: Session, cw: CampWorld) -> None:
    mine = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, answers=FEVER, now=NOW
    )
    theirs = reports.submit_report(
        session, cw.staff, campaign_id=cw.campaign.id, person_id=cw.neighbour.id, answers=GOOD, now=NOW
    )
    view = reports.get_report(session, cw.resident, report_id=mine.id)
    assert view.name == "居民乙"
    assert view.abnormal_keys == ("temperature", "symptoms")
    with pytest.raises(NotFound):
        reports.get_report(session, cw.resident, report_id=theirs.id)
    with pytest.raises(NotFound):
        reports.get_report(session, cw.other_staff, report_id=mine.id)
    assert reports.get_report(session, cw.staff, report_id=theirs.id).name == "居**"
    with pytest.raises(NotFound):
        reports.get_report(session, cw.staff, report_id=123_456)
