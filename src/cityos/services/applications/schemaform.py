"""Forms from an item's JSON Schema: checking (every error a FieldError on its field, with a
message of our own that the error handler translates), merging for 一件事 bundles, reading
HTML form posts, and the field list a page renders.

Supported in forms: ``string`` (with ``format`` date / id-number / phone / email and ``enum``),
``number``, ``integer``, ``boolean``; each property may carry ``title`` (Chinese) and
``x-enum-titles`` or ``x-enumTitles`` (labels of the enum values, same order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from cityos.core.errors import FieldError
from cityos.core.i18n import N_, translate
from cityos.people import validation

MSG_REQUIRED = N_("This field is required.")
MSG_TYPE = {
    "string": N_("Must be text."),
    "integer": N_("Must be a whole number."),
    "number": N_("Must be a number."),
    "boolean": N_("Must be yes or no."),
    "array": N_("Must be a list."),
    "object": N_("Must be a group of fields."),
    "null": N_("Must be empty."),
}
MSG_FORMAT = {
    "date": N_("Enter a date as YYYY-MM-DD."),
    "id-number": N_("Enter a valid 18-character identity number."),
    "phone": N_("Enter an 11-digit mobile number."),
    "email": N_("Enter an e-mail address."),
}
MSG_BAD_FORMAT = N_("This value has the wrong format.")
MSG_PATTERN = N_("This value has the wrong format.")
MSG_MINIMUM = N_("Must be at least {limit}.")
MSG_MAXIMUM = N_("Must be at most {limit}.")
MSG_EXCLUSIVE_MINIMUM = N_("Must be more than {limit}.")
MSG_EXCLUSIVE_MAXIMUM = N_("Must be less than {limit}.")
MSG_MIN_LENGTH = N_("Must be at least {limit} characters.")
MSG_MAX_LENGTH = N_("At most {limit} characters.")
MSG_ENUM = N_("Choose one of: {expected}.")
MSG_UNKNOWN = N_("This field is not part of the form.")
MSG_OTHER = N_("This value is not accepted.")
MSG_FORM = N_("The form must be a set of fields.")

_checker = FormatChecker()


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    date.fromisoformat(value)
    return True


def _is_id_number(value: object) -> bool:
    return not isinstance(value, str) or validation.id_number_error(validation.normalise_id_number(value)) is None


def _is_phone(value: object) -> bool:
    return not isinstance(value, str) or validation.phone_error(validation.normalise_phone(value)) is None


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value))


_checker.checkers["date"] = (_is_date, (ValueError,))
_checker.checkers["id-number"] = (_is_id_number, ())
_checker.checkers["phone"] = (_is_phone, ())
_checker.checkers["email"] = (_is_email, ())


def _path(error: ValidationError, extra: str | None = None) -> str:
    parts = [str(p) for p in error.absolute_path]
    if extra is not None:
        parts.append(extra)
    return ".".join(parts) or "form"


def _enum_labels(schema: dict[str, Any]) -> str:
    titles = schema.get("x-enum-titles", schema.get("x-enumTitles"))
    values = schema.get("enum") or []
    if isinstance(titles, list) and len(titles) == len(values):
        return "、".join(str(t) for t in titles)
    return "、".join(str(v) for v in values)


def _one(error: ValidationError) -> list[FieldError]:
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        return [FieldError(_path(error, str(p)), MSG_REQUIRED) for p in error.validator_value if p not in instance]
    if kind == "type":
        expected = error.validator_value
        first = expected[0] if isinstance(expected, list) else expected
        return [FieldError(_path(error), MSG_TYPE.get(str(first), MSG_OTHER))]
    if kind == "format":
        return [FieldError(_path(error), MSG_FORMAT.get(str(error.validator_value), MSG_BAD_FORMAT))]
    if kind == "pattern":
        return [FieldError(_path(error), str(schema.get("x-pattern-message") or MSG_PATTERN))]
    simple = {
        "minimum": MSG_MINIMUM,
        "maximum": MSG_MAXIMUM,
        "exclusiveMinimum": MSG_EXCLUSIVE_MINIMUM,
        "exclusiveMaximum": MSG_EXCLUSIVE_MAXIMUM,
        "minLength": MSG_MIN_LENGTH,
        "maxLength": MSG_MAX_LENGTH,
    }
    if kind in simple:
        return [FieldError(_path(error), simple[str(kind)], {"limit": error.validator_value})]
    if kind == "enum":
        return [FieldError(_path(error), MSG_ENUM, {"expected": _enum_labels(schema)})]
    if kind == "additionalProperties":
        instance = error.instance if isinstance(error.instance, dict) else {}
        known = set((schema.get("properties") or {}).keys())
        return [FieldError(_path(error, str(k)), MSG_UNKNOWN) for k in instance if k not in known]
    return [FieldError(_path(error), MSG_OTHER)]


def check(schema: dict[str, Any], form: Any) -> list[FieldError]:
    """Every problem of ``form`` against ``schema``, one FieldError per field and problem, in
    the schema's property order; an empty list when the form is valid."""
    if not isinstance(form, dict):
        return [FieldError("form", MSG_FORM)]
    if not schema:
        return []
    try:
        validator = Draft202012Validator(schema, format_checker=_checker)
        errors = sorted(validator.iter_errors(form), key=lambda e: (list(e.absolute_path), str(e.validator)))
    except SchemaError:  # a broken item schema is the catalogue's bug, not the applicant's
        return [FieldError("form", MSG_OTHER)]
    order = {key: n for n, key in enumerate((schema.get("properties") or {}).keys())}
    out: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        for problem in _one(error):
            if (problem.field, problem.message) not in seen:
                seen.add((problem.field, problem.message))
                out.append(problem)
    return sorted(out, key=lambda e: order.get(e.field.split(".")[0], len(order)))


