"""Residents and their tags (人口登记); moving in and out, addresses and households are in
``people.residences``.

Every read is scoped by the actor's region subtree through ``Person.region_path`` (the room or
coarser region where the person lives), every write asserts ``person:write`` or
``household:write`` on the region it touches. Identity numbers and phones are sealed by
``people.pii``; nothing here returns plaintext except ``reveal_person``, which audits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.people import pii, validation
from cityos.people.events import PersonRegistered, ResidenceChanged
from cityos.people.models import Gender, Household, Person, PersonTag, Relation, Residence, Tag
from cityos.places.models import Region, RegionLevel

ELDERLY_AGE = 60
ADULT_AGE = 18
AGE_TAGS = frozenset({Tag.ELDERLY.value, Tag.CHILD.value})
MAX_NAME = 64

MSG_REQUIRED = N_("This field is required.")
MSG_NAME = N_("Enter a name of 1 to {max_length} characters.")
MSG_ID_TAKEN = N_("A resident with this identity number is already registered.")
MSG_GENDER = N_("Must be one of: {expected}.")
MSG_BIRTH_FUTURE = N_("The birth date cannot be in the future.")
MSG_BIRTH_MISMATCH = N_("The birth date does not match the identity number.")
MSG_TAG = N_("Unknown tag {tag}; use one of: {expected}.")
MSG_AGE_TAG = N_("The tag {tag} follows from the birth date and cannot be set by hand.")
MSG_REGION = N_("The region does not exist or is outside your area.")
MSG_RELATION = N_("Must be one of: {expected}.")
MSG_SINCE_FUTURE = N_("The move-in date cannot be in the future.")
MSG_HOUSEHOLD_ROOM = N_("That household is registered at another room.")
MSG_LOOKUP = N_("Give an identity number or a mobile number.")

_SPACES = re.compile(r"\s+")


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def age_tags(birth: date | None, today: date) -> set[str]:
    if birth is None:
        return set()
    age = age_on(birth, today)
    if age >= ELDERLY_AGE:
        return {Tag.ELDERLY.value}
    if age < ADULT_AGE:
        return {Tag.CHILD.value}
    return set()


# --- reading -------------------------------------------------------------------------------------


def visible_region(session: Session, actor: Actor, region_id: int) -> Region:
    region = session.get(Region, region_id)
    if region is None or not actor.covers(region):
        raise NotFound()
    return region


def get_visible(session: Session, actor: Actor, person_id: int) -> Person:
    """The person if they live in the actor's subtree (or are the actor); ``NotFound`` otherwise."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound()
    if actor.person_id == person.id:
        return person
    if person.region_path is None or not actor.covers(person.region_path):
        raise NotFound()
    return person


def get_person(session: Session, actor: Actor, person_id: int) -> Person:
    person = get_visible(session, actor, person_id)
    if actor.person_id == person.id:
        actor.require("self:read")
    else:
        actor.require("person:read", region=person.region_path)
    return person


def tags_of(session: Session, person_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    if person_ids:
        rows = session.execute(
            select(PersonTag.person_id, PersonTag.tag)
            .where(PersonTag.person_id.in_(list(person_ids)))
            .order_by(PersonTag.tag)
        )
        for pid, tag in rows:
            out[int(pid)].append(str(tag))
    return out


def region_names(session: Session, region_ids: Sequence[int | None]) -> dict[int, str]:
    ids = sorted({r for r in region_ids if r is not None})
    if not ids:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(Region.id, Region.name).where(Region.id.in_(ids)))}


@dataclass
class PersonFilter:
    region_id: int | None = None
    tag: str | None = None
    q: str | None = None
    gender: str | None = None
    moved_out: bool | None = None  # True: no current residence (流出); False: living here now


def _active_residence() -> Any:
    return exists().where(Residence.person_id == Person.id, Residence.until.is_(None))


