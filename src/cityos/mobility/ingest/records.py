"""Per-record validation of the five feeds: a record becomes a table row or a ``Rejection``.

Each source is a list of field rules (name, kind, required, bounds). The checks are ordered so
that a record gets the first, most specific reason: a missing field before a wrong type before a
value out of range. Values may arrive as JSON types or as strings (CSV), so numbers are parsed
from strings too; a boolean is never taken for a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cityos.core.i18n import N_

from .models import VIDEO_DIRECTIONS, VIDEO_MODES

# The stable reason codes of the quarantine (the API, the page and the docs list the same).
MISSING_FIELD = "missing_field"
BAD_TYPE = "bad_type"
BAD_TIME = "bad_time"
FUTURE_TIME = "future_time"
OUT_OF_RANGE = "out_of_range"
UNKNOWN_SEGMENT = "unknown_segment"
OUTSIDE_NETWORK = "outside_network"
UNKNOWN_MODE = "unknown_mode"
UNKNOWN_KIND = "unknown_kind"
UNKNOWN_DIRECTION = "unknown_direction"
BAD_RECORD = "bad_record"

REASONS: dict[str, str] = {
    MISSING_FIELD: N_("The field {field} is missing."),
    BAD_TYPE: N_("The field {field} has the wrong type."),
    BAD_TIME: N_("The field {field} is not an ISO 8601 time with a zone."),
    FUTURE_TIME: N_("The time in {field} lies in the future."),
    OUT_OF_RANGE: N_("The value of {field} is out of range."),
    UNKNOWN_SEGMENT: N_("The segment in {field} is not in the road network."),
    OUTSIDE_NETWORK: N_("The position is not near any road of the network."),
    UNKNOWN_MODE: N_("The mode in {field} is not known."),
    UNKNOWN_KIND: N_("The vehicle kind in {field} is not known."),
    UNKNOWN_DIRECTION: N_("The direction in {field} is not known."),
    BAD_RECORD: N_("The record is not a JSON object."),
}

# A clock a little ahead at the sender is not an error; a record from tomorrow is.
FUTURE_TOLERANCE = timedelta(minutes=5)
PROBE_SOURCE_KINDS: tuple[str, ...] = ("taxi", "ridehail", "other")


@dataclass(frozen=True)
class Rejection:
    reason: str
    field: str | None
    detail: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # str | int | float | bool | time
    required: bool = True
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    choice_reason: str = OUT_OF_RANGE
    max_len: int = 64


_SPEED = (0.0, 250.0)
_INTERVAL = (1.0, 86_400.0)

RULES: dict[str, tuple[Rule, ...]] = {
    "loop": (
        Rule("detector_id", "str"),
        Rule("segment_id", "str", max_len=128),
        Rule("lane", "int", required=False, low=0, high=32),
        Rule("ts", "time"),
        Rule("interval_s", "int", low=_INTERVAL[0], high=_INTERVAL[1]),
        Rule("count", "int", low=0, high=100_000),
        Rule("occupancy", "float", required=False, low=0.0, high=1.0),
        Rule("speed_kmh", "float", required=False, low=_SPEED[0], high=_SPEED[1]),
    ),
    "probe": (
        Rule("kind", "str", choices=PROBE_SOURCE_KINDS, choice_reason=UNKNOWN_KIND, max_len=16),
        Rule("vehicle_id", "str", max_len=256),
        Rule("ts", "time"),
        Rule("lon", "float", low=-180.0, high=180.0),
        Rule("lat", "float", low=-90.0, high=90.0),
        Rule("speed_kmh", "float", required=False, low=_SPEED[0], high=_SPEED[1]),
        Rule("heading_deg", "float", required=False, low=0.0, high=360.0),
        Rule("occupied", "bool", required=False),
    ),
    "bus": (
        Rule("vehicle_id", "str", max_len=256),
        Rule("route_id", "str"),
        Rule("trip_id", "str", required=False, max_len=128),
        Rule("ts", "time"),
        Rule("lon", "float", low=-180.0, high=180.0),
        Rule("lat", "float", low=-90.0, high=90.0),
        Rule("speed_kmh", "float", required=False, low=_SPEED[0], high=_SPEED[1]),
        Rule("heading_deg", "float", required=False, low=0.0, high=360.0),
    ),
    "nav": (
        Rule("provider", "str", max_len=32),
        Rule("segment_id", "str", max_len=128),
        Rule("ts", "time"),
        Rule("interval_s", "int", low=_INTERVAL[0], high=_INTERVAL[1]),
        Rule("speed_kmh", "float", low=_SPEED[0], high=_SPEED[1]),
        Rule("samples", "int", required=False, low=1, high=1_000_000),
    ),
    "video": (
        Rule("camera_id", "str"),
        Rule("hub_code", "str", required=False),
        Rule("ts", "time"),
        Rule("interval_s", "int", low=_INTERVAL[0], high=_INTERVAL[1]),
        Rule("mode", "str", choices=VIDEO_MODES, choice_reason=UNKNOWN_MODE, max_len=16),
        Rule("direction", "str", choices=VIDEO_DIRECTIONS, choice_reason=UNKNOWN_DIRECTION, max_len=8),
        Rule("count", "int", low=0, high=1_000_000),
    ),
}


class _Bad(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason, self.detail = reason, detail


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_time(value: Any) -> datetime:
    """An aware datetime in UTC; a naive time or a number is refused (whose zone would it be?)."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise _Bad(BAD_TIME, value[:64]) from exc
    else:
        raise _Bad(BAD_TIME, type(value).__name__)
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise _Bad(BAD_TIME, "no zone")
    return ts.astimezone(UTC)


