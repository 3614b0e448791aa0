"""How a stored (canonical, expanded) entity is shown to a caller: names compacted with the
request's context, normalized / concise / keyValues (simplified), sysAttrs, attrs/pick/omit,
``lang`` for LanguageProperties, and GeoJSON Features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.hub.ngsi.attributes import LOCATION, META_MEMBERS, VALUE_MEMBER, instances, valid_name
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.problems import BAD_REQUEST_DATA, NgsiProblem

NORMALIZED = "normalized"
CONCISE = "concise"
KEY_VALUES = "keyValues"
FORMATS = {"normalized": NORMALIZED, "concise": CONCISE, "keyValues": KEY_VALUES, "simplified": KEY_VALUES}
READ_OPTIONS = frozenset({"keyValues", "simplified", "concise", "normalized", "sysAttrs", "count"})
_SYS = ("createdAt", "modifiedAt")


def bad_param(field: str, message: str, **params: Any) -> NgsiProblem:
    return NgsiProblem(BAD_REQUEST_DATA, message, details=[FieldError(field, message, params)], params=params)


def split_list(value: str | None, field: str) -> list[str]:
    if value is None:
        return []
    items = [x.strip() for x in value.split(",")]
    if not all(items):
        raise bad_param(field, N_("Give a comma-separated list without empty items."))
    return items


def parse_options(value: str | None, allowed: frozenset[str] = READ_OPTIONS) -> set[str]:
    options = set(split_list(value, "options"))
    unknown = options - allowed
    if unknown:
        raise bad_param("options", N_("Unknown option {option}."), option=sorted(unknown)[0][:40])
    return options


@dataclass(frozen=True)
class View:
    """What of an entity to show and how."""

    form: str = NORMALIZED
    sys_attrs: bool = False
    attrs: frozenset[str] | None = None  # expanded names to keep (None: all)
    omit: frozenset[str] = frozenset()  # expanded names (and id/type) to leave out
    pick_id: bool = True
    pick_type: bool = True
    lang: str | None = None


def parse_view(
    ctx: Context,
    *,
    options: set[str],
    format: str | None = None,
    attrs: str | None = None,
    pick: str | None = None,
    omit: str | None = None,
    lang: str | None = None,
) -> View:
    forms = {FORMATS[o] for o in options if o in FORMATS}
    if format is not None:
        if format not in FORMATS:
            raise bad_param("format", N_("Unknown format {format}."), format=format[:40])
        forms.add(FORMATS[format])
    if len(forms) > 1:
        raise bad_param("options", N_("Ask for one representation only (normalized, concise or keyValues)."))
    if pick is not None and omit is not None:
        raise bad_param("pick", N_("Use pick or omit, not both."))
    if attrs is not None and pick is not None:
        raise bad_param("pick", N_("Use attrs or pick, not both."))
    keep: frozenset[str] | None = None
    pick_id = pick_type = True
    chosen = split_list(attrs, "attrs") + split_list(pick, "pick")
    for name in chosen:
        if not valid_name(name):
            raise bad_param("attrs" if attrs is not None else "pick", N_("This attribute name is not allowed."))
    if attrs is not None or pick is not None:
        if pick is not None:
            pick_id, pick_type = "id" in chosen, "type" in chosen
        keep = frozenset(ctx.expand(n) for n in chosen if n not in ("id", "type"))
    dropped = split_list(omit, "omit")
    omitted = frozenset(ctx.expand(n) for n in dropped if n not in ("id", "type"))
    if "id" in dropped:
        pick_id = False
    if "type" in dropped:
        pick_type = False
    if lang is not None and not (0 < len(lang) <= 35):
        raise bad_param("lang", N_("This value is not valid."))
    return View(
        form=forms.pop() if forms else NORMALIZED,
        sys_attrs="sysAttrs" in options,
        attrs=keep,
        omit=omitted,
        pick_id=pick_id,
        pick_type=pick_type,
        lang=lang,
    )


def _pick_language(value: dict[str, Any], lang: str) -> tuple[str, Any]:
    if lang == "*":
        return "", value
    for tag in [t.strip() for t in lang.split(",")] + ["@none", "en"]:
        tag = tag.split(";")[0]
        if tag in value:
            return tag, value[tag]
    first = next(iter(value))
    return first, value[first]


def _main(instance: dict[str, Any], ctx: Context, view: View) -> Any:
    kind = instance.get("type", "Property")
    member = VALUE_MEMBER.get(kind, "value")
    value = instance.get(member)
    if kind == "VocabProperty":
        return [ctx.compact(v) for v in value] if isinstance(value, list) else ctx.compact(str(value))
    if kind == "LanguageProperty" and view.lang and isinstance(value, dict) and value:
        return _pick_language(value, view.lang)[1]
    return value


def _instance(instance: dict[str, Any], ctx: Context, view: View) -> Any:
    """One attribute instance in the view's form."""
    if view.form == KEY_VALUES:
        return _main(instance, ctx, view)
    kind = instance.get("type", "Property")
    out: dict[str, Any] = {}
    for key, value in instance.items():
        if key in _SYS:
            if view.sys_attrs:
                out[key] = value
        elif key == "vocab":
            out[key] = _main(instance, ctx, view)
        elif key in META_MEMBERS:
            out[key] = value
        elif isinstance(value, dict):
            out[ctx.compact(key)] = _instance(value, ctx, view)
        else:
            out[ctx.compact(key)] = value
    if kind == "LanguageProperty" and view.lang and isinstance(instance.get("languageMap"), dict):
        tag, text = _pick_language(instance["languageMap"], view.lang)
        if tag:
            out.pop("languageMap", None)
            out["type"] = "Property"
            out["value"] = text
            out["lang"] = tag
            kind = "Property"
    if view.form == CONCISE:
        out.pop("type", None)
        if kind == "Property" and set(out) == {"value"} and not isinstance(out["value"], dict | list):
            return out["value"]
    return out


def attribute(attr: Any, ctx: Context, view: View) -> Any:
    items = instances(attr)
    if len(items) == 1:
        return _instance(items[0], ctx, view)
    if view.form == KEY_VALUES:
        return {"dataset": {i.get("datasetId", "@none"): _instance(i, ctx, view) for i in items}}
    return [_instance(i, ctx, view) for i in items]


def render(entity: dict[str, Any], ctx: Context, view: View) -> dict[str, Any]:
    """The entity as the caller sees it (not yet with ``@context``)."""
    out: dict[str, Any] = {}
    if view.pick_id:
        out["id"] = entity["id"]
    if view.pick_type:
        out["type"] = ctx.compact(entity["type"])
    for key, value in entity.items():
        if key in ("id", "type"):
            continue
        if key in _SYS:
            if view.sys_attrs:
                out[key] = value
            continue
        if (view.attrs is not None and key not in view.attrs) or key in view.omit:
            continue
        out[ctx.compact(key)] = attribute(value, ctx, view)
    return out


def feature(entity: dict[str, Any], ctx: Context, view: View, geoproperty: str = LOCATION) -> dict[str, Any]:
    """The entity as a GeoJSON Feature (``application/geo+json``)."""
    geometry = next((i.get("value") for i in instances(entity.get(geoproperty)) if "value" in i), None)
    properties = render(entity, ctx, view)
    properties.pop("id", None)
    return {"id": entity["id"], "type": "Feature", "geometry": geometry, "properties": properties}


def feature_collection(
    entities: list[dict[str, Any]], ctx: Context, view: View, geoproperty: str = LOCATION
) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [feature(e, ctx, view, geoproperty) for e in entities]}