def person_query(session: Session, actor: Actor, filters: PersonFilter) -> Select[Person]:
    actor.require("person:read")
    path = actor.scope_path
    if filters.region_id is not None:
        path = visible_region(session, actor, filters.region_id).path
    actor.require("person:read", region=path)
    query = select(Person).where(subtree_clause(Person.region_path, path))
    if filters.tag:
        query = query.where(exists().where(PersonTag.person_id == Person.id, PersonTag.tag == filters.tag))
    if filters.q:
        query = query.where(Person.name.contains(filters.q.strip(), autoescape=True))
    if filters.gender:
        query = query.where(Person.gender == filters.gender)
    if filters.moved_out is True:
        query = query.where(~_active_residence())
    elif filters.moved_out is False:
        query = query.where(_active_residence())
    # region_path first keeps the scan on ix_person_region_path_id and lists a building room by room.
    return query.order_by(Person.region_path, Person.id)


@dataclass
class PersonPage:
    items: list[Person]
    total: int | None
    tags: dict[int, list[str]]
    regions: dict[int, str]


def list_people(
    session: Session, actor: Actor, params: PageParams, filters: PersonFilter | None = None, *, count: bool = True
) -> PersonPage:
    query = person_query(session, actor, filters or PersonFilter())
    # The region's name and the tags come with the row: one statement for the page.
    tags = (
        select(func.aggregate_strings(PersonTag.tag, ","))
        .where(PersonTag.person_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )
    named = query.add_columns(Region.name, tags).outerjoin(Region, Region.id == Person.region_id)
    rows = session.execute(named.limit(params.size).offset(params.offset)).all()
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) if count else None
    people = [row[0] for row in rows]
    names = {int(p.region_id): str(name) for p, name, _ in rows if p.region_id is not None and name is not None}
    tag_lists = {p.id: sorted(t.split(",")) for p, _, t in rows if t}
    return PersonPage(people, total, tag_lists, names)


def lookup(session: Session, actor: Actor, *, id_number: str | None = None, phone: str | None = None) -> list[Person]:
    """Residents in scope with this identity number or phone (exact match through the blind index)."""
    actor.require("person:read")
    if not id_number and not phone:
        raise Invalid(details=[FieldError("id_number", MSG_LOOKUP)])
    query = select(Person).where(actor.scope_clause(Person.region_path))
    if id_number:
        value = validation.normalise_id_number(id_number)
        error = validation.id_number_error(value)
        if error:
            raise Invalid(details=[FieldError("id_number", error)])
        query = query.where(Person.id_number_hash == pii.id_number_digest(value))
    if phone:
        value = validation.normalise_phone(phone)
        error = validation.phone_error(value)
        if error:
            raise Invalid(details=[FieldError("phone", error)])
        query = query.where(Person.phone_hash == pii.phone_digest(value))
    return list(session.scalars(query.order_by(Person.id).limit(20)))


def reveal_person(session: Session, actor: Actor, person_id: int, *, reason: str | None = None) -> pii.Revealed:
    """Unmasked identity number and phone: needs ``pii:read`` on the person's region; audited."""
    person = get_visible(session, actor, person_id)
    actor.require("pii:read", region=person.region_path)
    return pii.reveal(session, actor, person, reason=reason)


# --- writing persons -----------------------------------------------------------------------------


@dataclass
class _Checked:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)


