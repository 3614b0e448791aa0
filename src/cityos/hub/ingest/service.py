"""The hub's devices (物联设备): register a device with its profile and entity, list them within
the caller's area, rotate a device key, the shipped profiles, and the ingest figures.

Devices are rows of the shared registry (``places.devices``); the binding to a profile and an
NGSI-LD entity is ingest's own. Plain functions taking a session; they flush, never commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.runtime import field_cipher
from cityos.hub.ingest import stores
from cityos.hub.ingest.models import DeviceProfile, IngestBinding, IngestRejection, IngestTally
from cityos.hub.ingest.profiles import Profile, iso
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region

PERMISSION = "device:manage"
KEY_CONTEXT = "hub.device_key"
TENANT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_PAGE = 200

MSG_PROFILE = N_("Not a known device profile.")
MSG_TENANT = N_("Use 1 to 64 letters, digits, dashes or underscores.")
MSG_LON = N_("Must be a longitude between -180 and 180.")
MSG_LAT = N_("Must be a latitude between -90 and 90.")
MSG_STATUS = N_("Not a known device status.")
MSG_REGION = N_("This place does not exist or is outside your area.")
MSG_LIMIT = N_("Must be from 1 to {max}.")
MSG_OFFSET = N_("Must be 0 or more.")


@dataclass(frozen=True)
class DeviceRow:
    """A hub device as lists show it: the registry row and its binding."""

    device: Device
    binding: IngestBinding


def entity_id_for(entity_type: str, code: str) -> str:
    return f"urn:ngsi-ld:{entity_type}:{code}"


def _profile(session: Session, code: str) -> DeviceProfile | None:
    return session.scalar(select(DeviceProfile).where(DeviceProfile.code == code))


def register_device(
    session: Session,
    actor: Actor,
    *,
    code: str,
    kind: str,
    name: str,
    region_id: int,
    profile_code: str,
    lon: float | None = None,
    lat: float | None = None,
    tenant: str = "default",
) -> tuple[Device, str]:
    """Registers a device in a region the actor manages (device:manage there), bound to a
    profile and to the entity ``urn:ngsi-ld:<type>:<code>``, which is created with the device's
    location. Returns the device and its key (shown once)."""
    errors: list[FieldError] = []
    profile = _profile(session, profile_code) if isinstance(profile_code, str) else None
    if profile is None:
        errors.append(FieldError("profile_code", MSG_PROFILE))
    if not isinstance(tenant, str) or not TENANT_RE.match(tenant):
        errors.append(FieldError("tenant", MSG_TENANT))
    if lon is not None and not (-180 <= lon <= 180):
        errors.append(FieldError("lon", MSG_LON))
    if lat is not None and not (-90 <= lat <= 90):
        errors.append(FieldError("lat", MSG_LAT))
    if errors:
        raise Invalid(details=errors)
    assert profile is not None
    entity_id = entity_id_for(profile.entity_type, code)
    registered = devices.register(
        session, actor, code=code, kind=kind, name=name, region_id=region_id, permission=PERMISSION,
        lon=lon, lat=lat, with_key=True,
    )  # fmt: skip
    device, key = registered.device, registered.key
    assert key is not None
    binding = IngestBinding(
        device_id=device.id,
        profile_code=profile.code,
        tenant=tenant,
        entity_id=entity_id,
        entity_type=profile.entity_type,
        key_enc=field_cipher().encrypt(key, context=KEY_CONTEXT),
    )
    session.add(binding)
    session.flush()
    attrs = dict(Profile.of(profile).static_attributes())
    if device.lon is not None and device.lat is not None:
        attrs["location"] = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [device.lon, device.lat]}}
    attrs["name"] = {"type": "Property", "value": device.name}
    stores.upsert_entity(
        session, tenant=tenant, entity_id=entity_id, entity_type=profile.entity_type, attrs=attrs, history=False
    )  # the device's description, not an observation
    return device, key


def device_key(binding: IngestBinding) -> str | None:
    """The device key in clear (to check MQTT signatures)."""
    if binding.key_enc is None:
        return None
    return field_cipher().decrypt(binding.key_enc, context=KEY_CONTEXT)


def _rows_query(actor: Actor):  # type: ignore[no-untyped-def]
    return (
        select(Device, IngestBinding)
        .join(IngestBinding, IngestBinding.device_id == Device.id)
        .where(actor.scope_clause(Device.region_path))
    )


def list_devices(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    status: str | None = None,
    region_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[DeviceRow], int]:
    """The hub devices within the actor's area (and ``region_id``'s subtree), by code."""
    actor.require(PERMISSION)
    errors: list[FieldError] = []
    if status is not None and status not in {s.value for s in DeviceStatus}:
        errors.append(FieldError("status", MSG_STATUS))
    if not (1 <= limit <= MAX_PAGE):
        errors.append(FieldError("limit", MSG_LIMIT, {"max": MAX_PAGE}))
    if offset < 0:
        errors.append(FieldError("offset", MSG_OFFSET))
    region = session.get(Region, region_id) if region_id is not None else None
    if region_id is not None and (region is None or not actor.covers(region)):
        errors.append(FieldError("region_id", MSG_REGION))
    if errors:
        raise Invalid(details=errors)
    query = _rows_query(actor)
    if kind is not None:
        query = query.where(Device.kind == kind)
    if status is not None:
        query = query.where(Device.status == status)
    if region is not None:
        query = query.where(subtree_clause(Device.region_path, region.path))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Device.code).offset(offset).limit(limit)).all()
    return [DeviceRow(device, binding) for device, binding in rows], int(total)


def get_device(session: Session, actor: Actor, *, device_id: int) -> DeviceRow:
    """One hub device (NotFound outside the actor's area: a 403 would tell that it exists)."""
    row = session.execute(_rows_query(actor).where(Device.id == device_id)).first()
    if row is None:
        raise NotFound()
    device, binding = row
    actor.require(PERMISSION, region=device.region_path)
    return DeviceRow(device, binding)


def rotate_key(session: Session, actor: Actor, *, device_id: int) -> str:
    """A new key for the device (shown once); the old one stops working at once."""
    row = get_device(session, actor, device_id=device_id)
    key = devices.new_key(session, row.device)
    row.binding.key_enc = field_cipher().encrypt(key, context=KEY_CONTEXT)
    session.flush()
    return key


def profiles(session: Session) -> list[DeviceProfile]:
    return list(session.scalars(select(DeviceProfile).order_by(DeviceProfile.code)))


def binding_for(session: Session, device_id: int) -> tuple[IngestBinding, DeviceProfile] | None:
    row = session.execute(
        select(IngestBinding, DeviceProfile)
        .join(DeviceProfile, DeviceProfile.code == IngestBinding.profile_code)
        .where(IngestBinding.device_id == device_id)
    ).first()
    return None if row is None else (row[0], row[1])


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinuteTally:
    minute: datetime
    accepted: int
    duplicates: int
    rejected: int


@dataclass(frozen=True)
class BridgeState:
    connected: bool
    url: str
    topic: str
    received: int
    since: str | None


@dataclass(frozen=True)
class IngestStats:
    since: datetime
    accepted: int
    duplicates: int
    rejected: dict[str, int]  # reason -> count
    minutes: list[MinuteTally]  # the last hour, one per minute, oldest first
    queue_depth: int
    queue_capacity: int
    bridge: BridgeState | None
    latest_rejections: list[IngestRejection]

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def stats(session: Session, *, since: datetime) -> IngestStats:
    """Accepted, duplicate and rejected messages (by reason) since ``since``; the last hour per
    minute; the MQTT writer's queue and the bridge's state in this process."""
    from cityos.hub.ingest import mqtt

    totals = session.execute(
        select(IngestTally.outcome, IngestTally.reason, func.sum(IngestTally.count))
        .where(IngestTally.minute >= since.replace(second=0, microsecond=0))
        .group_by(IngestTally.outcome, IngestTally.reason)
    ).all()
    accepted = duplicates = 0
    rejected: dict[str, int] = {}
    for outcome, reason, count in totals:
        if outcome == "accepted":
            accepted += int(count)
        elif outcome == "duplicate":
            duplicates += int(count)
        else:
            rejected[reason or "invalid"] = rejected.get(reason or "invalid", 0) + int(count)
    now = utcnow().replace(second=0, microsecond=0)
    start = now - timedelta(minutes=59)
    per: dict[datetime, dict[str, int]] = {}
    for minute, outcome, count in session.execute(
        select(IngestTally.minute, IngestTally.outcome, func.sum(IngestTally.count))
        .where(IngestTally.minute >= start)
        .group_by(IngestTally.minute, IngestTally.outcome)
    ).all():
        per.setdefault(minute, {})[outcome] = int(count)
    minutes = []
    for i in range(60):
        at = start + timedelta(minutes=i)
        got = per.get(at, {})
        minutes.append(MinuteTally(at, got.get("accepted", 0), got.get("duplicate", 0), got.get("rejected", 0)))
    latest = list(session.scalars(select(IngestRejection).order_by(IngestRejection.id.desc()).limit(20)))
    bridge = mqtt.running()
    state = None
    depth, capacity = 0, 0
    if bridge is not None:
        depth, capacity = bridge.queue_depth, bridge.capacity
        state = BridgeState(
            connected=bridge.connected,
            url=bridge.safe_url,
            topic=bridge.topic,
            received=bridge.received,
            since=iso(bridge.started_at),
        )
    return IngestStats(since, accepted, duplicates, rejected, minutes, depth, capacity, state, latest)
