"""Daily self-reports (每日健康打卡 by the building QR), people reached, key groups on their
cadence, test results, special groups and who has not reported.

One report per person and day: a second report the same day replaces the answers and is counted
once; a report for yesterday is accepted and flagged late. Each report keeps the form version it
answered, so it is read with that version even after the form changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.emergency.campaigns import forms, groups, kinds
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.events import ReportReceived
from cityos.emergency.campaigns.models import (
    Campaign,
    ReachHow,
    Report,
    ReportEntry,
)
from cityos.people.models import Person, PersonTag, Residence
from cityos.places.models import Region

AM, PM = 1, 2
CHANNELS = ("qr", "door", "staff")
TEST_KINDS = ("pcr", "antigen")
TEST_RESULTS = ("negative", "positive", "pending")

MSG_PERSON = N_("Choose a person who lives here.")
MSG_NOT_HOUSEHOLD = N_("You can report only for yourself and the people of your household.")
MSG_OUTSIDE_CAMPAIGN = N_("This person does not live inside the campaign's area.")
MSG_DAY = N_("A report is for today; a late one may be sent for yesterday only.")
MSG_BEFORE_START = N_("The campaign had not started on this day.")
MSG_HOW = N_("Must be one of: {expected}.")
MSG_PEOPLE = N_("Choose 1 to {max} people.")
MSG_TAG = N_("Choose one of the campaign's key-group tags: {expected}.")
MSG_TEST_KIND = N_("Must be one of: {expected}.")
MSG_TEST_RESULT = N_("Must be one of: {expected}.")
MSG_SAMPLED = N_("The sample date cannot be in the future or before the campaign.")
MSG_BUILDING = N_("This building is not part of the campaign.")


# --- who lives where -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    person_id: int
    name: str
    room_id: int
    room: str
    tags: tuple[str, ...]
    special: bool
    reported_today: bool


def household(
    session: Session, actor: Actor, *, campaign_id: int, building_id: int, now: datetime | None = None
) -> list[Member]:
    """The signed-in resident and the people of their household in this building (from the
    residence records), special groups first; empty when they do not live here."""
    actor.require("campaign:report")
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    building = campaigns.building_of(session, campaign, building_id)
    if actor.person_id is None:
        return []
    rooms = campaigns.rooms_of(session, actor.person_id, building.path)
    if not rooms:
        return []
    rows = session.execute(
        select(Person.id, Person.name, Region.id, Region.name)
        .join(Residence, Residence.person_id == Person.id)
        .join(Region, Region.id == Residence.room_id)
        .where(Residence.room_id.in_([r.id for r in rooms]), Residence.until.is_(None))
        .order_by(Region.path, Person.id)
    ).all()
    ids = [int(r[0]) for r in rows]
    tags: dict[int, set[str]] = {}
    for pid, tag in session.execute(select(PersonTag.person_id, PersonTag.tag).where(PersonTag.person_id.in_(ids))):
        tags.setdefault(int(pid), set()).add(str(tag))
    today = campaigns.local_day(now)
    done = set(
        session.scalars(
            select(Report.person_id).where(
                Report.campaign_id == campaign.id, Report.day == today, Report.person_id.in_(ids)
            )
        )
    )
    seen: set[int] = set()
    out: list[Member] = []
    for pid, name, room_id, room in rows:
        if pid in seen:
            continue
        seen.add(pid)
        mine = tags.get(int(pid), set())
        out.append(
            Member(
                int(pid),
                str(name),
                int(room_id),
                str(room),
                tuple(sorted(mine)),
                bool(mine & set(kinds.SPECIAL_TAGS)),
                int(pid) in done,
            )
        )
    return sorted(out, key=lambda m: (m.person_id != actor.person_id, not m.special))


# --- reporting ---------------------------------------------------------------------------------------------------


def _day(campaign: Campaign, day: date | None, now: datetime) -> tuple[date, bool]:
    today = campaigns.local_day(now)
    chosen = day or today
    if chosen not in (today, today - timedelta(days=1)):
        raise Invalid(details=[FieldError("day", MSG_DAY)])
    if campaign.started_at is not None and chosen < campaigns.local_day(campaign.started_at):
        raise Invalid(details=[FieldError("day", MSG_BEFORE_START)])
    return chosen, chosen < today


def _may_report_for(session: Session, actor: Actor, person_id: int, room: Region) -> str:
    """'own' for the resident's household, 'staff' for campaign:task over the room."""
    if actor.person_id is not None and actor.can("campaign:report"):
        if person_id == actor.person_id:
            return "own"
        mine = campaigns.rooms_of(session, actor.person_id, room.path)
        if mine:
            return "own"
    if campaigns.can_work(actor, room.path):
        return "staff"
    if actor.can("campaign:report") and actor.person_id is not None:
        raise Invalid(details=[FieldError("person_id", MSG_NOT_HOUSEHOLD)])
    raise Forbidden(params={"permission": "campaign:report"})


