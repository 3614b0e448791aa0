"""What the hub does when a device reports (``DeviceObserved``, after the ingest commit).

Two bus consumers, each in its own transaction and each idempotent (the bus records the event
key per consumer, and the state they keep makes a repeated reading change nothing):

* ``hub.devices.community`` feeds the community module with the devices of an estate (小区): a
  bin (kind ``bin``) gives its fill level to ``community.property.garbage.bin_reading`` — which
  raises the bin-full alarm of a community bin itself — and a parking spot (kind
  ``parking_spot``) its occupancy to ``community.property.parking.sensor_state``.
* ``hub.devices.alarms`` applies the alarm rules: on a crossing (not on every reading) an
  episode opens in ``AlarmState`` and a ``DeviceAlarm`` is published with an ``alarm_id``
  stable for the episode, so the cases module opens one machine-detected case; a reading past
  the clear threshold ends the episode. The readings a community module alarms on itself
  (``COMMUNITY_ALARMS``: the fill level of a bin in an estate) are left to it, so an
  overflowing community bin opens one case, not two; a bin outside any estate (a street litter
  bin) is the hub's, and its bin-full rule opens the case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.events import DeviceAlarm
from cityos.community.property import garbage, parking
from cityos.core import bus
from cityos.core.errors import DomainError
from cityos.core.i18n import translate
from cityos.hub.devices.models import AlarmRule, AlarmState
from cityos.hub.devices.service import NUMERIC
from cityos.hub.events import DeviceObserved
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region

log = structlog.get_logger(__name__)

BIN = garbage.BIN
PARKING_SPOT = parking.SPACE
# Readings whose alarm a community module raises itself: device kind → attributes.
COMMUNITY_ALARMS: dict[str, frozenset[str]] = {BIN: frozenset({"fillingLevel"})}
# ParkingSpot.status (Smart Data Models) → occupied; other values (closed, unknown) say nothing.
SPOT_STATUS = {"occupied": True, "free": False}


def plain(value: Any) -> Any:
    """A reading's value, whether the event carries it bare or as an NGSI-LD attribute object."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _device(session: Session, evt: DeviceObserved) -> Device | None:
    return session.scalar(select(Device).where(Device.code == evt.device_code))


def in_estate(session: Session, device: Device) -> bool:
    """Whether the device stands in an estate (小区), where the community module runs it."""
    ids = [int(p) for p in device.region_path.strip("/").split("/") if p]
    found = session.scalar(select(Region.id).where(Region.id.in_(ids), Region.level == "estate").limit(1))
    return found is not None


def community_owned(session: Session, device: Device) -> bool:
    return device.kind in (BIN, PARKING_SPOT) and in_estate(session, device)


def profile_of(session: Session, device: Device) -> str | None:
    """The ingest profile the device is bound to (None for a device without a binding)."""
    from cityos.hub.ingest.models import IngestBinding

    return session.scalar(select(IngestBinding.profile_code).where(IngestBinding.device_id == device.id))


# --- community ----------------------------------------------------------------------------------------------------


def feed_community(session: Session, evt: DeviceObserved) -> None:
    """Bins and parking spots: hand their readings to the community module."""
    if evt.device_kind not in (BIN, PARKING_SPOT):
        return
    device = _device(session, evt)
    if device is None or not community_owned(session, device):
        return
    values = {k: plain(v) for k, v in evt.attrs.items()}
    at = parse_time(evt.observed_at)
    try:
        if device.kind == BIN and "fillingLevel" in values:
            garbage.bin_reading(session, device, fill_level=values["fillingLevel"], at=at)
        elif device.kind == PARKING_SPOT and values.get("status") in SPOT_STATUS:
            parking.sensor_state(session, device, occupied=SPOT_STATUS[values["status"]], at=at)
    except DomainError as exc:
        # A reading the community refuses (out of range, from the future) is logged, not retried.
        log.warning("hub.devices.community_refused", device=device.code, error=exc.code)


# --- alarm rules --------------------------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(operator: str, value: Any, threshold: Any) -> bool | None:
    """Whether ``value operator threshold`` holds; None when they cannot be compared."""
    if operator in NUMERIC:
        if not _number(value) or not _number(threshold):
            return None
        return bool(
            {
                ">": value > threshold,
                ">=": value >= threshold,
                "<": value < threshold,
                "<=": value <= threshold,
            }[operator]
        )
    if _number(value) and _number(threshold):
        same = float(value) == float(threshold)
    elif isinstance(value, str | bool) and type(value) is type(threshold):
        same = value == threshold
    elif value is None or isinstance(value, dict | list):
        return None
    else:
        same = False
    return same if operator == "==" else not same


