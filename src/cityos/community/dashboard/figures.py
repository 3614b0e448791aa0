"""The queries behind 一屏观社区, one per panel of 人地事物情, each over one region subtree.

Every figure is a count or a share; no query here returns a person's name or number. The
per-building figures (rooms, occupied rooms, residents) are grouped in SQL by the rooms' parents and
open cases are bucketed from materialised paths, so a community of 20,000 residents costs a handful
of index range scans.

Definitions:
- residents: persons whose current place (``Person.region_path``) lies in the subtree.
- households: ``Household`` rows registered at rooms in the subtree.
- owners, tenants …: persons with a current residence (``until`` empty or later than today) in a
  room of the subtree, by the residence's relation (a person counted once per relation).
- age bands: 5-year bands of the age on ``today`` (0–4 … 95–99, 100+), by gender.
- occupied room: a room where at least one resident lives; occupancy = occupied / rooms; a
  building's residents are the residents of its rooms.
- open case: a case in the subtree that is not closed and not merged into another; overdue: open
  past its due time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from cityos.cases import dashboard as case_dashboard
from cityos.cases.models import Case, Category
from cityos.core.actor import Actor, subtree_clause
from cityos.core.i18n import N_, translate
from cityos.people.models import Gender, Household, Person, PersonTag, Relation, Residence, Tag
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.devices.service import status_counts
from cityos.places.models import Region, RegionLevel

BAND_YEARS = 5
TOP_BAND = 100  # 100+ is the last band
ELDERLY_AGE = 60
METRES_PER_FLOOR = 3.0
MAX_BUILDINGS = 2000  # above this the map asks for a smaller area instead of drawing them all
CASE_PERIOD_DAYS = 30
ATTENTION_LIMIT = 10

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
RELATION_LABELS: dict[str, str] = {
    Relation.OWNER: N_("Owner"),
    Relation.TENANT: N_("Tenant"),
    Relation.FAMILY: N_("Family member"),
    Relation.COLLECTIVE: N_("Collective household"),
}
STATUS_LABELS: dict[str, str] = {
    DeviceStatus.ONLINE: N_("Online now"),
    DeviceStatus.OFFLINE: N_("Offline"),
    DeviceStatus.FAULT: N_("Fault"),
    DeviceStatus.ALARM: N_("Alarm"),
}
KIND_LABELS: dict[str, str] = {
    "gate": N_("Gates"),
    "camera": N_("Cameras"),
    "parking_spot": N_("Parking spaces"),
    "locker": N_("Parcel lockers"),
    "bin": N_("Waste bins"),
    "meter_water": N_("Water meters"),
    "meter_power": N_("Power meters"),
    "elevator": N_("Elevators"),
    "pump": N_("Pumps"),
    "fire_panel": N_("Fire panels"),
    "light": N_("Lights"),
    "loop_detector": N_("Loop detectors"),
}


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def band_labels() -> list[str]:
    return [f"{a}-{a + BAND_YEARS - 1}" for a in range(0, TOP_BAND, BAND_YEARS)] + [f"{TOP_BAND}+"]


def _band_expression(today: date) -> Any:
    """SQL: the 5-year band index of ``Person.birth_date`` on ``today`` (-1 without a birth date).

    Age ≥ a exactly when the birth date is on or before the same day a years ago, so each band is
    a birth-date range and the CASE is portable and exact."""
    whens: list[tuple[Any, int]] = [(Person.birth_date.is_(None), -1)]
    for i, age in enumerate(range(BAND_YEARS, TOP_BAND + 1, BAND_YEARS)):
        whens.append((Person.birth_date > years_before(today, age), i))
    return case(*whens, else_=TOP_BAND // BAND_YEARS)


# --- 人 people -------------------------------------------------------------------------------------


@dataclass
class Pyramid:
    bands: list[str]
    male: list[int]
    female: list[int]
    unknown_gender: list[int]
    no_birth_date: int


@dataclass
class GroupCount:
    tag: str
    label: str
    count: int


@dataclass
class People:
    residents: int
    households: int
    owners: int
    tenants: int
    family: int
    collective: int
    elderly: int
    elderly_share: float | None  # percent of residents with a known age
    pyramid: Pyramid
    groups: list[GroupCount]


def people(session: Session, path: str, today: date) -> People:
    in_area = subtree_clause(Person.region_path, path)
    band = _band_expression(today).label("band")
    labels = band_labels()
    male, female, other = [0] * len(labels), [0] * len(labels), [0] * len(labels)
    no_birth = 0
    for index, gender, count in session.execute(
        select(band, Person.gender, func.count()).where(in_area).group_by(band, Person.gender)
    ):
        n = int(count)
        if index is None or int(index) < 0:
            no_birth += n
            continue
        target = male if gender == Gender.MALE else female if gender == Gender.FEMALE else other
        target[int(index)] += n
    residents = sum(male) + sum(female) + sum(other) + no_birth
    dated = residents - no_birth
    elderly = sum(m + f + o for m, f, o in list(zip(male, female, other, strict=True))[ELDERLY_AGE // BAND_YEARS :])

    tag_counts = dict(
        session.execute(
            select(PersonTag.tag, func.count())
            .join(Person, Person.id == PersonTag.person_id)
            .where(in_area)
            .group_by(PersonTag.tag)
        ).all()
    )
    groups = [GroupCount(tag, translate(label), int(tag_counts.get(tag, 0))) for tag, label in TAG_LABELS.items()]

    households = session.scalar(
        select(func.count()).select_from(Household).where(subtree_clause(Household.region_path, path))
    )
    current = or_(Residence.until.is_(None), Residence.until > today)
    relations = dict(
        session.execute(
            select(Residence.relation, func.count(distinct(Residence.person_id)))
            .join(Region, Region.id == Residence.room_id)
            .where(subtree_clause(Region.path, path), current)
            .group_by(Residence.relation)
        ).all()
    )
    return People(
        residents=residents,
        households=int(households or 0),
        owners=int(relations.get(Relation.OWNER, 0)),
        tenants=int(relations.get(Relation.TENANT, 0)),
        family=int(relations.get(Relation.FAMILY, 0)),
        collective=int(relations.get(Relation.COLLECTIVE, 0)),
        elderly=elderly,
        elderly_share=round(100 * elderly / dated, 1) if dated else None,
        pyramid=Pyramid(labels, male, female, other, no_birth),
        groups=groups,
    )


# --- 地 places ---------------------------------------------------------------------------------------


@dataclass
class Places:
    estates: int
    buildings: int
    units: int
    rooms: int
    occupied_rooms: int
    occupancy: float | None  # percent
    shown: int  # buildings drawn on the map
    truncated: bool  # too many buildings to draw: choose a smaller area
    bounds: list[float] | None  # [west, south, east, north] of the drawn buildings
    geojson: dict[str, Any] = field(default_factory=dict)  # buildings, for the fill-extrusion layer
    estate_outlines: dict[str, Any] = field(default_factory=dict)  # the estates they stand in (flat)


@dataclass
class _Shape:
    """The columns of a building or estate the map needs (no ORM object: a dashboard loads hundreds)."""

    id: int
    name: str
    path: str
    parent_id: int | None
    geometry: dict[str, Any] | None
    floors: Any
    min_lon: float | None
    min_lat: float | None
    max_lon: float | None
    max_lat: float | None


def _shapes(session: Session, *where: Any) -> list[_Shape]:
    rows = session.execute(
        select(
            Region.id,
            Region.name,
            Region.path,
            Region.parent_id,
            Region.geometry,
            Region.attrs["floors"].as_string(),
            Region.min_lon,
            Region.min_lat,
            Region.max_lon,
            Region.max_lat,
        )
        .where(*where)
        .order_by(Region.path)
    ).all()
    return [_Shape(*row) for row in rows]


@dataclass
class _Building:
    region: _Shape
    estate: str = ""
    rooms: int = 0
    occupied: int = 0
    residents: int = 0
    open_cases: int = 0


def _owner(path: str | None, ids: dict[int, _Building]) -> _Building | None:
    """The building whose id appears in ``path`` (paths list every ancestor's id)."""
    if not path:
        return None
    for part in path.strip("/").split("/"):
        found = ids.get(int(part)) if part.isdigit() else None
        if found is not None:
            return found
    return None


def places(session: Session, path: str, *, max_buildings: int = MAX_BUILDINGS) -> Places:
    levels = dict(
        session.execute(
            select(Region.level, func.count())
            .where(subtree_clause(Region.path, path), Region.level.in_(("estate", "building", "unit", "room")))
            .group_by(Region.level)
        ).all()
    )
    n_buildings = int(levels.get(RegionLevel.BUILDING, 0))
    if n_buildings > max_buildings:
        occupied = session.scalar(
            select(func.count(distinct(Person.region_id)))
            .join(Region, Region.id == Person.region_id)
            .where(subtree_clause(Person.region_path, path), Region.level == RegionLevel.ROOM)
        )
        return _places(levels, int(occupied or 0), [], [], truncated=True)

    rows = _shapes(session, subtree_clause(Region.path, path), Region.level == RegionLevel.BUILDING)
    buildings = {b.id: _Building(b) for b in rows}
    estate_ids = {b.parent_id for b in rows if b.parent_id is not None}
    estates = _shapes(session, Region.id.in_(estate_ids)) if estate_ids else []
    names = {e.id: e.name for e in estates}
    for b in buildings.values():
        b.estate = names.get(b.region.parent_id or 0, "")
    # Per room: its residents (one index count on person.region_id), grouped by the room's parent
    # (a unit, or the building itself); units are then mapped to their buildings.
    in_area = subtree_clause(Region.path, path)
    living = select(func.count()).where(Person.region_id == Region.id).correlate(Region).scalar_subquery().label("n")
    per_room = select(Region.parent_id.label("parent"), living).where(in_area, Region.level == RegionLevel.ROOM)
    rooms = per_room.subquery()
    unit_of = dict(
        session.execute(select(Region.id, Region.parent_id).where(in_area, Region.level == RegionLevel.UNIT)).all()
    )
    occupied = 0
    for parent, count, filled, residents in session.execute(
        select(rooms.c.parent, func.count(), func.sum(case((rooms.c.n > 0, 1), else_=0)), func.sum(rooms.c.n)).group_by(
            rooms.c.parent
        )
    ):
        occupied += int(filled or 0)
        owner = buildings.get(parent) or buildings.get(unit_of.get(parent) or 0)
        if owner is not None:
            owner.rooms += int(count)
            owner.occupied += int(filled or 0)
            owner.residents += int(residents or 0)
    for (case_path,) in session.execute(
        select(Case.region_path).where(
            subtree_clause(Case.region_path, path), Case.closed_at.is_(None), Case.duplicate_of.is_(None)
        )
    ):
        owner = _owner(case_path, buildings)
        if owner is not None:
            owner.open_cases += 1
    inside = [e for e in estates if e.path.startswith(path)]
    return _places(levels, occupied, list(buildings.values()), inside, truncated=False)


def _bounds(regions: list[_Shape]) -> list[float] | None:
    shaped = [r for r in regions if r.geometry and r.min_lon is not None]
    if not shaped:
        return None
    return [
        min(float(r.min_lon or 0) for r in shaped),
        min(float(r.min_lat or 0) for r in shaped),
        max(float(r.max_lon or 0) for r in shaped),
        max(float(r.max_lat or 0) for r in shaped),
    ]


def _outline(estate: _Shape, buildings: int) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": estate.id,
        "geometry": estate.geometry,
        "properties": {"id": estate.id, "name": estate.name, "buildings": buildings, "bounds": _bounds([estate])},
    }


