"""Fixtures of the query part's tests: an operator (数据专员) and a few hub entities."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from cityos.hub.ngsi import service
from tests.factories import add_region, make_account

SDM = "https://smartdatamodels.org/"


@pytest.fixture
def officer(session: Session) -> int:
    city = add_region(session, None, "city", "测试市")
    return make_account(session, roles=["data_officer"], scope=city).id


@pytest.fixture
def outsider(session: Session) -> int:
    city = add_region(session, None, "city", "别的市")
    return make_account(session, roles=[], scope=city).id


def container(n: int, level: float, lon: float, lat: float, status: str = "ok") -> dict[str, Any]:
    return {
        "fillingLevel": {"type": "Property", "value": level},
        "status": {"type": "Property", "value": status},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
    }


@pytest.fixture
def hub_entities(session: Session) -> str:
    """Three waste containers, two parking spots and a custom type in tenant ``qtest``."""
    tenant = "qtest"
    for n, (level, lon, lat, status) in enumerate(
        [(0.2, 104.06, 30.67, "ok"), (0.9, 104.07, 30.68, "lidOpen"), (0.95, 104.50, 30.90, "ok")], start=1
    ):
        service.upsert_attributes(
            session,
            tenant=tenant,
            entity_id=f"urn:ngsi-ld:WasteContainer:q{n}",
            entity_type="WasteContainer",
            attrs=container(n, level, lon, lat, status),
        )
    for n, state in enumerate(["free", "occupied"], start=1):
        service.upsert_attributes(
            session,
            tenant=tenant,
            entity_id=f"urn:ngsi-ld:ParkingSpot:q{n}",
            entity_type="ParkingSpot",
            attrs={
                "status": {"type": "Property", "value": state},
                "refParkingSite": {"type": "Relationship", "object": "urn:ngsi-ld:ParkingSite:1"},
            },
        )
    service.upsert_attributes(
        session,
        tenant=tenant,
        entity_id="urn:ngsi-ld:Kiosk:1",
        entity_type="Kiosk",
        attrs={"visitors": {"type": "Property", "value": 12, "unitCode": "C62"}},
    )
    session.flush()
    return tenant
