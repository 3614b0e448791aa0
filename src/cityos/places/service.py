"""The region tree 市-区-街道-社区-网格-小区-楼栋-单元-房: creating, reading and searching regions.

Every region stores its materialised id path (``/1/7/42/``), so a subtree is one index range
scan on any database (``core.actor.subtree_clause``) and a scoped actor sees exactly the
regions whose path starts with theirs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Select, func, null, select
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.actor import Actor, subtree_clause
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_, translate
from cityos.core.pagination import PageParams, fetch_page
from cityos.places import geometry as geo
from cityos.places import index
from cityos.places.models import LEVEL_DEPTH, LEVELS, Region, RegionLevel

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

# Levels a name search looks at unless asked for one: unit and room names ("1单元", "101")
# repeat in every building and would drown the results.
SEARCH_LEVELS: tuple[str, ...] = tuple(level.value for level in LEVELS[:7])
MAX_GEOJSON_CHILDREN = 2000

_DIGITS = re.compile(r"^[0-9]+$")
_FREE_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$")

MSG_REQUIRED = N_("This field is required.")
MSG_NAME_LENGTH = N_("Must be at most {max_length} characters.")
MSG_LEVEL_UNKNOWN = N_("Must be one of: {expected}.")
MSG_ROOT_LEVEL = N_("Only a city may have no parent region.")
MSG_CHILD_LEVEL = N_("A region under a {parent} must be a {expected}.")
MSG_PARENT_MISSING = N_("The parent region does not exist or is outside your area.")
MSG_CODE_DIGITS = N_("A {level} code has exactly {digits} digits.")
MSG_CODE_PREFIX = N_("A {level} code starts with its parent's code {prefix}.")
MSG_CODE_FREE = N_("Use 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit.")
MSG_CODE_TAKEN = N_("A region with code {code} already exists.")
MSG_ATTRS = N_("Must be an object.")
MSG_SEQ = N_("Must be between 1 and 999.")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Marks an ``update_region`` argument that was not given (``None`` clears a geometry)."""


def level_label(level: str) -> str:
    """The level's name in the request's language (市, 区, 街道 …)."""
    return translate(LEVEL_LABELS.get(level, level))


def _level_word(level: str) -> str:
    """The level's name inside a sentence ('a grid', '网格')."""
    return level_label(level).lower()


# --- codes (GB/T 2260 for 市/区, statistical codes for 街道/社区, GB/T 30428 for 网格) ---------------

# level -> (digits, how many leading digits come from the parent's code)
_CODE_SHAPE: dict[str, tuple[int, int]] = {
    RegionLevel.CITY: (6, 0),
    RegionLevel.DISTRICT: (6, 4),
    RegionLevel.STREET: (9, 6),
    RegionLevel.COMMUNITY: (12, 9),
    RegionLevel.GRID: (15, 12),
}


def community_code(street_code: str, seq: int) -> str:
    """The 12-digit code of a street's ``seq``-th community: street 9 + community 3."""
    return _child_code(street_code, 9, seq)


def grid_code(community_code: str, seq: int) -> str:
    """The 15-digit GB/T 30428 code of a community's ``seq``-th grid: county 6 + street 3 + community 3 + grid 3."""
    return _child_code(community_code, 12, seq)


def _child_code(parent_code: str, parent_digits: int, seq: int) -> str:
    if len(parent_code) != parent_digits or not _DIGITS.match(parent_code):
        raise Invalid(details=[FieldError("code", MSG_CODE_DIGITS, {"level": "", "digits": parent_digits})])
    if not 1 <= seq <= 999:
        raise Invalid(details=[FieldError("seq", MSG_SEQ)])
    return f"{parent_code}{seq:03d}"


def code_error(level: str, code: str, parent: Region | None) -> FieldError | None:
    """What is wrong with ``code`` for a region of ``level`` under ``parent``, if anything."""
    shape = _CODE_SHAPE.get(level)
    if shape is None:
        return None if _FREE_CODE.match(code) else FieldError("code", MSG_CODE_FREE)
    digits, from_parent = shape
    label = _level_word(level)
    if len(code) != digits or not _DIGITS.match(code):
        return FieldError("code", MSG_CODE_DIGITS, {"level": label, "digits": digits})
    if parent is not None and from_parent and not code.startswith(parent.code[:from_parent]):
        return FieldError("code", MSG_CODE_PREFIX, {"level": label, "prefix": parent.code[:from_parent]})
    return None


# --- reading -------------------------------------------------------------------------------------


