"""Who lives where, for 电子出入码: a person's current residences in an estate (their rooms come
from ``people.models.Residence``), the estates they live in, the room a resident acts for, and
the city's local day. No permission checks beyond ``pass:request``; ``service`` uses these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.community.access.models import EntryPass
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.people import residences
from cityos.people.models import Residence
from cityos.places.models import Region

MSG_NO_RESIDENCE = N_(
    "We found no current residence of yours in this estate. Please ask the property office to register you."
)
MSG_NOT_YOUR_ROOM = N_("This room is not one of your current residences in this estate.")


def local_date(at: datetime) -> date:
    return at.astimezone(ZoneInfo(get_settings().timezone)).date()


def day_start(at: datetime) -> datetime:
    """The start of ``at``'s local day, in UTC."""
    zone = ZoneInfo(get_settings().timezone)
    return datetime.combine(local_date(at), time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class RoomChoice:
    room: Region
    label: str
    relation: str
    until: date | None
    current_pass: EntryPass | None  # the person's valid pass for it, if they have one


def rooms_of(session: Session, person_id: int, estate: Region, *, today: date) -> list[tuple[Residence, Region]]:
    """The person's current residences inside the estate, with their rooms."""
    rows = session.execute(
        select(Residence, Region)
        .join(Region, Region.id == Residence.room_id)
        .where(
            Residence.person_id == person_id,
            subtree_clause(Region.path, estate.path),
            Residence.since <= today,
            or_(Residence.until.is_(None), Residence.until >= today),
        )
        .order_by(Region.path, Residence.id)
    ).all()
    seen: set[int] = set()
    out = []
    for residence, room in rows:
        if room.id not in seen:
            seen.add(room.id)
            out.append((residence, room))
    return out


def estates_of(session: Session, person_id: int, *, today: date) -> list[Region]:
    """The estates in which the person has a current residence (for the pass page's links)."""
    paths = session.scalars(
        select(Region.path)
        .join(Residence, Residence.room_id == Region.id)
        .where(
            Residence.person_id == person_id,
            Residence.since <= today,
            or_(Residence.until.is_(None), Residence.until >= today),
        )
    ).all()
    ids = {int(i) for path in paths for i in path.strip("/").split("/") if i}
    if not ids:
        return []
    return list(
        session.scalars(select(Region).where(Region.id.in_(ids), Region.level == "estate").order_by(Region.name))
    )


def as_utc(value: datetime) -> datetime:
    """An aware time as UTC; a naive one is read as the city's local time (forms send those)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return value.astimezone(UTC)


def estate_above(session: Session, room: Region) -> Region | None:
    ids = [int(i) for i in room.path.strip("/").split("/") if i]
    return session.scalar(select(Region).where(Region.id.in_(ids), Region.level == "estate"))


def resident_room(
    session: Session, actor: Actor, room_id: int | None, *, at: datetime
) -> tuple[Residence, Region, Region]:
    """(residence, room, estate) for one of the actor's current rooms; Invalid on ``room_id``
    otherwise (with the ask-the-property-office message when they have none at all)."""
    actor.require("pass:request")
    room = session.get(Region, room_id) if isinstance(room_id, int) else None
    estate = estate_above(session, room) if room is not None and room.level == "room" else None
    if actor.person_id is None:
        raise Invalid(MSG_NO_RESIDENCE, details=[FieldError("room_id", MSG_NO_RESIDENCE)])
    if room is None or estate is None:
        raise Invalid(details=[FieldError("room_id", MSG_NOT_YOUR_ROOM)])
    for residence, found in rooms_of(session, actor.person_id, estate, today=local_date(at)):
        if found.id == room.id:
            return residence, room, estate
    raise Invalid(details=[FieldError("room_id", MSG_NOT_YOUR_ROOM)])


def my_rooms(session: Session, actor: Actor, *, now: datetime | None = None) -> list[RoomChoice]:
    """Every current room of the resident, in every estate (for the visitor and goods forms)."""
    if actor.person_id is None:
        return []
    at = now or utcnow()
    out: list[RoomChoice] = []
    for estate in estates_of(session, actor.person_id, today=local_date(at)):
        found = rooms_of(session, actor.person_id, estate, today=local_date(at))
        labels = residences.addresses(session, [room for _, room in found], within=estate.path)
        out.extend(RoomChoice(room, labels.get(room.id, room.name), r.relation, r.until, None) for r, room in found)
    return out
