"""Key groups (重点人群: people under watch who report on their own cadence), special groups
(孕产妇、重病、独居、残疾: flagged and listed first), test results, and who has not reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from cityos.core import audit, bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.emergency.campaigns import kinds
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.events import PositiveResult
from cityos.emergency.campaigns.models import Campaign, Reach, ReachHow, Report, TestResult, Watch
from cityos.people.models import Person, PersonTag
from cityos.places.models import Region

AM, PM = 1, 2
TEST_KINDS = ("pcr", "antigen")
TEST_RESULTS = ("negative", "positive", "pending")

MSG_PERSON = N_("Choose a person who lives here.")
MSG_TAG = N_("Choose one of the campaign's key-group tags: {expected}.")
MSG_TEST_KIND = N_("Must be one of: {expected}.")
MSG_TEST_RESULT = N_("Must be one of: {expected}.")
MSG_SAMPLED = N_("The sample date cannot be in the future or before the campaign.")


# --- cadence --------------------------------------------------------------------------------------------------


def key_group_tags(campaign: Campaign) -> list[str]:
    return [str(t) for t in campaign.settings.get("key_group_tags") or []]


def is_key_group(session: Session, campaign: Campaign, person_id: int) -> bool:
    """Whether the person carries one of the campaign's key-group tags or is under watch (one query)."""
    tags = key_group_tags(campaign)
    tagged = exists().where(PersonTag.person_id == person_id, PersonTag.tag.in_(tags)) if tags else None
    watched = exists().where(Watch.campaign_id == campaign.id, Watch.person_id == person_id, Watch.ended_at.is_(None))
    return bool(session.scalar(select(or_(tagged, watched) if tagged is not None else watched)))


def cadence(campaign: Campaign, key_group: bool) -> int:
    value = campaign.settings.get("key_group_cadence" if key_group else "cadence") or 1
    return 2 if int(value) >= 2 else 1


def expected_slots(campaign: Campaign, key_group: bool, day: date, now: datetime) -> int:
    """The slot bits due by ``now`` on ``day``: once a day → AM; twice → AM, and PM from noon."""
    if cadence(campaign, key_group) == 1:
        return AM
    today = campaigns.local_day(now)
    if day < today or campaigns.local_hour(now) >= 12:
        return AM | PM
    return AM


def slot(campaign: Campaign, key_group: bool, late: bool, now: datetime) -> int:
    if cadence(campaign, key_group) == 1:
        return AM
    if late:
        return AM | PM
    return AM if campaigns.local_hour(now) < 12 else PM


# --- who has not reported, key groups, special groups -------------------------------------------------------------


@dataclass
class PersonLine:
    person_id: int
    name: str
    room_id: int
    room: str
    tags: tuple[str, ...]
    special: bool
    key_group: bool
    missing: int = 0  # slot bits not reported (AM 1, PM 2)
    reported: int = 0  # slot bits reported
    reached: bool = False
    abnormal: bool = False


@dataclass
class BuildingGroup:
    building_id: int | None
    building: str
    people: list[PersonLine] = field(default_factory=list)

    @property
    def special(self) -> int:
        return sum(1 for p in self.people if p.special)


def _watched(session: Session, campaign: Campaign, path: str) -> set[int]:
    return set(
        session.scalars(
            select(Watch.person_id).where(
                Watch.campaign_id == campaign.id, Watch.ended_at.is_(None), subtree_clause(Watch.region_path, path)
            )
        )
    )


