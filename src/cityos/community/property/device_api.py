"""Device routes of community.property, under /device-api/v1: the estate's gate cameras, parcel
lockers, bins, meters and facility equipment call in with their device key (header
``X-Device-Key``, made when the property office installed them). They live outside /api/v1:
the caller is a device, not a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from sqlalchemy import select

from cityos.core.errors import NotFound, Unauthorized
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device
from cityos.places.models import Region

from . import billing, facilities, garbage, lockers, parking
from .models import HouseholdPoints
from .schemas import (
    BinReadingIn,
    BinReadingOut,
    CameraReadIn,
    CameraReadOut,
    DepositIn,
    DepositOut,
    FacilityStateIn,
    FacilityStateOut,
    PickupIn,
    PickupOut,
    ReadingIn,
    ReadingRead,
    SortingIn,
    SortingOut,
)

MSG_KEY = N_("This device key is not known.")

router = APIRouter(prefix="/device-api/v1", tags=["devices"])


def calling_device(session: DbSession, x_device_key: Annotated[str | None, Header(max_length=128)] = None) -> Device:
    """The device whose key came with the request (401 without a known key)."""
    try:
        device = devices.by_key(session, x_device_key)
    except NotFound:
        raise Unauthorized(MSG_KEY) from None
    devices.record_state(session, device)  # seen now
    return device


Caller = Annotated[Device, Depends(calling_device)]


@router.post("/parking/events", response_model=CameraReadOut)
def parking_event(body: CameraReadIn, session: DbSession, device: Caller) -> CameraReadOut:
    """A gate camera read a plate going in or out; the same read twice is recorded once."""
    done = parking.camera_read(
        session, device, plate=body.plate, direction=body.direction, at=body.at, camera=body.camera
    )
    visit = done.visit
    return CameraReadOut(
        outcome=done.outcome,
        duplicate=done.duplicate,
        visit_id=visit.id if visit else None,
        visitor=visit.visitor if visit else None,
        fee_fen=visit.fee_fen if visit else None,
    )


@router.post("/lockers/deposits", response_model=DepositOut, status_code=201)
def locker_deposit(body: DepositIn, session: DbSession, device: Caller) -> DepositOut:
    """A courier's delivery: the recipient gets the pickup code by app and SMS."""
    parcel = lockers.deposit(
        session,
        device,
        compartment=body.compartment,
        recipient_phone=body.recipient_phone,
        room_id=body.room_id,
        courier=body.courier,
        tracking_no=body.tracking_no,
    )
    room = session.get(Region, parcel.room_id) if parcel.room_id else None
    return DepositOut(
        parcel_id=parcel.id,
        compartment=parcel.compartment,
        recipient=parcel.phone_masked or (room.name if room else ""),
    )


@router.post("/lockers/pickups", response_model=PickupOut)
def locker_pickup(body: PickupIn, session: DbSession, device: Caller) -> PickupOut:
    """The recipient typed a pickup code: the answer says which compartment to open."""
    parcel = lockers.pickup(session, device, code=body.code)
    return PickupOut(parcel_id=parcel.id, compartment=parcel.compartment)


@router.post("/bins/readings", response_model=BinReadingOut)
def bin_reading(body: BinReadingIn, session: DbSession, device: Caller) -> BinReadingOut:
    """A bin's fill level (0 … 1); over 0.9 raises an alarm that opens a case."""
    bin_ = garbage.bin_reading(session, device, fill_level=body.fill_level, at=body.at)
    state = bin_.state or {}
    return BinReadingOut(
        status=bin_.status,
        fill_level=float(state.get("fill_level") or 0),
        overflowing=bool(state.get("overflow_since")),
    )


@router.post("/bins/sorting", response_model=SortingOut)
def sorting_check(body: SortingIn, session: DbSession, device: Caller) -> SortingOut:
    """The bin's camera judged a household's drop correct or not (``ref``: the camera's event id)."""
    event, created = garbage.camera_check(
        session, device, room_id=body.room_id, correct=body.correct, at=body.at, ref=body.ref
    )
    points = session.scalar(select(HouseholdPoints.points).where(HouseholdPoints.room_id == event.room_id))
    return SortingOut(event_id=event.id, duplicate=not created, points=int(points or 0))


@router.post("/meters/readings", response_model=ReadingRead, status_code=201)
def meter_reading(body: ReadingIn, session: DbSession, device: Caller) -> ReadingRead:
    """A water or electricity meter's reading."""
    reading = billing.record_reading(session, device, value=body.value, at=body.at)
    return ReadingRead(device_id=reading.device_id, at=reading.at, value=billing.from_milli(reading.value_milli))


@router.post("/facilities/states", response_model=FacilityStateOut)
def facility_state(body: FacilityStateIn, session: DbSession, device: Caller) -> FacilityStateOut:
    """An elevator, pump, fire panel or light reports its state; a fault opens a repair case."""
    device, fault = facilities.report_state(
        session, device, status=body.status, state=body.state, detail=body.detail, at=body.at
    )
    return FacilityStateOut(
        status=device.status,
        fault_id=fault.id if fault and fault.cleared_at is None else None,
        case_id=fault.case_id if fault and fault.cleared_at is None else None,
    )
