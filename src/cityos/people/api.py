"""JSON routes of people: residents, households and residences. Organisations and departments
are in ``people.orgs.api``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import NotFound
from cityos.core.http import DbSession
from cityos.core.pagination import PageQuery
from cityos.identity.deps import CurrentActor
from cityos.people import residences, service
from cityos.people.models import Gender, Person, Residence, Tag
from cityos.people.schemas import (
    HouseholdPage,
    HouseholdRead,
    HouseholdRow,
    MemberRead,
    PersonCreate,
    PersonLookup,
    PersonPage,
    PersonPii,
    PersonRead,
    PersonUpdate,
    ResidenceCreate,
    ResidenceEnd,
    ResidenceRead,
    RevealIn,
)

router = APIRouter(prefix="/api/v1", tags=["people"])


def _read(session: Session, person: Person) -> PersonRead:
    tags = service.tags_of(session, [person.id]).get(person.id, [])
    names = service.region_names(session, [person.region_id])
    region_name = names.get(person.region_id) if person.region_id is not None else None
    return PersonRead.of(person, tags=tags, region_name=region_name, today=date.today())


def _residence(res: Residence, address: str | None = None) -> ResidenceRead:
    return ResidenceRead(
        id=res.id,
        person_id=res.person_id,
        room_id=res.room_id,
        household_id=res.household_id,
        relation=res.relation,
        since=res.since,
        until=res.until,
        address=address,
    )


@router.get("/people", response_model=PersonPage)
def list_people(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    region_id: int | None = None,
    tag: Tag | None = None,
    gender: Gender | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    moved_out: bool | None = None,
) -> PersonPage:
    """Residents of your area (or of one region in it), masked, room by room."""
    filters = service.PersonFilter(
        region_id=region_id,
        tag=tag.value if tag else None,
        q=q,
        gender=gender.value if gender else None,
        moved_out=moved_out,
    )
    page = service.list_people(session, actor, params, filters)
    today = date.today()
    items = [
        PersonRead.of(
            p,
            tags=page.tags.get(p.id, []),
            region_name=page.regions.get(p.region_id) if p.region_id is not None else None,
            today=today,
        )
        for p in page.items
    ]
    return PersonPage(items=items, page=params.page, size=params.size, total=page.total)


@router.post("/people", response_model=PersonRead, status_code=201)
def create_person(body: PersonCreate, session: DbSession, actor: CurrentActor) -> PersonRead:
    data: dict[str, Any] = body.model_dump(include={"name", "id_number", "phone", "birth_date"})
    data["gender"] = body.gender.value if body.gender else None
    data["tags"] = [t.value for t in body.tags]
    person = service.create_person(
        session,
        actor,
        data=data,
        region_id=body.region_id,
        relation=body.relation.value if body.relation else None,
        since=body.since,
        household_id=body.household_id,
    )
    return _read(session, person)


@router.post("/people/lookup", response_model=list[PersonRead])
def lookup_people(body: PersonLookup, session: DbSession, actor: CurrentActor) -> list[PersonRead]:
    """Residents of your area with this identity number or phone (exact match)."""
    return [_read(session, p) for p in service.lookup(session, actor, id_number=body.id_number, phone=body.phone)]


@router.get("/people/{person_id}", response_model=PersonRead)
def get_person(person_id: int, session: DbSession, actor: CurrentActor) -> PersonRead:
    return _read(session, service.get_person(session, actor, person_id))


@router.patch("/people/{person_id}", response_model=PersonRead)
def update_person(person_id: int, body: PersonUpdate, session: DbSession, actor: CurrentActor) -> PersonRead:
    data: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "gender":
            value = value.value if value else None
        elif name == "tags":
            value = [t.value for t in value] if value is not None else None
        data[name] = value
    return _read(session, service.update_person(session, actor, person_id=person_id, data=data))


@router.post("/people/{person_id}/reveal", response_model=PersonPii)
def reveal_person(person_id: int, body: RevealIn, session: DbSession, actor: CurrentActor) -> PersonPii:
    """The unmasked identity number and phone. Needs pii:read; every call is written to the audit log."""
    shown = service.reveal_person(session, actor, person_id, reason=body.reason)
    return PersonPii(person_id=shown.person_id, id_number=shown.id_number, phone=shown.phone)


@router.get("/people/{person_id}/residences", response_model=list[ResidenceRead])
def list_residences(person_id: int, session: DbSession, actor: CurrentActor) -> list[ResidenceRead]:
    return [_residence(v.residence, v.address) for v in residences.residences_of(session, actor, person_id)]


@router.post("/people/{person_id}/residences", response_model=ResidenceRead, status_code=201)
def add_residence(person_id: int, body: ResidenceCreate, session: DbSession, actor: CurrentActor) -> ResidenceRead:
    res = residences.add_residence(
        session,
        actor,
        person_id=person_id,
        room_id=body.room_id,
        relation=body.relation.value,
        since=body.since,
        household_id=body.household_id,
    )
    return _residence(res)


@router.post("/residences/{residence_id}/end", response_model=ResidenceRead)
def end_residence(residence_id: int, body: ResidenceEnd, session: DbSession, actor: CurrentActor) -> ResidenceRead:
    return _residence(residences.end_residence(session, actor, residence_id=residence_id, until=body.until))


@router.get("/households", response_model=HouseholdPage)
def list_households(
    session: DbSession, actor: CurrentActor, params: PageQuery, region_id: int | None = None
) -> HouseholdPage:
    rows, total = residences.list_households(session, actor, params, region_id=region_id)
    items = [
        HouseholdRow(
            id=r.household.id,
            room_id=r.household.room_id,
            address=r.address,
            head_person_id=r.household.head_person_id,
            members=r.members,
        )
        for r in rows
    ]
    return HouseholdPage(items=items, page=params.page, size=params.size, total=total)


@router.get("/households/{household_id}", response_model=HouseholdRead)
def get_household(household_id: int, session: DbSession, actor: CurrentActor) -> HouseholdRead:
    view = residences.get_household(session, actor, household_id)
    return HouseholdRead(
        id=view.household.id,
        room_id=view.household.room_id,
        address=view.address,
        head_person_id=view.household.head_person_id,
        members=[
            MemberRead(
                person_id=m.person.id,
                name=m.person.name,
                relation=m.residence.relation,
                since=m.residence.since,
                head=m.person.id == view.household.head_person_id,
            )
            for m in view.members
        ],
    )


def _me(session: Session, actor: Actor) -> Person:
    if actor.person_id is None:
        raise NotFound()
    return service.get_person(session, actor, actor.person_id)


@router.get("/me", response_model=PersonRead)
def get_me(session: DbSession, actor: CurrentActor) -> PersonRead:
    """Your own resident record (masked); 404 for an account without one."""
    return _read(session, _me(session, actor))


@router.get("/me/residences", response_model=list[ResidenceRead])
def get_my_residences(session: DbSession, actor: CurrentActor) -> list[ResidenceRead]:
    person = _me(session, actor)
    return [_residence(v.residence, v.address) for v in residences.residences_of(session, actor, person.id)]
