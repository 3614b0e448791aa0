"""Smart Data Models validation of the five shipped types: ranges, enums, kinds, wrong types."""

from __future__ import annotations

from typing import Any

import pytest

from cityos.hub.ngsi.smartmodels import (
    SMART_MODEL_TYPES,
    local_name,
    missing_required,
    model_for,
    models,
    validate,
)

SDM = "https://smartdatamodels.org/"
V = "https://uri.etsi.org/ngsi-ld/default-context/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def rel(obj: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": obj}


def entity(kind: str, **attrs: Any) -> dict[str, Any]:
    # attribute names under the default vocabulary: matched by their last segment
    body = {"id": f"urn:ngsi-ld:{kind}:1", "type": SMART_MODEL_TYPES[kind]}
    body.update({V + name: value for name, value in attrs.items()})
    return body


def errors(kind: str, **attrs: Any) -> dict[str, str]:
    found = validate(SMART_MODEL_TYPES[kind], entity(kind, **attrs))
    return {e.field: e.message for e in found}


def test_all_five_models_ship() -> None:
    assert set(models()) == {"TrafficFlowObserved", "ParkingSpot", "WasteContainer", "Device", "DeviceMeasurement"}
    for name, iri in SMART_MODEL_TYPES.items():
        assert model_for(iri) is models()[name]
        assert model_for(V + name) is models()[name]
    assert model_for("https://example.org/Thing") is None
    assert validate("https://example.org/Thing", {"x": prop("anything")}) == []


def test_local_names() -> None:
    assert local_name(SDM + "dataModel.WasteManagement/fillingLevel") == "fillingLevel"
    assert local_name("http://example.org/vocab#speed") == "speed"
    assert local_name("sdm:status") == "status"


def test_waste_container() -> None:
    good = {
        "fillingLevel": prop(0.75),
        "status": prop("lidOpen"),
        "category": prop(["underground"]),
        "storedWasteKind": prop("glass"),
        "cargoWeight": prop(12),
        "dateLastEmptying": prop("2024-05-01T08:00:00Z"),
        "refDevice": rel("urn:ngsi-ld:Device:1"),
    }
    assert errors("WasteContainer", **good) == {}
    # the Smart Data Models IRIs work as well as the default vocabulary
    sdm_entity = {
        "id": "urn:ngsi-ld:WasteContainer:2",
        "type": SMART_MODEL_TYPES["WasteContainer"],
        SDM + "dataModel.WasteManagement/fillingLevel": prop(1.2),
        SDM + "status": prop("ok"),
        LOCATION: {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [104, 30]}},
    }
    assert [e.field for e in validate(SMART_MODEL_TYPES["WasteContainer"], sdm_entity)] == ["fillingLevel"]
    assert errors("WasteContainer", fillingLevel=prop(1.01)) == {"fillingLevel": "Must be at most {limit}."}
    assert errors("WasteContainer", fillingLevel=prop(-0.1)) == {"fillingLevel": "Must be at least {limit}."}
    assert errors("WasteContainer", fillingLevel=prop("full")) == {"fillingLevel": "Must be a number."}
    assert errors("WasteContainer", fillingLevel=prop(True)) == {"fillingLevel": "Must be a number."}
    assert errors("WasteContainer", status=prop("broken")) == {"status": "Must be one of: {expected}."}
    assert errors("WasteContainer", category=prop(["sky"])) == {"category": "Must be one of: {expected}."}
    assert errors("WasteContainer", category=prop([])) == {"category": "Must hold at least one value."}
    assert errors("WasteContainer", dateLastEmptying=prop("yesterday")) == {
        "dateLastEmptying": "Must be a date and time."
    }
    assert errors("WasteContainer", refDevice=prop("urn:ngsi-ld:Device:1")) == {
        "refDevice": "Must be a Relationship to an entity."
    }
    assert errors("WasteContainer", fillingLevel=rel("urn:x")) == {"fillingLevel": "Must be a Property with a value."}
    assert errors("WasteContainer", location=prop([104, 30])) == {"location": "Must be a GeoProperty."}


def test_parking_spot() -> None:
    assert errors("ParkingSpot", status=prop("free"), category=prop(["onStreet"]), width=prop(2.5)) == {}
    for status in ("free", "occupied", "closed", "unknown"):
        assert errors("ParkingSpot", status=prop(status)) == {}
    assert errors("ParkingSpot", status=prop("taken")) == {"status": "Must be one of: {expected}."}
    assert errors("ParkingSpot", category=prop(["roof"])) == {"category": "Must be one of: {expected}."}
    assert errors("ParkingSpot", width=prop(-1)) == {"width": "Must be at least {limit}."}
    assert errors("ParkingSpot", refParkingSite=rel("urn:ngsi-ld:ParkingSite:1")) == {}
    found = validate(SMART_MODEL_TYPES["ParkingSpot"], entity("ParkingSpot", status=prop("free"), length=prop("x")))
    assert [(e.field, e.message) for e in found] == [("length", "Must be a number.")]
    assert found[0].params == {}
    enum_error = validate(SMART_MODEL_TYPES["ParkingSpot"], entity("ParkingSpot", status=prop("x")))[0]
    assert enum_error.params == {"expected": "closed, free, occupied, unknown"}


