"""Alarm rules (告警规则) and open alarms of the data hub's devices. Plain functions taking a
session; they flush, never commit.

A rule is data-scoped by its region: it watches the devices under ``region_path`` and may be
changed by a device manager whose area covers that region. The shipped rules watch everything
("/") and are changed by a manager of a whole city; an area's manager sees them and adds rules
of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.core.actor import ROOT_PATH, Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.hub.devices.models import OPERATORS, AlarmRule, AlarmState
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region

PERMISSION = "device:manage"
NUMERIC = (">", ">=", "<", "<=")
UNSET: Any = object()  # PATCH: a field not given

MSG_NAME = N_("Give the rule a name of at most 128 characters.")
MSG_TARGET = N_("Choose a device kind, a device profile or both.")
MSG_KIND = N_("A device kind is 2 to 32 lower-case letters, digits or underscores.")
MSG_PROFILE = N_("Choose one of the device profiles.")
MSG_ATTRIBUTE = N_("Give the attribute's name (letters, digits and underscores, at most 64).")
MSG_OPERATOR = N_("Choose one of >, >=, <, <=, == or !=.")
MSG_NUMBER = N_("Give a number for this comparison.")
MSG_VALUE = N_("Give a number, a word of at most 64 characters, true or false.")
MSG_CLEAR_SIDE = N_("The alarm ends on the other side of the threshold: choose a clear value past it.")
MSG_CLEAR_EQUALITY = N_("A rule comparing with == or != ends when the value changes: leave the clear value empty.")
MSG_CATEGORY = N_("Choose a case category of the second level or below.")
MSG_DETAIL = N_("At most 200 characters.")
MSG_ACTIVE = N_("Say whether the rule is on (true or false).")
MSG_REGION = N_("Choose a place in your area.")

_KIND = re.compile(r"^[a-z0-9_]{2,32}$")
_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_PROFILE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class ShippedRule:
    code: str
    name: str
    profile_code: str
    attribute: str
    operator: str
    threshold: Any
    clear_threshold: Any
    category_code: str
    detail: str


# The rules ``cityos db upgrade`` installs. Categories of the shipped tree (cases/catalogue.py):
# an overflowing bin leaves 暴露垃圾 (市容环境, like community bins); a gate forced open is a
# 治安隐患 for the police; a tilted manhole cover is a 污水井盖 (公用设施, city management); water
# standing on a street is 道路积水 (突发事件, emergency management).
SHIPPED: tuple[ShippedRule, ...] = (
    ShippedRule(
        "bin-full",
        N_("Bin full"),
        "waste-container",
        "fillingLevel",
        ">=",
        0.9,
        0.5,
        "event.01.01",
        N_("Bin {name} is full ({value})"),
    ),
    ShippedRule(
        "gate-forced",
        N_("Gate forced open"),
        "gate-door",
        "doorState",
        "==",
        "forced",
        None,
        "event.08",
        N_("Gate {name} was forced open"),
    ),
    ShippedRule(
        "manhole-tilted",
        N_("Manhole cover tilted"),
        "manhole-cover",
        "tiltAngle",
        ">",
        15,
        5,
        "component.01.03",
        N_("Manhole cover {name} is tilted by {value}°"),
    ),
    ShippedRule(
        "water-level-high",
        N_("Water on the street"),
        "water-level",
        "waterLevel",
        ">",
        0.3,
        0.2,
        "event.04.04",
        N_("Water {value} m deep at {name}"),
    ),
)


def install_rules(session: Session) -> int:
    """Adds the shipped rules that are missing (an edited shipped rule is left as it is)."""
    have = set(session.scalars(select(AlarmRule.code).where(AlarmRule.code.is_not(None))))
    added = 0
    for rule in SHIPPED:
        if rule.code in have:
            continue
        session.add(
            AlarmRule(
                code=rule.code,
                name=rule.name,
                device_kind=None,
                profile_code=rule.profile_code,
                attribute=rule.attribute,
                operator=rule.operator,
                threshold=rule.threshold,
                clear_threshold=rule.clear_threshold,
                category_code=rule.category_code,
                detail=rule.detail,
                active=True,
                region_id=None,
                region_path=ROOT_PATH,
            )
        )
        added += 1
    if added:
        session.flush()
    return added


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _known_profiles(session: Session) -> set[str]:
    from cityos.hub.ingest import service as ingest

    return {p.code for p in ingest.profiles(session)}


def _check_threshold(operator: Any, threshold: Any, clear: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    if operator not in OPERATORS:
        return [FieldError("operator", MSG_OPERATOR)]
    if operator in NUMERIC:
        if not _number(threshold):
            errors.append(FieldError("threshold", MSG_NUMBER))
        if clear is not None and not _number(clear):
            errors.append(FieldError("clear_threshold", MSG_NUMBER))
        elif clear is not None and _number(threshold):
            below = operator in (">", ">=")
            if (below and clear > threshold) or (not below and clear < threshold):
                errors.append(FieldError("clear_threshold", MSG_CLEAR_SIDE))
    else:
        word = isinstance(threshold, str) and 0 < len(threshold) <= 64
        if not (_number(threshold) or isinstance(threshold, bool) or word):
            errors.append(FieldError("threshold", MSG_VALUE))
        if clear is not None:
            errors.append(FieldError("clear_threshold", MSG_CLEAR_EQUALITY))
    return errors


def _check(session: Session, values: dict[str, Any], *, known_profile: str | None = None) -> list[FieldError]:
    """Field errors of a rule's values (all of them, whether new or changed); ``known_profile``
    is the profile the rule already has (not looked up again)."""
    errors: list[FieldError] = []
    name = values["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        errors.append(FieldError("name", MSG_NAME))
    kind, profile = values["device_kind"], values["profile_code"]
    if kind is None and profile is None:
        errors.append(FieldError("device_kind", MSG_TARGET))
    if kind is not None and (not isinstance(kind, str) or not _KIND.match(kind)):
        errors.append(FieldError("device_kind", MSG_KIND))
    if profile is not None and (
        not isinstance(profile, str)
        or not _PROFILE.match(profile)
        or (profile != known_profile and profile not in _known_profiles(session))
    ):
        errors.append(FieldError("profile_code", MSG_PROFILE))
    attribute = values["attribute"]
    if not isinstance(attribute, str) or not _ATTRIBUTE.match(attribute):
        errors.append(FieldError("attribute", MSG_ATTRIBUTE))
    errors.extend(_check_threshold(values["operator"], values["threshold"], values["clear_threshold"]))
    code = values["category_code"]
    chain = cases.lineage(session, code) if isinstance(code, str) and code else []
    if not chain or not chain[0].active or chain[0].level < 2:
        errors.append(FieldError("category_code", MSG_CATEGORY))
    detail = values["detail"]
    if not isinstance(detail, str) or len(detail) > 200:
        errors.append(FieldError("detail", MSG_DETAIL))
    if not isinstance(values["active"], bool):
        errors.append(FieldError("active", MSG_ACTIVE))
    return errors


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return [ROOT_PATH] + ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _visible(actor: Actor) -> Any:
    """Rules that watch the actor's area: set above it (the city's) or inside it."""
    return or_(actor.scope_clause(AlarmRule.region_path), AlarmRule.region_path.in_(_ancestors(actor.scope_path)))


def list_rules(session: Session, actor: Actor) -> list[AlarmRule]:
    actor.require(PERMISSION)
    return list(session.scalars(select(AlarmRule).where(_visible(actor)).order_by(AlarmRule.region_path, AlarmRule.id)))


def get_rule(session: Session, actor: Actor, rule_id: int) -> AlarmRule:
    actor.require(PERMISSION)
    rule = session.scalar(select(AlarmRule).where(AlarmRule.id == rule_id, _visible(actor)))
    if rule is None:
        raise NotFound()
    return rule


def editable(actor: Actor, rule: AlarmRule) -> bool:
    """A rule is changed by a device manager whose area covers its region; the shipped rules
    (region "/") by one whose area is a whole city (or more)."""
    if rule.region_path == ROOT_PATH and actor.can(PERMISSION):
        return actor.scope_path.count("/") <= 2  # "/" or "/<city>/"
    return actor.can(PERMISSION, region=rule.region_path)


def _editable_rule(session: Session, actor: Actor, rule_id: int) -> AlarmRule:
    rule = get_rule(session, actor, rule_id)
    if not editable(actor, rule):
        raise Forbidden(params={"permission": PERMISSION})
    return rule


def create_rule(
    session: Session,
    actor: Actor,
    *,
    name: Any,
    attribute: Any,
    operator: Any,
    threshold: Any,
    category_code: Any,
    device_kind: Any = None,
    profile_code: Any = None,
    clear_threshold: Any = None,
    detail: Any = "",
    active: Any = True,
    region_id: int | None = None,
) -> AlarmRule:
    """A rule over the devices of one region of the actor's area (their whole area by default)."""
    actor.require(PERMISSION)
    values = {
        "name": _clean(name),
        "device_kind": _clean(device_kind),
        "profile_code": _clean(profile_code),
        "attribute": _clean(attribute),
        "operator": _clean(operator),
        "threshold": _clean(threshold),
        "clear_threshold": _clean(clear_threshold),
        "category_code": _clean(category_code),
        "detail": "" if detail is None else (detail.strip() if isinstance(detail, str) else detail),
        "active": active,
    }
    errors = _check(session, values)
    region = session.get(Region, region_id if region_id is not None else actor.scope_region_id or -1)
    if region is None or not actor.covers(region):
        errors.append(FieldError("region_id", MSG_REGION))
    if errors:
        raise Invalid(details=errors)
    assert region is not None
    actor.require(PERMISSION, region=region)
    rule = AlarmRule(code=None, region_id=region.id, region_path=region.path, **values)
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, actor: Actor, *, rule_id: int, **changes: Any) -> AlarmRule:
    """Changes the given fields (the others stay). Turning a rule off ends its open alarms."""
    rule = _editable_rule(session, actor, rule_id)
    fields = (
        "name",
        "device_kind",
        "profile_code",
        "attribute",
        "operator",
        "threshold",
        "clear_threshold",
        "category_code",
        "detail",
        "active",
    )
    unknown = set(changes) - set(fields)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = {f: getattr(rule, f) for f in fields}
    for f, v in changes.items():
        if v is UNSET:
            continue
        values[f] = ("" if v is None else v.strip() if isinstance(v, str) else v) if f == "detail" else _clean(v)
    errors = _check(session, values, known_profile=rule.profile_code)
    if errors:
        raise Invalid(details=errors)
    was_active = rule.active
    for f, v in values.items():
        setattr(rule, f, v)
    if was_active and not rule.active:
        end_alarms(session, rule)
    session.flush()
    return rule


