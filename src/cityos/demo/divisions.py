"""The real 市/区/街道 rows the demo city is built on."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid
from cityos.demo.writer import BulkWriter
from cityos.places.divisions import city_region_code
from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel


@dataclass
class Division:
    id: int
    code: str
    name: str
    path: str


@dataclass
class CityDivisions:
    city: Division
    districts: list[Division]
    streets: dict[int, list[Division]]  # district id -> streets, by code


def load(session: Session, city_code: str) -> CityDivisions | None:
    """The city's division rows already in the database, or None when the city is missing."""
    city = session.execute(
        select(Region.id, Region.code, Region.name, Region.path).where(
            Region.level == RegionLevel.CITY, Region.code == city_region_code(city_code)
        )
    ).first()
    if city is None:
        return None
    districts = [
        Division(*row)
        for row in session.execute(
            select(Region.id, Region.code, Region.name, Region.path)
            .where(Region.parent_id == city.id, Region.level == RegionLevel.DISTRICT)
            .order_by(Region.code)
        )
    ]
    streets: dict[int, list[Division]] = {d.id: [] for d in districts}
    for row in session.execute(
        select(Region.parent_id, Region.id, Region.code, Region.name, Region.path)
        .where(Region.level == RegionLevel.STREET, Region.parent_id.in_([d.id for d in districts]))
        .order_by(Region.code)
    ):
        streets[row.parent_id].append(Division(row.id, row.code, row.name, row.path))
    return CityDivisions(Division(*city), districts, streets)


def import_subset(
    writer: BulkWriter,
    *,
    city_code: str,
    divisions_dir: Path,
    max_districts: int | None,
    max_streets: int | None,
) -> None:
    """Create the city, its first ``max_districts`` districts and their first ``max_streets`` streets.

    For the ``tiny`` demo, which keeps only part of a city; full cities are imported with
    ``places.divisions.import_divisions``. Rows that already exist (same code) are kept.
    """
    session = writer.session
    cities = {r["code"]: r for r in _read(divisions_dir / "cities.csv")}
    if city_code not in cities:
        raise Invalid(details=[FieldError("city_code", "Unknown city code.", {"code": city_code})])
    provinces = {r["code"]: r["name"] for r in _read(divisions_dir / "provinces.csv")}
    city_name = cities[city_code]["name"]
    if city_name == "市辖区":  # the four municipalities list their city as 市辖区
        city_name = provinces.get(cities[city_code]["provinceCode"], city_name)
    areas = sorted(
        (r for r in _read(divisions_dir / "areas.csv") if r["cityCode"] == city_code), key=lambda r: r["code"]
    )
    if max_districts is not None:
        areas = areas[:max_districts]
    wanted = {a["code"] for a in areas}
    streets_by_area: dict[str, list[dict[str, str]]] = {code: [] for code in wanted}
    for r in _read(divisions_dir / "streets.csv"):
        if r["areaCode"] in wanted:
            streets_by_area[r["areaCode"]].append(r)

    upper = (RegionLevel.CITY, RegionLevel.DISTRICT, RegionLevel.STREET)
    known = session.execute(select(Region.code, Region.path).where(Region.level.in_(upper)))
    existing: dict[str, str] = {row.code: row.path for row in known}
    city_path = _ensure(writer, existing, city_region_code(city_code), city_name, RegionLevel.CITY, None)
    for area in areas:
        area_path = _ensure(writer, existing, area["code"], area["name"], RegionLevel.DISTRICT, city_path)
        rows = sorted(streets_by_area[area["code"]], key=lambda r: r["code"])
        for street in rows[:max_streets] if max_streets is not None else rows:
            _ensure(writer, existing, street["code"], street["name"], RegionLevel.STREET, area_path)
    writer.flush()


def _ensure(
    writer: BulkWriter, existing: dict[str, str], code: str, name: str, level: RegionLevel, parent_path: str | None
) -> str:
    if code in existing:
        return existing[code]
    region_id = writer.new_id(Region)
    path = f"{parent_path or '/'}{region_id}/"
    parent_id = int(parent_path.rstrip("/").rsplit("/", 1)[-1]) if parent_path else None
    writer.add(Region, region_row(region_id, code, name, level, parent_id, path))
    existing[code] = path
    return path


def region_row(
    region_id: int,
    code: str,
    name: str,
    level: RegionLevel,
    parent_id: int | None,
    path: str,
    geo: dict[str, object] | None = None,
    attrs: dict[str, object] | None = None,
) -> dict[str, object]:
    """A region row for a bulk insert.

    Rows without geometry leave the geometry columns out, so they hold SQL NULL (not a JSON
    ``null``); the writer inserts each shape of row with its own executemany.
    """
    now = utcnow()
    row: dict[str, object] = {
        "id": region_id,
        "code": code,
        "name": name,
        "level": level.value,
        "parent_id": parent_id,
        "path": path,
        "depth": LEVEL_DEPTH[level],
        "attrs": attrs or {},
        "created_at": now,
        "updated_at": now,
    }
    if geo:
        row.update(geo)
    return row


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
