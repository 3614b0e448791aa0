"""Campaign forms: questions as the form builder edits them, the JSON Schema they are stored as,
checking answers (field errors in the caller's language, through ``schemaform``), the abnormal
rules (``x-abnormal``) and forms as a page shows them.

A question is one of ``text``, ``number``, ``single`` (one choice), ``multiple`` (several
choices), ``yesno`` and ``date``. The property order is kept in ``x-order`` because PostgreSQL's
JSONB does not keep the order of an object's keys. Abnormal rules: a number ``{"gte": 37.3}``
and/or ``{"lte": 35}``; a single choice ``{"in": [values]}``; a multiple choice ``{"any":
[values]}``; yes/no ``{"equals": true}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cityos.core.errors import FieldError
from cityos.core.i18n import N_, translate
from cityos.services.applications import schemaform

KINDS: tuple[str, ...] = ("text", "number", "single", "multiple", "yesno", "date")
KIND_TITLES: dict[str, str] = {
    "text": N_("Text"),
    "number": N_("Number"),
    "single": N_("Single choice"),
    "multiple": N_("Multiple choice"),
    "yesno": N_("Yes / no"),
    "date": N_("Date"),
}
MAX_QUESTIONS = 40
MAX_OPTIONS = 20
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

MSG_NO_QUESTIONS = N_("A form needs at least one question.")
MSG_TOO_MANY = N_("A form may have at most {max} questions.")
MSG_KEY = N_("A question key is a lower-case letter followed by up to 31 letters, digits or '_'.")
MSG_KEY_TWICE = N_("Two questions have the same key.")
MSG_QUESTION_TITLE = N_("Give the question in 1 to 64 characters.")
MSG_KIND = N_("Choose a question type from the list.")
MSG_OPTIONS = N_("A choice question needs 2 to {max} different options, each of 1 to 32 characters.")
MSG_RULE_NUMBER = N_("Give the limit as a number.")
MSG_RULE_RANGE = N_("The lower limit must be below the upper limit.")
MSG_RULE_OPTION = N_("An abnormal answer must be one of the question's options.")
MSG_FORM_TITLE = N_("Give the form a title of 1 to 64 characters.")


@dataclass
class Question:
    key: str
    kind: str
    title: str
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, title)
    abnormal: dict[str, Any] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None


def order_of(schema: dict[str, Any]) -> list[str]:
    props = schema.get("properties") or {}
    order = [k for k in schema.get("x-order") or [] if k in props]
    return order + sorted(k for k in props if k not in order)


def _options(prop: dict[str, Any]) -> list[tuple[str, str]]:
    values = [str(v) for v in prop.get("enum") or []]
    titles = prop.get("x-enumTitles", prop.get("x-enum-titles"))
    labels = [str(t) for t in titles] if isinstance(titles, list) and len(titles) == len(values) else values
    return list(zip(values, labels, strict=True))


def kind_of(prop: dict[str, Any]) -> str:
    t = prop.get("type", "string")
    if t == "array":
        return "multiple"
    if t == "boolean":
        return "yesno"
    if t in ("number", "integer"):
        return "number"
    if "enum" in prop:
        return "single"
    if prop.get("format") == "date":
        return "date"
    return "text"


def questions_of(schema: dict[str, Any]) -> list[Question]:
    """The form builder's view of a stored schema."""
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out: list[Question] = []
    for key in order_of(schema):
        prop = props[key]
        kind = kind_of(prop)
        options = _options(prop.get("items") or {}) if kind == "multiple" else _options(prop)
        out.append(
            Question(
                key=key,
                kind=kind,
                title=str(prop.get("title") or key),
                required=key in required,
                options=options,
                abnormal=dict(prop.get("x-abnormal") or {}),
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
            )
        )
    return out


def _prop(q: Question) -> dict[str, Any]:
    prop: dict[str, Any]
    values = [v for v, _ in q.options]
    titles = [t for _, t in q.options]
    if q.kind == "text":
        prop = {"type": "string", "maxLength": 500}
    elif q.kind == "number":
        prop = {"type": "number"}
        if q.minimum is not None:
            prop["minimum"] = q.minimum
        if q.maximum is not None:
            prop["maximum"] = q.maximum
    elif q.kind == "single":
        prop = {"type": "string", "enum": values, "x-enumTitles": titles}
    elif q.kind == "multiple":
        items = {"type": "string", "enum": values, "x-enumTitles": titles}
        prop = {"type": "array", "uniqueItems": True, "items": items}
    elif q.kind == "yesno":
        prop = {"type": "boolean"}
    else:
        prop = {"type": "string", "format": "date"}
    prop["title"] = q.title
    if q.abnormal:
        prop["x-abnormal"] = q.abnormal
    return prop