def get_visible(session: Session, actor: Actor, region_id: int) -> Region:
    """The region if it lies in the actor's subtree; ``NotFound`` otherwise (existence is not leaked)."""
    region = session.get(Region, region_id)
    if region is None or not actor.covers(region):
        raise NotFound()
    return region


def get_region(session: Session, actor: Actor, region_id: int) -> Region:
    region = get_visible(session, actor, region_id)
    actor.require("region:read", region=region)
    return region


def subtree_query(path: str) -> Select[Region]:
    """Regions under ``path`` (itself included): one index range scan on the unique path index."""
    return select(Region).where(subtree_clause(Region.path, path))


def subtree_ids(session: Session, region: Region) -> list[int]:
    return list(session.scalars(select(Region.id).where(subtree_clause(Region.path, region.path))))


@dataclass
class Children:
    region: Region
    items: list[Region]
    total: int | None
    child_counts: dict[int, int]  # child id -> how many children it has


def children(session: Session, actor: Actor, region_id: int, params: PageParams) -> Children:
    """One page of a region's children, by code, with each child's own child count."""
    region = get_region(session, actor, region_id)
    query = select(Region).where(Region.parent_id == region.id).order_by(Region.code, Region.id)
    rows, total = fetch_page(session, query, params)
    return Children(region, rows, total, child_counts(session, [r.id for r in rows]))


def child_counts(session: Session, region_ids: Sequence[int]) -> dict[int, int]:
    """How many children each region has."""
    if not region_ids:
        return {}
    rows = session.execute(
        select(Region.parent_id, func.count()).where(Region.parent_id.in_(list(region_ids))).group_by(Region.parent_id)
    ).all()
    counts = {int(pid): int(n) for pid, n in rows if pid is not None}
    return {rid: counts.get(rid, 0) for rid in region_ids}


def ancestors(session: Session, region: Region, *, within: str | None = None) -> list[Region]:
    """The region's ancestors, root first (the breadcrumb); only those under ``within`` when given."""
    ids = [int(p) for p in region.path.strip("/").split("/") if p][:-1]
    if not ids:
        return []
    found = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}
    chain = [found[i] for i in ids if i in found]
    if within is not None:
        chain = [r for r in chain if r.path.startswith(within)]
    return chain


def visible_ancestors(session: Session, actor: Actor, region_id: int) -> list[Region]:
    region = get_region(session, actor, region_id)
    return ancestors(session, region, within=actor.scope_path)


def count_by_level(session: Session, actor: Actor, region: Region) -> dict[str, int]:
    """Descendants of the region by level (itself excluded), in tree order, for facts and dashboards."""
    if not actor.covers(region):
        raise NotFound()
    rows = session.execute(
        select(Region.level, func.count())
        .where(subtree_clause(Region.path, region.path), Region.id != region.id)
        .group_by(Region.level)
    ).all()
    counts = {str(level): int(n) for level, n in rows}
    return {level.value: counts[level.value] for level in LEVELS if level.value in counts}


@dataclass
class Overview:
    """What the tree browser shows for one region."""

    region: Region
    ancestors: list[Region]  # inside the actor's scope, root first
    counts: dict[str, int]  # descendants by level
    children: Children
    has_shapes: bool  # the region or one of its children has a geometry


def overview(session: Session, actor: Actor, region_id: int, params: PageParams) -> Overview:
    page = children(session, actor, region_id, params)
    region = page.region
    child_shape = session.scalar(
        select(Region.id).where(Region.parent_id == region.id, Region.min_lon.is_not(None)).limit(1)
    )
    return Overview(
        region=region,
        ancestors=ancestors(session, region, within=actor.scope_path),
        counts=count_by_level(session, actor, region),
        children=page,
        has_shapes=region.min_lon is not None or child_shape is not None,
    )


def search(session: Session, actor: Actor, q: str, *, level: str | None = None, limit: int = 20) -> list[Region]:
    """Regions in the actor's scope whose name contains ``q`` or whose code starts with it."""
    actor.require("region:read")
    text = q.strip()
    if not text:
        return []
    matches = Region.name.contains(text, autoescape=True)
    if _DIGITS.match(text):
        matches = matches | Region.code.startswith(text, autoescape=True)
    query = select(Region).where(actor.scope_clause(Region.path), matches)
    if level is not None:
        query = query.where(Region.level == level)
    else:
        query = query.where(Region.level.in_(SEARCH_LEVELS))
    query = query.order_by(Region.depth, Region.name, Region.id).limit(max(1, min(limit, 100)))
    return list(session.scalars(query))


