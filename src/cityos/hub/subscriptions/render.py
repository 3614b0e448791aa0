"""An entity in canonical form (expanded names) as a notification carries it: attribute names
compacted with the subscriber's context, attributes filtered, in the asked format
(normalized, keyValues or concise), system attributes only when asked (``sysAttrs``)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

SYS = ("createdAt", "modifiedAt", "deletedAt")
CORE_KEYS = {
    "type",
    "value",
    "object",
    "languageMap",
    "valueList",
    "objectList",
    "json",
    "vocab",
    "observedAt",
    "unitCode",
    "datasetId",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "instanceId",
    "previousValue",
    "previousObject",
    "previousLanguageMap",
    "lang",
}
VALUE_KEYS = ("value", "object", "languageMap", "valueList", "objectList", "json", "vocab")


def _pick_language(attr: dict[str, Any], lang: str) -> dict[str, Any]:
    """A LanguageProperty as the Property of one language (``lang``: a tag, a list ``zh,en`` or
    ``*``); the first language the map has when none of the asked ones is there."""
    languages = attr.get("languageMap")
    if not isinstance(languages, dict) or not languages or lang == "*":
        return attr
    chosen = next((t for t in (x.strip() for x in lang.split(",")) if t in languages), None)
    chosen = chosen or ("@none" if "@none" in languages else next(iter(languages)))
    out = {k: v for k, v in attr.items() if k != "languageMap"}
    out.update(type="Property", value=languages[chosen], lang=chosen)
    return out


def _attribute(
    attr: dict[str, Any], compact: Callable[[str], str], fmt: str, sys_attrs: bool, lang: str | None = None
) -> Any:
    if lang and attr.get("type") == "LanguageProperty":
        attr = _pick_language(attr, lang)
    if fmt == "keyValues":
        for key in VALUE_KEYS:
            if key in attr:
                return attr[key]
        return None
    out: dict[str, Any] = {}
    for key, value in attr.items():
        if key in SYS and not sys_attrs:
            continue
        if key in CORE_KEYS:
            out[key] = value
        elif isinstance(value, dict):  # a sub-attribute
            out[compact(key)] = _attribute(value, compact, fmt, sys_attrs)
        else:
            out[compact(key)] = value
    if fmt == "concise":
        kind = out.pop("type", None)
        only_value = set(out) == {"value"}
        if kind in (None, "Property") and only_value:
            return out["value"]
        if kind == "GeoProperty" and only_value:
            return out["value"]  # a GeoJSON geometry (it has its own "type")
    return out


def entity(
    data: dict[str, Any],
    compact: Callable[[str], str],
    *,
    fmt: str = "normalized",
    attributes: Collection[str] | None = None,
    sys_attrs: bool = False,
    lang: str | None = None,
) -> dict[str, Any]:
    """``data``: canonical entity; ``attributes``: expanded names to keep (None = all);
    ``lang``: LanguageProperties are given in that language."""
    out: dict[str, Any] = {"id": data["id"], "type": compact(data["type"]) if "type" in data else None}
    if out["type"] is None:
        out.pop("type")
    keep = set(attributes) if attributes else None
    for key, value in data.items():
        if key in ("id", "type", "@context"):
            continue
        if key in SYS:
            if sys_attrs or key == "deletedAt":  # a deletion says when
                out[key] = value
            continue
        if keep is not None and key not in keep:
            continue
        if isinstance(value, list):
            out[compact(key)] = [_attribute(v, compact, fmt, sys_attrs, lang) for v in value if isinstance(v, dict)]
        elif isinstance(value, dict):
            out[compact(key)] = _attribute(value, compact, fmt, sys_attrs, lang)
    return out