def schema_of(questions: list[Question], *, title: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": title,
        "properties": {q.key: _prop(q) for q in questions},
        "required": [q.key for q in questions if q.required],
        "additionalProperties": False,
        "x-order": [q.key for q in questions],
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}(\.\d{1,6})?\s*", value):
        return float(value)
    return None


def _rule(q: Question, raw: Any, where: str, errors: list[FieldError]) -> dict[str, Any]:
    """The question's abnormal rule, checked against its type and options."""
    if not isinstance(raw, dict) or not raw:
        return {}
    values = {v for v, _ in q.options}
    if q.kind == "number":
        rule: dict[str, Any] = {}
        for bound in ("gte", "lte"):
            if raw.get(bound) in (None, ""):
                continue
            number = _number(raw[bound])
            if number is None:
                errors.append(FieldError(f"{where}.abnormal.{bound}", MSG_RULE_NUMBER))
            else:
                rule[bound] = number
        if "gte" in rule and "lte" in rule and rule["lte"] >= rule["gte"]:
            errors.append(FieldError(f"{where}.abnormal.lte", MSG_RULE_RANGE))
        return rule
    if q.kind in ("single", "multiple"):
        name = "in" if q.kind == "single" else "any"
        by_label = {label: value for value, label in q.options}
        chosen = [by_label.get(str(v), str(v)) for v in raw.get(name) or [] if str(v)]
        if any(v not in values for v in chosen):
            errors.append(FieldError(f"{where}.abnormal", MSG_RULE_OPTION))
            return {}
        return {name: chosen} if chosen else {}
    if q.kind == "yesno" and isinstance(raw.get("equals"), bool):
        return {"equals": raw["equals"]}
    return {}


def _check_options(raw: Any, where: str, errors: list[FieldError]) -> list[tuple[str, str]]:
    """Options as (value, label): a given value that is a valid key is kept (so answers and rules
    of earlier versions keep their meaning), a new option gets the next free ``o<n>``."""
    pairs: list[tuple[str, str]] = []
    for option in raw if isinstance(raw, list) else []:
        value, label = (option[0], option[1]) if isinstance(option, list | tuple) and len(option) == 2 else ("", option)
        label = " ".join(str(label or "").split())
        if label:
            pairs.append((str(value or ""), label))
    labels = [label for _, label in pairs]
    if not 2 <= len(pairs) <= MAX_OPTIONS or len(set(labels)) != len(labels) or any(len(x) > 32 for x in labels):
        errors.append(FieldError(where, MSG_OPTIONS, {"max": MAX_OPTIONS}))
        return []
    used: set[str] = set()
    kept: list[tuple[str | None, str]] = []
    for value, label in pairs:
        if _KEY.match(value) and value not in used:
            used.add(value)
            kept.append((value, label))
        else:
            kept.append((None, label))
    out: list[tuple[str, str]] = []
    n = 1
    for value, label in kept:
        if value is None:
            while f"o{n}" in used:
                n += 1
            value = f"o{n}"
            used.add(value)
        out.append((value, label))
    return out


def check_questions(raw: Any) -> tuple[list[Question], list[FieldError]]:
    """Questions from the builder (dicts: key, kind, title, required, options, abnormal, minimum,
    maximum), with a FieldError for every problem (``questions.2.title``)."""
    errors: list[FieldError] = []
    if not isinstance(raw, list) or not raw:
        return [], [FieldError("questions", MSG_NO_QUESTIONS)]
    if len(raw) > MAX_QUESTIONS:
        return [], [FieldError("questions", MSG_TOO_MANY, {"max": MAX_QUESTIONS})]
    out: list[Question] = []
    seen: set[str] = set()
    for n, item in enumerate(raw):
        where = f"questions.{n}"
        if not isinstance(item, dict):
            errors.append(FieldError(where, MSG_KIND))
            continue
        key = str(item.get("key") or "").strip()
        if not _KEY.match(key):
            errors.append(FieldError(f"{where}.key", MSG_KEY))
        elif key in seen:
            errors.append(FieldError(f"{where}.key", MSG_KEY_TWICE))
        seen.add(key)
        kind = str(item.get("kind") or "")
        if kind not in KINDS:
            errors.append(FieldError(f"{where}.kind", MSG_KIND))
            continue
        title = " ".join(str(item.get("title") or "").split())
        if not 1 <= len(title) <= 64:
            errors.append(FieldError(f"{where}.title", MSG_QUESTION_TITLE))
        options: list[tuple[str, str]] = []
        if kind in ("single", "multiple"):
            options = _check_options(item.get("options"), f"{where}.options", errors)
        question = Question(key=key, kind=kind, title=title, required=bool(item.get("required")), options=options)
        if kind == "number":
            for bound in ("minimum", "maximum"):
                if item.get(bound) not in (None, ""):
                    number = _number(item.get(bound))
                    if number is None:
                        errors.append(FieldError(f"{where}.{bound}", MSG_RULE_NUMBER))
                    setattr(question, bound, number)
            if question.minimum is not None and question.maximum is not None and question.minimum >= question.maximum:
                errors.append(FieldError(f"{where}.maximum", MSG_RULE_RANGE))
        question.abnormal = _rule(question, item.get("abnormal"), where, errors)
        out.append(question)
    return out, errors