def raised(rule: AlarmRule, value: Any) -> bool | None:
    return _compare(rule.operator, value, rule.threshold)


def cleared(rule: AlarmRule, value: Any) -> bool | None:
    """Whether a reading ends an open episode: past the clear threshold when there is one
    (hysteresis), otherwise as soon as the rule no longer holds."""
    if rule.clear_threshold is None or rule.operator not in NUMERIC:
        holds = raised(rule, value)
        return None if holds is None else not holds
    if not _number(value):
        return None
    if rule.operator in (">", ">="):
        return bool(value < rule.clear_threshold)
    return bool(value > rule.clear_threshold)


def applies(rule: AlarmRule, device: Device, profile: str | None, *, community: bool = False) -> bool:
    """Whether the rule watches this device (``community``: the device is run by the community
    module, which raises some alarms itself)."""
    if rule.device_kind is not None and rule.device_kind != device.kind:
        return False
    if rule.profile_code is not None and rule.profile_code != profile:
        return False
    if community and rule.attribute in COMMUNITY_ALARMS.get(device.kind, frozenset()):
        return False
    return device.region_path.startswith(rule.region_path)


def shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _raise(session: Session, rule: AlarmRule, state: AlarmState, device: Device, value: Any) -> None:
    state.episode += 1
    state.alarm_id = f"hub:{rule.id}:{device.id}:{state.episode}"
    if state.lon is None or state.lat is None:
        log.warning("hub.devices.alarm_without_place", device=device.code, rule=rule.id)
        return
    detail = translate(rule.detail or rule.name, name=device.name, value=shown(value))
    bus.publish(
        session,
        DeviceAlarm(
            alarm_id=state.alarm_id,
            device_id=device.code,
            category_code=rule.category_code,
            lon=state.lon,
            lat=state.lat,
            detail=detail[:500],
        ),
        key=f"hub-alarm:{state.alarm_id}",
    )


def evaluate(
    session: Session,
    device: Device,
    values: dict[str, Any],
    at: datetime,
    *,
    profile: str | None,
    lon: float | None = None,
    lat: float | None = None,
) -> list[AlarmState]:
    """Applies the active rules to one device's readings; returns the states that moved."""
    community = community_owned(session, device)
    rules = [
        r
        for r in session.scalars(select(AlarmRule).where(AlarmRule.active.is_(True)).order_by(AlarmRule.id))
        if r.attribute in values and applies(r, device, profile, community=community)
    ]
    if not rules:
        return []
    states = {
        s.rule_id: s
        for s in session.scalars(
            select(AlarmState).where(AlarmState.device_id == device.id, AlarmState.rule_id.in_([r.id for r in rules]))
        )
    }
    moved: list[AlarmState] = []
    for rule in rules:
        value = values[rule.attribute]
        state = states.get(rule.id)
        if state is not None and state.last_at is not None and at < state.last_at:
            continue  # an older reading, delivered late: the newer one already decided
        if state is None:
            state = AlarmState(
                rule_id=rule.id, device_id=device.id, device_code=device.code, region_path=device.region_path
            )
            state.active, state.episode = False, 0
            session.add(state)
        state.last_value, state.last_at, state.region_path = value, at, device.region_path
        state.lon = lon if lon is not None else device.lon
        state.lat = lat if lat is not None else device.lat
        if not state.active and raised(rule, value):
            state.active, state.value, state.since, state.cleared_at = True, value, at, None
            _raise(session, rule, state, device, value)
            moved.append(state)
        elif state.active and cleared(rule, value):
            state.active, state.cleared_at = False, at
            moved.append(state)
    session.flush()
    if not (community and device.kind == BIN):  # a community bin's status is the community's
        _status(session, device, at)
    return moved


def _status(session: Session, device: Device, at: datetime) -> None:
    """A device with an open alarm is in alarm; back online when the last one ends."""
    if device.status not in (DeviceStatus.ONLINE, DeviceStatus.ALARM):
        return
    alarming = session.scalar(
        select(AlarmState.id).where(AlarmState.device_id == device.id, AlarmState.active.is_(True)).limit(1)
    )
    wanted = DeviceStatus.ALARM if alarming is not None else DeviceStatus.ONLINE
    if device.status != wanted:
        devices.record_state(session, device, status=wanted, at=max(at, device.last_seen_at or at))


def apply_rules(session: Session, evt: DeviceObserved) -> None:
    device = _device(session, evt)
    if device is None:
        return
    values = {k: plain(v) for k, v in evt.attrs.items()}
    evaluate(
        session,
        device,
        values,
        parse_time(evt.observed_at),
        profile=profile_of(session, device),
        lon=evt.lon,
        lat=evt.lat,
    )
