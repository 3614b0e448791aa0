"""The store API other hub parts call: upsert_attributes, get_entity, entities_of_type."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.hub.ngsi import changes, service
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.ngsi.context import default_context

WC = "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer"
FILLING = "https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntityChange]]:
    got: list[EntityChange] = []

    def listener(_session: Session, batch: Sequence[EntityChange]) -> None:
        got.extend(batch)

    monkeypatch.setattr(changes, "_resolved", [listener])
    service.forget_tenants()
    yield got
    service.forget_tenants()


def test_upsert_creates_then_merges_and_emits(session: Session, seen: list[EntityChange]) -> None:
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    first = service.upsert_attributes(
        session,
        tenant="city",
        entity_id="urn:ngsi-ld:WasteContainer:001",
        entity_type="WasteContainer",
        attrs={
            "fillingLevel": {"type": "Property", "value": 0.4, "unitCode": "P1"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [116.4, 39.9]}},
        },
        observed_at=at,
    )
    assert first.kind == "created"
    assert first.entity_type == WC
    assert first.attrs == {FILLING, LOCATION}
    stored = service.get_entity(session, tenant="city", entity_id="urn:ngsi-ld:WasteContainer:001")
    assert stored is not None
    assert stored["type"] == WC
    assert stored[FILLING]["value"] == 0.4
    assert stored[FILLING]["observedAt"] == "2026-12-01T08:00:00.000Z"
    assert "createdAt" in stored[FILLING]

    second = service.upsert_attributes(
        session,
        tenant="city",
        entity_id="urn:ngsi-ld:WasteContainer:001",
        entity_type=WC,
        attrs={FILLING: {"type": "Property", "value": 0.9}},
        history=False,
    )
    assert second.kind == "updated"
    assert second.history is False
    assert second.previous is not None
    assert second.previous[FILLING]["value"] == 0.4
    assert second.entity is not None
    assert second.entity[FILLING]["value"] == 0.9
    assert second.entity[FILLING]["createdAt"] == stored[FILLING]["createdAt"]
    assert LOCATION in second.entity
    assert [c.kind for c in seen] == ["created", "updated"]
    assert service.tenant_exists(session, "city")


def test_entities_of_type_pages_and_isolates_tenants(session: Session, seen: list[EntityChange]) -> None:
    for i in range(5):
        service.upsert_attributes(
            session,
            tenant="t1",
            entity_id=f"urn:ngsi-ld:WasteContainer:{i}",
            entity_type="WasteContainer",
            attrs={"fillingLevel": {"type": "Property", "value": i / 10}},
        )
    service.upsert_attributes(
        session, tenant="t2", entity_id="urn:ngsi-ld:WasteContainer:x", entity_type="WasteContainer", attrs={}
    )
    page = service.entities_of_type(session, tenant="t1", entity_type="WasteContainer", limit=2, offset=1)
    assert [e["id"] for e in page] == ["urn:ngsi-ld:WasteContainer:1", "urn:ngsi-ld:WasteContainer:2"]
    assert len(service.entities_of_type(session, tenant="t2", entity_type=WC, limit=10, offset=0)) == 1
    assert service.get_entity(session, tenant="t2", entity_id="urn:ngsi-ld:WasteContainer:1") is None


def test_upsert_refuses_bad_input_without_writing(session: Session, seen: list[EntityChange]) -> None:
    with pytest.raises(Invalid) as err:
        service.upsert_attributes(
            session,
            tenant="t3",
            entity_id="not a uri",
            entity_type="WasteContainer",
            attrs={"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [500, 1]}}},
        )
    fields = {d.field for d in err.value.details}
    assert fields == {"id", "location.value"}
    assert seen == []
    assert not service.tenant_exists(session, "t3")


def test_concise_attributes_are_normalized(session: Session, seen: list[EntityChange]) -> None:
    change = service.upsert_attributes(
        session,
        tenant="default",
        entity_id="urn:ngsi-ld:Device:d1",
        entity_type="Device",
        attrs={"batteryLevel": 0.8, "refDeviceModel": {"object": "urn:ngsi-ld:DeviceModel:m"}},  # type: ignore[dict-item]
    )
    assert change.entity is not None
    ctx = default_context()
    assert change.entity[ctx.expand("batteryLevel")]["type"] == "Property"
    assert change.entity[ctx.expand("refDeviceModel")] == {
        "type": "Relationship",
        "object": "urn:ngsi-ld:DeviceModel:m",
        "createdAt": change.entity["createdAt"],
        "modifiedAt": change.entity["createdAt"],
    }
