"""Device profiles (设备模板): the shipped ones, and mapping one message's readings through a
profile into NGSI-LD attributes — names, scale and offset, units, type and range checks, and
which reading is the observation time.

A profile's ``mapping`` (see ``models.DeviceProfile``) is parsed once into a ``Profile``; mapping
a message never touches the database."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.hub.ingest.models import DeviceProfile

DATA = Path(__file__).resolve().parent / "data" / "profiles.json"

MSG_VALUES = N_("Give the readings as an object of names and values.")
MSG_NO_VALUES = N_("Send at least one reading.")
MSG_UNKNOWN = N_("This device's profile has no reading of this name.")
MSG_NUMBER = N_("Must be a number.")
MSG_INTEGER = N_("Must be a whole number.")
MSG_RANGE = N_("Must be from {min} to {max} (after scaling).")
MSG_ENUM = N_("Must be one of: {expected}.")
MSG_BOOLEAN = N_("Must be true or false.")
MSG_TEXT = N_("Must be text of at most {max} characters.")
MSG_DATETIME = N_("Must be a date and time with its offset, like 2026-12-01T08:00:00+08:00.")
MSG_URN = N_("Must be an entity id, like urn:ngsi-ld:RoadSegment:1.")

TYPES = ("number", "integer", "boolean", "enum", "string", "datetime", "relationship")
PROFILE_NAMES = (  # the shipped profiles' names, for extraction (they are translated where shown)
    N_("Waste container (fill level sensor)"),
    N_("Parking spot (occupancy sensor)"),
    N_("Traffic loop detector"),
    N_("Water level gauge"),
    N_("Manhole cover (tilt sensor)"),
    N_("Gate or door contact"),
    N_("Meter (water, power, gas)"),
)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    attr: str
    type: str
    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    unit: str | None = None
    max_length: int = 256


@dataclass(frozen=True)
class Profile:
    code: str
    device_kind: str
    entity_type: str
    time_key: str | None
    fields: dict[str, FieldSpec]
    static: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, code: str, device_kind: str, entity_type: str, mapping: dict[str, Any]) -> Profile:
        specs: dict[str, FieldSpec] = {}
        for key, raw in (mapping.get("fields") or {}).items():
            kind = raw.get("type", "number")
            if kind not in TYPES:
                raise ValueError(f"profile {code}: field {key} has unknown type {kind}")
            specs[key] = FieldSpec(
                key=key,
                attr=raw["attr"],
                type=kind,
                scale=float(raw.get("scale", 1.0)),
                offset=float(raw.get("offset", 0.0)),
                min=raw.get("min"),
                max=raw.get("max"),
                values=tuple(raw.get("values") or ()),
                unit=raw.get("unit"),
                max_length=int(raw.get("max_length", 256)),
            )
        time_key = mapping.get("time")
        if time_key is not None and (time_key not in specs or specs[time_key].type != "datetime"):
            raise ValueError(f"profile {code}: the time field must be a datetime field")
        return cls(code, device_kind, entity_type, time_key, specs, dict(mapping.get("static") or {}))

    @classmethod
    def of(cls, row: DeviceProfile) -> Profile:
        return cls.parse(row.code, row.device_kind, row.entity_type, row.mapping)

    @property
    def attrs(self) -> list[str]:
        return [spec.attr for spec in self.fields.values()]

    def static_attributes(self) -> dict[str, dict[str, Any]]:
        """The attributes every entity of this profile carries from the start (category …)."""
        return {name: {"type": "Property", "value": value} for name, value in self.static.items()}


@dataclass(frozen=True)
class Reading:
    """One mapped reading: an NGSI-LD attribute value (``kind`` Property or Relationship)."""

    attr: str
    kind: str
    value: Any
    unit: str | None = None

    def attribute(self, observed_at: datetime) -> dict[str, Any]:
        """The normalized NGSI-LD attribute the entity store keeps."""
        out: dict[str, Any] = {"type": self.kind, "observedAt": iso(observed_at)}
        out["object" if self.kind == "Relationship" else "value"] = self.value
        if self.unit:
            out["unitCode"] = self.unit
        return out


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp with an offset (``Z`` allowed), as UTC; None when it is not one."""
    if not isinstance(value, str) or not (10 <= len(value) <= 40):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def _number(spec: FieldSpec, raw: Any, where: str, errors: list[FieldError]) -> float | int | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        errors.append(FieldError(where, MSG_INTEGER if spec.type == "integer" else MSG_NUMBER))
        return None
    if spec.type == "integer" and (isinstance(raw, float) and not raw.is_integer()):
        errors.append(FieldError(where, MSG_INTEGER))
        return None
    value: float | int = raw * spec.scale + spec.offset if (spec.scale != 1.0 or spec.offset) else raw
    if spec.type == "integer":
        value = int(round(value))
    elif isinstance(value, float):
        value = round(value, 9)
    low = spec.min if spec.min is not None else -math.inf
    high = spec.max if spec.max is not None else math.inf
    if not (low <= value <= high):
        errors.append(FieldError(where, MSG_RANGE, {"min": _show(spec.min), "max": _show(spec.max)}))
        return None
    return value


