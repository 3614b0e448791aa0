"""Parking (停车): spaces are Devices of kind parking_spot whose state says whether they are
occupied; plates registered to households; the gate cameras' entry and exit reads, where an
unknown plate is a visitor who pays by the hour after a free period, charged on exit."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device
from cityos.places.models import Region

from .estates import (
    aware,
    effective_tariff,
    estate_of,
    managed_estate,
    my_room,
    my_rooms,
    room_of_estate,
    today,
    zone,
)
from .models import ParkingEvent, ParkingLease, ParkingVisit, Tariff, Vehicle

SPACE = "parking_spot"
CAMERA = "camera"
REPEAT_WINDOW = timedelta(minutes=2)  # a second read of the same plate and direction is the same pass

# 省、自治区、直辖市简称 on Chinese plates.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTERS = "A-HJ-NP-Z"  # letters on plates: no I, no O
_ORDINARY = re.compile(rf"^[{PROVINCES}][{_LETTERS}][{_LETTERS}0-9]{{4}}[{_LETTERS}0-9挂学警港澳]$")
# 新能源: 8 characters; small cars D/F then a letter or digit and 4 digits, large ones 5 digits then D/F.
_NEW_ENERGY = re.compile(rf"^[{PROVINCES}][{_LETTERS}](?:[DF][{_LETTERS}0-9][0-9]{{4}}|[0-9]{{5}}[DF])$")

MSG_PLATE = N_("Not a Chinese number plate (like 川A12345, or 川AD12345 for a new-energy car).")
MSG_PLATE_TAKEN = N_("This plate is already registered in this estate.")
MSG_DIRECTION = N_("Say in or out.")
MSG_CAMERA = N_("Not a camera of this estate.")
MSG_NOT_CAMERA = N_("Only a gate camera of an estate may send plate reads.")
MSG_AT_FUTURE = N_("This time is in the future.")
MSG_AT_OLD = N_("This read is more than 30 days old.")
MSG_SPACE = N_("Choose a parking space of this estate.")
MSG_SPACE_TAKEN = N_("This space is already let to a household.")
MSG_LEASE_ENDED = N_("This lease has already ended.")
MSG_SINCE = N_("Give a start date within a year from today.")


def normalise_plate(value: str | None) -> str:
    return re.sub(r"[\s·.\-]", "", (value or "")).upper()


def check_plate(value: str | None, *, field: str = "plate") -> str:
    """The plate in its plain form (川A12345), or Invalid."""
    plate = normalise_plate(value)
    if not (_ORDINARY.match(plate) or _NEW_ENERGY.match(plate)):
        raise Invalid(details=[FieldError(field, MSG_PLATE)])
    return plate


def visitor_fee(minutes: int, tariff: Tariff) -> int:
    """Free within the free period; past it every started hour is charged from the entry, at most
    the daily cap per 24 hours."""
    if minutes <= tariff.visitor_free_minutes:
        return 0
    cap = tariff.visitor_daily_cap_fen or 24 * tariff.visitor_hourly_fen
    days, rest = divmod(minutes, 24 * 60)
    return days * cap + min(math.ceil(rest / 60) * tariff.visitor_hourly_fen, cap)


# --- vehicles and spaces ----------------------------------------------------------------------------------------


def register_vehicle(
    session: Session, actor: Actor, *, estate_id: int | None = None, room_id: int, plate: str
) -> Vehicle:
    """A plate for a household: by the household itself (``estate_id`` None, one of its rooms) or
    by the estate's manager."""
    if estate_id is None:
        actor.require("pass:request")
        errors: list[FieldError] = []
        room: Region | None = None
        try:
            room = my_room(session, actor, room_id)
        except Invalid as exc:
            errors.extend(exc.details)
        estate = estate_of(session, room.path) if room else None
        if room is not None and estate is None:
            errors.append(FieldError("room_id", N_("This room is not in an estate.")))
    else:
        estate = managed_estate(session, actor, estate_id)
        errors = []
        try:
            room = room_of_estate(session, estate, room_id)
        except Invalid as exc:
            errors.extend(exc.details)
            room = None
    try:
        clean = check_plate(plate)
    except Invalid as exc:
        errors.extend(exc.details)
    if errors:
        raise Invalid(details=errors)
    assert room is not None
    assert estate is not None
    if session.scalar(select(Vehicle.id).where(Vehicle.estate_id == estate.id, Vehicle.plate == clean)):
        raise Conflict(details=[FieldError("plate", MSG_PLATE_TAKEN)])
    vehicle = Vehicle(
        estate_id=estate.id,
        room_id=room.id,
        region_path=room.path,
        plate=clean,
        registered_by_account_id=actor.account_id,
    )
    session.add(vehicle)
    session.flush()
    return vehicle