def merge(schemas: list[dict[str, Any]], *, title: str = "") -> dict[str, Any]:
    """One form for several items (一件事一次办): the union of their properties (the first
    definition of a shared property wins) and of their required lists."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for schema in schemas:
        for key, prop in (schema.get("properties") or {}).items():
            properties.setdefault(key, prop)
        for key in schema.get("required") or []:
            if key not in required:
                required.append(key)
    merged: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if title:
        merged["title"] = title
    return merged


def project(schema: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The part of a (merged) form that one item's schema knows."""
    known = (schema.get("properties") or {}).keys()
    if not known:
        return dict(form)
    return {k: v for k, v in form.items() if k in known}


def _types(prop: dict[str, Any]) -> list[str]:
    t = prop.get("type", "string")
    return [str(x) for x in t] if isinstance(t, list) else [str(t)]


def coerce(schema: dict[str, Any], raw: dict[str, str]) -> dict[str, Any]:
    """An HTML form post (all strings) read as the schema's types; blanks are left out, so a
    required field left blank is reported as required. A value that does not read as its type
    stays a string, so the check reports the type error on that field."""
    out: dict[str, Any] = {}
    properties = schema.get("properties") or {}
    for key, prop in properties.items():
        if key not in raw:
            if "boolean" in _types(prop):
                out[key] = False
            continue
        value = raw[key].strip()
        types = _types(prop)
        if "boolean" in types:
            out[key] = value.lower() in ("1", "true", "on", "yes")
            continue
        if value == "":
            continue
        if "integer" in types:
            out[key] = int(value) if re.fullmatch(r"[+-]?\d{1,15}", value) else value
        elif "number" in types:
            try:
                out[key] = float(value) if re.fullmatch(r"[+-]?[\d.eE+-]{1,32}", value) else value
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out


@dataclass
class Field:
    """One field of a generated form, as a page shows it."""

    key: str
    title: str
    widget: str  # text | number | integer | checkbox | select | date
    required: bool
    value: Any = None
    locked: str | None = None  # where a read-only value comes from ("person" or a credential kind)
    options: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    max_length: int | None = None


def fields(schema: dict[str, Any], values: dict[str, Any], locked: dict[str, str] | None = None) -> list[Field]:
    required = set(schema.get("required") or [])
    out: list[Field] = []
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        types = _types(prop)
        if "enum" in prop:
            labels = prop.get("x-enum-titles", prop.get("x-enumTitles"))
            opts = [str(v) for v in prop["enum"]]
            titles = [str(t) for t in labels] if isinstance(labels, list) and len(labels) == len(opts) else opts
            widget, options = "select", list(zip(opts, titles, strict=True))
        elif "boolean" in types:
            widget, options = "checkbox", []
        elif "integer" in types:
            widget, options = "integer", []
        elif "number" in types:
            widget, options = "number", []
        elif prop.get("format") == "date":
            widget, options = "date", []
        else:
            widget, options = "text", []
        out.append(
            Field(
                key=key,
                title=str(prop.get("title") or key),
                widget=widget,
                required=key in required,
                value=values.get(key),
                locked=(locked or {}).get(key),
                options=options,
                description=str(prop.get("description") or ""),
                max_length=prop.get("maxLength") if isinstance(prop.get("maxLength"), int) else None,
            )
        )
    return out


def shown(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """Form values as a person reads them: in the form's order, enum values by their labels
    (男, not male), yes/no for booleans; keys the schema does not know come last."""
    props = schema.get("properties") or {}
    ordered = [k for k in props if k in values] + [k for k in values if k not in props]
    out: dict[str, str] = {}
    for key in ordered:
        value, prop = values[key], props.get(key)
        if isinstance(prop, dict) and "enum" in prop:
            labels = prop.get("x-enum-titles", prop.get("x-enumTitles"))
            opts = [str(v) for v in prop["enum"]]
            if isinstance(labels, list) and len(labels) == len(opts) and str(value) in opts:
                out[key] = str(labels[opts.index(str(value))])
                continue
        if isinstance(value, bool):
            out[key] = translate("Yes") if value else translate("No")
            continue
        out[key] = "" if value is None else str(value)
    return out