def _show(bound: float | None) -> str:
    if bound is None:
        return "…"
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _one(spec: FieldSpec, raw: Any, where: str, errors: list[FieldError]) -> Reading | None:
    if spec.type in ("number", "integer"):
        number = _number(spec, raw, where, errors)
        return None if number is None else Reading(spec.attr, "Property", number, spec.unit)
    if spec.type == "boolean":
        if not isinstance(raw, bool):
            errors.append(FieldError(where, MSG_BOOLEAN))
            return None
        return Reading(spec.attr, "Property", raw, spec.unit)
    if spec.type == "enum":
        if not isinstance(raw, str) or raw not in spec.values:
            errors.append(FieldError(where, MSG_ENUM, {"expected": ", ".join(spec.values)}))
            return None
        return Reading(spec.attr, "Property", raw, spec.unit)
    if spec.type == "string":
        if not isinstance(raw, str) or not raw.strip() or len(raw) > spec.max_length:
            errors.append(FieldError(where, MSG_TEXT, {"max": spec.max_length}))
            return None
        return Reading(spec.attr, "Property", raw.strip(), spec.unit)
    if spec.type == "datetime":
        moment = parse_time(raw)
        if moment is None:
            errors.append(FieldError(where, MSG_DATETIME))
            return None
        return Reading(spec.attr, "Property", iso(moment))
    # relationship
    if not isinstance(raw, str) or ":" not in raw or len(raw) > 256 or any(c.isspace() for c in raw):
        errors.append(FieldError(where, MSG_URN))
        return None
    return Reading(spec.attr, "Relationship", raw)


@dataclass(frozen=True)
class Mapped:
    readings: list[Reading]
    observed_at: datetime | None  # from the profile's time field, when it has one
    errors: list[FieldError]


def map_values(profile: Profile, values: Any, *, prefix: str = "values") -> Mapped:
    """Checks and converts one message's readings; every problem is reported at once, with the
    field path (``values.fill``), and a message with any problem yields no readings."""
    errors: list[FieldError] = []
    if not isinstance(values, dict):
        return Mapped([], None, [FieldError(prefix, MSG_VALUES)])
    if not values:
        return Mapped([], None, [FieldError(prefix, MSG_NO_VALUES)])
    readings: list[Reading] = []
    observed_at: datetime | None = None
    for key, raw in values.items():
        where = f"{prefix}.{key}"[:128]
        spec = profile.fields.get(key) if isinstance(key, str) else None
        if spec is None:
            errors.append(FieldError(where, MSG_UNKNOWN))
            continue
        reading = _one(spec, raw, where, errors)
        if reading is None:
            continue
        readings.append(reading)
        if key == profile.time_key:
            observed_at = parse_time(reading.value)
    if errors:
        return Mapped([], None, errors)
    return Mapped(readings, observed_at, [])


@cache
def shipped() -> tuple[dict[str, Any], ...]:
    """The profiles that ship with cityos (``data/profiles.json``), each checked by parsing."""
    rows = tuple(json.loads(DATA.read_text(encoding="utf-8")))
    for row in rows:
        Profile.parse(row["code"], row["device_kind"], row["entity_type"], row["mapping"])
    return rows


def install(session: Session) -> int:
    """Adds the shipped profiles and brings changed ones up to date (idempotent); returns how
    many rows it wrote. A profile an operator added (``builtin`` false) is never touched."""
    existing = {p.code: p for p in session.scalars(select(DeviceProfile))}
    written = 0
    for row in shipped():
        current = existing.get(row["code"])
        if current is None:
            session.add(DeviceProfile(builtin=True, **row))
            written += 1
        elif current.builtin and (
            current.mapping != row["mapping"]
            or current.name != row["name"]
            or current.entity_type != row["entity_type"]
            or current.device_kind != row["device_kind"]
        ):
            current.mapping, current.name = row["mapping"], row["name"]
            current.entity_type, current.device_kind = row["entity_type"], row["device_kind"]
            written += 1
    session.flush()
    return written