def _visible_vehicle(session: Session, actor: Actor, vehicle_id: int) -> Vehicle:
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None:
        raise NotFound()
    if actor.can("pass:request") and vehicle.room_id in my_rooms(session, actor):
        return vehicle
    if actor.can("property:manage", region=vehicle.region_path):
        managed_estate(session, actor, vehicle.estate_id)
        return vehicle
    raise NotFound()


def remove_vehicle(session: Session, actor: Actor, *, vehicle_id: int) -> None:
    vehicle = _visible_vehicle(session, actor, vehicle_id)
    session.delete(vehicle)
    session.flush()


def vehicles(session: Session, actor: Actor, *, estate_id: int) -> list[Vehicle]:
    estate = managed_estate(session, actor, estate_id)
    return list(session.scalars(select(Vehicle).where(Vehicle.estate_id == estate.id).order_by(Vehicle.region_path)))


def my_vehicles(session: Session, actor: Actor) -> list[Vehicle]:
    actor.require("pass:request")
    rooms = my_rooms(session, actor)
    if not rooms:
        return []
    return list(session.scalars(select(Vehicle).where(Vehicle.room_id.in_(rooms)).order_by(Vehicle.id)))


def _space_of(session: Session, estate: Region, space_id: int) -> Device:
    space = session.get(Device, space_id)
    if space is None or space.kind != SPACE or not space.region_path.startswith(estate.path):
        raise Invalid(details=[FieldError("space_id", MSG_SPACE)])
    return space


def _active_lease(session: Session, space_id: int, day: date) -> ParkingLease | None:
    return session.scalar(
        select(ParkingLease).where(
            ParkingLease.space_id == space_id, or_(ParkingLease.until.is_(None), ParkingLease.until >= day)
        )
    )


def lease_space(
    session: Session, actor: Actor, *, estate_id: int, space_id: int, room_id: int, since: date | None = None
) -> ParkingLease:
    """Let (or record the owner of) a space to a household; billed monthly from ``since``."""
    estate = managed_estate(session, actor, estate_id)
    errors: list[FieldError] = []
    space = room = None
    try:
        space = _space_of(session, estate, space_id)
    except Invalid as exc:
        errors.extend(exc.details)
    try:
        room = room_of_estate(session, estate, room_id)
    except Invalid as exc:
        errors.extend(exc.details)
    day = since or today()
    if abs((day - today()).days) > 366:
        errors.append(FieldError("since", MSG_SINCE))
    if errors:
        raise Invalid(details=errors)
    assert space is not None
    assert room is not None
    if _active_lease(session, space.id, day) is not None:
        raise Conflict(details=[FieldError("space_id", MSG_SPACE_TAKEN)])
    lease = ParkingLease(estate_id=estate.id, space_id=space.id, room_id=room.id, since=day)
    session.add(lease)
    session.flush()
    return lease


def end_lease(session: Session, actor: Actor, *, lease_id: int, until: date | None = None) -> ParkingLease:
    lease = session.get(ParkingLease, lease_id)
    if lease is None:
        raise NotFound()
    estate = session.get(Region, lease.estate_id)
    if estate is None or not actor.covers(estate):
        raise NotFound()
    managed_estate(session, actor, estate.id)
    if lease.until is not None and lease.until < today():
        raise Conflict(MSG_LEASE_ENDED)
    lease.until = until or today()
    session.flush()
    return lease


# --- camera reads -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    """What the gate does with a plate read."""

    outcome: str  # entered | left | repeat
    visit: ParkingVisit | None
    duplicate: bool = False


def _occupy(session: Session, space: Device, plate: str | None, at: datetime) -> None:
    state = {"occupied": plate is not None, "plate": plate, "since": at.isoformat() if plate else None}
    devices.record_state(session, space, state=state, at=at)