def _places(
    levels: dict[str, int],
    occupied: int,
    buildings: list[_Building],
    estates: list[_Shape],
    *,
    truncated: bool,
) -> Places:
    rooms = int(levels.get(RegionLevel.ROOM, 0))
    features = [_feature(b) for b in buildings if b.region.geometry]
    per_estate = Counter(b.region.parent_id for b in buildings if b.region.geometry)
    outlines = [_outline(e, per_estate[e.id]) for e in sorted(estates, key=lambda e: e.path) if e.geometry]
    return Places(
        estates=int(levels.get(RegionLevel.ESTATE, 0)),
        buildings=int(levels.get(RegionLevel.BUILDING, 0)),
        units=int(levels.get(RegionLevel.UNIT, 0)),
        rooms=rooms,
        occupied_rooms=occupied,
        occupancy=round(100 * occupied / rooms, 1) if rooms else None,
        shown=len(features),
        truncated=truncated,
        bounds=_bounds([b.region for b in buildings]),
        geojson={"type": "FeatureCollection", "features": features},
        estate_outlines={"type": "FeatureCollection", "features": outlines},
    )


def floors_of(region: Region) -> int:
    """The building's floor count from ``attrs["floors"]`` (1 when missing or not a number)."""
    return _floors((region.attrs or {}).get("floors"))


