"""邻里互助 and 志愿者: residents ask their neighbours for help (代买, 陪诊, 搬东西 …) or offer
it; registered volunteers take requests; an urgent request also becomes a help case
(``cases.service.report``, category ``help.*``) so the grid answers within the hour. The minutes
a volunteer gives are logged (志愿时长).

Posts are seen by the neighbours of the poster's community and by its staff. Until a post is
taken, neighbours see only the estate; the person who takes it sees the poster's address."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeGuard

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.people.models import Person
from cityos.places.models import Region

from . import audience
from .models import HelpKind, HelpPost, HelpStatus, Volunteer, VolunteerHours
from .notices import check_title, clean_line, clean_text

KINDS: tuple[str, ...] = tuple(k.value for k in HelpKind)
CATEGORIES: dict[str, str] = {
    "errand": N_("Shopping and errands"),  # 代买跑腿
    "escort": N_("Going to the doctor with someone"),  # 陪诊
    "moving": N_("Carrying and moving things"),  # 搬东西
    "meals": N_("Meals"),  # 送餐
    "repair": N_("Small repairs"),  # 小修小补
    "company": N_("Company and a chat"),  # 陪伴聊天
    "tech": N_("Phones and computers"),  # 手机电脑
    "other": N_("Something else"),
}
SKILLS = CATEGORIES  # a volunteer offers the same kinds of help
CASE_CATEGORIES = {"errand": "help.01.01", "escort": "help.01.02", "meals": "help.01.03"}
CASE_FALLBACK = "help.01"  # 生活求助
STAFF_READ = ("community:read", "task:manage")
MAX_MINUTES = 24 * 60

MSG_KIND = N_("Must be one of: {expected}.")
MSG_CATEGORY = N_("Must be one of: {expected}.")
MSG_BODY = N_("At most {max_length} characters.")
MSG_URGENT_OFFER = N_("Only a request for help can be urgent.")
MSG_FLAG = N_("Must be true or false.")
MSG_NO_HOME = N_("We do not know where you live; ask the community office to record your residence.")
MSG_SKILLS = N_("Choose at least one kind of help you can give.")
MSG_INTRO = N_("At most {max_length} characters.")
MSG_NOT_VOLUNTEER = N_("Register as a volunteer first to take a request.")
MSG_OWN_POST = N_("You cannot take your own post.")
MSG_NOT_OPEN = N_("Someone has already taken this, or it is closed.")
MSG_NOT_TAKEN = N_("This has not been taken yet, or it is finished.")
MSG_MINUTES = N_("Give the time spent in minutes, 1 to {max}.")
MSG_FINISHED = N_("This is already finished.")
MSG_NOTE = N_("At most {max_length} characters.")
MSG_DAY = N_("Must be a date like 2024-05-01, not in the future.")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _home(session: Session, person_id: int) -> tuple[Region | None, str | None]:
    """The person's home region (a room, else where they are registered) and their community."""
    paths = audience.home_paths(session, person_id)
    if not paths:
        return None, None
    home = session.scalar(select(Region).where(Region.path == paths[0]))
    if home is None:
        return None, None
    community = audience.ancestor_of_level(session, home.path, "community")
    estate = audience.ancestor_of_level(session, home.path, "estate")
    return home, (community or estate or home).path


def _community_paths(session: Session, person_id: int | None) -> list[str]:
    if person_id is None:
        return []
    out: list[str] = []
    for path in audience.home_paths(session, person_id):
        found = audience.ancestor_of_level(session, path, "community") or audience.ancestor_of_level(
            session, path, "estate"
        )
        chosen = found.path if found is not None else path
        if chosen not in out:
            out.append(chosen)
    return out


# --- volunteers --------------------------------------------------------------------------------------------


def my_volunteer(session: Session, actor: Actor) -> Volunteer | None:
    if actor.person_id is None:
        return None
    return session.scalar(select(Volunteer).where(Volunteer.person_id == actor.person_id))


def register_volunteer(session: Session, actor: Actor, *, skills: Any, intro: Any = "") -> Volunteer:
    """Register oneself as a volunteer (or change one's skills); help:offer."""
    actor.require("help:offer")
    if actor.person_id is None:
        raise Forbidden(params={"permission": "help:offer"})
    errors: list[FieldError] = []
    clean: list[str] = []
    if not isinstance(skills, list) or not skills or any(not isinstance(s, str) or s not in SKILLS for s in skills):
        errors.append(FieldError("skills", MSG_SKILLS))
    else:
        clean = [str(s) for s in skills]
    text = clean_line(intro)
    if len(text) > 255:
        errors.append(FieldError("intro", MSG_INTRO, {"max_length": 255}))
    if errors:
        raise Invalid(details=errors)
    home, _community = _home(session, actor.person_id)
    volunteer = my_volunteer(session, actor)
    if volunteer is None:
        volunteer = Volunteer(person_id=actor.person_id)
        session.add(volunteer)
    volunteer.skills = sorted(set(clean), key=list(SKILLS).index)
    volunteer.intro = text
    volunteer.region_path = home.path if home is not None else None
    volunteer.active = True
    session.flush()
    return volunteer