def lines_for(
    session: Session, actor: Actor, campaign: Campaign, path: str, day: date
) -> tuple[list[PersonLine], dict[str, Region]]:
    people = campaigns.residents(session, path)
    tags = campaigns.person_tags(session, path)
    key_tags = set(key_group_tags(campaign))
    watched = _watched(session, campaign, path)
    reports = {
        int(pid): (int(slots or 0), bool(abnormal))
        for pid, slots, abnormal in session.execute(
            select(Report.person_id, Report.slots, Report.abnormal).where(
                Report.campaign_id == campaign.id, Report.day == day, subtree_clause(Report.region_path, path)
            )
        )
    }
    reached = set(
        session.scalars(
            select(Reach.person_id).where(Reach.campaign_id == campaign.id, subtree_clause(Reach.region_path, path))
        )
    )
    rooms = {
        int(i): str(n)
        for i, n in session.execute(
            select(Region.id, Region.name).where(subtree_clause(Region.path, path), Region.level == "room")
        )
    }
    special_tags = set(kinds.SPECIAL_TAGS)
    lines = []
    for p in people:
        mine = tags.get(p.person_id, set())
        slots, abnormal = reports.get(p.person_id, (0, False))
        lines.append(
            PersonLine(
                person_id=p.person_id,
                name=campaigns.shown_name(actor, p.name),
                room_id=p.room_id,
                room=rooms.get(p.room_id, ""),
                tags=tuple(sorted(mine)),
                special=bool(mine & special_tags),
                key_group=bool(mine & key_tags) or p.person_id in watched,
                reported=slots,
                reached=p.person_id in reached,
                abnormal=abnormal,
            )
        )
    room_paths = {p.room_path for p in people}
    buildings = campaigns.ancestors_at(session, sorted(room_paths), "building")
    by_person_path = {p.person_id: p.room_path for p in people}
    return lines, {str(pid): buildings[rp] for pid, rp in by_person_path.items() if rp in buildings}


def _group(lines: list[PersonLine], buildings: dict[str, Region]) -> list[BuildingGroup]:
    groups: dict[int | None, BuildingGroup] = {}
    paths: dict[int | None, str] = {}
    for line in lines:
        b = buildings.get(str(line.person_id))
        key = b.id if b is not None else None
        if key not in groups:
            groups[key] = BuildingGroup(key, b.name if b is not None else "")
            paths[key] = b.path if b is not None else "~"
        groups[key].people.append(line)
    for g in groups.values():
        g.people.sort(key=lambda p: (not p.special, not p.key_group, p.room, p.person_id))
    return sorted(groups.values(), key=lambda g: (g.special == 0, paths[g.building_id]))


def not_reported(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    day: date,
    region_id: int | None = None,
    now: datetime | None = None,
) -> list[BuildingGroup]:
    """Who has not reported on ``day`` (key groups: who has missed a report due by now), per
    building, masked names; special groups and key groups first."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    path = campaigns.area(session, actor, campaign, region_id)
    campaigns.require_any(actor, campaigns.READ_PERMS, region=path)
    lines, buildings = lines_for(session, actor, campaign, path, day)
    missing = []
    for line in lines:
        due = expected_slots(campaign, line.key_group, day, now)
        line.missing = due & ~line.reported
        if line.missing:
            missing.append(line)
    audit_names(session, actor, "campaign.not_reported", campaign.id, len(missing))
    return _group(missing, buildings)


def special_groups(
    session: Session, actor: Actor, *, campaign_id: int, day: date, region_id: int | None = None
) -> list[BuildingGroup]:
    """Residents of a special group (pregnant, serious illness, living alone, disabled) per building."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    path = campaigns.area(session, actor, campaign, region_id)
    campaigns.require_any(actor, campaigns.READ_PERMS, region=path)
    lines, buildings = lines_for(session, actor, campaign, path, day)
    chosen = [line for line in lines if line.special]
    audit_names(session, actor, "campaign.special_groups", campaign.id, len(chosen))
    return _group(chosen, buildings)