def submit_report(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    person_id: int,
    answers: Any,
    day: date | None = None,
    building_id: int | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Store a person's report for today (or, late, for yesterday), replacing an earlier one of
    the same day; flag abnormal answers; mark the person reached; announce it on the bus."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.running(campaign)
    within = (
        campaigns.building_of(session, campaign, building_id).path if building_id is not None else campaign.scope_path
    )
    homes = campaigns.homes_of(session, person_id, within) if person_id else []
    if not homes:
        outside = bool(person_id) and building_id is None and bool(campaigns.rooms_of(session, person_id, "/"))
        raise Invalid(details=[FieldError("person_id", MSG_OUTSIDE_CAMPAIGN if outside else MSG_PERSON)])
    room, household_id = homes[0]
    who = _may_report_for(session, actor, person_id, room)
    chosen_day, late = _day(campaign, day, now)
    schema = campaigns.schema_of(session, campaign)
    errors = forms.check_answers(schema, answers)
    if errors:
        raise Invalid(details=errors)
    values = dict(answers)
    flagged = forms.abnormal_fields(schema, values)
    key_group = groups.is_key_group(session, campaign, person_id)
    slot = groups.slot(campaign, key_group, late, now)
    building = campaigns.building_above(session, room.path)
    how = channel if channel in CHANNELS else ("qr" if who == "own" else "staff")
    report = session.scalar(
        select(Report).where(Report.campaign_id == campaign.id, Report.person_id == person_id, Report.day == chosen_day)
    )
    created = False
    if report is None:
        fresh = Report(
            campaign_id=campaign.id,
            person_id=person_id,
            household_id=household_id,
            room_id=room.id,
            building_id=building.id if building else None,
            region_path=room.path,
            day=chosen_day,
            form_version=campaign.form_version,
            answers=values,
            abnormal=bool(flagged),
            abnormal_fields=flagged,
            late=late,
            key_group=key_group,
            slots=slot,
            entries=1,
            channel=how,
            reported_by_account_id=actor.account_id,
            first_reported_at=now,
            reported_at=now,
        )
        try:
            with session.begin_nested():
                session.add(fresh)
            report, created = fresh, True
        except IntegrityError:  # the same person reported at the same moment elsewhere
            report = session.scalar(
                select(Report).where(
                    Report.campaign_id == campaign.id, Report.person_id == person_id, Report.day == chosen_day
                )
            )
            if report is None:
                raise
    if not created:
        report.form_version = campaign.form_version
        report.answers = values
        report.abnormal = bool(flagged)
        report.abnormal_fields = flagged
        report.key_group = key_group
        report.slots = (report.slots or 0) | slot
        report.entries = (report.entries or 0) + 1
        report.channel = how
        report.reported_by_account_id = actor.account_id
        report.reported_at = now
    session.flush()
    session.add(
        ReportEntry(
            report_id=report.id,
            slot=slot,
            form_version=campaign.form_version,
            answers=values,
            abnormal=bool(flagged),
            reported_by_account_id=actor.account_id,
            at=now,
        )
    )
    campaigns.mark_reached_once(session, campaign.id, person_id, room.path, ReachHow.REPORT, actor.account_id, now)
    session.flush()
    bus.publish(
        session,
        ReportReceived(
            campaign_id=campaign.id,
            region_path=room.path,
            day=chosen_day,
            report_id=report.id,
            person_id=person_id,
            abnormal=bool(flagged),
        ),
    )
    return report


def mark_reached(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    person_ids: list[int],
    how: str,
    now: datetime | None = None,
) -> int:
    """A door-to-door check or a call reached these people; returns how many were new."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_any(actor, campaigns.WORK_PERMS)
    errors: list[FieldError] = []
    if how not in (ReachHow.DOOR, ReachHow.PHONE):
        errors.append(FieldError("how", MSG_HOW, {"expected": "door, phone"}))
    ids = sorted({int(p) for p in person_ids if isinstance(p, int) and not isinstance(p, bool)})
    if not 1 <= len(ids) <= 500 or len(ids) != len(person_ids):
        errors.append(FieldError("person_ids", MSG_PEOPLE, {"max": 500}))
    if errors:
        raise Invalid(details=errors)
    campaigns.running(campaign)
    path = campaigns.area(session, actor, campaign)
    rooms = dict(
        session.execute(
            select(Residence.person_id, Region.path)
            .join(Region, Region.id == Residence.room_id)
            .where(Residence.person_id.in_(ids), Residence.until.is_(None), subtree_clause(Region.path, path))
            .order_by(Region.path)
        ).all()
    )
    if set(rooms) != set(ids):
        raise Invalid(details=[FieldError("person_ids", MSG_PERSON)])
    added = 0
    for pid in ids:
        campaigns.require_any(actor, campaigns.WORK_PERMS, region=rooms[pid])
        added += campaigns.mark_reached_once(session, campaign.id, pid, rooms[pid], how, actor.account_id, now)
    session.flush()
    return added


# --- reading reports ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    report: Report
    name: str
    place: str
    abnormal_titles: tuple[str, ...]


def list_reports(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    day: date,
    region_id: int | None = None,
    abnormal_only: bool = False,
    params: PageParams | None = None,
) -> tuple[list[ReportLine], int]:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    path = campaigns.area(session, actor, campaign, region_id)
    campaigns.require_any(actor, campaigns.READ_PERMS, region=path)
    params = params or PageParams(page=1, size=50)
    query = select(Report).where(
        Report.campaign_id == campaign.id, Report.day == day, subtree_clause(Report.region_path, path)
    )
    if abnormal_only:
        query = query.where(Report.abnormal.is_(True))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list(
        session.scalars(
            query.order_by(Report.abnormal.desc(), Report.reported_at.desc()).limit(params.size).offset(params.offset)
        )
    )
    names = dict(
        session.execute(select(Person.id, Person.name).where(Person.id.in_({r.person_id for r in rows}))).all()
    )
    rooms = {
        r.id: r for r in session.scalars(select(Region).where(Region.id.in_({r.room_id for r in rows if r.room_id})))
    }
    from cityos.people.residences import addresses

    places = addresses(session, list(rooms.values()))
    schemas = {f.version: f.schema for f in campaigns.form_versions(session, campaign)}
    lines = []
    for r in rows:
        props = (schemas.get(r.form_version) or {}).get("properties") or {}
        titles = tuple(str((props.get(k) or {}).get("title") or k) for k in r.abnormal_fields or [])
        lines.append(
            ReportLine(
                r, campaigns.shown_name(actor, str(names.get(r.person_id, ""))), places.get(r.room_id or 0, ""), titles
            )
        )
    groups.audit_names(session, actor, "campaign.reports", campaign.id, len(lines))
    return lines, total


@dataclass(frozen=True)
class ReportView:
    report: Report
    name: str
    place: str
    version: int
    form_title: str
    answers: list[tuple[str, str, str]]  # (key, question, answer) read with the report's own version
    abnormal_keys: tuple[str, ...]


def get_report(session: Session, actor: Actor, *, report_id: int) -> ReportView:
    """A report read with the form version it answered."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound()
    campaign = campaigns.get_campaign(session, actor, report.campaign_id)
    staff = any(actor.can(p, region=report.region_path) for p in campaigns.READ_PERMS)
    own = (
        actor.person_id is not None
        and actor.can("campaign:report")
        and (
            report.person_id == actor.person_id
            or bool(campaigns.rooms_of(session, actor.person_id, report.region_path))
        )
    )
    if not (staff or own):
        raise NotFound()
    form = campaigns.form_of(session, campaign, report.form_version)
    person = session.get(Person, report.person_id)
    room = session.get(Region, report.room_id) if report.room_id else None
    from cityos.people.residences import address

    name = str(person.name) if person is not None else ""
    if not own:
        groups.audit_names(session, actor, "campaign.report", report.id, 1)
    return ReportView(
        report,
        name if own else campaigns.shown_name(actor, name),
        address(session, room) if room is not None else "",
        form.version,
        str(form.schema.get("title") or ""),
        forms.shown(form.schema, report.answers or {}),
        tuple(report.abnormal_fields or []),
    )