def minutes_of(session: Session, volunteer_ids: list[int]) -> dict[int, int]:
    if not volunteer_ids:
        return {}
    return {
        int(v): int(m)
        for v, m in session.execute(
            select(VolunteerHours.volunteer_id, func.sum(VolunteerHours.minutes))
            .where(VolunteerHours.volunteer_id.in_(volunteer_ids))
            .group_by(VolunteerHours.volunteer_id)
        )
    }


def volunteers_in_area(session: Session, actor: Actor) -> list[tuple[Volunteer, str, int]]:
    """The volunteers living in the actor's area, with their names and minutes given."""
    if not any(actor.can(p) for p in STAFF_READ):
        raise Forbidden(params={"permission": "community:read"})
    rows = list(
        session.execute(
            select(Volunteer, Person.name)
            .join(Person, Person.id == Volunteer.person_id)
            .where(actor.scope_clause(Volunteer.region_path), Volunteer.active.is_(True))
            .order_by(Volunteer.id)
            .limit(500)
        )
    )
    minutes = minutes_of(session, [v.id for v, _ in rows])
    return [(v, str(name), minutes.get(v.id, 0)) for v, name in rows]


def log_hours(
    session: Session,
    actor: Actor,
    *,
    volunteer_id: int,
    minutes: Any,
    note: Any = "",
    day: Any = None,
    now: datetime | None = None,
) -> VolunteerHours:
    """Staff log a volunteer's time at a community activity (task:manage where they live)."""
    actor.require("task:manage")
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.region_path is None or not actor.covers(volunteer.region_path):
        raise NotFound()
    errors: list[FieldError] = []
    if not _is_int(minutes) or not 1 <= minutes <= MAX_MINUTES:
        errors.append(FieldError("minutes", MSG_MINUTES, {"max": MAX_MINUTES}))
    text = clean_line(note)
    if len(text) > 255:
        errors.append(FieldError("note", MSG_NOTE, {"max_length": 255}))
    today = audience.local_today(now)
    when = today if day is None else day
    if isinstance(when, str):
        try:
            when = date.fromisoformat(when)
        except ValueError:
            when = None
    if not isinstance(when, date) or when > today:
        errors.append(FieldError("day", MSG_DAY))
    if errors:
        raise Invalid(details=errors)
    assert isinstance(when, date)
    assert _is_int(minutes)
    row = VolunteerHours(
        volunteer_id=volunteer.id, minutes=minutes, note=text, day=when, logged_by_account_id=actor.account_id
    )
    session.add(row)
    session.flush()
    return row


# --- posts ---------------------------------------------------------------------------------------------------


