"""FIWARE Smart Data Models validation of the five shipped types (智能数据模型校验).

The attribute schemas in ``data/smartmodels/<Type>.json`` are written from the published
``schema.json`` of each model (attribute names, JSON types, enums, ranges, which attributes are
Relationships or GeoProperties). ``validate(type_iri, entity)`` checks the attributes an entity
in the canonical form carries (expanded names, matched by their last path segment, so the
Smart Data Models IRIs and the default vocabulary both work) and returns field errors named by
the attribute's short name. Unknown types and attributes the model does not describe are left
alone (NGSI-LD entities may carry more attributes than the model).
Required attributes are reported by ``missing_required`` only: the store merges partial
updates, so a reading of one attribute must not fail for the ones it does not carry.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.hub.ngsi.query import parse_instant

DATA_DIR = Path(__file__).resolve().parent / "data" / "smartmodels"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"

SMART_MODEL_TYPES: dict[str, str] = {
    "TrafficFlowObserved": "https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved",
    "ParkingSpot": "https://smartdatamodels.org/dataModel.Parking/ParkingSpot",
    "WasteContainer": "https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer",
    "Device": "https://smartdatamodels.org/dataModel.Device/Device",
    "DeviceMeasurement": "https://smartdatamodels.org/dataModel.Device/DeviceMeasurement",
}

MSG_NUMBER = N_("Must be a number.")
MSG_INTEGER = N_("Must be a whole number.")
MSG_TEXT = N_("Must be text.")
MSG_BOOLEAN = N_("Must be true or false.")
MSG_LIST = N_("Must be a list.")
MSG_OBJECT = N_("Must be an object.")
MSG_DATETIME = N_("Must be a date and time.")
MSG_AT_LEAST = N_("Must be at least {limit}.")
MSG_AT_MOST = N_("Must be at most {limit}.")
MSG_ONE_OF = N_("Must be one of: {expected}.")
MSG_NOT_EMPTY = N_("Must hold at least one value.")
MSG_RELATIONSHIP = N_("Must be a Relationship to an entity.")
MSG_GEOPROPERTY = N_("Must be a GeoProperty.")
MSG_PROPERTY = N_("Must be a Property with a value.")
MSG_REQUIRED = N_("Is required by the Smart Data Model {model}.")


@dataclass(frozen=True)
class SmartModel:
    name: str
    iri: str
    source: str
    required: tuple[str, ...]
    attributes: dict[str, dict[str, Any]]


@lru_cache(maxsize=1)
def models() -> dict[str, SmartModel]:
    """The shipped models by short name (read once)."""
    found: dict[str, SmartModel] = {}
    for name in SMART_MODEL_TYPES:
        raw = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
        found[name] = SmartModel(
            name=name,
            iri=raw["iri"],
            source=raw["source"],
            required=tuple(raw.get("required", [])),
            attributes=dict(raw["attributes"]),
        )
    return found


def model_for(entity_type: str) -> SmartModel | None:
    """The model of an expanded type IRI (or the type under the default vocabulary / bare)."""
    for name, iri in SMART_MODEL_TYPES.items():
        if entity_type in (iri, name, DEFAULT_VOCAB + name):
            return models()[name]
    return None


def local_name(iri: str) -> str:
    """The last segment of an expanded name: ``https://…/fillingLevel`` → ``fillingLevel``."""
    cut = max(iri.rfind("/"), iri.rfind("#"))
    return iri[cut + 1 :] if cut >= 0 else iri.rsplit(":", 1)[-1]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_value(value: Any, rule: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Problems of one value against one attribute rule (message, params)."""
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    kind = rule.get("type")
    if value in rule.get("also", []) and _number(value):
        return []
    if kind == "number":
        if not _number(value):
            return [(MSG_NUMBER, {})]
    elif kind == "integer":
        if not _number(value) or float(value) != int(value):
            return [(MSG_INTEGER, {})]
    elif kind == "string":
        if not isinstance(value, str):
            return [(MSG_TEXT, {})]
        if rule.get("format") == "date-time" and parse_instant(value) is None:
            return [(MSG_DATETIME, {})]
    elif kind == "boolean":
        if not isinstance(value, bool):
            return [(MSG_BOOLEAN, {})]
    elif kind == "object":
        if not isinstance(value, dict):
            return [(MSG_OBJECT, {})]
    elif kind == "array":
        items = value if isinstance(value, list) else [value]  # one value stands for a list
        if isinstance(value, list) and len(value) < int(rule.get("minItems", 0)):
            return [(MSG_NOT_EMPTY, {})]
        problems: list[tuple[str, dict[str, Any]]] = []
        for item in items:
            problems.extend(_check_value(item, rule.get("items", {})))
        return problems[:1]
    if "minimum" in rule and _number(value) and value < rule["minimum"]:
        return [(MSG_AT_LEAST, {"limit": rule["minimum"]})]
    if "maximum" in rule and _number(value) and value > rule["maximum"]:
        return [(MSG_AT_MOST, {"limit": rule["maximum"]})]
    if "enum" in rule and value not in rule["enum"]:
        return [(MSG_ONE_OF, {"expected": ", ".join(str(v) for v in rule["enum"])})]
    return []


def _check_instance(instance: Any, rule: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(instance, dict):
        return [(MSG_PROPERTY, {})]
    kind = instance.get("type")
    expected = rule.get("kind", "Property")
    if expected == "Relationship":
        ok = kind == "Relationship" and isinstance(instance.get("object"), str | list)
        return [] if ok else [(MSG_RELATIONSHIP, {})]
    if expected == "GeoProperty":
        return [] if kind == "GeoProperty" else [(MSG_GEOPROPERTY, {})]
    if kind == "Relationship" or "value" not in instance:
        return [(MSG_PROPERTY, {})]
    return _check_value(instance["value"], rule)


def validate(entity_type: str, entity: dict[str, Any]) -> list[FieldError]:
    """Field errors of an entity (canonical form) against its Smart Data Model; [] if unknown."""
    model = model_for(entity_type)
    if model is None:
        return []
    errors: list[FieldError] = []
    for key, attribute in entity.items():
        if key in ("id", "type", "@context", "createdAt", "modifiedAt", "scope"):
            continue
        name = local_name(key)
        rule = model.attributes.get(name)
        if rule is None:
            continue
        instances = attribute if isinstance(attribute, list) else [attribute]
        for instance in instances:
            problems = _check_instance(instance, rule)
            if problems:
                message, params = problems[0]
                errors.append(FieldError(name, message, params))
                break
    return errors


def missing_required(entity_type: str, entity: dict[str, Any]) -> list[FieldError]:
    """Field errors for the model's required attributes the (complete) entity lacks."""
    model = model_for(entity_type)
    if model is None:
        return []
    present = {local_name(key) for key in entity}
    return [FieldError(name, MSG_REQUIRED, {"model": model.name}) for name in model.required if name not in present]