def children_geojson(session: Session, actor: Actor, region_id: int) -> dict[str, Any]:
    """A FeatureCollection of the region (``focus``) and its children, for the map."""
    region = get_region(session, actor, region_id)
    kids = list(
        session.scalars(
            select(Region).where(Region.parent_id == region.id).order_by(Region.code).limit(MAX_GEOJSON_CHILDREN)
        )
    )
    counts = child_counts(session, [region.id, *[k.id for k in kids]])
    features = [_feature(r, counts[r.id], focus=r is region) for r in [region, *kids]]
    return {"type": "FeatureCollection", "features": features}


def _feature(region: Region, child_count: int, *, focus: bool) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": region.id,
        "geometry": region.geometry or None,
        "properties": {
            "id": region.id,
            "name": region.name,
            "level": region.level,
            "level_label": level_label(region.level),
            "code": region.code,
            "child_count": child_count,
            "focus": focus,
            "lon": region.lon,
            "lat": region.lat,
        },
    }


def locate(session: Session, actor: Actor, *, lon: float, lat: float) -> Region:
    """The deepest region of the actor's subtree containing the point; ``NotFound`` when none does."""
    actor.require("region:read")
    region = index.locate(session, lon, lat, within=actor.scope_path)
    if region is None:
        raise NotFound()
    return region


# --- writing -------------------------------------------------------------------------------------


def create_region(
    session: Session,
    actor: Actor,
    *,
    parent_id: int | None,
    level: str,
    code: str,
    name: str,
    geometry: dict[str, Any] | None = None,
    attrs: dict[str, Any] | None = None,
) -> Region:
    """Add one region under ``parent_id`` (exactly one level deeper), with its cells when it has a shape."""
    actor.require("region:write")
    errors: list[FieldError] = []
    parent: Region | None = None
    if parent_id is not None:
        parent = session.get(Region, parent_id)
        if parent is None or not actor.covers(parent):
            errors.append(FieldError("parent_id", MSG_PARENT_MISSING))
            parent = None
    if parent is None and parent_id is None:
        actor.require("region:write", region="/")  # a new city sits at the root
    elif parent is not None:
        actor.require("region:write", region=parent)

    level_ok = level in LEVEL_DEPTH
    if not level_ok:
        errors.append(FieldError("level", MSG_LEVEL_UNKNOWN, {"expected": ", ".join(lv.value for lv in LEVELS)}))
    elif parent_id is None and level != RegionLevel.CITY:
        errors.append(FieldError("parent_id", MSG_ROOT_LEVEL))
    elif parent is not None:
        expected = _child_level(parent.level)
        if expected is None or level != expected:
            errors.append(
                FieldError(
                    "level",
                    MSG_CHILD_LEVEL,
                    {"parent": _level_word(parent.level), "expected": _level_word(expected) if expected else "-"},
                )
            )
    code = (code or "").strip()
    if not code:
        errors.append(FieldError("code", MSG_REQUIRED))
    elif level_ok:
        problem = code_error(level, code, parent)
        if problem is not None:
            errors.append(problem)
    errors.extend(_name_errors(name))
    if attrs is not None and not isinstance(attrs, dict):
        errors.append(FieldError("attrs", MSG_ATTRS))
    shape = None
    if geometry is not None:
        try:
            shape = geo.parse(geometry)
        except Invalid as exc:
            errors.extend(exc.details)
    if errors:
        raise Invalid(details=errors)
    if session.scalar(select(Region.id).where(Region.code == code)) is not None:
        raise Conflict(
            MSG_CODE_TAKEN, params={"code": code}, details=[FieldError("code", MSG_CODE_TAKEN, {"code": code})]
        )

    region = Region(
        code=code,
        name=name.strip(),
        level=level,
        parent_id=parent.id if parent else None,
        path=f"/new-{uuid.uuid4().hex}/",  # unique placeholder until the id is known
        depth=LEVEL_DEPTH[RegionLevel(level)],
        attrs=dict(attrs or {}),
    )
    if shape is not None:
        _apply_shape(region, shape)
    session.add(region)
    session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    session.flush()
    if shape is not None:
        index.write_cells(session, [region])
    audit.record(session, actor, "region.create", subject_type="region", subject_id=region.id)
    return region


