"""Goods-out slips (出门条): a resident registers goods leaving the estate (what, and when); the
guard at the gate checks the slip's code — with a gate device or on a phone signed in for the
property office — and lets the goods out once; the property office sees every slip. Plain
functions; they flush, never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.access import residents
from cityos.community.access import rules as rules_
from cityos.community.access.models import AccessEvent, GoodsSlip, SlipStatus
from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.people import residences
from cityos.places.devices.models import Device
from cityos.places.models import Region

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
MAX_WINDOW = timedelta(days=7)
PAST_SLACK = timedelta(minutes=10)

MSG_DESCRIPTION = N_("Describe the goods in 1 to 200 characters.")
MSG_FROM_PAST = N_("The window cannot start in the past.")
MSG_UNTIL_ORDER = N_("The window must end after it starts.")
MSG_WINDOW = N_("A slip may cover at most 7 days.")
MSG_NOT_ACTIVE = N_("This slip can no longer be used.")

STATUS_LABELS = {
    SlipStatus.ACTIVE: N_("Valid"),
    SlipStatus.USED: N_("Gone out"),
    SlipStatus.CANCELLED: N_("Cancelled"),
    SlipStatus.EXPIRED: N_("Expired"),
}


def state_of(slip: GoodsSlip, now: datetime | None = None) -> str:
    if slip.status == SlipStatus.ACTIVE and slip.valid_until <= (now or utcnow()):
        return SlipStatus.EXPIRED
    return slip.status


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(GoodsSlip.id).where(GoodsSlip.code == code)) is None:
            return code


def register(
    session: Session,
    actor: Actor,
    *,
    room_id: int | None,
    description: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    now: datetime | None = None,
) -> GoodsSlip:
    """A slip for goods leaving from one of the resident's rooms within a time window."""
    at = now or utcnow()
    errors: list[FieldError] = []
    found = None
    try:
        found = residents.resident_room(session, actor, room_id, at=at)
    except Invalid as exc:
        errors.extend(exc.details)
    text = (description or "").strip()
    if not (1 <= len(text) <= 200):
        errors.append(FieldError("description", MSG_DESCRIPTION))
    start = residents.as_utc(valid_from) if valid_from else at
    end = residents.as_utc(valid_until) if valid_until else start + timedelta(days=1)
    if start < at - PAST_SLACK:
        errors.append(FieldError("valid_from", MSG_FROM_PAST))
    if end <= start:
        errors.append(FieldError("valid_until", MSG_UNTIL_ORDER))
    elif end - start > MAX_WINDOW:
        errors.append(FieldError("valid_until", MSG_WINDOW))
    if errors or found is None:
        raise Invalid(details=errors)
    _residence, room, estate = found
    assert actor.person_id is not None
    slip = GoodsSlip(
        estate_id=estate.id,
        estate_path=estate.path,
        room_id=room.id,
        label=residences.address(session, room, within=estate.path)[:255],
        person_id=actor.person_id,
        description=text,
        code=_new_code(session),
        status=SlipStatus.ACTIVE,
        valid_from=start,
        valid_until=end,
    )
    session.add(slip)
    session.flush()
    return slip


def my_slips(session: Session, actor: Actor, *, limit: int = 50) -> list[GoodsSlip]:
    if actor.person_id is None:
        return []
    return list(
        session.scalars(
            select(GoodsSlip).where(GoodsSlip.person_id == actor.person_id).order_by(GoodsSlip.id.desc()).limit(limit)
        )
    )


def cancel(session: Session, actor: Actor, *, slip_id: int, now: datetime | None = None) -> GoodsSlip:
    slip = session.get(GoodsSlip, slip_id)
    if slip is None or actor.person_id is None or slip.person_id != actor.person_id:
        raise NotFound()
    if state_of(slip, now) != SlipStatus.ACTIVE:
        raise Conflict(details=[FieldError("status", MSG_NOT_ACTIVE)])
    slip.status = SlipStatus.CANCELLED
    session.flush()
    return slip


def list_slips(
    session: Session, actor: Actor, *, estate_id: int, params: PageParams, status: str | None = None
) -> tuple[list[GoodsSlip], int | None]:
    """An estate's slips for the property office (access:read), newest first."""
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("access:read", region=estate)
    at = utcnow()
    query = select(GoodsSlip).where(GoodsSlip.estate_id == estate.id, actor.scope_clause(GoodsSlip.estate_path))
    if status == SlipStatus.ACTIVE:
        query = query.where(GoodsSlip.status == SlipStatus.ACTIVE, GoodsSlip.valid_until > at)
    elif status == SlipStatus.EXPIRED:
        query = query.where(
            (GoodsSlip.status == SlipStatus.EXPIRED)
            | ((GoodsSlip.status == SlipStatus.ACTIVE) & (GoodsSlip.valid_until <= at))
        )
    elif status:
        query = query.where(GoodsSlip.status == status)
    return fetch_page(session, query.order_by(GoodsSlip.id.desc()), params)


def find(session: Session, estate: Region, code: str) -> GoodsSlip | None:
    key = (code or "").strip().upper()
    if not key or len(key) > 16:
        return None
    slip = session.scalar(select(GoodsSlip).where(GoodsSlip.code == key))
    return slip if slip is not None and slip.estate_id == estate.id else None


def slip_for_guard(session: Session, actor: Actor, code: str) -> GoodsSlip | None:
    """A slip the guard (access:read over its estate) may look at, by its code."""
    key = (code or "").strip().upper()
    if not key or len(key) > 16:
        return None
    slip = session.scalar(select(GoodsSlip).where(GoodsSlip.code == key))
    if slip is None or not actor.covers(slip.estate_path) or not actor.can("access:read", region=slip.estate_path):
        return None
    return slip


@dataclass(frozen=True)
class Checked:
    allowed: bool
    reason: str
    slip: GoodsSlip | None


def let_out(
    session: Session,
    estate: Region,
    *,
    code: str,
    gate: Device | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Checked:
    """Check a slip at the gate and, when it is good, let the goods out (once). A guard signed
    in needs pass:manage over the estate; a gate device is trusted by its key. The check is
    recorded in the access log either way."""
    at = now or utcnow()
    if actor is not None:
        actor.require("pass:manage", region=estate)
    slip = find(session, estate, code)
    if slip is None:
        reason = "slip_not_found"
    else:
        state = state_of(slip, at)
        refusals: dict[str, str] = {
            SlipStatus.USED: "slip_used",
            SlipStatus.CANCELLED: "slip_cancelled",
            SlipStatus.EXPIRED: "slip_expired",
        }
        reason = refusals.get(state, "slip_ok")
        if reason == "slip_ok" and slip.valid_from > at:
            reason = "slip_not_yet"
    allowed = reason == "slip_ok"
    if allowed and slip is not None:
        slip.status = SlipStatus.USED
        slip.used_at = at
        slip.used_gate_id = gate.id if gate is not None else None
        slip.checked_by = actor.account_id if actor is not None else None
    session.add(
        AccessEvent(
            estate_id=estate.id,
            estate_path=estate.path,
            gate_id=gate.id if gate is not None else None,
            slip_id=slip.id if slip is not None else None,
            person_id=slip.person_id if slip is not None else None,
            room_id=slip.room_id if slip is not None else None,
            kind="goods",
            direction="out",
            result="allowed" if allowed else "refused",
            reason=reason,
            at=at,
            received_at=at,
        )
    )
    session.flush()
    if actor is not None and slip is not None:
        audit.record(
            session, actor, "access.goods_checked", subject_type="goods_slip", subject_id=slip.id, detail=reason
        )
    return Checked(allowed, reason, slip)