# --- answers ----------------------------------------------------------------------------------------------


def check_answers(schema: dict[str, Any], answers: Any) -> list[FieldError]:
    """Every problem of the answers, one per question (``symptoms``, not ``symptoms.0``)."""
    problems = schemaform.check(schema, answers)
    out: list[FieldError] = []
    seen: set[str] = set()
    order = {k: n for n, k in enumerate(order_of(schema))}
    for problem in problems:
        key = problem.field.split(".")[0]
        if key in seen:
            continue
        seen.add(key)
        out.append(FieldError(key, problem.message, problem.params))
    return sorted(out, key=lambda e: order.get(e.field, len(order)))


def abnormal_fields(schema: dict[str, Any], answers: dict[str, Any]) -> list[str]:
    """The questions whose answers the form's rules call abnormal, in the form's order."""
    props = schema.get("properties") or {}
    out: list[str] = []
    for key in order_of(schema):
        rule = props[key].get("x-abnormal") or {}
        if not rule or key not in answers:
            continue
        value = answers[key]
        hit = False
        number = _number(value) if not isinstance(value, str) else None
        if number is not None:
            hit = ("gte" in rule and number >= float(rule["gte"])) or ("lte" in rule and number <= float(rule["lte"]))
        if "in" in rule and value in rule["in"]:
            hit = True
        if "any" in rule and isinstance(value, list) and set(value) & set(rule["any"]):
            hit = True
        if "equals" in rule and isinstance(value, bool) and value is rule["equals"]:
            hit = True
        if hit:
            out.append(key)
    return out


def coerce(schema: dict[str, Any], raw: dict[str, list[str]]) -> dict[str, Any]:
    """An HTML form post (every value a list of strings) read as the schema's types. Blanks are
    left out (so a required one is reported as required); a yes/no question reads "1"/"0"; a
    value that does not read as its type stays a string so the check reports it on its field."""
    out: dict[str, Any] = {}
    props = schema.get("properties") or {}
    for key in order_of(schema):
        prop = props[key]
        kind = kind_of(prop)
        values = [v.strip() for v in raw.get(key, []) if v.strip()]
        if kind == "multiple":
            if values:
                out[key] = values
            continue
        if not values:
            continue
        value = values[0]
        if kind == "yesno":
            out[key] = value.lower() in ("1", "true", "yes", "on") if value.lower() in _BOOLS else value
        elif kind == "number":
            number = _number(value)
            out[key] = number if number is not None else value
        else:
            out[key] = value
    return out


_BOOLS = {"1", "0", "true", "false", "yes", "no", "on", "off"}


@dataclass
class Field:
    """One question as a page shows it."""

    key: str
    title: str
    kind: str
    required: bool
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None


def fields(schema: dict[str, Any], values: dict[str, Any] | None = None) -> list[Field]:
    values = values or {}
    return [
        Field(q.key, q.title, q.kind, q.required, values.get(q.key), q.options, q.minimum, q.maximum)
        for q in questions_of(schema)
    ]


def shown(schema: dict[str, Any], answers: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, question, answer) as a person reads them, in the order of the form version the
    answers were given in; choices by their labels, yes/no as 是/否. Answers that the version
    does not know come last under their key."""
    qs = {q.key: q for q in questions_of(schema)}
    out: list[tuple[str, str, str]] = []
    for key in [k for k in qs if k in answers] + [k for k in answers if k not in qs]:
        value = answers[key]
        q = qs.get(key)
        labels = dict(q.options) if q else {}
        if isinstance(value, bool):
            text = translate("Yes") if value else translate("No")
        elif isinstance(value, list):
            text = "、".join(labels.get(str(v), str(v)) for v in value)
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        else:
            text = labels.get(str(value), "" if value is None else str(value))
        out.append((key, q.title if q else key, text))
    return out


def new_key(existing: list[str]) -> str:
    n = len(existing) + 1
    while f"q{n}" in existing:
        n += 1
    return f"q{n}"


def is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