def key_group(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    day: date,
    region_id: int | None = None,
    now: datetime | None = None,
) -> list[BuildingGroup]:
    """People under watch with what they have reported on ``day`` and what is still due."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    path = campaigns.area(session, actor, campaign, region_id)
    campaigns.require_any(actor, campaigns.READ_PERMS, region=path)
    lines, buildings = lines_for(session, actor, campaign, path, day)
    chosen = [line for line in lines if line.key_group]
    for line in chosen:
        line.missing = expected_slots(campaign, True, day, now) & ~line.reported
    audit_names(session, actor, "campaign.key_group", campaign.id, len(chosen))
    return _group(chosen, buildings)


def _person_in(
    session: Session, actor: Actor, campaign: Campaign, person_id: int, permissions: tuple[str, ...]
) -> tuple[Person, Region]:
    person = session.get(Person, person_id) if person_id else None
    rooms = campaigns.rooms_of(session, person.id, campaign.scope_path) if person is not None else []
    if person is None or not rooms or not actor.covers(rooms[0]):
        raise Invalid(details=[FieldError("person_id", MSG_PERSON)])
    campaigns.require_any(actor, permissions, region=rooms[0].path)
    return person, rooms[0]


def watch(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    person_id: int,
    tag: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Watch:
    """Put a person under watch (重点人群): they report on the key groups' cadence."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_any(actor, campaigns.WORK_PERMS)
    tags = key_group_tags(campaign)
    errors: list[FieldError] = []
    if tag not in tags:
        errors.append(FieldError("tag", MSG_TAG, {"expected": ", ".join(tags) or "-"}))
    if note is not None and len(note) > 500:
        errors.append(FieldError("note", campaigns.MSG_NOTE, {"max_length": 500}))
    if errors:
        raise Invalid(details=errors)
    campaigns.running(campaign)
    person, room = _person_in(session, actor, campaign, person_id, campaigns.WORK_PERMS)
    row = session.scalar(
        select(Watch).where(Watch.campaign_id == campaign.id, Watch.person_id == person.id, Watch.tag == tag)
    )
    if row is None:
        row = Watch(campaign_id=campaign.id, person_id=person.id, region_path=room.path, tag=tag)
        session.add(row)
    row.note = (note or "").strip() or None
    row.by_account_id = actor.account_id
    row.since = now or utcnow()
    row.ended_at = None
    session.flush()
    return row


def unwatch(session: Session, actor: Actor, *, campaign_id: int, person_id: int, now: datetime | None = None) -> int:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_any(actor, campaigns.WORK_PERMS)
    _person_in(session, actor, campaign, person_id, campaigns.WORK_PERMS)
    rows = list(
        session.scalars(
            select(Watch).where(
                Watch.campaign_id == campaign.id, Watch.person_id == person_id, Watch.ended_at.is_(None)
            )
        )
    )
    for row in rows:
        row.ended_at = now or utcnow()
    session.flush()
    return len(rows)


