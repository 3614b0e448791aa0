"""Visitor passes (访客码): a resident invites a visitor for a time box and a number of entries;
the visitor opens a secret link that shows a rotating QR like a resident's, without an account.
The visitor's name and phone are stored encrypted and shown masked. Plain functions; they flush,
never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.access import residents, service
from cityos.community.access import rules as rules_
from cityos.community.access.models import EntryPass, PassKind, PassStatus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.runtime import blind_index, field_cipher
from cityos.people import pii, residences, validation
from cityos.people.pii import mask_name

NAME_CONTEXT = "entry_pass.visitor_name"
PHONE_CONTEXT = "entry_pass.visitor_phone"
LINK_CONTEXT = "entry_pass.link"
LINK_PURPOSE = "visitor-link"
PAST_SLACK = timedelta(minutes=10)
MAX_AHEAD = timedelta(days=30)

MSG_NAME = N_("Give the visitor's name (1 to 32 characters).")
MSG_FROM_PAST = N_("The visit cannot start in the past.")
MSG_FROM_AHEAD = N_("Invite at most 30 days ahead.")
MSG_UNTIL_ORDER = N_("The visit must end after it starts.")
MSG_TOO_LONG = N_("A visit may last at most {hours} hours in this estate.")
MSG_ENTRIES = N_("Give a number of entries from 1 to {max}.")


@dataclass(frozen=True)
class Invitation:
    entry_pass: EntryPass
    code: str  # the secret of the visitor's link


def invite(
    session: Session,
    actor: Actor,
    *,
    room_id: int | None,
    name: str,
    phone: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    max_entries: int | None,
    now: datetime | None = None,
) -> Invitation:
    """A visitor pass for one of the resident's rooms, within the estate's visitor rules."""
    at = now or utcnow()
    errors: list[FieldError] = []
    found = None
    try:
        found = residents.resident_room(session, actor, room_id, at=at)
    except Invalid as exc:
        errors.extend(exc.details)
    text = (name or "").strip()
    if not (1 <= len(text) <= 32):
        errors.append(FieldError("name", MSG_NAME))
    number = validation.normalise_phone(phone or "")
    problem = validation.phone_error(number)
    if problem:
        errors.append(FieldError("phone", problem))
    rules = rules_.for_estate(session, found[2]) if found else None
    start = residents.as_utc(valid_from) if valid_from else at
    end = residents.as_utc(valid_until) if valid_until else None
    if start < at - PAST_SLACK:
        errors.append(FieldError("valid_from", MSG_FROM_PAST))
    elif start > at + MAX_AHEAD:
        errors.append(FieldError("valid_from", MSG_FROM_AHEAD))
    if end is None:
        end = start + timedelta(hours=rules.visitor_max_hours if rules else 24)
    if end <= start:
        errors.append(FieldError("valid_until", MSG_UNTIL_ORDER))
    elif rules is not None and end - start > timedelta(hours=rules.visitor_max_hours):
        errors.append(FieldError("valid_until", MSG_TOO_LONG, {"hours": rules.visitor_max_hours}))
    most = rules.visitor_max_entries if rules else 1
    entries = most if max_entries is None else max_entries
    if type(entries) is not int or not (1 <= entries <= most):
        errors.append(FieldError("max_entries", MSG_ENTRIES, {"max": most}))
    if errors or found is None:
        raise Invalid(details=errors)
    _residence, room, estate = found
    stop = service.blocked(session, room.id)
    if stop is not None:
        raise Conflict(details=[FieldError("room_id", service.MSG_BLOCKED, {"reason": stop.reason})])
    code = secrets.token_urlsafe(18)
    cipher = field_cipher()
    entry_pass = EntryPass(
        estate_id=estate.id,
        estate_path=estate.path,
        room_id=room.id,
        room_code=room.code,
        label=residences.address(session, room, within=estate.path)[:255],
        kind=PassKind.VISITOR,
        relation="visitor",
        holder_person_id=None,
        host_person_id=actor.person_id,
        visitor_name_enc=cipher.encrypt(text, context=NAME_CONTEXT),
        visitor_phone_enc=cipher.encrypt(number, context=PHONE_CONTEXT),
        link_hash=blind_index().digest(code, purpose=LINK_PURPOSE),
        link_enc=cipher.encrypt(code, context=LINK_CONTEXT),
        status=PassStatus.ACTIVE,
        valid_from=start,
        valid_until=end,
        entries_max=entries,
        entries_left=entries,
    )
    session.add(entry_pass)
    session.flush()
    return Invitation(entry_pass, code)


def my_invitations(session: Session, actor: Actor, *, limit: int = 50) -> list[EntryPass]:
    """The resident's visitor passes, newest first."""
    if actor.person_id is None:
        return []
    return list(
        session.scalars(
            select(EntryPass)
            .where(EntryPass.host_person_id == actor.person_id, EntryPass.kind == PassKind.VISITOR)
            .order_by(EntryPass.id.desc())
            .limit(limit)
        )
    )


def own_invitation(session: Session, actor: Actor, pass_id: int) -> EntryPass:
    entry_pass = session.get(EntryPass, pass_id)
    if (
        entry_pass is None
        or entry_pass.kind != PassKind.VISITOR
        or actor.person_id is None
        or entry_pass.host_person_id != actor.person_id
    ):
        raise NotFound()
    return entry_pass


def cancel(session: Session, actor: Actor, *, pass_id: int, now: datetime | None = None) -> EntryPass:
    """The inviting resident calls the visit off; the gates refuse the pass from now on."""
    entry_pass = own_invitation(session, actor, pass_id)
    service.stop_pass(entry_pass, PassStatus.CANCELLED, None, now or utcnow())
    session.flush()
    return entry_pass


def by_link(session: Session, code: str) -> EntryPass:
    """The visitor pass a link opens (NotFound for an unknown code)."""
    if not code or len(code) > 64:
        raise NotFound()
    entry_pass = session.scalar(
        select(EntryPass).where(EntryPass.link_hash == blind_index().digest(code, purpose=LINK_PURPOSE))
    )
    if entry_pass is None or entry_pass.link_enc is None or link_of(entry_pass) != code:
        raise NotFound()
    return entry_pass


def link_of(entry_pass: EntryPass) -> str:
    """The secret of the visitor's link (for the inviting resident to send again)."""
    if entry_pass.link_enc is None:
        return ""
    return field_cipher().decrypt(entry_pass.link_enc, context=LINK_CONTEXT)


def visitor_name(entry_pass: EntryPass, *, masked: bool) -> str:
    if entry_pass.visitor_name_enc is None:
        return ""
    name = field_cipher().decrypt(entry_pass.visitor_name_enc, context=NAME_CONTEXT)
    return mask_name(name) if masked else name


def visitor_phone(entry_pass: EntryPass, *, masked: bool = True) -> str:
    if entry_pass.visitor_phone_enc is None:
        return ""
    phone = field_cipher().decrypt(entry_pass.visitor_phone_enc, context=PHONE_CONTEXT)
    return pii.mask_phone(phone) if masked else phone
