"""Attribute normalization and validation: what an NGSI-LD write may carry, in the canonical form.

Input may be normalized (``{"type": "Property", "value": 1}``) or concise (``1``,
``{"value": 1}``, ``{"object": "urn:…"}``, a bare GeoJSON geometry …); the output is always the
normalized attribute object with expanded sub-attribute names, ISO 8601 UTC ``observedAt`` and
system ``createdAt``/``modifiedAt``, or a list of instances (one per ``datasetId``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cityos.core.errors import FieldError
from cityos.core.i18n import N_

PROPERTY = "Property"
RELATIONSHIP = "Relationship"
GEO_PROPERTY = "GeoProperty"
VALUE_MEMBER: dict[str, str] = {
    PROPERTY: "value",
    GEO_PROPERTY: "value",
    RELATIONSHIP: "object",
    "LanguageProperty": "languageMap",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
    "JsonProperty": "json",
    "VocabProperty": "vocab",
}
INFER_ORDER = ("object", "languageMap", "valueList", "objectList", "json", "vocab")
INFERRED_TYPE = {
    "object": RELATIONSHIP,
    "languageMap": "LanguageProperty",
    "valueList": "ListProperty",
    "objectList": "ListRelationship",
    "json": "JsonProperty",
    "vocab": "VocabProperty",
}
SYSTEM_MEMBERS = frozenset({"createdAt", "modifiedAt", "deletedAt", "instanceId"})
META_MEMBERS = frozenset(
    {"type", "observedAt", "unitCode", "datasetId", "objectType", "lang", *VALUE_MEMBER.values(), *SYSTEM_MEMBERS}
)
RESERVED_NAMES = frozenset({"id", "type", "@id", "@type", "@context", "createdAt", "modifiedAt", "deletedAt"})
GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)
LOCATION = "https://uri.etsi.org/ngsi-ld/location"

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_NAME_BAD = re.compile(r"[<>\"'=;()\s\x00-\x1f]")
MAX_DEPTH = 4


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 512 and _URI.match(value) is not None


def valid_name(name: Any) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 256 and _NAME_BAD.search(name) is None


def iso(dt: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (the store's timestamp text)."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO 8601 text (naive means UTC), or None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if "T" not in value and " " not in value:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _position(value: Any) -> bool:
    if not (isinstance(value, list) and 2 <= len(value) <= 3 and all(_number(v) for v in value)):
        return False
    return bool(-180 <= value[0] <= 180 and -90 <= value[1] <= 90)


def _ring(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 4 and all(_position(p) for p in value) and value[0] == value[-1]


def geometry_problem(value: Any) -> str | None:
    """None when ``value`` is a valid GeoJSON geometry (WGS84), else a message id."""
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        return N_("Must be a GeoJSON geometry (Point, LineString, Polygon …).")
    kind = value["type"]
    if kind == "GeometryCollection":
        parts = value.get("geometries")
        if not isinstance(parts, list) or not parts:
            return N_("The GeoJSON coordinates are not valid.")
        return next((p for p in (geometry_problem(g) for g in parts) if p), None)
    coords = value.get("coordinates")
    ok = {
        "Point": lambda c: _position(c),
        "MultiPoint": lambda c: isinstance(c, list) and bool(c) and all(_position(p) for p in c),
        "LineString": lambda c: isinstance(c, list) and len(c) >= 2 and all(_position(p) for p in c),
        "MultiLineString": lambda c: (
            isinstance(c, list)
            and bool(c)
            and all(isinstance(line, list) and len(line) >= 2 and all(_position(p) for p in line) for line in c)
        ),
        "Polygon": lambda c: isinstance(c, list) and bool(c) and all(_ring(r) for r in c),
        "MultiPolygon": lambda c: (
            isinstance(c, list)
            and bool(c)
            and all(isinstance(poly, list) and bool(poly) and all(_ring(r) for r in poly) for poly in c)
        ),
    }[kind](coords)
    return None if ok else N_("The GeoJSON coordinates are not valid.")


def is_geometry(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES and geometry_problem(value) is None


def _positions(geometry: dict[str, Any]) -> list[list[float]]:
    if geometry.get("type") == "GeometryCollection":
        return [p for g in geometry.get("geometries", []) for p in _positions(g)]
    out: list[list[float]] = []

    def walk(c: Any) -> None:
        if isinstance(c, list) and c and _number(c[0]):
            out.append(c)
        elif isinstance(c, list):
            for x in c:
                walk(x)

    walk(geometry.get("coordinates"))
    return out


def geometry_bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float] | None:
    points = _positions(geometry)
    if not points:
        return None
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def instances(attr: Any) -> list[dict[str, Any]]:
    """The instances of a stored attribute (one dict, or a list when several datasetIds)."""
    if isinstance(attr, list):
        return attr
    return [attr] if isinstance(attr, dict) else []


def pack(items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]] | None:
    if not items:
        return None
    return items[0] if len(items) == 1 else items


class Normalizer:
    """Normalizes the attributes of one write, collecting field errors instead of stopping at
    the first, with ``expand`` for sub-attribute names and ``VocabProperty`` values."""

    def __init__(self, expand: Callable[[str], str], now: str) -> None:
        self.expand = expand
        self.now = now
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str, **params: Any) -> None:
        self.errors.append(FieldError(field, message, params))

    def attribute(self, field: str, raw: Any, *, name: str = "", depth: int = 0) -> dict[str, Any] | list[Any] | None:
        """One attribute (an instance dict, or a list of instances)."""
        if isinstance(raw, list) and raw and all(isinstance(x, dict) and self._looks_like_instance(x) for x in raw):
            items = [self.instance(f"{field}[{i}]", x, name=name, depth=depth) for i, x in enumerate(raw)]
            found = [x for x in items if x is not None]
            seen: set[str | None] = set()
            for i, item in enumerate(found):
                key = item.get("datasetId")
                if key in seen:
                    self.fail(f"{field}[{i}].datasetId", N_("Two instances of the attribute have the same datasetId."))
                seen.add(key)
            return found if len(found) > 1 else (found[0] if found else None)
        return self.instance(field, raw, name=name, depth=depth)

    @staticmethod
    def _looks_like_instance(raw: dict[str, Any]) -> bool:
        return raw.get("type") in VALUE_MEMBER or any(m in raw for m in ("value", *INFER_ORDER))

    def instance(self, field: str, raw: Any, *, name: str = "", depth: int = 0) -> dict[str, Any] | None:
        if raw is None:
            self.fail(field, N_("An attribute cannot be null."))
            return None
        if not isinstance(raw, dict):
            return self._stamp({"type": PROPERTY, "value": raw})
        kind = raw.get("type")
        if kind is None:
            kind = self._infer(raw)
        elif kind in GEOMETRY_TYPES and "coordinates" in raw or kind == "GeometryCollection":
            raw = {"type": GEO_PROPERTY, "value": raw}
            kind = GEO_PROPERTY
        if kind is None:
            return self._stamp({"type": PROPERTY, "value": raw})
        if kind not in VALUE_MEMBER:
            self.fail(f"{field}.type", N_("Unknown attribute type {kind}."), kind=str(kind)[:60])
            return None
        if kind == PROPERTY and name == LOCATION and is_geometry(raw.get("value")):
            kind = GEO_PROPERTY
        member = VALUE_MEMBER[kind]
        out: dict[str, Any] = {"type": kind}
        if member not in raw or raw[member] is None:
            self.fail(f"{field}.{member}", N_("A {kind} needs a {member} member."), kind=kind, member=member)
            return None
        value = raw[member]
        if not self._value_ok(f"{field}.{member}", kind, value):
            return None
        out[member] = [self.expand(v) for v in value] if kind == "VocabProperty" and isinstance(value, list) else value
        if kind == "VocabProperty" and isinstance(value, str):
            out[member] = self.expand(value)
        for key, sub in raw.items():
            if key in (member, "type") or key in SYSTEM_MEMBERS:
                continue
            if key == "observedAt":
                when = parse_time(sub)
                if when is None:
                    self.fail(f"{field}.observedAt", N_("Must be an ISO 8601 date and time."))
                else:
                    out["observedAt"] = iso(when)
            elif key == "datasetId":
                if is_uri(sub):
                    out["datasetId"] = sub
                else:
                    self.fail(f"{field}.datasetId", N_("Must be a URI."))
            elif key == "unitCode":
                if isinstance(sub, str) and 0 < len(sub) <= 64:
                    out["unitCode"] = sub
                else:
                    self.fail(f"{field}.unitCode", N_("Must be a unit code (UN/CEFACT)."))
            elif key in ("objectType", "lang"):
                out[key] = sub
            elif key in META_MEMBERS:
                continue
            elif not valid_name(key):
                self.fail(f"{field}.{key[:60]}", N_("This attribute name is not allowed."))
            elif depth >= MAX_DEPTH:
                self.fail(f"{field}.{key[:60]}", N_("Sub-attributes nest too deeply."))
            else:
                nested = self.instance(f"{field}.{key}", sub, depth=depth + 1)
                if nested is not None:
                    out[self.expand(key)] = nested
        return self._stamp(out)

    def _infer(self, raw: dict[str, Any]) -> str | None:
        if "value" in raw:
            return GEO_PROPERTY if is_geometry(raw["value"]) else PROPERTY
        return next((INFERRED_TYPE[m] for m in INFER_ORDER if m in raw), None)

    def _value_ok(self, field: str, kind: str, value: Any) -> bool:
        message: str | None = None
        if kind == GEO_PROPERTY:
            message = geometry_problem(value)
        elif kind == RELATIONSHIP:
            targets = value if isinstance(value, list) else [value]
            if not targets or not all(is_uri(t) for t in targets):
                message = N_("A relationship's object must be a URI.")
        elif kind == "ListRelationship":
            targets = [t.get("object") if isinstance(t, dict) else t for t in value] if isinstance(value, list) else []
            if not isinstance(value, list) or not all(is_uri(t) for t in targets):
                message = N_("A relationship's object must be a URI.")
        elif kind == "LanguageProperty":
            if (
                not isinstance(value, dict)
                or not value
                or not all(
                    isinstance(k, str)
                    and (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)))
                    for k, v in value.items()
                )
            ):
                message = N_("A languageMap maps language tags to text.")
        elif kind == "ListProperty":
            if not isinstance(value, list):
                message = N_("Must be a list.")
        elif kind == "VocabProperty":
            if not (isinstance(value, str) and value) and not (
                isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
            ):
                message = N_("A vocab value must be a term or a list of terms.")
        if message:
            self.fail(field, message)
            return False
        return True

    def _stamp(self, out: dict[str, Any]) -> dict[str, Any]:
        out["createdAt"] = self.now
        out["modifiedAt"] = self.now
        return out


def merge_instance(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``new`` replacing ``old`` (same datasetId): keeps the instance's createdAt."""
    if old is not None and "createdAt" in old:
        new = {**new, "createdAt": old["createdAt"]}
    return new


def patch_instance(old: dict[str, Any], fragment: dict[str, Any], now: str) -> dict[str, Any]:
    """A partial attribute update: the fragment's members replace the instance's, the rest stay."""
    out = dict(old)
    for key, value in fragment.items():
        if key in ("createdAt", "modifiedAt"):
            continue
        out[key] = value
    out["modifiedAt"] = now
    return out


def put_instance(
    attr: Any, new: dict[str, Any], *, overwrite: bool = True
) -> tuple[dict[str, Any] | list[dict[str, Any]] | None, bool]:
    """``attr`` with ``new`` set for its datasetId; (result, whether it was written)."""
    items = instances(attr)
    key = new.get("datasetId")
    for i, item in enumerate(items):
        if item.get("datasetId") == key:
            if not overwrite:
                return attr, False
            items = [*items[:i], merge_instance(item, new), *items[i + 1 :]]
            return pack(items), True
    return pack([*items, new]), True
