"""一屏观社区: the community dashboard of 人地事物情 for one region, and the drill-down to a
building's units and rooms. Plain functions taking a session; they flush, never commit.

Who sees what: ``community:read`` over the region (community staff, street observers, grid
workers, commanders). A region outside the actor's subtree is not found (404) before any
permission is checked. Figures are counts only; a building's drill-down lists its residents by
masked name (张*) to holders of ``person:read`` and only counts to the others; each drill-down
writes an audit row. Unmasking goes through the people module's audited reveal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.community.dashboard import figures
from cityos.community.dashboard.situation import Part, situation
from cityos.core import audit
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import DomainError, Forbidden, NotFound
from cityos.core.i18n import N_, translate
from cityos.core.settings import get_settings
from cityos.people.models import Person, PersonTag, Residence
from cityos.people.pii import mask_name
from cityos.places.models import Region, RegionLevel

log = structlog.get_logger(__name__)

PERMISSION = "community:read"
MSG_PANEL_FAILED = N_("This panel could not be loaded just now.")
MSG_PANEL_FORBIDDEN = N_("You may not see this panel.")
MSG_NOT_BUILDING = N_("Not a building.")
LEVEL_LABELS: dict[str, str] = {
    RegionLevel.CITY: N_("City"),
    RegionLevel.DISTRICT: N_("District"),
    RegionLevel.STREET: N_("Street"),
    RegionLevel.COMMUNITY: N_("Community"),
    RegionLevel.GRID: N_("Grid"),
    RegionLevel.ESTATE: N_("Estate"),
    RegionLevel.BUILDING: N_("Building"),
    RegionLevel.UNIT: N_("Unit"),
    RegionLevel.ROOM: N_("Room"),
}
OPEN_CASES_SHOWN = 10


def install(session: Session) -> None:
    """Installs what this sub-package ships (idempotent); called by ``cityos db upgrade``.

    The dashboard has no tables and nothing to install: it reads the other parts' records."""


def local_today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


# --- the region -------------------------------------------------------------------------------------


def resolve_region(session: Session, actor: Actor, region_id: int | None) -> Region:
    """The region to show: the one asked for, else the actor's scope; 404 outside the scope,
    403 without ``community:read`` over it."""
    target = region_id if region_id is not None else actor.scope_region_id
    region = session.get(Region, target) if target is not None else None
    if region is None or not actor.covers(region):
        raise NotFound()
    actor.require(PERMISSION, region=region)
    return region


@dataclass
class RegionRef:
    id: int
    name: str
    level: str
    level_label: str
    path: str


@dataclass
class Child:
    id: int
    name: str
    level: str


def _ref(region: Region) -> RegionRef:
    return RegionRef(
        region.id, region.name, region.level, translate(LEVEL_LABELS.get(region.level, region.level)), region.path
    )


def lineage(session: Session, actor: Actor, region: Region) -> list[RegionRef]:
    """The region's ancestors within the actor's scope, top first, then the region itself."""
    ids = [int(p) for p in region.path.strip("/").split("/") if p]
    rows = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}
    return [_ref(rows[i]) for i in ids if i in rows and actor.covers(rows[i])]


def children(session: Session, region: Region, *, limit: int = 200) -> list[Child]:
    """The parts of the region to drill into (down to estates; buildings are on the map)."""
    if region.level not in (
        RegionLevel.CITY,
        RegionLevel.DISTRICT,
        RegionLevel.STREET,
        RegionLevel.COMMUNITY,
        RegionLevel.GRID,
    ):
        return []
    rows = session.execute(
        select(Region.id, Region.name, Region.level)
        .where(Region.parent_id == region.id)
        .order_by(Region.code)
        .limit(limit)
    ).all()
    return [Child(int(i), str(n), str(lv)) for i, n, lv in rows]


# --- the dashboard ------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    region: RegionRef
    lineage: list[RegionRef]
    children: list[Child]
    generated_at: datetime
    today: date
    people: figures.People | None
    places: figures.Places | None
    cases: figures.Cases | None
    things: figures.Things | None
    situation: list[Part]
    errors: dict[str, str] = field(default_factory=dict)  # panel → why it is empty


def _panel(session: Session, errors: dict[str, str], name: str, build: Any) -> Any:
    """One panel, inside a SAVEPOINT: a failure empties that panel only."""
    try:
        with session.begin_nested():
            return build()
    except Forbidden:
        errors[name] = translate(MSG_PANEL_FORBIDDEN)
    except DomainError as exc:
        log.warning("community.dashboard.panel_refused", panel=name, error=exc.code)
        errors[name] = translate(MSG_PANEL_FAILED)
    except Exception as exc:  # a broken panel must not take the others down
        log.warning("community.dashboard.panel_failed", panel=name, error=type(exc).__name__)
        errors[name] = translate(MSG_PANEL_FAILED)
    return None


def dashboard(
    session: Session,
    actor: Actor,
    *,
    region_id: int | None = None,
    today: date | None = None,
    now: datetime | None = None,
    max_buildings: int = figures.MAX_BUILDINGS,
) -> Dashboard:
    """人地事物情 of the region (default: the actor's scope): population structure and special groups,
    buildings for the 3D map with occupancy and open cases, cases, devices and the parts' KPIs."""
    region = resolve_region(session, actor, region_id)
    now = now or utcnow()
    today = today or local_today()
    path = region.path
    errors: dict[str, str] = {}
    people = _panel(session, errors, "people", lambda: figures.people(session, path, today))
    places = _panel(session, errors, "places", lambda: figures.places(session, path, max_buildings=max_buildings))
    cases = _panel(session, errors, "cases", lambda: figures.cases(session, actor, region, now))
    things = _panel(session, errors, "things", lambda: figures.things(session, path))
    return Dashboard(
        region=_ref(region),
        lineage=lineage(session, actor, region),
        children=children(session, region),
        generated_at=now,
        today=today,
        people=people,
        places=places,
        cases=cases,
        things=things,
        situation=situation(session, region),
        errors=errors,
    )


