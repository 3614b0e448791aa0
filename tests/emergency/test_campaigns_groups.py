"""Key groups report on their cadence (twice a day for the epidemic template), who has not
reported per building (masked, special groups first), special groups, people put under watch
and test results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.emergency.campaigns import groups, reports
from cityos.emergency.campaigns.models import Reach, TestResult
from cityos.identity.models import Notification
from tests.emergency.campaigns_fixtures import GOOD, NOW, TODAY, CampWorld, camp_world  # noqa: F401

AFTERNOON = NOW + timedelta(hours=5)  # 15:00 in the city


def _names(buildings: list[groups.BuildingGroup]) -> list[list[str]]:
    return [[p.name for p in b.people] for b in buildings]


def test_not_reported_lists_people_per_building_special_groups_first(session: Session, cw: CampWorld) -> None:
    missing = groups.not_reported(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=NOW)
    # 1栋 first (it has a pregnant resident), her first inside it, then the key group; then 2栋.
    assert [b.building for b in missing] == ["1栋", "2栋"]
    assert _names(missing) == [["居**", "居**", "居**", "居**"], ["居**"]]
    first = missing[0].people
    assert first[0].person_id == cw.neighbour.id
    assert first[0].special
    assert first[0].tags == ("pregnant",)
    assert first[1].person_id == cw.key.id
    assert first[1].key_group
    assert missing[0].special == 1
    reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=GOOD, now=NOW
    )
    missing = groups.not_reported(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=NOW)
    assert cw.person.id not in {p.person_id for b in missing for p in b.people}
    # The grid worker of grid 1 sees only 1栋; a region narrows the list.
    mine = groups.not_reported(session, cw.grid_worker, campaign_id=cw.campaign.id, day=TODAY, now=NOW)
    assert [b.building for b in mine] == ["1栋"]
    narrowed = groups.not_reported(
        session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, region_id=cw.world.room2.id, now=NOW
    )
    assert {p.person_id for b in narrowed for p in b.people} == {cw.neighbour.id, cw.key.id}
    with pytest.raises(NotFound):
        groups.not_reported(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, region_id=cw.other_room.id)
    with pytest.raises(Forbidden):
        groups.not_reported(session, cw.resident, campaign_id=cw.campaign.id, day=TODAY)


def test_key_groups_report_twice_a_day(session: Session, cw: CampWorld) -> None:
    morning = reports.submit_report(
        session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.key.id, answers=GOOD, now=NOW
    )
    assert morning.key_group
    assert morning.slots == groups.AM
    ordinary = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=GOOD, now=NOW
    )
    assert not ordinary.key_group
    # In the morning both have reported what is due; in the afternoon the key group owes another.
    assert cw.key.id not in _ids(groups.not_reported(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=NOW))
    later = groups.not_reported(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=AFTERNOON)
    owed = {p.person_id: p.missing for b in later for p in b.people}
    assert owed[cw.key.id] == groups.PM
    assert cw.person.id not in owed
    evening = reports.submit_report(
        session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.key.id, answers=GOOD, now=AFTERNOON
    )
    assert evening.id == morning.id
    assert evening.slots == groups.AM | groups.PM
    assert evening.entries == 2
    assert cw.key.id not in _ids(
        groups.not_reported(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=AFTERNOON)
    )
    watched = groups.key_group(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=AFTERNOON)
    assert [(p.person_id, p.reported, p.missing) for b in watched for p in b.people] == [
        (cw.key.id, groups.AM | groups.PM, 0)
    ]


def _ids(buildings: list[groups.BuildingGroup]) -> set[int]:
    return {p.person_id for b in buildings for p in b.people}


def test_watching_puts_a_person_in_the_key_group(session: Session, cw: CampWorld) -> None:
    row = groups.watch(
        session,
        cw.grid_worker,
        campaign_id=cw.campaign.id,
        person_id=cw.family.id,
        tag="close_contact",
        note="同事阳性",
    )
    assert row.region_path == cw.world.room.path
    report = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, answers=GOOD, now=NOW
    )
    assert report.key_group
    watched = groups.key_group(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=NOW)
    assert _ids(watched) == {cw.key.id, cw.family.id}
    with pytest.raises(Invalid) as exc:
        groups.watch(session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.family.id, tag="vip")
    assert exc.value.details[0].field == "tag"
    with pytest.raises(Invalid):  # grid 2's resident is outside grid 1's worker's area
        groups.watch(session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.far.id, tag="close_contact")
    with pytest.raises(Forbidden):
        groups.watch(session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, tag="close_contact")
    assert groups.unwatch(session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.family.id) == 1
    assert _ids(groups.key_group(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=NOW)) == {cw.key.id}


def test_special_groups_are_listed(session: Session, cw: CampWorld) -> None:
    special = groups.special_groups(session, cw.observer, campaign_id=cw.campaign.id, day=TODAY)
    assert [(b.building, [p.name for p in b.people]) for b in special] == [("1栋", ["居**"])]
    assert special[0].people[0].person_id == cw.neighbour.id


def test_test_results_are_recorded_and_positives_told(session: Session, cw: CampWorld) -> None:
    row = groups.record_test_result(
        session,
        cw.volunteer,
        campaign_id=cw.campaign.id,
        person_id=cw.person.id,
        kind="antigen",
        result="negative",
        now=NOW,
    )
    assert row.sampled_on == TODAY
    positive = groups.record_test_result(
        session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.key.id, kind="pcr", result="positive", now=NOW
    )
    session.commit()
    told = session.scalars(
        select(Notification).where(Notification.account_id.in_([cw.grid_worker_account_id, cw.staff_account_id]))
    ).all()
    assert {n.account_id for n in told if "阳性" in n.title or "Positive" in n.title} == {
        cw.grid_worker_account_id,
        cw.staff_account_id,
    }
    assert [r.id for r in groups.results_of(session, cw.staff, campaign_id=cw.campaign.id, person_id=cw.key.id)] == [
        positive.id
    ]
    assert session.scalar(select(Reach.how).where(Reach.person_id == cw.person.id)) == "door"
    with pytest.raises(Invalid) as exc:
        groups.record_test_result(
            session,
            cw.volunteer,
            campaign_id=cw.campaign.id,
            person_id=cw.person.id,
            kind="blood",
            result="maybe",
            sampled_on=TODAY + timedelta(days=1),
            now=NOW,
        )
    assert {d.field for d in exc.value.details} == {"kind", "result", "sampled_on"}
    with pytest.raises(Forbidden):  # community staff run the campaign; testing is the workers' task
        groups.record_test_result(
            session,
            cw.staff,
            campaign_id=cw.campaign.id,
            person_id=cw.person.id,
            kind="pcr",
            result="negative",
            now=NOW,
        )
    assert len(session.scalars(select(TestResult)).all()) == 2


def test_key_groups_are_reminded_once_per_round(session: Session, cw: CampWorld) -> None:
    from cityos.emergency.campaigns.models import Reminder
    from tests.factories import make_account

    key_account = make_account(session, roles=["resident"], scope=cw.world.room2, person_id=cw.key.id)
    assert groups.remind_key_groups(session, now=NOW) == 0  # 10:00: no round is due yet
    at_eleven = NOW + timedelta(hours=1)
    assert groups.remind_key_groups(session, now=at_eleven) == 1
    assert groups.remind_key_groups(session, now=at_eleven + timedelta(minutes=1)) == 0  # once
    told = session.scalars(select(Notification).where(Notification.account_id == key_account.id)).all()
    assert [n.link for n in told] == [f"/e/{cw.campaign.id}/b/{cw.world.building.id}"]
    # Having reported in the morning, at 17:00 the afternoon report is what is owed.
    reports.submit_report(
        session, cw.grid_worker, campaign_id=cw.campaign.id, person_id=cw.key.id, answers=GOOD, now=at_eleven
    )
    assert groups.remind_key_groups(session, now=NOW + timedelta(hours=7)) == 1
    reports.submit_report(
        session,
        cw.grid_worker,
        campaign_id=cw.campaign.id,
        person_id=cw.key.id,
        answers=GOOD,
        now=NOW + timedelta(hours=8),
    )
    # The next day, a server that was down all morning sends only the afternoon round.
    assert groups.remind_key_groups(session, now=NOW + timedelta(days=1, hours=7)) == 1
    rounds = session.scalars(select(Reminder.slot).where(Reminder.campaign_id == cw.campaign.id)).all()
    assert sorted(rounds) == [groups.AM, groups.PM, groups.PM]


def test_names_are_shown_in_full_only_with_pii_read_and_that_is_audited(session: Session, cw: CampWorld) -> None:
    from cityos.core.models import AuditRecord
    from tests.factories import make_actor

    admin = make_actor(session, roles=["admin"], scope=cw.world.community)
    assert session.scalar(select(AuditRecord).where(AuditRecord.action == "pii.read")) is None
    full = groups.not_reported(session, admin, campaign_id=cw.campaign.id, day=TODAY, now=NOW)
    assert "居民丙" in {p.name for b in full for p in b.people}
    rows = session.scalars(select(AuditRecord).where(AuditRecord.action == "pii.read")).all()
    assert [(r.subject_type, r.fields) for r in rows] == [("campaign.not_reported", "name")]
    masked = groups.not_reported(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, now=NOW)
    assert {p.name for b in masked for p in b.people} == {"居**"}
    assert len(session.scalars(select(AuditRecord).where(AuditRecord.action == "pii.read")).all()) == 1