def _check_person_fields(data: dict[str, Any], today: date, *, partial: bool) -> _Checked:
    out = _Checked()
    if "name" in data or not partial:
        name = _SPACES.sub(" ", str(data.get("name") or "")).strip()
        if not name or len(name) > MAX_NAME:
            out.errors.append(FieldError("name", MSG_NAME, {"max_length": MAX_NAME}))
        else:
            out.values["name"] = name
    if data.get("id_number"):
        value = validation.normalise_id_number(str(data["id_number"]))
        error = validation.id_number_error(value, today=today)
        if error:
            out.errors.append(FieldError("id_number", error))
        else:
            out.values["id_number"] = value
    if data.get("phone"):
        value = validation.normalise_phone(str(data["phone"]))
        error = validation.phone_error(value)
        if error:
            out.errors.append(FieldError("phone", error))
        else:
            out.values["phone"] = value
    if data.get("gender") is not None:
        if data["gender"] not in {g.value for g in Gender}:
            out.errors.append(FieldError("gender", MSG_GENDER, {"expected": ", ".join(g.value for g in Gender)}))
        else:
            out.values["gender"] = data["gender"]
    birth = data.get("birth_date")
    if birth is not None:
        if birth > today:
            out.errors.append(FieldError("birth_date", MSG_BIRTH_FUTURE))
        else:
            out.values["birth_date"] = birth
    if "tags" in data and data["tags"] is not None:
        tags: list[str] = []
        known = {t.value for t in Tag}
        for tag in data["tags"]:
            if tag not in known:
                out.errors.append(FieldError("tags", MSG_TAG, {"tag": tag, "expected": ", ".join(sorted(known))}))
            elif tag in AGE_TAGS:
                out.errors.append(FieldError("tags", MSG_AGE_TAG, {"tag": tag}))
            elif tag not in tags:
                tags.append(tag)
        out.values["tags"] = tags
    return out


def _derive_from_id(values: dict[str, Any], errors: list[FieldError]) -> None:
    """Birth date and sex follow from a real identity number. Demo numbers (18xx) carry a
    reserved date instead of the birth date, so they only fill the sex."""
    id_number = values.get("id_number")
    if not id_number:
        return
    info = validation.id_number_info(id_number)
    values.setdefault("gender", Gender.MALE.value if info.male else Gender.FEMALE.value)
    if info.birth.year < 1900:
        return
    given = values.get("birth_date")
    if given is None:
        values["birth_date"] = info.birth
    elif given != info.birth:
        errors.append(FieldError("birth_date", MSG_BIRTH_MISMATCH))


def _check_id_free(session: Session, id_number: str, *, except_id: int | None = None) -> FieldError | None:
    query = select(Person.id).where(Person.id_number_hash == pii.id_number_digest(id_number))
    if except_id is not None:
        query = query.where(Person.id != except_id)
    return FieldError("id_number", MSG_ID_TAKEN) if session.scalar(query) is not None else None


def create_person(
    session: Session,
    actor: Actor,
    *,
    data: dict[str, Any],
    region_id: int,
    relation: str | None = None,
    since: date | None = None,
    household_id: int | None = None,
    today: date | None = None,
) -> Person:
    """Register a resident (人口登记). When ``region_id`` is a room, a residence starts there.

    All fields are checked first and every problem is reported at once; nothing is written
    unless the whole record is valid.
    """
    today = today or date.today()
    actor.require("person:write")
    checked = _check_person_fields(data, today, partial=False)
    errors = checked.errors
    _derive_from_id(checked.values, errors)
    region = session.get(Region, region_id)
    if region is None or not actor.covers(region):
        errors.append(FieldError("region_id", MSG_REGION))
    if "id_number" in checked.values:
        taken = _check_id_free(session, checked.values["id_number"])
        if taken:
            raise Conflict(details=[taken, *errors])
    if region is not None and region.level == RegionLevel.ROOM:
        errors.extend(residence_errors(relation or Relation.FAMILY.value, since or today, today))
    if errors or region is None:
        raise Invalid(details=errors)
    actor.require("person:write", region=region)
    values = checked.values
    person = Person(
        name=values["name"],
        gender=values.get("gender", Gender.UNKNOWN.value),
        birth_date=values.get("birth_date"),
        region_id=region.id,
        region_path=region.path,
    )
    _seal(person, values)
    session.add(person)
    session.flush()
    _write_tags(session, person, set(values.get("tags", [])) | age_tags(person.birth_date, today))
    if region.level == RegionLevel.ROOM:
        start_residence(
            session,
            actor,
            person,
            room=region,
            relation=relation or Relation.FAMILY.value,
            since=since or today,
            household_id=household_id,
        )
    bus.publish(session, PersonRegistered(person_id=person.id, region_id=region.id))
    session.flush()
    return person


