"""An estate's entry rules (小区通行规则): reading them (defaults until someone saves them),
checking and saving a change (audited), and the time-window test the gates apply."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.access.models import AccessRules
from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.places.models import Region

RELATIONS = ("owner", "tenant", "family", "collective", "visitor")
RELATION_LABELS = {
    "owner": N_("Owners"),
    "tenant": N_("Tenants"),
    "family": N_("Family members"),
    "collective": N_("Collective households"),
    "visitor": N_("Visitors"),
}

DEFAULTS: dict[str, Any] = {
    "max_passes_per_person": 2,
    "max_passes_per_household": 6,
    "windows": {},
    "exit_limit": None,
    "exit_period_hours": 24,
    "visitor_max_hours": 24,
    "visitor_max_entries": 4,
    "rotation_seconds": 10,
    "validity_days": 30,
}

# field → (lowest, highest)
BOUNDS: dict[str, tuple[int, int]] = {
    "max_passes_per_person": (1, 20),
    "max_passes_per_household": (1, 50),
    "exit_limit": (1, 50),
    "exit_period_hours": (1, 720),
    "visitor_max_hours": (1, 168),
    "visitor_max_entries": (1, 50),
    "rotation_seconds": (5, 300),
    "validity_days": (1, 366),
}

MSG_RANGE = N_("Give a whole number from {low} to {high}.")
MSG_TIME = N_("Give a time like 06:00.")
MSG_WINDOW_ORDER = N_("The window must end after it starts.")
MSG_WINDOW_BOTH = N_("Give both the start and the end, or neither.")
MSG_UNKNOWN_FIELD = N_("This field is not allowed.")
MSG_ESTATE = N_("This estate does not exist or is outside your area.")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def estate_of(session: Session, actor: Actor, estate_id: int) -> Region:
    """An estate (小区) the actor's area covers; NotFound otherwise (never says it exists)."""
    estate = session.get(Region, estate_id)
    if estate is None or estate.level != "estate" or not actor.covers(estate):
        raise NotFound(MSG_ESTATE)
    return estate


def estate_by_id(session: Session, estate_id: int) -> Region:
    estate = session.get(Region, estate_id)
    if estate is None or estate.level != "estate":
        raise NotFound(MSG_ESTATE)
    return estate


def for_estate(session: Session, estate: Region) -> AccessRules:
    """The estate's rules; an unsaved row of the defaults when nobody has set them yet."""
    row = session.scalar(select(AccessRules).where(AccessRules.estate_id == estate.id))
    if row is not None:
        return row
    return AccessRules(estate_id=estate.id, estate_path=estate.path, **{k: _copy(v) for k, v in DEFAULTS.items()})


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def as_dict(rules: AccessRules) -> dict[str, Any]:
    return {key: _copy(getattr(rules, key)) for key in DEFAULTS}


def _int(errors: list[FieldError], key: str, value: Any, *, optional: bool = False) -> int | None:
    low, high = BOUNDS[key]
    if optional and (value is None or value == ""):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if type(value) is not int or not (low <= value <= high):
        errors.append(FieldError(key, MSG_RANGE, {"low": low, "high": high}))
        return None
    return value


def _windows(errors: list[FieldError], value: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if value is None:
        return out
    if not isinstance(value, dict):
        errors.append(FieldError("windows", MSG_TIME))
        return out
    for relation, window in value.items():
        name = f"windows.{relation}"
        if relation not in RELATIONS:
            errors.append(FieldError(name, MSG_UNKNOWN_FIELD))
            continue
        if window is None or window == [] or window == ["", ""]:
            continue
        if not isinstance(window, list | tuple) or len(window) != 2:
            errors.append(FieldError(name, MSG_WINDOW_BOTH))
            continue
        start, end = (str(w).strip() if w is not None else "" for w in window)
        if bool(start) != bool(end):
            errors.append(FieldError(name, MSG_WINDOW_BOTH))
            continue
        if not _TIME.match(start) or not _TIME.match(end):
            errors.append(FieldError(name, MSG_TIME))
            continue
        if end <= start:
            errors.append(FieldError(name, MSG_WINDOW_ORDER))
            continue
        out[relation] = [start, end]
    return out


def check(changes: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The new rules (current values for the fields not given); Invalid with every field's
    problem otherwise."""
    errors: list[FieldError] = []
    for key in changes:
        if key not in DEFAULTS:
            errors.append(FieldError(key, MSG_UNKNOWN_FIELD))
    merged = {**current, **{k: v for k, v in changes.items() if k in DEFAULTS}}
    out: dict[str, Any] = {}
    for key in BOUNDS:
        out[key] = _int(errors, key, merged[key], optional=key == "exit_limit")
    out["windows"] = _windows(errors, merged["windows"])
    if errors:
        raise Invalid(details=errors)
    return out


def update(session: Session, actor: Actor, *, estate_id: int, changes: dict[str, Any]) -> AccessRules:
    """Change an estate's rules (pass:manage over the estate); the change is audited with the
    fields and their old and new values."""
    estate = estate_of(session, actor, estate_id)
    actor.require("pass:manage", region=estate)
    rules = for_estate(session, estate)
    before = as_dict(rules)
    after = check(changes, before)
    changed = sorted(k for k in after if after[k] != before[k])
    for key, value in after.items():
        setattr(rules, key, value)
    rules.updated_by = actor.account_id
    if rules.id is None:
        session.add(rules)
    session.flush()
    if changed:
        detail = json.dumps({k: [before[k], after[k]] for k in changed}, ensure_ascii=False, separators=(",", ":"))
        audit.record(
            session,
            actor,
            "access.rules_changed",
            subject_type="estate",
            subject_id=estate.id,
            fields=changed,
            detail=detail[:2000],
        )
    return rules


@dataclass(frozen=True)
class Window:
    start: time
    end: time


def window_for(rules: AccessRules, relation: str) -> Window | None:
    window = (rules.windows or {}).get(relation)
    if not window:
        return None
    start, end = window
    return Window(time.fromisoformat(start), time.fromisoformat(end))


def in_window(rules: AccessRules, relation: str, at: datetime) -> bool:
    """Whether a pass of ``relation`` may open the gate at ``at`` (the city's local time)."""
    window = window_for(rules, relation)
    if window is None:
        return True
    local = at.astimezone(ZoneInfo(get_settings().timezone)).time()
    return window.start <= local < window.end
