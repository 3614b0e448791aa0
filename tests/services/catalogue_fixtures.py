"""Builders for the catalogue tests: a world with departments coded by kind, the shipped catalogue."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from cityos.people.models import Department
from cityos.places.models import Region
from cityos.services.catalogue import service as catalogue
from tests.factories import World


def add_department(session: Session, region: Region, kind: str, name: str) -> Department:
    department = Department(code=f"{region.code}-{kind}", name=name, region_id=region.id, region_path=region.path)
    session.add(department)
    session.flush()
    return department


def install(session: Session) -> None:
    catalogue.install(session)


def departments(session: Session, world: World) -> dict[str, Department]:
    """The city's 民政局 and 公安局, and 甲区's 民政分局 (district A has no 公安局 of its own)."""
    return {
        "city-mzj": add_department(session, world.city, "mzj", "测试市民政局"),
        "city-gaj": add_department(session, world.city, "gaj", "测试市公安局"),
        "a-mzj": add_department(session, world.district_a, "mzj", "甲区民政局"),
        "b-gaj": add_department(session, world.district_b, "gaj", "乙区公安分局"),
    }


def item_record(code: str = "mzj-901", **changes: Any) -> dict[str, Any]:
    """A valid item record (a copy of the shipped 高龄津贴申领 under a new code)."""
    raw = copy.deepcopy(next(i for i in catalogue.shipped()["items"] if i["code"] == "mzj-003"))
    raw.update(code=code, name="测试事项")
    raw.update(changes)
    return raw