def test_traffic_flow_observed() -> None:
    good = {
        "intensity": prop(120),
        "occupancy": prop(0.4),
        "averageVehicleSpeed": prop(42.5),
        "laneId": prop(2),
        "laneDirection": prop("forward"),
        "congested": prop(False),
        "vehicleType": prop("bus"),
        "dateObservedFrom": prop("2024-05-01T08:00:00Z"),
        "dateObservedTo": prop("2024-05-01T08:05:00+08:00"),
        "refRoadSegment": rel("urn:ngsi-ld:RoadSegment:1"),
    }
    assert errors("TrafficFlowObserved", **good) == {}
    assert errors("TrafficFlowObserved", intensity=prop(-1)) == {"intensity": "Must be at least {limit}."}
    assert errors("TrafficFlowObserved", occupancy=prop(1.5)) == {"occupancy": "Must be at most {limit}."}
    assert errors("TrafficFlowObserved", averageVehicleSpeed=prop(-3)) == {
        "averageVehicleSpeed": "Must be at least {limit}."
    }
    assert errors("TrafficFlowObserved", laneId=prop(0)) == {"laneId": "Must be at least {limit}."}
    assert errors("TrafficFlowObserved", laneId=prop(1.5)) == {"laneId": "Must be a whole number."}
    assert errors("TrafficFlowObserved", laneDirection=prop("up")) == {"laneDirection": "Must be one of: {expected}."}
    assert errors("TrafficFlowObserved", congested=prop("yes")) == {"congested": "Must be true or false."}
    assert errors("TrafficFlowObserved", dateObservedTo=prop(5)) == {"dateObservedTo": "Must be text."}


def test_device() -> None:
    good = {
        "batteryLevel": prop(0.8),
        "deviceState": prop("ok"),
        "controlledProperty": prop(["fillingLevel", "temperature"]),
        "category": prop(["sensor"]),
        "configuration": prop({"interval": 60}),
    }
    assert errors("Device", **good) == {}
    assert errors("Device", batteryLevel=prop(-1)) == {}  # the schema's "unknown" value
    assert errors("Device", batteryLevel=prop(1.5)) == {"batteryLevel": "Must be at most {limit}."}
    assert errors("Device", batteryLevel=prop(-0.5)) == {"batteryLevel": "Must be at least {limit}."}
    assert errors("Device", deviceState=prop(3)) == {"deviceState": "Must be text."}
    assert errors("Device", controlledProperty=prop([1])) == {"controlledProperty": "Must be text."}
    assert errors("Device", controlledProperty=prop("temperature")) == {}  # one value stands for a list
    assert errors("Device", category=prop(["toaster"])) == {"category": "Must be one of: {expected}."}
    assert errors("Device", configuration=prop("x")) == {"configuration": "Must be an object."}


def test_device_measurement() -> None:
    good = {
        "numValue": prop(21.5),
        "controlledProperty": prop("temperature"),
        "unit": prop("CEL"),
        "outlier": prop(False),
        "dateObserved": prop("2024-05-01T08:00:00Z"),
        "refDevice": rel("urn:ngsi-ld:Device:1"),
    }
    assert errors("DeviceMeasurement", **good) == {}
    assert errors("DeviceMeasurement", numValue=prop("21.5")) == {"numValue": "Must be a number."}
    assert errors("DeviceMeasurement", numValue=prop(float("nan"))) == {"numValue": "Must be a number."}
    assert errors("DeviceMeasurement", outlier=prop(0)) == {"outlier": "Must be true or false."}
    assert errors("DeviceMeasurement", unit=prop(5)) == {"unit": "Must be text."}


def test_multi_instance_and_unknown_attributes() -> None:
    found = errors("WasteContainer", fillingLevel=[prop(0.5), prop(3)], colourOfLid=prop(12))
    assert found == {"fillingLevel": "Must be at most {limit}."}
    assert errors("WasteContainer", fillingLevel=prop({"@value": 0.2, "@type": "xsd:double"})) == {}


def test_missing_required() -> None:
    parking = entity("ParkingSpot", status=prop("free"))
    assert {e.field for e in missing_required(SMART_MODEL_TYPES["ParkingSpot"], parking)} == {
        "location",
        "category",
        "refParkingSite",
    }
    assert missing_required("https://example.org/T", {}) == []


@pytest.mark.parametrize("kind", sorted(SMART_MODEL_TYPES))
def test_every_model_attribute_rule_is_understood(kind: str) -> None:
    known_types = {"number", "integer", "string", "boolean", "array", "object", None}
    for name, rule in models()[kind].attributes.items():
        assert rule.get("type") in known_types, name
        assert rule.get("kind", "Property") in {"Property", "Relationship", "GeoProperty"}, name