def _seal(person: Person, values: dict[str, Any]) -> None:
    if "id_number" in values:
        sealed = pii.seal_id_number(values["id_number"])
        person.id_number_enc, person.id_number_hash = sealed.ciphertext, sealed.digest
    if "phone" in values:
        sealed = pii.seal_phone(values["phone"])
        person.phone_enc, person.phone_hash = sealed.ciphertext, sealed.digest


def update_person(
    session: Session, actor: Actor, *, person_id: int, data: dict[str, Any], today: date | None = None
) -> Person:
    """Change the given fields; ``phone: null`` removes the phone. Tags, when given, replace the hand-set ones."""
    today = today or date.today()
    person = get_visible(session, actor, person_id)
    actor.require("person:write", region=person.region_path)
    checked = _check_person_fields(data, today, partial=True)
    errors = checked.errors
    values = checked.values
    if "id_number" in values:
        info = validation.id_number_info(values["id_number"])
        if info.birth.year >= 1900 and "birth_date" not in values:
            values["birth_date"] = info.birth
        _derive_from_id({**values, "gender": values.get("gender", person.gender)}, errors)
        taken = _check_id_free(session, values["id_number"], except_id=person.id)
        if taken:
            raise Conflict(details=[taken, *errors])
    if errors:
        raise Invalid(details=errors)
    for name in ("name", "gender", "birth_date"):
        if name in values:
            setattr(person, name, values[name])
    if "phone" in data and data["phone"] is None:
        person.phone_enc = person.phone_hash = None
    _seal(person, values)
    if "tags" in values or "birth_date" in values:
        current = set(tags_of(session, [person.id]).get(person.id, []))
        manual = set(values["tags"]) if "tags" in values else current - AGE_TAGS
        _write_tags(session, person, manual | age_tags(person.birth_date, today))
    session.flush()
    return person


def _write_tags(session: Session, person: Person, tags: set[str]) -> None:
    current = set(tags_of(session, [person.id]).get(person.id, []))
    for tag in current - tags:
        row = session.scalar(select(PersonTag).where(PersonTag.person_id == person.id, PersonTag.tag == tag))
        if row is not None:
            session.delete(row)
    for tag in sorted(tags - current):
        session.add(PersonTag(person_id=person.id, tag=tag))
    session.flush()


# --- starting a residence ------------------------------------------------------------------------
# Here rather than in people.residences because create_person starts one, and residences imports
# this module (not the other way round).


def residence_errors(relation: str, since: date, today: date) -> list[FieldError]:
    errors = []
    if relation not in {r.value for r in Relation}:
        errors.append(FieldError("relation", MSG_RELATION, {"expected": ", ".join(r.value for r in Relation)}))
    if since > today:
        errors.append(FieldError("since", MSG_SINCE_FUTURE))
    return errors


def start_residence(
    session: Session,
    actor: Actor,
    person: Person,
    *,
    room: Region,
    relation: str,
    since: date,
    household_id: int | None,
) -> Residence:
    if household_id is not None:
        household = session.get(Household, household_id)
        if household is None or household.room_id != room.id:
            raise Invalid(details=[FieldError("household_id", MSG_HOUSEHOLD_ROOM)])
    else:
        household = session.scalar(select(Household).where(Household.room_id == room.id).order_by(Household.id))
        if household is None:
            household = Household(room_id=room.id, region_path=room.path, head_person_id=person.id)
            session.add(household)
            session.flush()
    residence = Residence(
        person_id=person.id, room_id=room.id, household_id=household.id, relation=relation, since=since
    )
    session.add(residence)
    person.region_id, person.region_path = room.id, room.path
    session.flush()
    bus.publish(session, ResidenceChanged(person_id=person.id, room_id=room.id, change="moved_in"))
    return residence