def _floors(raw: Any) -> int:
    try:
        floors = int(float(raw)) if raw is not None else 1
    except (TypeError, ValueError):
        floors = 1
    return max(floors, 1)


def _feature(b: _Building) -> dict[str, Any]:
    floors = _floors(b.region.floors)
    return {
        "type": "Feature",
        "id": b.region.id,
        "geometry": b.region.geometry,
        "properties": {
            "id": b.region.id,
            "name": b.region.name,
            "estate": b.estate,
            "floors": floors,
            "height": floors * METRES_PER_FLOOR,
            "rooms": b.rooms,
            "occupied": b.occupied,
            "occupancy": round(b.occupied / b.rooms, 3) if b.rooms else 0.0,
            "residents": b.residents,
            "open_cases": b.open_cases,
        },
    }


# --- 事 cases ----------------------------------------------------------------------------------------


@dataclass
class CategoryCount:
    code: str
    name: str
    open: int
    overdue: int


@dataclass
class CaseItem:
    id: int
    no: str
    title: str
    due_at: datetime | None


@dataclass
class Cases:
    open: int
    overdue: int
    reported: int  # in the last CASE_PERIOD_DAYS days
    closure_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    period_days: int
    by_category: list[CategoryCount]
    overdue_cases: list[CaseItem]