def _free_space_for(session: Session, estate: Region, vehicle: Vehicle | None) -> Device | None:
    """The household's own free space, or for a visitor the first free visitor space."""
    spots = session.scalars(
        select(Device)
        .where(Device.kind == SPACE, subtree_clause(Device.region_path, estate.path))
        .order_by(Device.code)
    ).all()
    free = [s for s in spots if not (s.state or {}).get("occupied")]
    if vehicle is not None:
        leased = set(
            session.scalars(
                select(ParkingLease.space_id).where(
                    ParkingLease.room_id == vehicle.room_id,
                    ParkingLease.since <= today(),
                    or_(ParkingLease.until.is_(None), ParkingLease.until >= today()),
                )
            )
        )
        return next((s for s in free if s.id in leased), None)
    return next((s for s in free if (s.state or {}).get("visitor")), None)


def camera_read(
    session: Session, caller: Device, *, plate: str, direction: str, at: datetime, camera: str | None = None
) -> Pass:
    """A plate read by a gate camera of an estate (sent by the camera or its controller). The same
    read twice, or the same plate and direction again within two minutes, changes nothing."""
    errors: list[FieldError] = []
    try:
        clean = check_plate(plate)
    except Invalid as exc:
        errors.extend(exc.details)
    if direction not in ("in", "out"):
        errors.append(FieldError("direction", MSG_DIRECTION))
    now = utcnow()
    at = aware(at)
    if at > now + timedelta(minutes=5):
        errors.append(FieldError("at", MSG_AT_FUTURE))
    elif at < now - timedelta(days=30):
        errors.append(FieldError("at", MSG_AT_OLD))
    estate = estate_of(session, caller.region_path)
    if estate is None:
        raise Forbidden(MSG_NOT_CAMERA)
    cam = caller
    if camera and camera != caller.code:
        found = session.scalar(select(Device).where(Device.code == camera))
        if found is None or found.kind != CAMERA or not found.region_path.startswith(estate.path):
            errors.append(FieldError("camera", MSG_CAMERA))
        else:
            cam = found
    if cam.kind != CAMERA and not errors:
        raise Forbidden(MSG_NOT_CAMERA)
    if errors:
        raise Invalid(details=errors)
    same = session.scalar(
        select(ParkingEvent).where(
            ParkingEvent.camera_id == cam.id,
            ParkingEvent.plate == clean,
            ParkingEvent.direction == direction,
            ParkingEvent.at == at,
        )
    )
    if same is not None:
        visit = session.get(ParkingVisit, same.visit_id) if same.visit_id else None
        return Pass(same.outcome, visit, duplicate=True)
    event = ParkingEvent(estate_id=estate.id, camera_id=cam.id, plate=clean, direction=direction, at=at, outcome="")
    recent = session.scalar(
        select(ParkingEvent)
        .where(
            ParkingEvent.estate_id == estate.id,
            ParkingEvent.plate == clean,
            ParkingEvent.direction == direction,
            ParkingEvent.at > at - REPEAT_WINDOW,
            ParkingEvent.at <= at + REPEAT_WINDOW,
            ParkingEvent.outcome != "repeat",
        )
        .limit(1)
    )
    if recent is not None:
        event.outcome, event.visit_id = "repeat", recent.visit_id
        session.add(event)
        session.flush()
        visit = session.get(ParkingVisit, recent.visit_id) if recent.visit_id else None
        return Pass("repeat", visit, duplicate=True)
    open_visit = session.scalar(
        select(ParkingVisit)
        .where(ParkingVisit.estate_id == estate.id, ParkingVisit.plate == clean, ParkingVisit.status == "inside")
        .order_by(ParkingVisit.id.desc())
        .limit(1)
    )
    vehicle = session.scalar(select(Vehicle).where(Vehicle.estate_id == estate.id, Vehicle.plate == clean))
    if direction == "in":
        if open_visit is not None:  # its exit was never seen
            open_visit.status = "unclosed"
            _release(session, open_visit, at)
        space = _free_space_for(session, estate, vehicle)
        visit = ParkingVisit(
            estate_id=estate.id,
            estate_path=estate.path,
            plate=clean,
            vehicle_id=vehicle.id if vehicle else None,
            visitor=vehicle is None,
            space_id=space.id if space else None,
            entered_at=at,
            status="inside",
        )
        session.add(visit)
        session.flush()
        if space is not None:
            _occupy(session, space, clean, at)
        event.outcome = "entered"
    else:
        visit = open_visit or ParkingVisit(
            estate_id=estate.id,
            estate_path=estate.path,
            plate=clean,
            vehicle_id=vehicle.id if vehicle else None,
            visitor=vehicle is None,
            entered_at=None,  # its entry was never seen: no fee can be worked out
        )
        if open_visit is None:
            session.add(visit)
        visit.exited_at = at
        visit.status = "left"
        if visit.entered_at is not None:
            minutes = max(0, int((at - visit.entered_at).total_seconds() // 60))
            visit.fee_fen = visitor_fee(minutes, effective_tariff(session, estate)) if visit.visitor else 0
        session.flush()
        _release(session, visit, at)
        event.outcome = "left"
    event.visit_id = visit.id
    session.add(event)
    session.flush()
    return Pass(event.outcome, visit)


MSG_NOT_SPACE = N_("This device is not a parking space.")
MSG_OCCUPIED = N_("Say whether the space is occupied (true or false).")


def sensor_state(session: Session, space: Device, *, occupied: Any, at: datetime | None = None) -> Device:
    """A space's own occupancy sensor (地磁/超声波车位检测器, through the data hub) says whether a car
    stands on it. While it stays occupied the plate a gate camera put there is kept; a free space
    forgets it."""
    if space.kind != SPACE:
        raise Forbidden(MSG_NOT_SPACE)
    if not isinstance(occupied, bool):
        raise Invalid(details=[FieldError("occupied", MSG_OCCUPIED)])
    now = utcnow()
    at = aware(at) if at else now
    if at > now + timedelta(minutes=5):
        raise Invalid(details=[FieldError("at", MSG_AT_FUTURE)])
    state = space.state or {}
    if occupied:
        was = bool(state.get("occupied"))
        new = {
            "occupied": True,
            "plate": state.get("plate") if was else None,
            "since": state.get("since") if was else at.isoformat(),
        }
    else:
        new = {"occupied": False, "plate": None, "since": None}
    devices.record_state(session, space, state=new, at=at)
    return space


def _release(session: Session, visit: ParkingVisit, at: datetime) -> None:
    if visit.space_id is None:
        return
    space = session.get(Device, visit.space_id)
    if space is not None and (space.state or {}).get("plate") == visit.plate:
        _occupy(session, space, None, at)


# --- the console's view -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpaceView:
    space: Device
    lease: ParkingLease | None
    room_name: str | None


@dataclass(frozen=True)
class ParkingView:
    spaces: list[SpaceView]
    inside: list[ParkingVisit]
    recent: list[ParkingVisit]
    occupied: int
    fees_today_fen: int


def overview(session: Session, actor: Actor, *, estate_id: int, now: datetime | None = None) -> ParkingView:
    estate = managed_estate(session, actor, estate_id)
    now = now or utcnow()
    spots = session.scalars(
        select(Device)
        .where(Device.kind == SPACE, subtree_clause(Device.region_path, estate.path))
        .order_by(Device.code)
    ).all()
    day = today()
    leases = {
        lease.space_id: lease
        for lease in session.scalars(
            select(ParkingLease).where(
                ParkingLease.estate_id == estate.id, or_(ParkingLease.until.is_(None), ParkingLease.until >= day)
            )
        )
    }
    from cityos.people.residences import addresses

    rooms = {
        r.id: r for r in session.scalars(select(Region).where(Region.id.in_({x.room_id for x in leases.values()})))
    }
    names = addresses(session, list(rooms.values()), within=estate.path) if rooms else {}
    spaces = [
        SpaceView(s, leases.get(s.id), names.get(leases[s.id].room_id) if s.id in leases else None) for s in spots
    ]
    inside = session.scalars(
        select(ParkingVisit)
        .where(ParkingVisit.estate_id == estate.id, ParkingVisit.status == "inside")
        .order_by(ParkingVisit.entered_at.desc())
        .limit(100)
    ).all()
    recent = session.scalars(
        select(ParkingVisit)
        .where(ParkingVisit.estate_id == estate.id, ParkingVisit.status == "left")
        .order_by(ParkingVisit.exited_at.desc())
        .limit(30)
    ).all()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone())
    fees = session.scalar(
        select(func.coalesce(func.sum(ParkingVisit.fee_fen), 0)).where(
            ParkingVisit.estate_id == estate.id, ParkingVisit.exited_at >= start
        )
    )
    occupied = sum(1 for s in spots if (s.state or {}).get("occupied"))
    return ParkingView(spaces, list(inside), list(recent), occupied, int(fees or 0))


def occupancy(session: Session, *, region_path: str) -> tuple[int, int]:
    """(occupied, all) parking spaces within a subtree."""
    spots = session.scalars(
        select(Device.state).where(Device.kind == SPACE, subtree_clause(Device.region_path, region_path))
    )
    states = list(spots)
    return sum(1 for s in states if (s or {}).get("occupied")), len(states)