def record_test_result(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    person_id: int,
    kind: str,
    result: str,
    sampled_on: date | None = None,
    now: datetime | None = None,
) -> TestResult:
    """A test result recorded by a grid worker or volunteer; a positive one is announced."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    actor.require("campaign:task")
    errors: list[FieldError] = []
    if kind not in TEST_KINDS:
        errors.append(FieldError("kind", MSG_TEST_KIND, {"expected": ", ".join(TEST_KINDS)}))
    if result not in TEST_RESULTS:
        errors.append(FieldError("result", MSG_TEST_RESULT, {"expected": ", ".join(TEST_RESULTS)}))
    day = sampled_on or campaigns.local_day(now)
    start = campaigns.local_day(campaign.started_at or campaign.created_at)
    if day > campaigns.local_day(now) or day < start:
        errors.append(FieldError("sampled_on", MSG_SAMPLED))
    if errors:
        raise Invalid(details=errors)
    campaigns.running(campaign)
    person, room = _person_in(session, actor, campaign, person_id, ("campaign:task",))
    row = TestResult(
        campaign_id=campaign.id,
        person_id=person.id,
        region_path=room.path,
        kind=kind,
        result=result,
        sampled_on=day,
        recorded_by_account_id=actor.account_id,
        recorded_at=now,
    )
    session.add(row)
    campaigns.mark_reached_once(session, campaign.id, person.id, room.path, ReachHow.DOOR, actor.account_id, now)
    session.flush()
    if result == "positive":
        bus.publish(session, PositiveResult(campaign_id=campaign.id, person_id=person.id, region_path=room.path))
    return row


def results_of(session: Session, actor: Actor, *, campaign_id: int, person_id: int) -> list[TestResult]:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_any(actor, campaigns.READ_PERMS)
    rows = session.scalars(
        select(TestResult)
        .where(
            TestResult.campaign_id == campaign.id,
            TestResult.person_id == person_id,
            actor.scope_clause(TestResult.region_path),
        )
        .order_by(TestResult.sampled_on.desc(), TestResult.id.desc())
    )
    return list(rows)


def audit_names(session: Session, actor: Actor, action: str, campaign_id: int, count: int) -> None:
    """Full names shown to a ``pii:read`` holder are an unmasked read: one audit row per list."""
    if actor.can("pii:read") and count:
        audit.record(session, actor, "pii.read", subject_type=action, subject_id=campaign_id, fields=["name"])


# --- reminders ---------------------------------------------------------------------------------------------------

REMIND_AT = {AM: 11, PM: 17}  # city time: key groups who have not sent the slot's report are reminded


def remind_key_groups(session: Session, *, now: datetime | None = None) -> int:
    """Remind the key groups of every running campaign who have not sent the morning (from
    11:00) or afternoon (from 17:00) report, once per campaign, day and round; returns how many
    were told. Nothing but two small queries when no round is due."""
    from sqlalchemy.exc import IntegrityError

    from cityos.core.i18n import translate
    from cityos.emergency.campaigns.models import CampaignStatus, Reminder
    from cityos.identity.models import Account
    from cityos.identity.notify import notify

    now = now or utcnow()
    day, hour = campaigns.local_day(now), campaigns.local_hour(now)
    slots = [s for s, at in REMIND_AT.items() if hour >= at]
    if not slots:
        return 0
    done = {
        (int(c), int(s))
        for c, s in session.execute(select(Reminder.campaign_id, Reminder.slot).where(Reminder.day == day))
    }
    told = 0
    for campaign in session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.PUBLISHED)):
        # Only the latest round that is due: a server started late does not send two at once.
        applicable = [s for s in slots if s == AM or cadence(campaign, True) == 2]
        for slot in applicable[-1:]:
            if (campaign.id, slot) in done:
                continue
            if campaign.started_at is not None and campaigns.local_day(campaign.started_at) > day:
                continue
            marker = Reminder(campaign_id=campaign.id, day=day, slot=slot, sent=0, at=now)
            try:
                with session.begin_nested():
                    session.add(marker)
            except IntegrityError:  # another worker sent this round
                continue
            owing = _owing(session, campaign, day, slot)
            accounts = (
                session.execute(
                    select(Account.id, Account.person_id).where(
                        Account.person_id.in_(list(owing)), Account.active.is_(True)
                    )
                ).all()
                if owing
                else []
            )
            for account_id, person_id in accounts:
                building = campaigns.building_above(session, owing[int(person_id or 0)])
                link = campaigns.report_link(campaign.id, building.id) if building is not None else "/me"
                notify(
                    session,
                    int(account_id),
                    title=translate("Please send your report: {campaign}", campaign=campaign.title),
                    body=translate("Key groups report twice a day, in the morning and in the afternoon."),
                    link=link,
                )
            marker.sent = len(accounts)
            told += len(accounts)
    session.flush()
    return told


def _owing(session: Session, campaign: Campaign, day: date, slot: int) -> dict[int, str]:
    """Key-group members of the campaign (person → room path) who have not reported ``slot`` on ``day``."""
    from cityos.people.models import Residence

    tags = key_group_tags(campaign)
    people: dict[int, str] = {}
    if tags:
        for pid, path in session.execute(
            select(PersonTag.person_id, Region.path)
            .join(Residence, Residence.person_id == PersonTag.person_id)
            .join(Region, Region.id == Residence.room_id)
            .where(
                PersonTag.tag.in_(tags),
                Residence.until.is_(None),
                subtree_clause(Region.path, campaign.scope_path),
            )
        ):
            people.setdefault(int(pid), str(path))
    for pid, path in session.execute(
        select(Watch.person_id, Watch.region_path).where(Watch.campaign_id == campaign.id, Watch.ended_at.is_(None))
    ):
        people.setdefault(int(pid), str(path))
    if not people:
        return {}
    reported = dict(
        session.execute(
            select(Report.person_id, Report.slots).where(
                Report.campaign_id == campaign.id, Report.day == day, Report.person_id.in_(list(people))
            )
        ).all()
    )
    return {pid: path for pid, path in people.items() if not (int(reported.get(pid) or 0) & slot)}
