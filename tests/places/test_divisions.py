"""Importing a city's real 市/区/街道 from the divisions CSVs."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.core.settings import get_settings
from cityos.places.divisions import import_divisions
from cityos.places.models import Region

DIVISIONS = get_settings().divisions_dir


def _csv(name: str) -> list[dict[str, str]]:
    with (DIVISIONS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def chengdu() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    if not (DIVISIONS / "streets.csv").is_file():
        pytest.fail(f"the divisions data is missing: {DIVISIONS}")
    areas = [r for r in _csv("areas.csv") if r["cityCode"] == "5101"]
    streets = [r for r in _csv("streets.csv") if r["cityCode"] == "5101"]
    return areas, streets


def _count(session: Session, level: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Region).where(Region.level == level)) or 0)


def test_import_chengdu_matches_the_csv_and_is_fast(session: Session, chengdu: tuple[list, list]) -> None:
    areas, streets = chengdu
    started = time.perf_counter()
    result = import_divisions(session, city_code="5101", divisions_dir=DIVISIONS)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0
    assert (result.city_code, result.city_name) == ("510100", "成都市")
    assert result.created == {"city": 1, "district": len(areas), "street": len(streets)}
    assert (_count(session, "city"), _count(session, "district"), _count(session, "street")) == (
        1,
        len(areas),
        len(streets),
    )
    city = session.get(Region, result.city_id)
    assert city is not None
    assert city.path == f"/{city.id}/"
    assert city.depth == 0
    jinjiang = session.scalar(select(Region).where(Region.code == "510104"))
    assert jinjiang is not None
    assert jinjiang.name == "锦江区"
    assert jinjiang.parent_id == city.id
    assert jinjiang.path == f"{city.path}{jinjiang.id}/"
    street_row = next(s for s in streets if s["areaCode"] == "510104")
    street = session.scalar(select(Region).where(Region.code == street_row["code"]))
    assert street is not None
    assert street.name == street_row["name"]
    assert street.parent_id == jinjiang.id
    assert street.path == f"{jinjiang.path}{street.id}/"
    assert street.depth == 2
    assert street.geometry is None  # real divisions come without shapes


def test_reimport_creates_nothing_and_restores_names(session: Session, chengdu: tuple[list, list]) -> None:
    first = import_divisions(session, city_code="5101", divisions_dir=DIVISIONS)
    before = session.scalar(select(func.count()).select_from(Region))
    district = session.scalar(select(Region).where(Region.code == "510104"))
    assert district is not None
    district.name = "改过的名字"
    session.flush()
    again = import_divisions(session, city_code="5101", divisions_dir=DIVISIONS)
    assert again.city_id == first.city_id
    assert again.created == {"city": 0, "district": 0, "street": 0}
    assert again.updated == {"city": 0, "district": 1, "street": 0}
    assert session.scalar(select(func.count()).select_from(Region)) == before
    session.refresh(district)
    assert district.name == "锦江区"


def test_municipality_takes_the_province_name(session: Session) -> None:
    result = import_divisions(session, city_code="1101", divisions_dir=DIVISIONS)
    assert (result.city_code, result.city_name) == ("110100", "北京市")
    assert result.created["district"] == 16


def test_progress_reaches_the_total(session: Session) -> None:
    seen: list[tuple[int, int]] = []
    import_divisions(session, city_code="5101", divisions_dir=DIVISIONS, progress=lambda d, t: seen.append((d, t)))
    assert seen[0][0] == 0
    assert seen[-1][0] == seen[-1][1] > 1


@pytest.mark.parametrize("code", ["51", "51010", "abcd", "9999"])
def test_bad_city_code_stores_nothing(session: Session, code: str) -> None:
    before = session.scalar(select(func.count()).select_from(Region))
    with pytest.raises(Invalid) as exc:
        import_divisions(session, city_code=code, divisions_dir=DIVISIONS)
    assert [d.field for d in exc.value.details] == ["city_code"]
    assert session.scalar(select(func.count()).select_from(Region)) == before


def test_missing_files_are_reported(session: Session, tmp_path: Path) -> None:
    with pytest.raises(Invalid) as exc:
        import_divisions(session, city_code="5101", divisions_dir=tmp_path)
    assert [d.field for d in exc.value.details] == ["divisions_dir"]
