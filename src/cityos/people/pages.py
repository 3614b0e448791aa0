"""HTML pages of people: the resident list of the chosen region, a resident's card with the
audited reveal, registration, move-out, and a resident's own record (/me)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import DomainError, Invalid, NotFound
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.pagination import PageParams
from cityos.identity.deps import CurrentActor
from cityos.people import residences as residences_
from cityos.people import service
from cityos.people.models import Gender, Person, Relation, Tag
from cityos.people.schemas import PersonRead
from cityos.places.models import Region, RegionLevel
from cityos.web.forms import field_errors, refused
from cityos.web.shell import PageActor, current_region, page_actor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 30
MAX_ROOM_CHOICES = 30

TAG_LABELS: dict[str, str] = {
    Tag.ELDERLY: N_("Elderly (60+)"),
    Tag.LIVING_ALONE: N_("Living alone"),
    Tag.DISABLED: N_("Disabled"),
    Tag.PREGNANT: N_("Pregnant"),
    Tag.KEY_GROUP: N_("Key group"),
    Tag.LOW_INCOME: N_("Low income"),
    Tag.VETERAN: N_("Veteran"),
    Tag.CHILD: N_("Minor"),
    Tag.PARTY_MEMBER: N_("Party member"),
    Tag.VOLUNTEER: N_("Volunteer"),
}
GENDER_LABELS: dict[str, str] = {Gender.MALE: N_("Male"), Gender.FEMALE: N_("Female"), Gender.UNKNOWN: N_("Unknown")}
RELATION_LABELS: dict[str, str] = {
    Relation.OWNER: N_("Owner"),
    Relation.TENANT: N_("Tenant"),
    Relation.FAMILY: N_("Family member"),
    Relation.COLLECTIVE: N_("Collective household"),
}
HAND_SET_TAGS = [t.value for t in Tag if t.value not in service.AGE_TAGS]


def _labels() -> dict[str, Any]:
    return {
        "tag_labels": TAG_LABELS,
        "gender_labels": GENDER_LABELS,
        "relation_labels": RELATION_LABELS,
        "hand_set_tags": HAND_SET_TAGS,
    }


def _reads(session: Session, page: service.PersonPage) -> list[PersonRead]:
    today = date.today()
    return [
        PersonRead.of(
            p,
            tags=page.tags.get(p.id, []),
            region_name=page.regions.get(p.region_id) if p.region_id is not None else None,
            today=today,
        )
        for p in page.items
    ]


@router.get("/people", response_class=HTMLResponse)
def people_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    tag: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Residents of the region chosen in the switcher, masked; HTMX swaps only the table."""
    region = current_region(request, session, actor)
    filters = service.PersonFilter(
        region_id=region.id if region else None,
        tag=tag if tag in TAG_LABELS else None,
        q=q.strip() or None,
        moved_out={"moved_out": True, "current": False}.get(status),
    )
    result = service.list_people(session, actor, PageParams(page=page, size=PER_PAGE), filters)
    total = result.total or 0
    context = {
        "region": region,
        "people": _reads(session, result),
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
        "tag": filters.tag or "",
        "q": q,
        "status": status,
        "can_write": actor.can("person:write", region=region.path if region else None),
        **_labels(),
    }
    template = "people/_table.html" if request.headers.get("hx-request") else "people/list.html"
    return render(request, template, context)


def _room_choices(session: Session, actor: Actor, region: Region | None, q: str) -> list[tuple[int, str]]:
    """Rooms under the chosen region whose name (or its building's) matches, with addresses."""
    if region is None:
        return []
    query = select(Region).where(subtree_clause(Region.path, region.path), Region.level == RegionLevel.ROOM)
    if q.strip():
        query = query.where(Region.name.contains(q.strip(), autoescape=True))
    rooms = list(session.scalars(query.order_by(Region.path).limit(MAX_ROOM_CHOICES)))
    lines = residences_.addresses(session, rooms, within=actor.scope_path)
    return [(r.id, lines[r.id]) for r in rooms]


@router.get("/people/rooms", response_class=HTMLResponse)
def room_picker(
    request: Request, session: DbSession, actor: PageActor, q: Annotated[str, Query(max_length=32)] = ""
) -> HTMLResponse:
    region = current_region(request, session, actor)
    return render(request, "people/_rooms.html", {"rooms": _room_choices(session, actor, region, q)})


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    region = current_region(request, session, actor)
    context = {
        "values": values,
        "errors": errors,
        "rooms": _room_choices(session, actor, region, ""),
        "region": region,
        **_labels(),
    }
    return render(request, "people/new.html", context, status_code=status_code)