# --- drill-down: a building's units and rooms -------------------------------------------------------------


@dataclass
class Resident:
    person_id: int
    name: str  # masked
    relation: str | None
    relation_label: str | None
    tags: list[str]
    tag_labels: list[str]


@dataclass
class Room:
    id: int
    name: str
    residents_count: int
    occupied: bool
    residents: list[Resident]  # empty unless names are shown


@dataclass
class Unit:
    id: int
    name: str
    rooms: list[Room]


@dataclass
class OpenCase:
    id: int
    no: str
    title: str
    overdue: bool


@dataclass
class BuildingView:
    id: int
    name: str
    estate: str | None
    lineage: list[RegionRef]
    floors: int
    height: float
    rooms: int
    occupied_rooms: int
    residents: int
    names_shown: bool  # masked names listed (person:read); otherwise counts only
    units: list[Unit]
    open_cases: int
    cases: list[OpenCase]


def _sort_key(region: Region) -> tuple[int, str, int]:
    digits = "".join(ch for ch in region.name if ch.isdigit())
    return (int(digits) if digits else 10**9, region.name, region.id)


def building(
    session: Session, actor: Actor, *, building_id: int, today: date | None = None, now: datetime | None = None
) -> BuildingView:
    """A building's units and rooms with occupancy; residents by masked name for ``person:read``
    holders. Every drill-down is audited (``community.building.read``)."""
    found = session.get(Region, building_id)
    if found is None or not actor.covers(found) or found.level != RegionLevel.BUILDING:
        raise NotFound(MSG_NOT_BUILDING if found is not None and actor.covers(found) else None)
    actor.require(PERMISSION, region=found)
    today = today or local_today()
    now = now or utcnow()
    names_shown = actor.can("person:read", region=found)

    below = session.scalars(
        select(Region).where(
            subtree_clause(Region.path, found.path), Region.level.in_((RegionLevel.UNIT, RegionLevel.ROOM))
        )
    ).all()
    units = {r.id: r for r in below if r.level == RegionLevel.UNIT}
    rooms = sorted((r for r in below if r.level == RegionLevel.ROOM), key=_sort_key)
    people = session.execute(
        select(Person.id, Person.name, Person.region_id)
        .where(subtree_clause(Person.region_path, found.path))
        .order_by(Person.id)
    ).all()
    by_room: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pid, name, room_id in people:
        if room_id is not None:
            by_room[int(room_id)].append((int(pid), str(name)))
    relations: dict[tuple[int, int], str] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    if names_shown and people:
        person_ids = [int(p[0]) for p in people]
        current = or_(Residence.until.is_(None), Residence.until > today)
        for pid, room_id, relation in session.execute(
            select(Residence.person_id, Residence.room_id, Residence.relation).where(
                Residence.person_id.in_(person_ids), current
            )
        ):
            relations[(int(pid), int(room_id))] = str(relation)
        for pid, tag in session.execute(
            select(PersonTag.person_id, PersonTag.tag)
            .where(PersonTag.person_id.in_(person_ids))
            .order_by(PersonTag.tag)
        ):
            tags[int(pid)].append(str(tag))

    grouped: dict[int, list[Room]] = defaultdict(list)
    for room in rooms:
        living = by_room.get(room.id, [])
        residents = []
        if names_shown:
            for pid, name in living:
                held = relations.get((pid, room.id))
                residents.append(
                    Resident(
                        person_id=pid,
                        name=mask_name(name),
                        relation=held,
                        relation_label=translate(figures.RELATION_LABELS[held])
                        if held in figures.RELATION_LABELS
                        else held,
                        tags=tags.get(pid, []),
                        tag_labels=[translate(figures.TAG_LABELS.get(t) or t) for t in tags.get(pid, [])],
                    )
                )
        grouped[room.parent_id or found.id].append(Room(room.id, room.name, len(living), bool(living), residents))
    unit_views = [Unit(u.id, u.name, grouped.get(u.id, [])) for u in sorted(units.values(), key=_sort_key)]
    if grouped.get(found.id):  # rooms straight under the building, without a unit
        unit_views.insert(0, Unit(found.id, found.name, grouped[found.id]))

    open_rows = session.scalars(
        select(Case)
        .where(subtree_clause(Case.region_path, found.path), Case.closed_at.is_(None), Case.duplicate_of.is_(None))
        .order_by(Case.created_at.desc())
    ).all()
    estate = session.get(Region, found.parent_id) if found.parent_id is not None else None
    floors = figures.floors_of(found)
    occupied = sum(1 for r in rooms if by_room.get(r.id))
    audit.record(
        session,
        actor,
        "community.building.read",
        subject_type="region",
        subject_id=found.id,
        fields=["name", "relation", "tags"] if names_shown else None,
        detail=f"residents={len(people)} names={'masked' if names_shown else 'none'}",
    )
    return BuildingView(
        id=found.id,
        name=found.name,
        estate=estate.name if estate is not None else None,
        lineage=lineage(session, actor, found),
        floors=floors,
        height=floors * figures.METRES_PER_FLOOR,
        rooms=len(rooms),
        occupied_rooms=occupied,
        residents=len(people),
        names_shown=names_shown,
        units=unit_views,
        open_cases=len(open_rows),
        cases=[
            OpenCase(c.id, c.no, c.title, bool(c.due_at is not None and c.due_at < now))
            for c in open_rows[:OPEN_CASES_SHOWN]
        ]
        if actor.can("case:read", region=found)
        else [],
    )
