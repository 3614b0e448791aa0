"""The figures of the home page: 人、地、事、物、情 for the chosen region.

Read-only aggregates over several modules' tables, cached briefly because a city-level view
counts a million residents.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.i18n import N_, translate
from cityos.people.models import Department, Household, Organisation, Person, PersonTag, Responsibility
from cityos.places.models import Region
from cityos.places.service import LEVEL_LABELS

CARE_TAGS = ("elderly", "living_alone", "disabled", "low_income", "key_group", "pregnant", "child", "veteran")
_TTL_SECONDS = 60.0


@dataclass
class HomeFigures:
    region_id: int
    places: dict[str, int] = field(default_factory=dict)  # 地: regions by level
    residents: int | None = None  # 人
    households: int | None = None
    tags: dict[str, int] = field(default_factory=dict)  # 情: care groups
    organisations: dict[str, int] = field(default_factory=dict)  # 物: organisations by kind
    departments: int = 0  # 事: who handles the region's cases
    responsibilities: int = 0
    age_bands: list[tuple[str, int]] = field(default_factory=list)


_cache: dict[tuple[int, bool], tuple[float, HomeFigures]] = {}
_lock = threading.Lock()


def figures(session: Session, actor: Actor, region: Region) -> HomeFigures:
    people_visible = actor.can("person:read", region=region)
    key = (region.id, people_visible)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and now - hit[0] < _TTL_SECONDS:
        return hit[1]
    result = _compute(session, region, people_visible)
    with _lock:
        _cache[key] = (now, result)
    return result


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _compute(session: Session, region: Region, people_visible: bool) -> HomeFigures:
    out = HomeFigures(region_id=region.id)
    rows = session.execute(
        select(Region.level, func.count())
        .where(subtree_clause(Region.path, region.path), Region.id != region.id)
        .group_by(Region.level)
    ).all()
    out.places = {level: int(n) for level, n in rows}
    out.organisations = {
        kind: int(n)
        for kind, n in session.execute(
            select(Organisation.kind, func.count())
            .where(subtree_clause(Organisation.region_path, region.path))
            .group_by(Organisation.kind)
        ).all()
    }
    ancestors_and_self = [f"/{'/'.join(region.path.strip('/').split('/')[: i + 1])}/" for i in range(region.depth + 1)]
    in_or_above = Department.region_path.in_(ancestors_and_self) | subtree_clause(Department.region_path, region.path)
    out.departments = int(session.scalar(select(func.count()).select_from(Department).where(in_or_above)) or 0)
    out.responsibilities = int(
        session.scalar(
            select(func.count())
            .select_from(Responsibility)
            .where(
                Responsibility.region_path.in_(ancestors_and_self)
                | subtree_clause(Responsibility.region_path, region.path)
            )
        )
        or 0
    )
    if not people_visible:
        return out
    in_region = subtree_clause(Person.region_path, region.path)
    out.residents = int(session.scalar(select(func.count()).select_from(Person).where(in_region)) or 0)
    out.households = int(
        session.scalar(
            select(func.count()).select_from(Household).where(subtree_clause(Household.region_path, region.path))
        )
        or 0
    )
    out.tags = {
        tag: int(n)
        for tag, n in session.execute(
            select(PersonTag.tag, func.count())
            .join(Person, Person.id == PersonTag.person_id)
            .where(in_region, PersonTag.tag.in_(CARE_TAGS))
            .group_by(PersonTag.tag)
        ).all()
    }
    out.age_bands = _age_bands(session, region)
    return out


def _age_bands(session: Session, region: Region) -> list[tuple[str, int]]:
    """Residents per 10-year age band, by birth year (one grouped query)."""
    year = extract("year", Person.birth_date)
    rows = session.execute(
        select(year, func.count())
        .where(subtree_clause(Person.region_path, region.path), Person.birth_date.is_not(None))
        .group_by(year)
    ).all()
    this_year = date.today().year
    bands = {f"{lo}-{lo + 9}": 0 for lo in range(0, 90, 10)}
    bands["90+"] = 0
    for y, n in rows:
        if y is None:
            continue
        age = this_year - int(y)
        label = "90+" if age >= 90 else f"{age // 10 * 10}-{age // 10 * 10 + 9}"
        if label in bands:
            bands[label] += int(n)
    return list(bands.items())


TAG_LABELS = {
    "elderly": N_("Elderly (60+)"),
    "living_alone": N_("Living alone"),
    "disabled": N_("Disabled"),
    "low_income": N_("Low income"),
    "key_group": N_("Key group"),
    "pregnant": N_("Pregnant"),
    "child": N_("Children"),
    "veteran": N_("Veterans"),
}
ORG_KIND_LABELS = {
    "enterprise": N_("Enterprises"),
    "property_company": N_("Property companies"),
    "merchant": N_("Merchants"),
    "ngo": N_("Social organisations"),
}


def labels() -> dict[str, dict[str, str]]:
    """Translated labels for the home template, in the request's language."""
    return {
        "level_names": {k: translate(v) for k, v in LEVEL_LABELS.items()},  # the places labels
        "tag_names": {k: translate(v) for k, v in TAG_LABELS.items()},
        "org_kinds": {k: translate(v) for k, v in ORG_KIND_LABELS.items()},
    }
