"""Congestion alert rules (拥堵告警规则) and the alerts of the TOCC: plain functions taking a
session; they flush, never commit. Rules and alert actions need ``traffic:manage``; reading the
alerts ``traffic:read``. Evaluating the rules over a bin is ``evaluate.py``; the guidance feed
is ``guidance.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.mobility.alerts import evaluate
from cityos.mobility.alerts.models import KINDS, OPEN_STATUSES, STATUSES, TARGETS, TrafficAlert, TrafficAlertRule
from cityos.mobility.network.schema import ROAD_CLASSES
from cityos.places.models import Region

READ = "traffic:read"
MANAGE = "traffic:manage"
BIN_MIN = 5
MAX_MINUTES = 24 * 60
UNSET: Any = object()  # PATCH: a field not given

MSG_NAME = N_("Give the rule a name of at most 128 characters.")
MSG_TARGET = N_("Choose segment or corridor.")
MSG_KIND = N_("Choose band (congestion state) or baseline (speed against the same time of the week).")
MSG_BASELINE_SEGMENTS = N_("A baseline rule watches segments only.")
MSG_MIN_BAND = N_("Choose a congestion level from 2 (basically clear) to 5 (severe).")
MSG_RATIO = N_("Give a share of the usual speed between 0.05 and 0.95.")
MSG_WEEKS = N_("Give the weeks of history needed, from 1 to 12.")
MSG_MINUTES = N_("Give minutes as a multiple of 5, from 5 to 1440.")
MSG_ROAD_CLASSES = N_("Choose road classes among: {expected}.")
MSG_CORRIDOR_CLASSES = N_("A corridor rule has no road classes or place.")
MSG_ACTIVE = N_("Say whether the rule is on (true or false).")
MSG_REGION = N_("Choose a place in your area.")
MSG_STATUS = N_("Choose a status among: {expected}.")
MSG_ALREADY_CLEARED = N_("This alert is already cleared.")
MSG_CODE_TAKEN = N_("A rule with this code exists.")


@dataclass(frozen=True)
class ShippedRule:
    code: str
    name: str
    target: str
    kind: str
    min_band: int | None
    ratio: float | None
    min_weeks: int | None
    duration_min: int
    clear_min: int
    road_classes: tuple[str, ...] | None


# What ``cityos db upgrade`` installs: moderate congestion (中度拥堵, state 4) for 10 minutes on the
# expressways and arterials; a corridor's TPI in the moderate band for 10 minutes; a segment below
# half its usual speed at that time of the week for 15 minutes (with two weeks of history at least).
SHIPPED: tuple[ShippedRule, ...] = (
    ShippedRule(
        "segment-band",
        N_("Moderate congestion on an expressway or arterial"),
        "segment",
        "band",
        4,
        None,
        None,
        10,
        10,
        ("expressway", "arterial"),
    ),
    ShippedRule(
        "corridor-band", N_("Moderate congestion on a corridor"), "corridor", "band", 4, None, None, 10, 10, None
    ),
    ShippedRule(
        "segment-baseline",
        N_("Speed below half the usual for this time of the week"),
        "segment",
        "baseline",
        None,
        0.5,
        2,
        15,
        10,
        None,
    ),
)

FIELDS = (
    "name",
    "target",
    "kind",
    "min_band",
    "ratio",
    "min_weeks",
    "duration_min",
    "clear_min",
    "road_classes",
    "region_id",
    "active",
)


def install_rules(session: Session) -> int:
    """Adds the shipped rules that are missing (an edited shipped rule stays as it is)."""
    have = set(session.scalars(select(TrafficAlertRule.code).where(TrafficAlertRule.code.is_not(None))))
    added = 0
    for r in SHIPPED:
        if r.code in have:
            continue
        session.add(
            TrafficAlertRule(
                code=r.code,
                name=r.name,
                target=r.target,
                kind=r.kind,
                min_band=r.min_band,
                ratio=r.ratio,
                min_weeks=r.min_weeks,
                duration_min=r.duration_min,
                clear_min=r.clear_min,
                road_classes=list(r.road_classes) if r.road_classes else None,
                active=True,
            )
        )
        added += 1
    if added:
        session.flush()
    return added


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _minutes(value: Any) -> bool:
    return _int(value) and BIN_MIN <= value <= MAX_MINUTES and value % BIN_MIN == 0


def _check(session: Session, actor: Actor, values: dict[str, Any]) -> tuple[list[FieldError], Region | None]:
    """Field errors of a rule's values (all of them, new or changed), and its place."""
    errors: list[FieldError] = []
    name = values["name"]
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 128:
        errors.append(FieldError("name", MSG_NAME))
    target, kind = values["target"], values["kind"]
    if target not in TARGETS:
        errors.append(FieldError("target", MSG_TARGET))
    if kind not in KINDS:
        errors.append(FieldError("kind", MSG_KIND))
    elif kind == "baseline" and target == "corridor":
        errors.append(FieldError("kind", MSG_BASELINE_SEGMENTS))
    if kind == "band" and not (_int(values["min_band"]) and 2 <= values["min_band"] <= 5):
        errors.append(FieldError("min_band", MSG_MIN_BAND))
    if kind == "baseline":
        if not (_number(values["ratio"]) and 0.05 <= values["ratio"] <= 0.95):
            errors.append(FieldError("ratio", MSG_RATIO))
        if not (_int(values["min_weeks"]) and 1 <= values["min_weeks"] <= 12):
            errors.append(FieldError("min_weeks", MSG_WEEKS))
    for f in ("duration_min", "clear_min"):
        if not _minutes(values[f]):
            errors.append(FieldError(f, MSG_MINUTES))
    classes = values["road_classes"]
    if classes is not None and (
        not isinstance(classes, list) or not classes or any(c not in ROAD_CLASSES for c in classes)
    ):
        errors.append(FieldError("road_classes", MSG_ROAD_CLASSES, {"expected": ", ".join(ROAD_CLASSES)}))
    region: Region | None = None
    if values["region_id"] is not None:
        region = session.get(Region, values["region_id"]) if _int(values["region_id"]) else None
        if region is None or not actor.covers(region):
            errors.append(FieldError("region_id", MSG_REGION))
    if target == "corridor" and (classes is not None or values["region_id"] is not None):
        errors.append(FieldError("road_classes", MSG_CORRIDOR_CLASSES))
    if not isinstance(values["active"], bool):
        errors.append(FieldError("active", MSG_ACTIVE))
    return errors, region


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    """What a rule keeps: the fields its kind does not use are emptied."""
    out = dict(values)
    out["name"] = out["name"].strip()
    if out["kind"] == "band":
        out["ratio"] = out["min_weeks"] = None
    else:
        out["min_band"] = None
        out["ratio"] = float(out["ratio"])
    if out["road_classes"] is not None:
        out["road_classes"] = sorted(set(out["road_classes"]), key=ROAD_CLASSES.index)
    return out