def delete_rule(session: Session, actor: Actor, *, rule_id: int) -> None:
    """Deletes the rule and its alarm states (the cases already opened stay)."""
    rule = _editable_rule(session, actor, rule_id)
    devices = set(
        session.scalars(select(AlarmState.device_id).where(AlarmState.rule_id == rule.id, AlarmState.active.is_(True)))
    )
    states = delete(AlarmState).where(AlarmState.rule_id == rule.id)
    session.execute(states.execution_options(synchronize_session=False))
    session.delete(rule)
    session.flush()
    settle(session, devices)


def end_alarms(session: Session, rule: AlarmRule) -> int:
    """Ends the open episodes of a rule (turned off): the cases already opened stay."""
    now = utcnow()
    devices: set[int] = set()
    for state in session.scalars(select(AlarmState).where(AlarmState.rule_id == rule.id, AlarmState.active.is_(True))):
        state.active = False
        state.cleared_at = now
        devices.add(state.device_id)
    session.flush()
    settle(session, devices)
    return len(devices)


def settle(session: Session, device_ids: set[int]) -> None:
    """Devices whose hub alarms ended without a reading (rule off or deleted): back online when
    no other alarm of theirs is open (a community bin's status is the community's)."""
    if not device_ids:
        return
    still = set(
        session.scalars(
            select(AlarmState.device_id).where(AlarmState.device_id.in_(device_ids), AlarmState.active.is_(True))
        )
    )
    for device in session.scalars(select(Device).where(Device.id.in_(device_ids - still))):
        if device.status == DeviceStatus.ALARM and device.kind != "bin":
            device.status = DeviceStatus.ONLINE
    session.flush()


@dataclass(frozen=True)
class OpenAlarm:
    state: AlarmState
    rule: AlarmRule
    device: Device


def open_alarms(
    session: Session, actor: Actor, *, device_id: int | None = None, offset: int = 0, limit: int = 100
) -> tuple[list[OpenAlarm], int]:
    """Open alarm episodes of the devices in the actor's area, newest first; (rows, total)."""
    actor.require(PERMISSION)
    query = (
        select(AlarmState, AlarmRule, Device)
        .join(AlarmRule, AlarmRule.id == AlarmState.rule_id)
        .join(Device, Device.id == AlarmState.device_id)
        .where(AlarmState.active.is_(True), actor.scope_clause(AlarmState.region_path))
    )
    if device_id is not None:
        query = query.where(AlarmState.device_id == device_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(AlarmState.since.desc(), AlarmState.id.desc()).offset(offset).limit(limit)
    ).all()
    return [OpenAlarm(s, r, d) for s, r, d in rows], int(total)