def update_region(
    session: Session,
    actor: Actor,
    *,
    region_id: int,
    name: str | _Unset = UNSET,
    attrs: dict[str, Any] | _Unset = UNSET,
    geometry: dict[str, Any] | None | _Unset = UNSET,
) -> Region:
    """Change a region's name, attributes or geometry (``None`` clears it); cells follow the geometry."""
    region = get_visible(session, actor, region_id)
    actor.require("region:write", region=region)
    errors: list[FieldError] = []
    if isinstance(name, str):
        errors.extend(_name_errors(name))
    elif not isinstance(name, _Unset):
        errors.append(FieldError("name", MSG_REQUIRED))
    if not isinstance(attrs, _Unset) and not isinstance(attrs, dict):
        errors.append(FieldError("attrs", MSG_ATTRS))
    shape = None
    if geometry is not None and not isinstance(geometry, _Unset):
        try:
            shape = geo.parse(geometry)
        except Invalid as exc:
            errors.extend(exc.details)
    if errors:
        raise Invalid(details=errors)

    changed: list[str] = []
    if isinstance(name, str) and name.strip() != region.name:
        region.name = name.strip()
        changed.append("name")
    if isinstance(attrs, dict):
        region.attrs = dict(attrs)
        changed.append("attrs")
    if shape is not None:
        _apply_shape(region, shape)
        changed.append("geometry")
    elif geometry is None and region.geometry is not None:
        region.geometry = null()  # SQL NULL, not a JSON null
        for column, value in geo.EMPTY_COLUMNS.items():
            setattr(region, column, value)
        changed.append("geometry")
    if not changed:
        return region
    session.flush()
    if "geometry" in changed:
        session.refresh(region, ["geometry"])
        index.write_cells(session, [region])
    audit.record(session, actor, "region.update", subject_type="region", subject_id=region.id, fields=changed)
    return region


def set_geometry(session: Session, actor: Actor, *, region_id: int, geometry: dict[str, Any] | None) -> Region:
    return update_region(session, actor, region_id=region_id, geometry=geometry)


def _apply_shape(region: Region, shape: Any) -> None:
    region.geometry = geo.to_geojson(shape)
    for column, value in geo.derived_columns(shape).items():
        setattr(region, column, value)


def _child_level(level: str) -> str | None:
    """The one level a child of ``level`` may have (None under a room)."""
    depth = LEVEL_DEPTH[RegionLevel(level)]
    return LEVELS[depth + 1].value if depth + 1 < len(LEVELS) else None


def _name_errors(name: Any) -> list[FieldError]:
    if not isinstance(name, str) or not name.strip():
        return [FieldError("name", MSG_REQUIRED)]
    if len(name.strip()) > 128:
        return [FieldError("name", MSG_NAME_LENGTH, {"max_length": 128})]
    return []


# --- boundaries from a GeoJSON file ------------------------------------------------------------------


@dataclass
class GeometryImport:
    updated: int = 0
    unchanged: int = 0
    unknown_codes: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (code or feature number, message)
    without_code: int = 0


def import_geometries(session: Session, actor: Actor, collection: Any) -> GeometryImport:
    """Set the geometry of existing regions from a FeatureCollection whose features carry ``properties.code``.

    All or nothing: when any feature's geometry is invalid nothing is stored and ``Invalid`` lists
    them; unknown codes are reported, not fatal.
    """
    actor.require("region:write")
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise Invalid(details=[FieldError("type", N_("Must be a GeoJSON FeatureCollection."))])
    features = collection.get("features")
    if not isinstance(features, list):
        raise Invalid(details=[FieldError("features", N_("Must be a list."))])
    result = GeometryImport()
    wanted: dict[str, Any] = {}
    errors: list[FieldError] = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        code = str(props.get("code", "")).strip() if isinstance(props, dict) else ""
        if not code:
            result.without_code += 1
            continue
        try:
            wanted[code] = geo.parse(feature.get("geometry"), field=f"features.{number}.geometry")
        except Invalid as exc:
            errors.extend(exc.details)
            result.invalid.extend((code, translate(d.message, **d.params)) for d in exc.details)
    if errors:
        raise Invalid(details=errors)
    regions: dict[str, Region] = {}
    codes = list(wanted)
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        regions.update((r.code, r) for r in session.scalars(select(Region).where(Region.code.in_(chunk))))
    touched: list[Region] = []
    for code, shape in wanted.items():
        region = regions.get(code)
        if region is None or not actor.covers(region):
            result.unknown_codes.append(code)
            continue
        new = geo.to_geojson(shape)
        if region.geometry == new:
            result.unchanged += 1
            continue
        region.geometry = new
        for column, value in geo.derived_columns(shape).items():
            setattr(region, column, value)
        touched.append(region)
    session.flush()
    for start in range(0, len(touched), 5000):
        index.write_cells(session, touched[start : start + 5000])
    result.updated = len(touched)
    if touched:
        audit.record(session, actor, "region.import_geometry", subject_type="region", detail=f"{len(touched)} regions")
    return result