def list_rules(session: Session, actor: Actor) -> list[TrafficAlertRule]:
    actor.require(READ)
    return list(session.scalars(select(TrafficAlertRule).order_by(TrafficAlertRule.id)))


def get_rule(session: Session, actor: Actor, rule_id: int) -> TrafficAlertRule:
    actor.require(READ)
    rule = session.get(TrafficAlertRule, rule_id)
    if rule is None:
        raise NotFound()
    return rule


def create_rule(
    session: Session,
    actor: Actor,
    *,
    name: Any,
    target: Any,
    kind: Any,
    duration_min: Any,
    clear_min: Any,
    min_band: Any = None,
    ratio: Any = None,
    min_weeks: Any = None,
    road_classes: Any = None,
    region_id: Any = None,
    active: Any = True,
) -> TrafficAlertRule:
    actor.require(MANAGE)
    values = {
        "name": name,
        "target": target,
        "kind": kind,
        "min_band": min_band,
        "ratio": ratio,
        "min_weeks": min_weeks,
        "duration_min": duration_min,
        "clear_min": clear_min,
        "road_classes": road_classes,
        "region_id": region_id,
        "active": active,
    }
    errors, region = _check(session, actor, values)
    if errors:
        raise Invalid(details=errors)
    rule = TrafficAlertRule(code=None, region_path=region.path if region else None, **_normalise(values))
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, actor: Actor, *, rule_id: int, **changes: Any) -> TrafficAlertRule:
    """Changes the given fields. Turning a rule off clears its open alerts."""
    actor.require(MANAGE)
    rule = get_rule(session, actor, rule_id)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = {f: getattr(rule, f) for f in FIELDS}
    values.update({f: v for f, v in changes.items() if v is not UNSET})
    errors, region = _check(session, actor, values)
    if errors:
        raise Invalid(details=errors)
    was_active = rule.active
    for f, v in _normalise(values).items():
        setattr(rule, f, v)
    rule.region_path = region.path if region else None
    session.flush()
    if was_active and not rule.active:
        for alert in session.scalars(
            select(TrafficAlert).where(TrafficAlert.rule_id == rule.id, TrafficAlert.status.in_(OPEN_STATUSES))
        ):
            evaluate.clear(session, alert, at=utcnow(), by=actor.label)
    return rule