def post(
    session: Session,
    actor: Actor,
    *,
    kind: Any,
    category: Any,
    title: Any,
    body: Any = "",
    urgent: Any = False,
    now: datetime | None = None,
) -> HelpPost:
    """Ask the neighbours for help, or offer it (help:offer). An urgent request also opens a
    help case for the grid (urgency ``urgent``)."""
    actor.require("help:offer")
    if actor.person_id is None:
        raise Forbidden(params={"permission": "help:offer"})
    errors: list[FieldError] = []
    if kind not in KINDS:
        errors.append(FieldError("kind", MSG_KIND, {"expected": ", ".join(KINDS)}))
    if category not in CATEGORIES:
        errors.append(FieldError("category", MSG_CATEGORY, {"expected": ", ".join(CATEGORIES)}))
    clean_title = check_title(title, errors)
    text = clean_text(body)
    if len(text) > 2000:
        errors.append(FieldError("body", MSG_BODY, {"max_length": 2000}))
    if not isinstance(urgent, bool):
        errors.append(FieldError("urgent", MSG_FLAG))
    elif urgent and kind == HelpKind.OFFER:
        errors.append(FieldError("urgent", MSG_URGENT_OFFER))
    home, community_path = _home(session, actor.person_id)
    if home is None:
        errors.append(FieldError("kind", MSG_NO_HOME))
    if errors or home is None:
        raise Invalid(details=errors)
    now = now or utcnow()
    row = HelpPost(
        kind=kind,
        category=category,
        title=clean_title,
        body=text,
        urgent=bool(urgent),
        status=HelpStatus.OPEN,
        person_id=actor.person_id,
        region_id=home.id,
        region_path=home.path,
        community_path=community_path,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if row.urgent:
        row.case_id = _open_case(session, actor, row, home, now=now)
        session.flush()
    return row


def _open_case(session: Session, actor: Actor, row: HelpPost, home: Region, *, now: datetime) -> int:
    from cityos.cases import service as cases
    from cityos.people import residences
    from cityos.places import index

    point = audience.located(session, home.path)
    lon = lat = None
    if point is not None and point.lon is not None and point.lat is not None:
        if index.locate(session, point.lon, point.lat) is not None:
            lon, lat = point.lon, point.lat
    case = cases.report(
        session,
        actor,
        category_code=CASE_CATEGORIES.get(row.category, CASE_FALLBACK),
        title=row.title,
        description=row.body,
        channel="resident",
        lon=lon,
        lat=lat,
        address=residences.address(session, home),
        urgency="urgent",
        now=now,
    )
    return case.id


def _visible(actor: Actor, paths: list[str]) -> Any:
    conditions: list[ColumnElement[bool]] = []
    if paths:
        conditions.append(HelpPost.community_path.in_(paths))
    if any(actor.can(p) for p in STAFF_READ):
        conditions.append(actor.scope_clause(HelpPost.region_path))
    if actor.person_id is not None:
        conditions.append(HelpPost.person_id == actor.person_id)
        conditions.append(HelpPost.taker_person_id == actor.person_id)
    return or_(*conditions) if conditions else None


def neighbourhood(session: Session, actor: Actor, *, status: str | None = "open", limit: int = 50) -> list[HelpPost]:
    """Posts of the actor's community (and their own, and those in their area for staff)."""
    visible = _visible(actor, _community_paths(session, actor.person_id))
    if visible is None:
        return []
    query = select(HelpPost).where(visible)
    if status == "mine":
        query = query.where(or_(HelpPost.person_id == actor.person_id, HelpPost.taker_person_id == actor.person_id))
    elif status is not None:
        query = query.where(HelpPost.status == status)
    return list(
        session.scalars(
            query.order_by(HelpPost.urgent.desc(), HelpPost.created_at.desc(), HelpPost.id.desc()).limit(limit)
        )
    )


def get_post(session: Session, actor: Actor, help_id: int) -> HelpPost:
    visible = _visible(actor, _community_paths(session, actor.person_id))
    row = session.scalar(select(HelpPost).where(HelpPost.id == help_id, visible)) if visible is not None else None
    if row is None:
        raise NotFound()
    return row


def take(session: Session, actor: Actor, *, help_id: int, now: datetime | None = None) -> HelpPost:
    """Take a request (a registered volunteer) or an offer (any neighbour)."""
    actor.require("help:offer")
    row = get_post(session, actor, help_id)
    if actor.person_id is None:
        raise Forbidden(params={"permission": "help:offer"})
    if row.person_id == actor.person_id:
        raise Conflict(MSG_OWN_POST)
    if row.kind == HelpKind.REQUEST:
        volunteer = my_volunteer(session, actor)
        if volunteer is None or not volunteer.active:
            raise Conflict(MSG_NOT_VOLUNTEER)
    now = now or utcnow()
    done = session.execute(
        update(HelpPost)
        .where(HelpPost.id == row.id, HelpPost.status == HelpStatus.OPEN)
        .values(status=HelpStatus.TAKEN, taker_person_id=actor.person_id, taken_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(MSG_NOT_OPEN)
    session.refresh(row)
    return row


def helper_of(session: Session, row: HelpPost) -> Volunteer | None:
    """Whose minutes a finished post counts: the taker of a request, the poster of an offer."""
    person_id = row.taker_person_id if row.kind == HelpKind.REQUEST else row.person_id
    if person_id is None:
        return None
    return session.scalar(select(Volunteer).where(Volunteer.person_id == person_id))


def finish(session: Session, actor: Actor, *, help_id: int, minutes: Any, now: datetime | None = None) -> HelpPost:
    """The poster or the taker says it is done, with the time it took; a volunteer's minutes
    are logged."""
    actor.require("help:offer")
    row = get_post(session, actor, help_id)
    if actor.person_id is None or actor.person_id not in (row.person_id, row.taker_person_id):
        raise NotFound()
    if row.status != HelpStatus.TAKEN:
        raise Conflict(MSG_NOT_TAKEN)
    if not _is_int(minutes) or not 1 <= minutes <= MAX_MINUTES:
        raise Invalid(details=[FieldError("minutes", MSG_MINUTES, {"max": MAX_MINUTES})])
    now = now or utcnow()
    row.status = HelpStatus.DONE
    row.done_at = now
    row.minutes = minutes
    volunteer = helper_of(session, row)
    if volunteer is not None:
        session.add(
            VolunteerHours(
                volunteer_id=volunteer.id,
                help_id=row.id,
                minutes=minutes,
                note=row.title[:255],
                day=audience.local_today(now),
                logged_by_account_id=actor.account_id,
            )
        )
    session.flush()
    return row


def cancel(session: Session, actor: Actor, *, help_id: int) -> HelpPost:
    """The poster withdraws a post that is not finished."""
    actor.require("help:offer")
    row = get_post(session, actor, help_id)
    if row.person_id != actor.person_id:
        raise NotFound()
    if row.status in (HelpStatus.DONE, HelpStatus.CANCELLED):
        raise Conflict(MSG_FINISHED)
    row.status = HelpStatus.CANCELLED
    session.flush()
    return row


def open_count(session: Session, region_path: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(HelpPost)
            .where(HelpPost.status == HelpStatus.OPEN, subtree_clause(HelpPost.region_path, region_path))
        )
        or 0
    )


def volunteer_count(session: Session, region_path: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Volunteer)
            .where(Volunteer.active.is_(True), subtree_clause(Volunteer.region_path, region_path))
        )
        or 0
    )
