"""The device registry: register devices in regions, authenticate the ones that call in with
their key, record their state. Plain functions taking a session; they flush, never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.runtime import blind_index
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region

MSG_CODE_TAKEN = N_("A device with this code already exists.")
MSG_BAD_CODE = N_("Use 3 to 64 letters, digits, dots, dashes or underscores.")
MSG_BAD_KIND = N_("Use 2 to 32 lower-case letters, digits or underscores.")
MSG_NAME = N_("Give the device a name of at most 128 characters.")
MSG_STATUS = N_("Not a known device status.")
MSG_REGION = N_("This place does not exist or is outside your area.")
_KEY_PURPOSE = "device-key"


def _check(code: str, kind: str, name: str) -> list[FieldError]:
    errors: list[FieldError] = []
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
    if not (3 <= len(code) <= 64) or not set(code) <= allowed:
        errors.append(FieldError("code", MSG_BAD_CODE))
    if not (2 <= len(kind) <= 32) or not set(kind) <= set("abcdefghijklmnopqrstuvwxyz0123456789_"):
        errors.append(FieldError("kind", MSG_BAD_KIND))
    if not name.strip() or len(name) > 128:
        errors.append(FieldError("name", MSG_NAME))
    return errors


@dataclass(frozen=True)
class Registered:
    device: Device
    key: str | None  # shown once, when the device calls in itself


def register(
    session: Session,
    actor: Actor,
    *,
    code: str,
    kind: str,
    name: str,
    region_id: int,
    permission: str,
    lon: float | None = None,
    lat: float | None = None,
    with_key: bool = False,
    state: dict[str, Any] | None = None,
) -> Registered:
    """Registers a device in a region the actor manages (``permission`` over that region: each
    module decides who installs its devices). ``with_key`` makes a device key, returned once."""
    errors = _check(code, kind, name)
    region = session.get(Region, region_id)
    if region is None or not actor.covers(region):
        errors.append(FieldError("region_id", MSG_REGION))
    if errors:
        raise Invalid(details=errors)
    assert region is not None
    actor.require(permission, region=region)
    if session.scalar(select(Device.id).where(Device.code == code)) is not None:
        raise Conflict(details=[FieldError("code", MSG_CODE_TAKEN)])
    key = f"dk_{secrets.token_urlsafe(24)}" if with_key else None
    device = Device(
        code=code,
        kind=kind,
        name=name.strip(),
        region_id=region.id,
        region_path=region.path,
        lon=lon if lon is not None else region.lon,
        lat=lat if lat is not None else region.lat,
        state=state or {},
        key_hash=blind_index().digest(key, purpose=_KEY_PURPOSE) if key else None,
    )
    session.add(device)
    session.flush()
    return Registered(device, key)


def new_key(session: Session, device: Device) -> str:
    """Gives the device a new key (the old one stops working at once); returned this once."""
    key = f"dk_{secrets.token_urlsafe(24)}"
    device.key_hash = blind_index().digest(key, purpose=_KEY_PURPOSE)
    session.flush()
    return key


def by_key(session: Session, key: str | None) -> Device:
    """The device that holds ``key`` (NotFound for a missing or unknown key)."""
    if not key:
        raise NotFound()
    device = session.scalar(select(Device).where(Device.key_hash == blind_index().digest(key, purpose=_KEY_PURPOSE)))
    if device is None:
        raise NotFound()
    return device


def get(session: Session, actor: Actor, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None or not actor.covers(device.region_path):
        raise NotFound()
    return device


def record_state(
    session: Session,
    device: Device,
    *,
    status: str | None = None,
    state: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Device:
    """A device reported in: merge its readings and move its status."""
    if status is not None and status not in {s.value for s in DeviceStatus}:
        raise Invalid(details=[FieldError("status", MSG_STATUS)])
    if status is not None:
        device.status = status
    if state:
        device.state = {**(device.state or {}), **state}
    device.last_seen_at = at or utcnow()
    session.flush()
    return device


def in_region(session: Session, actor: Actor, *, region: Region, kind: str | None = None) -> list[Device]:
    query = select(Device).where(
        subtree_clause(Device.region_path, region.path), actor.scope_clause(Device.region_path)
    )
    if kind is not None:
        query = query.where(Device.kind == kind)
    return list(session.scalars(query.order_by(Device.kind, Device.code)))


def status_counts(session: Session, *, region_path: str) -> dict[str, dict[str, int]]:
    """kind → status → count within a subtree (for dashboards)."""
    rows = session.execute(
        select(Device.kind, Device.status, func.count())
        .where(subtree_clause(Device.region_path, region_path))
        .group_by(Device.kind, Device.status)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for kind, status, count in rows:
        out.setdefault(kind, {})[status] = int(count)
    return out