def delete_rule(session: Session, actor: Actor, *, rule_id: int) -> None:
    """Deletes the rule; its alerts stay (without a rule), the open ones cleared."""
    actor.require(MANAGE)
    rule = get_rule(session, actor, rule_id)
    for alert in session.scalars(
        select(TrafficAlert).where(TrafficAlert.rule_id == rule.id, TrafficAlert.status.in_(OPEN_STATUSES))
    ):
        evaluate.clear(session, alert, at=utcnow(), by=actor.label)
    # The alerts stay, without their rule (SQLite may not enforce the foreign key's SET NULL).
    session.execute(
        update(TrafficAlert)
        .where(TrafficAlert.rule_id == rule.id)
        .values(rule_id=None)
        .execution_options(synchronize_session="fetch")
    )
    session.delete(rule)
    session.flush()


# --- alerts ------------------------------------------------------------------------------------------------------


def list_alerts(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[TrafficAlert], int]:
    """Alerts in the actor's area, newest first; ``status`` "active" means open or acknowledged.
    (rows, total)."""
    actor.require(READ)
    query = select(TrafficAlert).where(actor.scope_clause(TrafficAlert.region_path))
    if status == "active":
        query = query.where(TrafficAlert.status.in_(OPEN_STATUSES))
    elif status:
        if status not in STATUSES:
            expected = ", ".join(("active", *STATUSES))
            raise Invalid(details=[FieldError("status", MSG_STATUS, {"expected": expected})])
        query = query.where(TrafficAlert.status == status)
    if kind in TARGETS:
        query = query.where(TrafficAlert.kind == kind)
    if since is not None:
        query = query.where(TrafficAlert.started_at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(TrafficAlert.started_at.desc(), TrafficAlert.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), int(total)


def get_alert(session: Session, actor: Actor, alert_id: str) -> TrafficAlert:
    actor.require(READ)
    alert = session.scalar(
        select(TrafficAlert).where(TrafficAlert.alert_id == alert_id, actor.scope_clause(TrafficAlert.region_path))
    )
    if alert is None:
        raise NotFound()
    return alert


def acknowledge(session: Session, actor: Actor, *, alert_id: str) -> TrafficAlert:
    """The duty officer has seen the alert (已确认); acknowledging twice changes nothing."""
    actor.require(MANAGE)
    alert = get_alert(session, actor, alert_id)
    if alert.status == "cleared":
        raise Conflict(MSG_ALREADY_CLEARED)
    if alert.status == "open":
        alert.status = "acknowledged"
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = actor.label[:128]
        session.flush()
    return alert


def close(session: Session, actor: Actor, *, alert_id: str) -> TrafficAlert:
    """Ends the alert by hand (its case stays with the traffic police). If the jam goes on, the
    rule raises a new alert after its duration of further congestion."""
    actor.require(MANAGE)
    alert = get_alert(session, actor, alert_id)
    if alert.status == "cleared":
        raise Conflict(MSG_ALREADY_CLEARED)
    evaluate.clear(session, alert, at=utcnow(), by=actor.label)
    return alert