def _subcategory(code: str) -> str:
    return ".".join(code.split(".")[:2])


def cases(session: Session, actor: Actor, region: Region, now: datetime) -> Cases:
    """Open and overdue cases by category, the last 30 days' KPIs and the most overdue cases,
    through the cases dashboard (which asserts ``case:read`` over the region)."""
    _, kpis = case_dashboard.kpis(session, actor, region_id=region.id, since=now - timedelta(days=CASE_PERIOD_DAYS))
    overdue_cases, _ = case_dashboard.attention(session, actor, region_id=region.id, limit=ATTENTION_LIMIT)
    is_overdue = and_(Case.due_at.is_not(None), Case.due_at < now)
    opened: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for code, count, overdue in session.execute(
        select(Case.category_code, func.count(), func.sum(case((is_overdue, 1), else_=0)))
        .where(subtree_clause(Case.region_path, region.path), Case.closed_at.is_(None), Case.duplicate_of.is_(None))
        .group_by(Case.category_code)
    ):
        opened[_subcategory(code)] += int(count)
        late[_subcategory(code)] += int(overdue or 0)
    names = dict(session.execute(select(Category.code, Category.name).where(Category.code.in_(list(opened)))).all())
    by_category = [
        CategoryCount(code, str(names.get(code, code)), n, late[code])
        for code, n in sorted(opened.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return Cases(
        open=sum(opened.values()),
        overdue=sum(late.values()),
        reported=kpis.total,
        closure_rate=kpis.closure_rate,
        on_time_rate=kpis.on_time_rate,
        satisfaction_rate=kpis.satisfaction_rate,
        period_days=CASE_PERIOD_DAYS,
        by_category=by_category,
        overdue_cases=[CaseItem(c.id, c.no, c.title, c.due_at) for c in overdue_cases],
    )


# --- 物 things ---------------------------------------------------------------------------------------


@dataclass
class KindCount:
    kind: str
    label: str
    total: int
    by_status: dict[str, int]


@dataclass
class DeviceItem:
    id: int
    code: str
    name: str
    kind: str
    status: str
    status_label: str
    last_seen_at: datetime | None


@dataclass
class Things:
    total: int
    by_status: dict[str, int]
    status_labels: dict[str, str]
    kinds: list[KindCount]
    attention: list[DeviceItem]  # in fault or alarm, most recent first


def things(session: Session, path: str) -> Things:
    counts = status_counts(session, region_path=path)
    statuses = [s.value for s in DeviceStatus]
    totals = {s: sum(by.get(s, 0) for by in counts.values()) for s in statuses}
    for by in counts.values():  # a status this version does not know still counts
        for s, n in by.items():
            if s not in totals:
                totals[s] = totals.get(s, 0) + n
    kinds = [
        KindCount(kind, translate(KIND_LABELS[kind]) if kind in KIND_LABELS else kind, sum(by.values()), dict(by))
        for kind, by in sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    ]
    rows = session.scalars(
        select(Device)
        .where(
            subtree_clause(Device.region_path, path),
            Device.status.in_((DeviceStatus.FAULT.value, DeviceStatus.ALARM.value)),
        )
        .order_by(Device.last_seen_at.desc(), Device.id.desc())
        .limit(ATTENTION_LIMIT)
    ).all()
    attention = [
        DeviceItem(
            d.id, d.code, d.name, d.kind, d.status, translate(STATUS_LABELS.get(d.status, d.status)), d.last_seen_at
        )
        for d in rows
    ]
    return Things(
        total=sum(totals.values()),
        by_status=totals,
        status_labels={s: translate(STATUS_LABELS[s]) if s in STATUS_LABELS else s for s in totals},
        kinds=kinds,
        attention=attention,
    )
