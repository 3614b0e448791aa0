"""Import a city's real 市/区/街道 from the administrative-division CSVs (GB/T 2260 codes).

The files (``settings.divisions_dir``): ``provinces.csv`` (code, name), ``cities.csv`` (code,
name, provinceCode), ``areas.csv`` (code, name, cityCode, provinceCode) and ``streets.csv``
(code, name, areaCode, provinceCode, cityCode). Real divisions come without geometry; load
boundaries afterwards with ``cityos places import-geojson``.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel

Progress = Callable[[int, int], None]
"""progress(done, total): rows processed so far."""

# cities.csv names the municipalities' (直辖市) city rows 市辖区 or 县; the province name is the city's.
_PLACEHOLDER_CITY_NAMES = frozenset({"市辖区", "县"})

MSG_CITY_CODE = N_("A city code has 4 digits, like 5101.")
MSG_UNKNOWN_CITY = N_("There is no city with code {code}.")
MSG_MISSING_FILE = N_("The divisions file {file} is missing.")


@dataclass
class ImportResult:
    city_id: int
    city_code: str
    city_name: str
    created: dict[str, int] = field(default_factory=dict)  # level -> rows created
    updated: dict[str, int] = field(default_factory=dict)  # level -> rows renamed
    total: dict[str, int] = field(default_factory=dict)  # level -> rows in the CSVs
    seconds: float = 0.0


def city_region_code(city_code: str) -> str:
    """The 6-digit code of the city row: '5101' -> '510100'."""
    return city_code.ljust(6, "0")


def import_divisions(
    session: Session, *, city_code: str, divisions_dir: Path, progress: Progress | None = None
) -> ImportResult:
    """Create or update one city, its districts (区/县) and streets (街道/乡镇); idempotent.

    Rows are matched by code: existing ones get the CSV's name, missing ones are inserted in
    bulk (one statement per level), nothing is created twice.
    """
    started = time.perf_counter()
    city_code = city_code.strip()
    if len(city_code) != 4 or not city_code.isdigit():
        raise Invalid(details=[FieldError("city_code", MSG_CITY_CODE)])
    cities = {r["code"]: r for r in _read(divisions_dir, "cities.csv")}
    if city_code not in cities:
        raise Invalid(details=[FieldError("city_code", MSG_UNKNOWN_CITY, {"code": city_code})])
    city_name = cities[city_code]["name"]
    if city_name in _PLACEHOLDER_CITY_NAMES:
        provinces = {r["code"]: r["name"] for r in _read(divisions_dir, "provinces.csv")}
        city_name = provinces.get(cities[city_code]["provinceCode"], city_name)
    areas = sorted((r for r in _read(divisions_dir, "areas.csv") if r["cityCode"] == city_code), key=_code)
    streets = sorted((r for r in _read(divisions_dir, "streets.csv") if r["cityCode"] == city_code), key=_code)

    total = 1 + len(areas) + len(streets)
    done = 0
    if progress:
        progress(done, total)
    result = ImportResult(city_id=0, city_code=city_region_code(city_code), city_name=city_name)
    result.total = {
        RegionLevel.CITY.value: 1,
        RegionLevel.DISTRICT.value: len(areas),
        RegionLevel.STREET.value: len(streets),
    }

    session.flush()  # rows are written with Core below; pending ORM changes go first
    writer = _LevelWriter(session)
    city_rows = [(result.city_code, city_name, None)]
    city_paths = writer.ensure(RegionLevel.CITY, city_rows, {}, result)
    done += 1
    if progress:
        progress(done, total)
    area_rows = [(a["code"], a["name"], result.city_code) for a in areas]
    area_paths = writer.ensure(RegionLevel.DISTRICT, area_rows, city_paths, result)
    done += len(areas)
    if progress:
        progress(done, total)
    street_rows = [(s["code"], s["name"], s["areaCode"]) for s in streets if s["areaCode"] in area_paths]
    writer.ensure(RegionLevel.STREET, street_rows, area_paths, result)
    done += len(streets)
    if progress:
        progress(done, total)
    result.city_id = _id_of(city_paths[result.city_code])
    if any(result.updated.values()):
        session.expire_all()  # loaded Region objects would show the old names
    result.seconds = round(time.perf_counter() - started, 3)
    return result


class _LevelWriter:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ensure(
        self,
        level: RegionLevel,
        rows: Sequence[tuple[str, str, str | None]],
        parent_paths: dict[str, str],
        result: ImportResult,
    ) -> dict[str, str]:
        """Make sure every (code, name, parent code) row exists with that name; returns code -> path."""
        session = self.session
        conn = session.connection()
        codes = [code for code, _, _ in rows]
        existing: dict[str, tuple[int, str, str]] = {}
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            for rid, code, name, path in conn.execute(
                select(Region.id, Region.code, Region.name, Region.path).where(Region.code.in_(chunk))
            ):
                existing[code] = (rid, name, path)
        now = utcnow()
        renames = [
            {"b_id": existing[code][0], "name": name, "updated_at": now}
            for code, name, _ in rows
            if code in existing and existing[code][1] != name
        ]
        table: Any = Region.__table__
        if renames:
            stmt = update(table).where(table.c.id == bindparam("b_id")).values(name=bindparam("name"))
            conn.execute(stmt.values(updated_at=bindparam("updated_at")), renames)
        new = [(code, name, parent) for code, name, parent in rows if code not in existing]
        paths = {code: path for code, (_, _, path) in existing.items()}
        if new:
            params: list[dict[str, Any]] = [
                {
                    "code": code,
                    "name": name,
                    "level": level.value,
                    "parent_id": _id_of(parent_paths[parent]) if parent else None,
                    "path": f"/new-{code}/",  # unique placeholder until the id is known
                    "depth": LEVEL_DEPTH[level],
                    "attrs": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for code, name, parent in new
            ]
            returned = conn.execute(
                insert(table).returning(table.c.id, table.c.code, sort_by_parameter_order=True), params
            ).all()
            ids = {code: rid for rid, code in returned}
            fix = []
            for code, _, parent in new:
                path = f"{parent_paths[parent] if parent else '/'}{ids[code]}/"
                paths[code] = path
                fix.append({"b_id": ids[code], "path": path})
            conn.execute(update(table).where(table.c.id == bindparam("b_id")).values(path=bindparam("path")), fix)
        result.created[level.value] = len(new)
        result.updated[level.value] = len(renames)
        return paths


def _id_of(path: str) -> int:
    return int(path.rstrip("/").rsplit("/", 1)[-1])


def _code(row: dict[str, str]) -> str:
    return row["code"]


def _read(folder: Path, name: str) -> list[dict[str, str]]:
    path = folder / name
    if not path.is_file():
        raise Invalid(details=[FieldError("divisions_dir", MSG_MISSING_FILE, {"file": str(path)})])
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
