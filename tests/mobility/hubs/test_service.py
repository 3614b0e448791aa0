"""Hub records: create (placed in the region at its point), change, delete, list by area; every
bad input refused with its field, nothing written; permissions and scope."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.mobility.hubs import service
from cityos.mobility.hubs.models import TransportHub
from tests.mobility.hubs.conftest import HUB, People

GOOD: dict[str, Any] = {
    "code": "EAST",
    "name": "成都东站",
    "kind": "rail",
    "lon": HUB[0],
    "lat": HUB[1],
    "radius_m": 400,
    "camera_ids": ["cam-2", "cam-1", "cam-1"],
}


def test_a_hub_is_created_in_the_region_at_its_point(session: Session, people: People) -> None:
    hub = service.create_hub(session, people.operator, **GOOD)
    assert hub.region_id == people.world.grid1.id  # the deepest region containing the point
    assert hub.camera_ids == ["cam-1", "cam-2"]
    assert [h.code for h in service.list_hubs(session, people.reader)] == ["EAST"]
    assert service.get_hub(session, people.reader, "EAST").name == "成都东站"


def test_a_hub_can_be_placed_in_a_chosen_region(session: Session, people: People) -> None:
    hub = service.create_hub(session, people.operator, **{**GOOD, "region_id": people.world.district_a.id})
    assert hub.region_path == people.world.district_a.path


def test_a_duplicate_code_conflicts(session: Session, people: People) -> None:
    service.create_hub(session, people.operator, **GOOD)
    with pytest.raises(Conflict) as exc:
        service.create_hub(session, people.operator, **GOOD)
    assert exc.value.details[0].field == "code"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "has space"}, "code"),
        ({"code": None}, "code"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"kind": "harbour"}, "kind"),
        ({"lon": 181}, "lon"),
        ({"lon": "east"}, "lon"),
        ({"lat": float("nan")}, "lat"),
        ({"lat": True}, "lat"),
        ({"radius_m": 10}, "radius_m"),
        ({"radius_m": 5000}, "radius_m"),
        ({"camera_ids": "cam-1"}, "camera_ids"),
        ({"camera_ids": [""]}, "camera_ids"),
        ({"camera_ids": [f"c{i}" for i in range(51)]}, "camera_ids"),
        ({"region_id": "x"}, "region_id"),
        ({"region_id": 999_999}, "region_id"),
        ({"lon": 120.0, "lat": 31.0}, "lon"),  # in no region of the tree
    ],
)
def test_bad_input_is_refused_with_its_field(
    session: Session, people: People, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as exc:
        service.create_hub(session, people.operator, **{**GOOD, **change})
    assert field in [d.field for d in exc.value.details]
    assert session.scalar(select(func.count()).select_from(TransportHub)) == 0


def test_several_bad_fields_are_reported_together(session: Session, people: People) -> None:
    with pytest.raises(Invalid) as exc:
        service.create_hub(session, people.operator, code="", name="", kind="x", lon=None, lat=None, radius_m=0)
    assert [d.field for d in exc.value.details] == ["code", "name", "kind", "lon", "lat", "radius_m"]


def test_changing_and_moving_a_hub(session: Session, people: People) -> None:
    service.create_hub(session, people.operator, **GOOD)
    hub = service.update_hub(session, people.operator, code="EAST", name="东站", radius_m=250, camera_ids=None)
    assert (hub.name, hub.radius_m, hub.camera_ids, hub.region_id) == ("东站", 250.0, [], people.world.grid1.id)
    moved = service.update_hub(session, people.operator, code="EAST", lon=104.15, lat=30.05)
    assert moved.region_id == people.world.district_b.id
    with pytest.raises(Invalid) as exc:
        service.update_hub(session, people.operator, code="EAST", name=None, kind="boat")
    assert [d.field for d in exc.value.details] == ["name", "kind"]
    assert service.get_hub(session, people.reader, "EAST").name == "东站"
    service.delete_hub(session, people.operator, code="EAST")
    with pytest.raises(NotFound):
        service.get_hub(session, people.reader, "EAST")


def test_permissions_and_areas(session: Session, people: People) -> None:
    with pytest.raises(Forbidden):
        service.create_hub(session, people.reader, **GOOD)
    with pytest.raises(Invalid) as exc:  # district B's operator: the point is outside their area
        service.create_hub(session, people.operator_b, **GOOD)
    assert exc.value.details[0].field == "lon"
    service.create_hub(session, people.operator, **GOOD)
    assert service.list_hubs(session, people.operator_b) == []
    with pytest.raises(NotFound):
        service.get_hub(session, people.operator_b, "EAST")
    with pytest.raises(Forbidden):
        service.update_hub(session, people.reader, code="EAST", name="x")
    with pytest.raises(Forbidden):
        service.delete_hub(session, people.reader, code="EAST")
