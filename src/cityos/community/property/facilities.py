"""The estate's devices (物): registering spaces, cameras, lockers, bins, meters and facility
equipment (elevators, pumps, fire panels, lights); their states; a fault opens a property-repair
case (物业报修) through the cases module; the console's list of open repairs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.cases.models import Case
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import DomainError, FieldError, Forbidden, Invalid
from cityos.core.i18n import N_, translate
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region, RegionLevel

from .estates import MANAGE, aware, estate_of, managed_estate
from .garbage import STREAMS
from .models import FacilityFault

log = structlog.get_logger(__name__)

FACILITY_KINDS = ("elevator", "pump", "fire_panel", "light")
KINDS = ("parking_spot", "camera", "locker", "bin", "meter_water", "meter_power", *FACILITY_KINDS)
KIND_TITLES = {
    "parking_spot": N_("Parking space"),
    "camera": N_("Camera"),
    "locker": N_("Parcel locker"),
    "bin": N_("Garbage bin"),
    "meter_water": N_("Water meter"),
    "meter_power": N_("Electricity meter"),
    "elevator": N_("Elevator"),
    "pump": N_("Water pump"),
    "fire_panel": N_("Fire alarm panel"),
    "light": N_("Lights"),
}
STATUS_TITLES = {
    DeviceStatus.ONLINE: N_("Working"),
    DeviceStatus.OFFLINE: N_("Offline"),
    DeviceStatus.FAULT: N_("Fault"),
    DeviceStatus.ALARM: N_("Alarm"),
}
# The property-repair categories of the shipped tree (cases/catalogue.py) a fault files under.
REPAIR_CATEGORY = {
    "elevator": "repair.01.01",  # 电梯故障
    "light": "repair.01.02",  # 楼道照明
    "pump": "repair.02.01",  # 二次供水
    "fire_panel": "repair.02.02",  # 消防设施
    "camera": "repair.02.03",  # 监控设备
}
REPAIR_OTHER = "repair.02"  # 设施设备
_NO_KEY = {"parking_spot"}
_CODE = re.compile(
    r"^[A-Za-z0-9._-]{3,64}$"
)  # as the device registry allows  # spaces do not call in: cameras move them

MSG_KIND = N_("Choose a kind of device this console manages.")
MSG_PLACE = N_("Choose a place inside this estate.")
MSG_ROOM_FOR_METER = N_("A meter belongs to a room.")
MSG_COMPARTMENTS = N_("Give the number of compartments, from 1 to 200.")
MSG_STREAM = N_("Choose what the bin takes: kitchen, recyclable, hazardous or other.")
MSG_NOT_FACILITY = N_("This device does not report facility states.")
MSG_DETAIL = N_("At most 255 characters.")


def add_device(
    session: Session,
    actor: Actor,
    *,
    estate_id: int,
    kind: str,
    code: str,
    name: str,
    region_id: int | None = None,
    compartments: Any = None,
    stream: str | None = None,
    visitor: bool = False,
) -> devices.Registered:
    """Install a device in the estate (or one of its buildings, units, rooms); devices that call
    in get a key, shown once."""
    estate = managed_estate(session, actor, estate_id)
    errors: list[FieldError] = []
    if kind not in KINDS:
        errors.append(FieldError("kind", MSG_KIND))
    region = session.get(Region, region_id) if region_id is not None else estate
    if region is None or not region.path.startswith(estate.path):
        errors.append(FieldError("region_id", MSG_PLACE))
    elif kind in ("meter_water", "meter_power") and region.level != RegionLevel.ROOM:
        errors.append(FieldError("region_id", MSG_ROOM_FOR_METER))
    state: dict[str, Any] = {}
    if kind == "locker":
        if isinstance(compartments, bool) or not isinstance(compartments, int) or not 1 <= compartments <= 200:
            errors.append(FieldError("compartments", MSG_COMPARTMENTS))
        state = {"compartments": compartments}
    elif kind == "bin":
        if stream not in STREAMS:
            errors.append(FieldError("stream", MSG_STREAM))
        state = {"stream": stream, "fill_level": 0.0}
    elif kind == "parking_spot":
        state = {"occupied": False, "plate": None, "visitor": bool(visitor)}
    if not _CODE.match(code or ""):
        errors.append(FieldError("code", devices.MSG_BAD_CODE))
    if not (name or "").strip() or len(name) > 128:
        errors.append(FieldError("name", devices.MSG_NAME))
    if errors:
        raise Invalid(details=errors)
    assert region is not None
    return devices.register(
        session,
        actor,
        code=code,
        kind=kind,
        name=name,
        region_id=region.id,
        permission=MANAGE,
        with_key=kind not in _NO_KEY,
        state=state,
    )


def estate_devices(session: Session, actor: Actor, *, estate_id: int, kinds: tuple[str, ...] = KINDS) -> list[Device]:
    estate = managed_estate(session, actor, estate_id)
    return list(
        session.scalars(
            select(Device)
            .where(Device.kind.in_(kinds), subtree_clause(Device.region_path, estate.path))
            .order_by(Device.kind, Device.code)
        )
    )


def report_state(
    session: Session,
    device: Device,
    *,
    status: str,
    state: dict[str, Any] | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> tuple[Device, FacilityFault | None]:
    """A facility device reports its state. Going into fault opens one fault and its repair case
    (a repeated fault report adds nothing); coming back clears the fault (the case stays for the
    property office to close)."""
    if device.kind not in KINDS or device.kind == "parking_spot":
        raise Forbidden(MSG_NOT_FACILITY)
    estate = estate_of(session, device.region_path)
    if estate is None:
        raise Forbidden(MSG_NOT_FACILITY)
    if detail is not None and len(detail) > 255:
        raise Invalid(details=[FieldError("detail", MSG_DETAIL)])
    now = utcnow()
    at = aware(at) if at else now
    if at > now + timedelta(minutes=5):
        raise Invalid(details=[FieldError("at", N_("This time is in the future."))])
    devices.record_state(session, device, status=status, state=state, at=at)
    fault = session.scalar(
        select(FacilityFault).where(FacilityFault.device_id == device.id, FacilityFault.cleared_at.is_(None))
    )
    if status == DeviceStatus.FAULT and fault is None:
        fault = FacilityFault(device_id=device.id, estate_id=estate.id, detail=(detail or "").strip(), opened_at=at)
        session.add(fault)
        session.flush()
        fault.case_id = _open_repair(session, device, fault, estate)
        session.flush()
        return device, fault
    if status == DeviceStatus.ONLINE and fault is not None:
        fault.cleared_at = at
        session.flush()
    return device, fault


def _open_repair(session: Session, device: Device, fault: FacilityFault, estate: Region) -> int | None:
    lon = device.lon if device.lon is not None else estate.lon
    lat = device.lat if device.lat is not None else estate.lat
    if lon is None or lat is None:
        log.warning("property.fault_without_place", device_id=device.id)
        return None
    title = translate("Fault: {name}", name=device.name)
    try:
        case, _ = cases.machine_report(
            session,
            source="facility",
            external_ref=f"{device.id}:{fault.id}",
            category_code=REPAIR_CATEGORY.get(device.kind, REPAIR_OTHER),
            title=title[:128],
            lon=lon,
            lat=lat,
            detail=fault.detail or title,
        )
    except DomainError:
        # Outside the city's map, or the repair categories or process not installed: the fault is
        # kept and shown; the office files the repair by hand.
        log.warning("property.fault_case_refused", device_id=device.id)
        return None
    return case.id


@dataclass(frozen=True)
class FaultView:
    fault: FacilityFault
    device: Device
    case_no: str | None


def open_faults(session: Session, actor: Actor, *, estate_id: int) -> list[FaultView]:
    estate = managed_estate(session, actor, estate_id)
    rows = session.execute(
        select(FacilityFault, Device)
        .join(Device, Device.id == FacilityFault.device_id)
        .where(FacilityFault.estate_id == estate.id, FacilityFault.cleared_at.is_(None))
        .order_by(FacilityFault.opened_at.desc())
    ).all()
    numbers = dict(
        session.execute(select(Case.id, Case.no).where(Case.id.in_({f.case_id for f, _ in rows if f.case_id}))).all()
    )
    return [FaultView(f, d, numbers.get(f.case_id) if f.case_id else None) for f, d in rows]


def open_repairs(session: Session, actor: Actor, *, estate_id: int, limit: int = 100) -> list[Case]:
    """The estate's open property-repair cases (residents' reports and devices' faults), as the
    cases module lets this actor see them."""
    estate = managed_estate(session, actor, estate_id)
    query = cases.case_query(actor).where(
        subtree_clause(Case.region_path, estate.path),
        Case.category_code.startswith("repair."),
        Case.closed_at.is_(None),
    )
    return list(session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)))


def status_counts(session: Session, *, region_path: str) -> dict[str, int]:
    """Status → count of the property devices within a subtree."""
    rows = session.execute(
        select(Device.status, func.count())
        .where(Device.kind.in_(KINDS), subtree_clause(Device.region_path, region_path))
        .group_by(Device.status)
    ).all()
    return {str(s): int(n) for s, n in rows}
