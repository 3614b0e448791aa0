"""Parcel lockers (快递柜): Devices of kind locker with numbered compartments. A courier's deposit
gives the recipient a 6-digit pickup code (app and SMS); the code opens the compartment once; a
parcel still waiting after 24 hours is reminded, after 72 hours it goes back to the sender."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.runtime import blind_index, field_cipher
from cityos.identity.ratelimit import limiter
from cityos.people import pii
from cityos.people.models import Person
from cityos.places.devices.models import Device

from .estates import estate_of, managed_estate, my_rooms, room_of_estate
from .events import ParcelDeposited, ParcelOverdue
from .models import Parcel, ParcelStatus

LOCKER = "locker"
REMIND_AFTER = timedelta(hours=24)
RETURN_AFTER = timedelta(hours=72)
CODE_CONTEXT = "parcel.code"
PHONE_CONTEXT = "parcel.phone"
_CODE_PURPOSE = "parcel-code"
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_CODE = re.compile(r"^\d{6}$")
WRONG_CODES_PER_WINDOW = 10
WRONG_CODE_WINDOW_S = 300

MSG_NOT_LOCKER = N_("This device is not a parcel locker.")
MSG_COMPARTMENT = N_("Choose a compartment from 1 to {n}.")
MSG_COMPARTMENT_TAKEN = N_("A parcel already waits in this compartment.")
MSG_RECIPIENT = N_("Give the recipient's mobile number or room.")
MSG_PHONE = N_("Give an 11-digit mobile number.")
MSG_CODE = N_("Give the 6-digit pickup code.")
MSG_NO_PARCEL = N_("No parcel waits in this locker under this code.")
MSG_TEXT = N_("At most 64 characters.")


def _code_digest(locker_id: int, code: str) -> str:
    return blind_index().digest(f"{locker_id}:{code}", purpose=_CODE_PURPOSE)


def compartments_of(locker: Device) -> int:
    value = (locker.state or {}).get("compartments")
    return value if isinstance(value, int) and value > 0 else 0


def _locker(device: Device) -> Device:
    if device.kind != LOCKER:
        raise Forbidden(MSG_NOT_LOCKER)
    return device


def deposit(
    session: Session,
    locker: Device,
    *,
    compartment: Any,
    recipient_phone: str | None = None,
    room_id: int | None = None,
    courier: str | None = None,
    tracking_no: str | None = None,
    now: datetime | None = None,
) -> Parcel:
    """A courier put a parcel in a compartment (the locker calls in with its key)."""
    _locker(locker)
    now = now or utcnow()
    estate = estate_of(session, locker.region_path)
    if estate is None:
        raise Forbidden(MSG_NOT_LOCKER)
    errors: list[FieldError] = []
    size = compartments_of(locker)
    if isinstance(compartment, bool) or not isinstance(compartment, int) or not 1 <= compartment <= size:
        errors.append(FieldError("compartment", MSG_COMPARTMENT, {"n": size}))
    phone = (recipient_phone or "").strip() or None
    if phone is None and room_id is None:
        errors.append(FieldError("recipient_phone", MSG_RECIPIENT))
    if phone is not None and not _PHONE.match(phone):
        errors.append(FieldError("recipient_phone", MSG_PHONE))
    room = None
    if room_id is not None:
        try:
            room = room_of_estate(session, estate, room_id)
        except Invalid as exc:
            errors.extend(exc.details)
    for name, value in (("courier", courier), ("tracking_no", tracking_no)):
        if value is not None and len(value) > 64:
            errors.append(FieldError(name, MSG_TEXT))
    if errors:
        raise Invalid(details=errors)
    busy = session.scalar(
        select(Parcel.id).where(
            Parcel.locker_id == locker.id, Parcel.compartment == compartment, Parcel.status == ParcelStatus.WAITING
        )
    )
    if busy is not None:
        raise Conflict(details=[FieldError("compartment", MSG_COMPARTMENT_TAKEN)])
    person_id = None
    if phone is not None:
        person_id = session.scalar(select(Person.id).where(Person.phone_hash == pii.phone_digest(phone)).limit(1))
    while True:  # a code no other waiting parcel of this locker has
        code = f"{secrets.randbelow(10**6):06d}"
        digest = _code_digest(locker.id, code)
        taken = session.scalar(
            select(Parcel.id).where(
                Parcel.locker_id == locker.id, Parcel.code_hash == digest, Parcel.status == ParcelStatus.WAITING
            )
        )
        if taken is None:
            break
    cipher = field_cipher()
    parcel = Parcel(
        estate_id=estate.id,
        estate_path=estate.path,
        locker_id=locker.id,
        compartment=compartment,
        room_id=room.id if room else None,
        recipient_person_id=person_id,
        phone_enc=cipher.encrypt(phone, context=PHONE_CONTEXT) if phone else None,
        phone_masked=pii.mask_phone(phone) if phone else None,
        code_enc=cipher.encrypt(code, context=CODE_CONTEXT),
        code_hash=digest,
        courier=(courier or "").strip() or None,
        tracking_no=(tracking_no or "").strip() or None,
        status=ParcelStatus.WAITING,
        deposited_at=now,
    )
    session.add(parcel)
    session.flush()
    bus.publish(session, ParcelDeposited(parcel_id=parcel.id), key=f"parcel-deposited:{parcel.id}")
    return parcel


def code_of(parcel: Parcel) -> str:
    """The pickup code, for its recipient only (the resident's page and their notification)."""
    return field_cipher().decrypt(parcel.code_enc, context=CODE_CONTEXT)


def phone_of(parcel: Parcel) -> str | None:
    return field_cipher().decrypt(parcel.phone_enc, context=PHONE_CONTEXT) if parcel.phone_enc else None


def pickup(session: Session, locker: Device, *, code: Any, now: datetime | None = None) -> Parcel:
    """The recipient typed the code at the locker: its compartment opens, once. Wrong codes are
    limited per locker, so guessing the code is hopeless."""
    _locker(locker)
    if not isinstance(code, str) or not _CODE.match(code):
        raise Invalid(details=[FieldError("code", MSG_CODE)])
    parcel = session.scalar(
        select(Parcel).where(
            Parcel.locker_id == locker.id,
            Parcel.code_hash == _code_digest(locker.id, code),
            Parcel.status == ParcelStatus.WAITING,
        )
    )
    if parcel is None:
        limiter.hit(f"locker-code:{locker.id}", limit=WRONG_CODES_PER_WINDOW, seconds=WRONG_CODE_WINDOW_S)
        raise NotFound(MSG_NO_PARCEL)
    parcel.status = ParcelStatus.PICKED_UP
    parcel.picked_up_at = now or utcnow()
    session.flush()
    return parcel


def _mine(session: Session, actor: Actor) -> Any:
    rooms = my_rooms(session, actor)
    conditions = []
    if actor.person_id is not None:
        conditions.append(Parcel.recipient_person_id == actor.person_id)
    if rooms:
        conditions.append(Parcel.room_id.in_(rooms))
    return or_(*conditions) if conditions else None


def my_parcels(session: Session, actor: Actor) -> list[Parcel]:
    """Parcels waiting for the actor or their household, the oldest first."""
    actor.require("self:read")
    mine = _mine(session, actor)
    if mine is None:
        return []
    return list(
        session.scalars(select(Parcel).where(mine, Parcel.status == ParcelStatus.WAITING).order_by(Parcel.deposited_at))
    )


def my_recent_parcels(session: Session, actor: Actor, *, limit: int = 10) -> list[Parcel]:
    actor.require("self:read")
    mine = _mine(session, actor)
    if mine is None:
        return []
    return list(
        session.scalars(
            select(Parcel)
            .where(mine, Parcel.status != ParcelStatus.WAITING)
            .order_by(Parcel.deposited_at.desc())
            .limit(limit)
        )
    )


def parcels(
    session: Session, actor: Actor, *, estate_id: int, status: str | None = None, limit: int = 200
) -> list[Parcel]:
    """The estate's parcels for the console (recipients' phones masked)."""
    estate = managed_estate(session, actor, estate_id)
    query = select(Parcel).where(Parcel.estate_id == estate.id)
    if status:
        query = query.where(Parcel.status == status)
    return list(session.scalars(query.order_by(Parcel.deposited_at.desc()).limit(limit)))


def chase(session: Session, *, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Periodic: remind parcels waiting 24 hours, return those waiting 72 hours; (reminded, returned)."""
    now = now or utcnow()
    returned = session.scalars(
        select(Parcel)
        .where(Parcel.status == ParcelStatus.WAITING, Parcel.deposited_at <= now - RETURN_AFTER)
        .limit(limit)
    ).all()
    for parcel in returned:
        parcel.status = ParcelStatus.RETURNED
        parcel.returned_at = now
        bus.publish(session, ParcelOverdue(parcel_id=parcel.id, stage="returned"), key=f"parcel-returned:{parcel.id}")
    reminded = session.scalars(
        select(Parcel)
        .where(
            Parcel.status == ParcelStatus.WAITING,
            Parcel.deposited_at <= now - REMIND_AFTER,
            Parcel.reminded_at.is_(None),
        )
        .limit(limit)
    ).all()
    for parcel in reminded:
        parcel.reminded_at = now
        bus.publish(session, ParcelOverdue(parcel_id=parcel.id, stage="remind"), key=f"parcel-remind:{parcel.id}")
    session.flush()
    return len(reminded), len(returned)


def waiting_counts(session: Session, *, region_path: str, now: datetime | None = None) -> tuple[int, int]:
    """(waiting, waiting over 24 hours) parcels within a subtree."""
    now = now or utcnow()
    base = (
        select(func.count())
        .select_from(Parcel)
        .where(
            subtree_clause(Parcel.estate_path, region_path),
            Parcel.status == ParcelStatus.WAITING,
        )
    )
    waiting = int(session.scalar(base) or 0)
    overdue = int(session.scalar(base.where(Parcel.deposited_at <= now - REMIND_AFTER)) or 0)
    return waiting, overdue
