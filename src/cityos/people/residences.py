"""Where residents live (住址): moving in and out of rooms (搬入/搬离), a person's residences, the
printable address of a region, and households (户) with their members.

Scoped and permission-checked like ``people.service``; writes assert ``household:write`` on the
room. Starting a residence itself stays in ``people.service`` because registration starts one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.people.events import ResidenceChanged
from cityos.people.models import Household, Person, Residence
from cityos.people.service import (
    MSG_REGION,
    MSG_SINCE_FUTURE,
    get_person,
    get_visible,
    residence_errors,
    start_residence,
    visible_region,
)
from cityos.places.models import Region, RegionLevel

MSG_ROOM = N_("Choose a room (房) for a residence; {name} is a {level}.")
MSG_UNTIL_BEFORE = N_("The move-out date cannot be before the move-in date {since}.")
MSG_ALREADY_HERE = N_("This person already lives in this room.")
MSG_ENDED = N_("This residence has already ended.")


def add_residence(
    session: Session,
    actor: Actor,
    *,
    person_id: int,
    room_id: int,
    relation: str,
    since: date | None = None,
    household_id: int | None = None,
    today: date | None = None,
) -> Residence:
    """The person lives in ``room_id`` from ``since`` (搬入); the room becomes their current address."""
    today = today or date.today()
    person = get_visible(session, actor, person_id)
    since = since or today
    errors = residence_errors(relation, since, today)
    room = session.get(Region, room_id)
    if room is None or not actor.covers(room):
        errors.append(FieldError("room_id", MSG_REGION))
    elif room.level != RegionLevel.ROOM:
        errors.append(FieldError("room_id", MSG_ROOM, {"name": room.name, "level": room.level}))
    if errors or room is None:
        raise Invalid(details=errors)
    actor.require("household:write", region=room)
    already = session.scalar(
        select(Residence.id).where(
            Residence.person_id == person.id, Residence.room_id == room.id, Residence.until.is_(None)
        )
    )
    if already is not None:
        raise Conflict(details=[FieldError("room_id", MSG_ALREADY_HERE)])
    return start_residence(session, actor, person, room=room, relation=relation, since=since, household_id=household_id)


def end_residence(
    session: Session, actor: Actor, *, residence_id: int, until: date | None = None, today: date | None = None
) -> Residence:
    """The person moved out (搬离). Their address becomes their latest remaining residence; with
    none left it stays at the last room, so the grid keeps them on its list of people who left (流出)."""
    today = today or date.today()
    residence = session.get(Residence, residence_id)
    room = session.get(Region, residence.room_id) if residence is not None else None
    if residence is None or room is None or not actor.covers(room):
        raise NotFound()
    actor.require("household:write", region=room)
    until = until or today
    if residence.until is not None:
        raise Conflict(details=[FieldError("until", MSG_ENDED)])
    if until < residence.since:
        raise Invalid(details=[FieldError("until", MSG_UNTIL_BEFORE, {"since": residence.since.isoformat()})])
    if until > today:
        raise Invalid(details=[FieldError("until", MSG_SINCE_FUTURE)])
    residence.until = until
    session.flush()
    latest = session.execute(
        select(Region.id, Region.path)
        .join(Residence, Residence.room_id == Region.id)
        .where(Residence.person_id == residence.person_id, Residence.until.is_(None))
        .order_by(Residence.since.desc(), Residence.id.desc())
        .limit(1)
    ).first()
    person = session.get(Person, residence.person_id)
    if latest is not None and person is not None:
        person.region_id, person.region_path = int(latest[0]), str(latest[1])
    bus.publish(session, ResidenceChanged(person_id=residence.person_id, room_id=room.id, change="moved_out"))
    session.flush()
    return residence


@dataclass
class ResidenceView:
    residence: Residence
    room_name: str
    address: str


def residences_of(session: Session, actor: Actor, person_id: int) -> list[ResidenceView]:
    person = get_person(session, actor, person_id)
    rows = session.execute(
        select(Residence, Region)
        .join(Region, Region.id == Residence.room_id)
        .where(Residence.person_id == person.id)
        .order_by(Residence.until.is_not(None), Residence.since.desc())
    ).all()
    lines = addresses(session, [room for _, room in rows], within=actor.scope_path)
    return [ResidenceView(res, room.name, lines[room.id]) for res, room in rows]


_ADDRESS_SKIP = frozenset({"city", "district", "street"})


def addresses(session: Session, regions: Sequence[Region], *, within: str | None = None) -> dict[int, str]:
    """小区 楼栋 单元 房 for each region (coarser levels only when inside ``within``), in one query."""
    chains = {r.id: [int(p) for p in r.path.strip("/").split("/") if p] for r in regions}
    ids = {i for chain in chains.values() for i in chain}
    found = (
        {
            int(i): (str(n), str(lvl), str(p))
            for i, n, lvl, p in session.execute(
                select(Region.id, Region.name, Region.level, Region.path).where(Region.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    out = {}
    for rid, chain in chains.items():
        parts = [
            found[i][0]
            for i in chain
            if i in found
            and found[i][1] not in _ADDRESS_SKIP
            and (within is None or i == rid or found[i][2].startswith(within))
        ]
        out[rid] = " ".join(parts)
    return out


def address(session: Session, region: Region, *, within: str | None = None) -> str:
    return addresses(session, [region], within=within)[region.id]


@dataclass
class Member:
    residence: Residence
    person: Person


@dataclass
class HouseholdView:
    household: Household
    address: str
    members: list[Member]


def get_household(session: Session, actor: Actor, household_id: int) -> HouseholdView:
    household = session.get(Household, household_id)
    if household is None or not actor.covers(household.region_path):
        raise NotFound()
    actor.require("household:read", region=household.region_path)
    room = session.get(Region, household.room_id)
    members = [
        Member(res, person)
        for res, person in session.execute(
            select(Residence, Person)
            .join(Person, Person.id == Residence.person_id)
            .where(Residence.household_id == household.id, Residence.until.is_(None))
            .order_by(Residence.since, Person.id)
        ).all()
    ]
    return HouseholdView(household, address(session, room, within=actor.scope_path) if room else "", members)


@dataclass
class HouseholdRow:
    household: Household
    address: str
    members: int


def list_households(
    session: Session, actor: Actor, params: PageParams, *, region_id: int | None = None
) -> tuple[list[HouseholdRow], int | None]:
    actor.require("household:read")
    path = visible_region(session, actor, region_id).path if region_id is not None else actor.scope_path
    actor.require("household:read", region=path)
    query = (
        select(Household)
        .where(subtree_clause(Household.region_path, path))
        .order_by(Household.region_path, Household.id)
    )
    rows, total = fetch_page(session, query, params)
    counts = dict(
        session.execute(
            select(Residence.household_id, func.count())
            .where(Residence.household_id.in_([h.id for h in rows]), Residence.until.is_(None))
            .group_by(Residence.household_id)
        ).all()
    )
    rooms = list(session.scalars(select(Region).where(Region.id.in_([h.room_id for h in rows]))))
    lines = addresses(session, rooms, within=path)
    out = [HouseholdRow(h, lines.get(h.room_id, ""), int(counts.get(h.id, 0))) for h in rows]
    return out, total