@router.get("/people/new", response_class=HTMLResponse)
def new_person(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    actor.require("person:write")
    return _form_page(request, session, actor, values={"relation": Relation.FAMILY.value}, errors={})


@router.post("/people/new", response_class=HTMLResponse)
def create_person(
    request: Request,
    session: DbSession,
    actor: PageActor,
    name: Annotated[str, Form(max_length=200)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    gender: Annotated[str, Form(max_length=16)] = "",
    birth_date: Annotated[str, Form(max_length=16)] = "",
    room_id: Annotated[str, Form(max_length=16)] = "",
    relation: Annotated[str, Form(max_length=16)] = "",
    tags: Annotated[list[str] | None, Form()] = None,
) -> Response:
    values = {
        "name": name,
        "id_number": id_number,
        "phone": phone,
        "gender": gender,
        "birth_date": birth_date,
        "room_id": room_id,
        "relation": relation,
        "tags": tags or [],
    }
    errors: dict[str, str] = {}
    birth: date | None = None
    if birth_date:
        try:
            birth = date.fromisoformat(birth_date)
        except ValueError:
            errors["birth_date"] = translate("Must be a date like 2024-05-01.")
    if not room_id.isdigit():
        errors["room_id"] = translate("Choose the room the resident lives in.")
    if errors:
        return _form_page(request, session, actor, values=values, errors=errors, status_code=422)
    try:
        person = service.create_person(
            session,
            actor,
            data={
                "name": name,
                "id_number": id_number or None,
                "phone": phone or None,
                "gender": gender or None,
                "birth_date": birth,
                "tags": tags or [],
            },
            region_id=int(room_id),
            relation=relation or None,
        )
    except DomainError as exc:
        fields = refused(request, session, actor, exc)
        fields.update({"room_id": fields.pop("region_id")} if "region_id" in fields else {})
        return _form_page(request, session, actor, values=values, errors=fields, status_code=exc.status_code)
    return RedirectResponse(f"/people/{person.id}?created=1", status_code=303)


def _card_context(session: Session, actor: Actor, person: Person) -> dict[str, Any]:
    tags = service.tags_of(session, [person.id]).get(person.id, [])
    names = service.region_names(session, [person.region_id])
    read = PersonRead.of(
        person,
        tags=tags,
        region_name=names.get(person.region_id) if person.region_id is not None else None,
        today=date.today(),
    )
    residences = residences_.residences_of(session, actor, person.id)
    household = None
    current = [r for r in residences if r.residence.until is None]
    if current and current[0].residence.household_id is not None and actor.can("household:read"):
        try:
            household = residences_.get_household(session, actor, current[0].residence.household_id)
        except NotFound:
            household = None
    region_path = person.region_path
    return {
        "person": read,
        "residences": residences,
        "household": household,
        "can_reveal": actor.can("pii:read", region=region_path),
        "can_write": actor.can("person:write", region=region_path) and actor.person_id != person.id,
        "can_move": actor.can("household:write", region=region_path),
        **_labels(),
    }


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_card(
    person_id: int, request: Request, session: DbSession, actor: CurrentActor, created: int = 0
) -> HTMLResponse:
    # The scoped read first, so a 404 renders before the layout loads anything.
    person = service.get_person(session, actor, person_id)
    page_actor(request, session, actor)
    return render(request, "people/card.html", {**_card_context(session, actor, person), "created": created})


@router.post("/people/{person_id}/reveal", response_class=HTMLResponse)
def reveal(
    person_id: int,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """HTMX: the full numbers, in place of the masked ones; the read is audited."""
    shown = service.reveal_person(session, actor, person_id, reason=reason.strip() or None)
    return render(request, "people/_revealed.html", {"shown": shown})


@router.post("/people/{person_id}/edit", response_class=HTMLResponse)
def edit_person(
    person_id: int,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    name: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    tags: Annotated[list[str] | None, Form()] = None,
) -> Response:
    data: dict[str, Any] = {"name": name, "tags": tags or []}
    if phone.strip() and "*" not in phone:  # the masked value coming back means "unchanged"
        data["phone"] = phone
    try:
        service.update_person(session, actor, person_id=person_id, data=data)
    except Invalid as exc:
        session.rollback()
        person = service.get_person(session, actor, person_id)
        page_actor(request, session, actor)
        context = {**_card_context(session, actor, person), "edit_errors": field_errors(exc)}
        return render(request, "people/card.html", context, status_code=422)
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.post("/people/{person_id}/residences/{residence_id}/end")
def move_out(person_id: int, residence_id: int, session: DbSession, actor: CurrentActor) -> Response:
    service.get_person(session, actor, person_id)
    residences_.end_residence(session, actor, residence_id=residence_id)
    return RedirectResponse(f"/people/{person_id}", status_code=303)


@router.get("/me", response_class=HTMLResponse)
def my_record(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """A resident's own record: what the city holds about them, masked."""
    if actor.person_id is None:
        return render(request, "people/me.html", {"person": None})
    person = service.get_person(session, actor, actor.person_id)
    return render(request, "people/me.html", _card_context(session, actor, person))