def _number(value: Any, integral: bool) -> float:
    if isinstance(value, bool):
        raise _Bad(BAD_TYPE, "boolean")
    if isinstance(value, int | float):
        num = float(value)
    elif isinstance(value, str):
        try:
            num = float(value.strip())
        except ValueError as exc:
            raise _Bad(BAD_TYPE, value[:64]) from exc
    else:
        raise _Bad(BAD_TYPE, type(value).__name__)
    if not math.isfinite(num):
        raise _Bad(OUT_OF_RANGE, str(value)[:64])
    if integral and num != int(num):
        raise _Bad(BAD_TYPE, "not an integer")
    return num


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise _Bad(BAD_TYPE, str(value)[:64])


def _convert(rule: Rule, value: Any, now: datetime) -> Any:
    if rule.kind == "time":
        ts = parse_time(value)
        if ts > now + FUTURE_TOLERANCE:
            raise _Bad(FUTURE_TIME, ts.isoformat())
        return ts
    if rule.kind == "bool":
        return _boolean(value)
    if rule.kind == "str":
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise _Bad(BAD_TYPE, type(value).__name__)
        text = str(value).strip()
        if len(text) > rule.max_len:
            raise _Bad(OUT_OF_RANGE, f"longer than {rule.max_len}")
        if rule.choices and text not in rule.choices:
            raise _Bad(rule.choice_reason, text[:64])
        return text
    num = _number(value, integral=rule.kind == "int")
    if (rule.low is not None and num < rule.low) or (rule.high is not None and num > rule.high):
        raise _Bad(OUT_OF_RANGE, str(value)[:64])
    return int(num) if rule.kind == "int" else num


def validate(source: str, record: Any, now: datetime) -> dict[str, Any] | Rejection:
    """The record's typed values by field name, or the first reason it is refused."""
    if not isinstance(record, dict):
        return Rejection(BAD_RECORD, None, type(record).__name__)
    values: dict[str, Any] = {}
    for rule in RULES[source]:
        raw = record.get(rule.name)
        if _blank(raw):
            if rule.required:
                return Rejection(MISSING_FIELD, rule.name)
            values[rule.name] = None
            continue
        try:
            values[rule.name] = _convert(rule, raw, now)
        except _Bad as bad:
            return Rejection(bad.reason, rule.name, bad.detail)
    return values
