"""Who a notice, a survey or a task plan reaches: the people living in a region subtree (by a
current residence, or by their registered region), optionally narrowed by tags; and, the other
way round, what reaches one person. Also the city's local calendar used by the sub-package."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select, union
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.identity.models import Account
from cityos.people.models import Person, PersonTag, Residence, Tag
from cityos.places.models import Region

from .models import TagMatch

TAGS: tuple[str, ...] = tuple(t.value for t in Tag)
TAG_MATCHES: tuple[str, ...] = tuple(m.value for m in TagMatch)

MSG_REGION = N_("Choose a place in your area.")
MSG_TAG = N_("Unknown group: {tag}.")
MSG_TAG_MATCH = N_("Must be one of: {expected}.")
MSG_TOO_MANY_TAGS = N_("Choose at most {max} groups.")


# --- the local calendar ----------------------------------------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(zone()).date()


def local_month_start(now: datetime | None = None) -> datetime:
    """The first moment of the current month in the city's time zone (an aware datetime)."""
    today = local_today(now)
    return datetime(today.year, today.month, 1, tzinfo=zone())


def local(moment: datetime | None) -> str:
    """A timestamp as people read it here: ``2026-12-01 15:30`` in the city's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(zone()).strftime("%Y-%m-%d %H:%M")


# --- checking an audience ---------------------------------------------------------------------------------------


def check(
    session: Session,
    actor: Actor,
    *,
    region_id: Any,
    tags: Any,
    tag_match: Any,
    errors: list[FieldError],
    levels: Sequence[str] | None = None,
    region_message: str = MSG_REGION,
) -> tuple[Region | None, list[str]]:
    """The audience's region (in the actor's scope, at one of ``levels``) and its clean tags;
    problems go to ``errors`` as field errors. A region outside the scope is reported as a
    field error, never as a 403, so it does not tell whether it exists."""
    region = session.get(Region, region_id) if isinstance(region_id, int) and not isinstance(region_id, bool) else None
    if region is None or not actor.covers(region) or (levels is not None and region.level not in levels):
        errors.append(FieldError("region_id", region_message))
        region = None
    clean: list[str] = []
    if tags is None:
        tags = []
    if not isinstance(tags, list | tuple):
        errors.append(FieldError("tags", MSG_TAG, {"tag": str(tags)[:32]}))
    else:
        for tag in tags:
            if not isinstance(tag, str) or tag not in TAGS:
                errors.append(FieldError("tags", MSG_TAG, {"tag": str(tag)[:32]}))
            elif tag not in clean:
                clean.append(tag)
        if len(clean) > 5:
            errors.append(FieldError("tags", MSG_TOO_MANY_TAGS, {"max": 5}))
    if tag_match not in TAG_MATCHES:
        errors.append(FieldError("tag_match", MSG_TAG_MATCH, {"expected": ", ".join(TAG_MATCHES)}))
    return region, clean


# --- who is reached --------------------------------------------------------------------------------------------


def _current(today: date) -> Any:
    return and_(Residence.since <= today, or_(Residence.until.is_(None), Residence.until >= today))


def people_in(region_path: str, tags: Sequence[str], tag_match: str, *, today: date | None = None) -> Select[Any]:
    """Ids of the people an audience reaches: those with a current residence in a room of the
    subtree, or registered in it, holding the tags (all of them, or any)."""
    today = today or local_today()
    in_rooms = (
        select(Residence.person_id.label("pid"))
        .join(Region, Region.id == Residence.room_id)
        .where(subtree_clause(Region.path, region_path), _current(today))
    )
    registered = select(Person.id.label("pid")).where(subtree_clause(Person.region_path, region_path))
    found = union(in_rooms, registered).subquery()
    query: Select[Any] = select(found.c.pid)
    if tags and tag_match == TagMatch.ANY:
        query = query.where(found.c.pid.in_(select(PersonTag.person_id).where(PersonTag.tag.in_(list(tags)))))
    elif tags:
        for tag in tags:
            query = query.where(found.c.pid.in_(select(PersonTag.person_id).where(PersonTag.tag == tag)))
    return query


def count(session: Session, region_path: str, tags: Sequence[str], tag_match: str) -> int:
    sub = people_in(region_path, tags, tag_match).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def accounts_reached(session: Session, region_path: str, tags: Sequence[str], tag_match: str) -> list[Account]:
    """The active accounts of the people reached (what a notification goes to)."""
    ids = people_in(region_path, tags, tag_match)
    return list(
        session.scalars(
            select(Account).where(Account.person_id.in_(ids), Account.active.is_(True)).order_by(Account.id)
        )
    )


# --- what reaches one person ------------------------------------------------------------------------------------


def home_paths(session: Session, person_id: int, *, today: date | None = None) -> list[str]:
    """The paths of the rooms the person lives in now, and of their registered region."""
    today = today or local_today()
    paths = list(
        session.scalars(
            select(Region.path)
            .join(Residence, Residence.room_id == Region.id)
            .where(Residence.person_id == person_id, _current(today))
        )
    )
    registered = session.scalar(select(Person.region_path).where(Person.id == person_id))
    if registered and registered not in paths:
        paths.append(registered)
    return paths


def prefixes(paths: Iterable[str]) -> set[str]:
    """Every ancestor path (each path included): ``/1/5/`` gives ``/``, ``/1/``, ``/1/5/``."""
    out: set[str] = set()
    for path in paths:
        parts = [p for p in path.strip("/").split("/") if p]
        out.add("/")
        for i in range(1, len(parts) + 1):
            out.add("/" + "/".join(parts[:i]) + "/")
    return out


def tags_of(session: Session, person_id: int) -> set[str]:
    return set(session.scalars(select(PersonTag.tag).where(PersonTag.person_id == person_id)))


def matches(required: Sequence[str], tag_match: str, held: set[str]) -> bool:
    if not required:
        return True
    if tag_match == TagMatch.ANY:
        return any(t in held for t in required)
    return all(t in held for t in required)


class Reach:
    """What one person is reached by: computed once per request, then asked per record."""

    def __init__(self, session: Session, person_id: int | None) -> None:
        self.person_id = person_id
        self.paths = home_paths(session, person_id) if person_id is not None else []
        self.ancestors = prefixes(self.paths) if self.paths else set()
        self.tags = tags_of(session, person_id) if person_id is not None else set()

    def reaches(self, region_path: str, tags: Sequence[str], tag_match: str) -> bool:
        return region_path in self.ancestors and matches(tags, tag_match, self.tags)


def ancestor_of_level(session: Session, path: str, level: str) -> Region | None:
    """The region at ``level`` on the way from the root to ``path`` (the grid of a room …)."""
    ids = [int(p) for p in path.strip("/").split("/") if p]
    if not ids:
        return None
    return session.scalar(select(Region).where(Region.id.in_(ids), Region.level == level))


def located(session: Session, path: str) -> Region | None:
    """The nearest region on the path that has a point (a room has none; its building does)."""
    ids = [int(p) for p in path.strip("/").split("/") if p]
    if not ids:
        return None
    rows = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids), Region.lon.is_not(None)))}
    for rid in reversed(ids):
        if rid in rows:
            return rows[rid]
    return None


MSG_DEADLINE = N_("Give a closing time in the future, at most {days} days from now.")
MSG_DATE = N_("Must be a date like 2024-05-01.")


def check_deadline(
    value: Any, errors: list[FieldError], *, now: datetime | None = None, field: str = "closes_at", days: int = 366
) -> datetime | None:
    """An aware closing time after now and within ``days``; a plain date means the end of that
    local day."""
    now = now or utcnow()
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=zone())
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=zone())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone())
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone())
        except ValueError:
            errors.append(FieldError(field, MSG_DATE))
            return None
    if moment is None or moment <= now or (moment - now).days > days:
        errors.append(FieldError(field, MSG_DEADLINE, {"days": days}))
        return None
    return moment


TAG_LABELS: dict[str, str] = {
    Tag.ELDERLY: N_("Elderly (60+)"),
    Tag.LIVING_ALONE: N_("Living alone"),
    Tag.DISABLED: N_("Disabled"),
    Tag.PREGNANT: N_("Pregnant"),
    Tag.KEY_GROUP: N_("Key group"),
    Tag.LOW_INCOME: N_("Low income"),
    Tag.VETERAN: N_("Veteran"),
    Tag.CHILD: N_("Child"),
    Tag.PARTY_MEMBER: N_("Party member"),
    Tag.VOLUNTEER: N_("Volunteer"),
}


def region_options(session: Session, actor: Actor, levels: Sequence[str]) -> list[tuple[int, str]]:
    """The places in the actor's area at ``levels``, as (id, address) for a form's select."""
    from cityos.people import residences

    rows = list(
        session.scalars(
            select(Region)
            .where(actor.scope_clause(Region.path), Region.level.in_(list(levels)))
            .order_by(Region.path)
            .limit(300)
        )
    )
    names = residences.addresses(session, rows)
    return [(r.id, names.get(r.id) or r.name) for r in rows]
