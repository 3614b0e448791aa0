"""Field types of a dataset's schema and how a masked field of each type is shown (脱敏).

A masked value keeps just enough to be useful without identifying anyone:

========== ==================================================================
type       masked
========== ==================================================================
name       ``people.pii.mask_name``: 张三 → 张*
phone      ``people.pii.mask_phone``: 138****0001
id_number  ``people.pii.mask_id_number``: 510104********123X
string     the first character, then ``***`` (nothing of the rest)
text       the first 4 characters, then ``…`` (free text truncated)
lon, lat   rounded to 2 decimals (about 1 km)
point      ``[lon, lat]`` rounded to 2 decimals
integer,   withheld (``null``): a number cannot be masked partly
number
boolean    withheld (``null``)
date       the year and month only: ``2026-11``
datetime   the date only: ``2026-11-30``
========== ==================================================================
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from cityos.people.pii import mask_id_number, mask_name, mask_phone

FIELD_TYPES: tuple[str, ...] = (
    "string",
    "text",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "name",
    "phone",
    "id_number",
    "lon",
    "lat",
    "point",
)
SENSITIVITIES: tuple[str, ...] = ("none", "personal", "sensitive")
TEXT_KEEP = 4


def _round(value: Any) -> Any:
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return None


def mask_value(field_type: str, value: Any) -> Any:
    """The masked form of ``value`` for a field of ``field_type``; a blank stays blank."""
    if value is None or value == "":
        return value
    if field_type == "name":
        return mask_name(str(value))
    if field_type == "phone":
        return mask_phone(str(value))
    if field_type == "id_number":
        return mask_id_number(str(value))
    if field_type == "text":
        text = str(value)
        return text[:TEXT_KEEP] + "…" if len(text) > TEXT_KEEP else "…"
    if field_type in ("lon", "lat"):
        return _round(value)
    if field_type == "point":
        if isinstance(value, list | tuple) and len(value) >= 2:
            return [_round(value[0]), _round(value[1])]
        return None
    if field_type == "date":
        return str(value.isoformat() if isinstance(value, date) else value)[:7]
    if field_type == "datetime":
        return str(value.isoformat() if isinstance(value, datetime) else value)[:10]
    if field_type in ("integer", "number", "boolean"):
        return None
    text = str(value)
    return (text[:1] + "***") if text else ""


def conforms(field_type: str, value: Any) -> bool:
    """Whether an uploaded value fits the field type (``None`` and "" always do: a blank cell)."""
    if value is None or value == "":
        return True
    if field_type == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return isinstance(value, str) and value.strip().lstrip("-").isdigit()
    if field_type in ("number", "lon", "lat"):
        if isinstance(value, bool):
            return False
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        if field_type == "lon":
            return -180 <= number <= 180
        if field_type == "lat":
            return -90 <= number <= 90
        return True
    if field_type == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0", "是", "否")
    if field_type == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return False
        return True
    if field_type == "datetime":
        try:
            datetime.fromisoformat(str(value))
        except ValueError:
            return False
        return True
    if field_type == "point":
        return isinstance(value, list) and len(value) == 2 and all(conforms("number", v) for v in value)
    return isinstance(value, str | int | float)


def project(row: dict[str, Any], fields: list[str], masked: set[str], types: dict[str, str]) -> dict[str, Any]:
    """Only ``fields`` of ``row``, with the ``masked`` ones masked by type. Nothing else passes."""
    out: dict[str, Any] = {}
    for name in fields:
        value = row.get(name)
        out[name] = mask_value(types.get(name, "string"), value) if name in masked else value
    return out
