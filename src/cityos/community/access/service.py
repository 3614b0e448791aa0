"""Logic of community.access (电子出入码): residents' passes from their residence records, the
rotating signed token, revocation and blocked rooms, and the figures for the dashboard. Visitor
passes and goods-out slips are in ``visitors``, gates and the access log in ``gates``, the rules
in ``rules``, the offline check in ``offline``. Plain functions; they flush, never commit."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from cityos.community.access import offline
from cityos.community.access import rules as rules_
from cityos.community.access.models import (
    AccessEvent,
    BlockedRoom,
    EntryPass,
    GoodsSlip,
    PassKind,
    PassStatus,
    SlipStatus,
)
from cityos.community.access.residents import (
    MSG_NO_RESIDENCE,
    MSG_NOT_YOUR_ROOM,
    RoomChoice,
    day_start,
    local_date,
    rooms_of,
)
from cityos.core import audit, signing
from cityos.core.actor import Actor, subtree_clause
from cityos.core.crypto import SigningKeyPair
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.models import SigningKey
from cityos.core.pagination import PageParams, fetch_page
from cityos.core.settings import get_settings
from cityos.people import residences
from cityos.people.models import Person
from cityos.places.devices import service as devices
from cityos.places.models import Region

SKEW_STEPS = 1

MSG_BLOCKED = N_("Passes for this room are suspended: {reason}")
MSG_PERSON_LIMIT = N_("You already hold {limit} entry passes in this estate, the most the estate allows.")
MSG_HOUSEHOLD_LIMIT = N_("This household already holds {limit} entry passes, the most the estate allows.")
MSG_NOT_ACTIVE = N_("This pass is not valid now.")
MSG_REASON = N_("Give a reason of 1 to 200 characters.")
MSG_ROOM = N_("Choose a room of this estate.")
MSG_ALREADY_BLOCKED = N_("This room is already blocked.")
MSG_NOT_BLOCKED = N_("This room is not blocked.")
MSG_MOVED_OUT = N_("Moved out of the room")
MSG_SINCE = N_("Give a date and time like 2026-12-01T08:00:00Z.")

STATUS_LABELS = {
    PassStatus.ACTIVE: N_("Valid"),
    PassStatus.EXPIRED: N_("Expired"),
    PassStatus.REVOKED: N_("Pass revoked"),
    PassStatus.CANCELLED: N_("Cancelled"),
    PassStatus.USED_UP: N_("No entries left"),
}
KIND_LABELS = {PassKind.RESIDENT: N_("Resident"), PassKind.VISITOR: N_("Visitor")}


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def state_of(entry_pass: EntryPass, now: datetime | None = None) -> str:
    """active | expired | revoked | cancelled | used_up at ``now`` (or not yet valid: active)."""
    if entry_pass.status != PassStatus.ACTIVE:
        return entry_pass.status
    if entry_pass.valid_until <= _now(now):
        return PassStatus.EXPIRED
    return PassStatus.ACTIVE


def usable(entry_pass: EntryPass, now: datetime | None = None) -> bool:
    at = _now(now)
    return state_of(entry_pass, at) == PassStatus.ACTIVE and entry_pass.valid_from <= at


# --- residences and the join page ----------------------------------------------------------------


def join_choices(session: Session, actor: Actor, *, estate_id: int, now: datetime | None = None) -> list[RoomChoice]:
    """What the join page pre-fills: the signed-in resident's rooms in the estate."""
    actor.require("pass:request")
    estate = rules_.estate_by_id(session, estate_id)
    if actor.person_id is None:
        return []
    at = _now(now)
    found = rooms_of(session, actor.person_id, estate, today=local_date(at))
    labels = residences.addresses(session, [room for _, room in found], within=estate.path)
    current = {p.room_id: p for p in _person_passes(session, actor.person_id, estate.id, at)}
    return [
        RoomChoice(room, labels.get(room.id, room.name), residence.relation, residence.until, current.get(room.id))
        for residence, room in found
    ]


def _person_passes(session: Session, person_id: int, estate_id: int, at: datetime) -> list[EntryPass]:
    return list(
        session.scalars(
            select(EntryPass).where(
                EntryPass.holder_person_id == person_id,
                EntryPass.estate_id == estate_id,
                EntryPass.kind == PassKind.RESIDENT,
                EntryPass.status == PassStatus.ACTIVE,
                EntryPass.valid_until > at,
            )
        )
    )


def blocked(session: Session, room_id: int) -> BlockedRoom | None:
    return session.scalar(select(BlockedRoom).where(BlockedRoom.room_id == room_id))


def issue_pass(
    session: Session, actor: Actor, *, estate_id: int, room_id: int | None = None, now: datetime | None = None
) -> EntryPass:
    """The one tap of the join page: a pass for one of the resident's current rooms in the estate
    (the only one when ``room_id`` is not given). A second tap returns the pass already held."""
    actor.require("pass:request")
    estate = rules_.estate_by_id(session, estate_id)
    at = _now(now)
    found = rooms_of(session, actor.person_id, estate, today=local_date(at)) if actor.person_id else []
    if not found:
        raise Invalid(MSG_NO_RESIDENCE, details=[FieldError("room_id", MSG_NO_RESIDENCE)])
    if room_id is None and len(found) == 1:
        room_id = found[0][1].id
    chosen = [(r, room) for r, room in found if room.id == room_id]
    if not chosen:
        raise Invalid(details=[FieldError("room_id", MSG_NOT_YOUR_ROOM)])
    residence, room = chosen[0]
    assert actor.person_id is not None
    stop = blocked(session, room.id)
    if stop is not None:
        raise Conflict(details=[FieldError("room_id", MSG_BLOCKED, {"reason": stop.reason})])
    held = _person_passes(session, actor.person_id, estate.id, at)
    for existing in held:
        if existing.room_id == room.id:
            return existing
    rules = rules_.for_estate(session, estate)
    if len(held) >= rules.max_passes_per_person:
        raise Conflict(details=[FieldError("room_id", MSG_PERSON_LIMIT, {"limit": rules.max_passes_per_person})])
    household = session.scalar(
        select(func.count())
        .select_from(EntryPass)
        .where(
            EntryPass.room_id == room.id,
            EntryPass.kind == PassKind.RESIDENT,
            EntryPass.status == PassStatus.ACTIVE,
            EntryPass.valid_until > at,
        )
    )
    if int(household or 0) >= rules.max_passes_per_household:
        raise Conflict(details=[FieldError("room_id", MSG_HOUSEHOLD_LIMIT, {"limit": rules.max_passes_per_household})])
    until = at + timedelta(days=rules.validity_days)
    if residence.until is not None:
        zone = ZoneInfo(get_settings().timezone)
        end = datetime.combine(residence.until + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        until = min(until, end)
    entry_pass = EntryPass(
        estate_id=estate.id,
        estate_path=estate.path,
        room_id=room.id,
        room_code=room.code,
        label=residences.address(session, room, within=estate.path)[:255],
        kind=PassKind.RESIDENT,
        relation=residence.relation,
        holder_person_id=actor.person_id,
        status=PassStatus.ACTIVE,
        valid_from=at,
        valid_until=until,
    )
    session.add(entry_pass)
    session.flush()
    return entry_pass


# --- the resident's own passes -------------------------------------------------------------------


def my_passes(session: Session, actor: Actor) -> list[EntryPass]:
    """The signed-in resident's valid passes (for the home page and the pass page)."""
    if actor.person_id is None:
        return []
    at = utcnow()
    return list(
        session.scalars(
            select(EntryPass)
            .where(
                EntryPass.holder_person_id == actor.person_id,
                EntryPass.kind == PassKind.RESIDENT,
                EntryPass.status == PassStatus.ACTIVE,
                EntryPass.valid_until > at,
            )
            .order_by(EntryPass.label, EntryPass.id)
        )
    )


def own_pass(session: Session, actor: Actor, pass_id: int) -> EntryPass:
    """A pass the actor holds (NotFound for anyone else's)."""
    entry_pass = session.get(EntryPass, pass_id)
    if entry_pass is None or actor.person_id is None or entry_pass.holder_person_id != actor.person_id:
        raise NotFound()
    return entry_pass


def cancel_pass(session: Session, actor: Actor, *, pass_id: int, now: datetime | None = None) -> EntryPass:
    """The holder gives up their pass (e.g. after moving out)."""
    entry_pass = own_pass(session, actor, pass_id)
    stop_pass(entry_pass, PassStatus.CANCELLED, None, _now(now))
    session.flush()
    return entry_pass


def stop_pass(entry_pass: EntryPass, status: str, reason: str | None, at: datetime) -> None:
    if entry_pass.status != PassStatus.ACTIVE:
        raise Conflict(details=[FieldError("status", MSG_NOT_ACTIVE)])
    entry_pass.status = status
    entry_pass.revoked_at = at
    entry_pass.revoked_reason = reason


# --- the rotating token --------------------------------------------------------------------------


def key_purpose(estate_id: int) -> str:
    return f"estate-gate:{estate_id}"


# Decrypted keys by key id. A key id names one key for ever (it carries a random part), so a
# cached key never goes stale; the current key id is still looked up every time (rotation).
_pairs: dict[str, SigningKeyPair] = {}


def estate_key(session: Session, estate_id: int) -> SigningKeyPair:
    """The estate's own Ed25519 key (created on first use; its private half stays encrypted in
    the database)."""
    purpose = key_purpose(estate_id)
    kid = session.scalar(
        select(SigningKey.kid)
        .where(SigningKey.purpose == purpose, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.id.desc())
        .limit(1)
    )
    if kid is not None and kid in _pairs:
        return _pairs[kid]
    pair = signing.active_key(session, purpose)
    _pairs[pair.kid] = pair
    return pair


def public_key(session: Session, estate_id: int) -> tuple[str, str]:
    """(key id, base64 of the raw 32-byte public key) that the estate's gates verify with."""
    pair = estate_key(session, estate_id)
    return pair.kid, base64.b64encode(pair.public_bytes()).decode()


@dataclass(frozen=True)
class Token:
    token: str
    step: int
    rotation: int
    refresh_in: float  # seconds until the next step
    valid_until: datetime


def sign_token(session: Session, entry_pass: EntryPass, *, now: datetime | None = None) -> Token:
    """The token of the current time step (no checks: see ``current_token``)."""
    at = _now(now)
    rotation = rules_.for_estate(session, _estate(session, entry_pass.estate_id)).rotation_seconds
    unix = at.timestamp()
    step = offline.step_of(unix, rotation)
    token = offline.encode(
        estate_key(session, entry_pass.estate_id).private_key,
        pass_id=entry_pass.id,
        estate_id=entry_pass.estate_id,
        kind=entry_pass.kind,
        valid_until=int(entry_pass.valid_until.timestamp()),
        step=step,
        room=entry_pass.room_code,
    )
    return Token(token, step, rotation, (step + 1) * rotation - unix, entry_pass.valid_until)


def usable_token(session: Session, entry_pass: EntryPass, *, now: datetime | None = None) -> Token:
    """The current token of a pass that opens the gates now (Conflict otherwise)."""
    if not usable(entry_pass, now):
        raise Conflict(MSG_NOT_ACTIVE, details=[FieldError("pass_id", MSG_NOT_ACTIVE)])
    return sign_token(session, entry_pass, now=now)


def current_token(session: Session, actor: Actor, *, pass_id: int, now: datetime | None = None) -> Token:
    """What the holder's phone shows now; fetched again every rotation period."""
    return usable_token(session, own_pass(session, actor, pass_id), now=now)


def _estate(session: Session, estate_id: int) -> Region:
    estate = session.get(Region, estate_id)
    if estate is None:
        raise NotFound()
    return estate


# --- the property office: passes, revocation, blocked rooms --------------------------------------


def pass_query(
    actor: Actor,
    estate: Region,
    *,
    kind: str | None = None,
    status: str | None = None,
    room_id: int | None = None,
    now: datetime | None = None,
) -> Select[EntryPass]:
    at = _now(now)
    query = select(EntryPass).where(EntryPass.estate_id == estate.id, actor.scope_clause(EntryPass.estate_path))
    if kind:
        query = query.where(EntryPass.kind == kind)
    if room_id is not None:
        query = query.where(EntryPass.room_id == room_id)
    if status == PassStatus.ACTIVE:
        query = query.where(EntryPass.status == PassStatus.ACTIVE, EntryPass.valid_until > at)
    elif status == PassStatus.EXPIRED:
        query = query.where(
            or_(
                EntryPass.status == PassStatus.EXPIRED,
                (EntryPass.status == PassStatus.ACTIVE) & (EntryPass.valid_until <= at),
            )
        )
    elif status:
        query = query.where(EntryPass.status == status)
    return query.order_by(EntryPass.id.desc())


def list_passes(
    session: Session,
    actor: Actor,
    *,
    estate_id: int,
    params: PageParams,
    kind: str | None = None,
    status: str | None = None,
    room_id: int | None = None,
) -> tuple[list[EntryPass], int | None]:
    """An estate's passes for access:read, newest first."""
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("access:read", region=estate)
    return fetch_page(session, pass_query(actor, estate, kind=kind, status=status, room_id=room_id), params)


def managed_pass(session: Session, actor: Actor, pass_id: int) -> EntryPass:
    entry_pass = session.get(EntryPass, pass_id)
    if entry_pass is None or not actor.covers(entry_pass.estate_path):
        raise NotFound()
    return entry_pass


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not (1 <= len(text) <= 200):
        raise Invalid(details=[FieldError("reason", MSG_REASON)])
    return text


def revoke_pass(session: Session, actor: Actor, *, pass_id: int, reason: str, now: datetime | None = None) -> EntryPass:
    """The property office stops a pass at once (pass:manage); gates learn of it from the
    revocation list."""
    entry_pass = managed_pass(session, actor, pass_id)
    actor.require("pass:manage", region=entry_pass.estate_path)
    text = _reason(reason)
    stop_pass(entry_pass, PassStatus.REVOKED, text, _now(now))
    session.flush()
    audit.record(
        session, actor, "access.pass_revoked", subject_type="entry_pass", subject_id=entry_pass.id, detail=text
    )
    return entry_pass


def revoke_moved_out(session: Session, *, person_id: int, room_id: int, now: datetime | None = None) -> int:
    """A resident moved out of a room: their passes for it stop (bus handler)."""
    at = _now(now)
    rows = session.scalars(
        select(EntryPass).where(
            EntryPass.holder_person_id == person_id,
            EntryPass.room_id == room_id,
            EntryPass.status == PassStatus.ACTIVE,
        )
    ).all()
    for entry_pass in rows:
        stop_pass(entry_pass, PassStatus.REVOKED, MSG_MOVED_OUT, at)
    session.flush()
    return len(rows)


def blocked_rooms(session: Session, actor: Actor, *, estate_id: int) -> list[BlockedRoom]:
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("access:read", region=estate)
    return list(
        session.scalars(select(BlockedRoom).where(BlockedRoom.estate_id == estate.id).order_by(BlockedRoom.label))
    )


def block_room(session: Session, actor: Actor, *, estate_id: int, room_id: int, reason: str) -> BlockedRoom:
    """Suspend every pass (and visitor pass) of a room, e.g. during a home quarantine (pass:manage)."""
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("pass:manage", region=estate)
    errors: list[FieldError] = []
    room = session.get(Region, room_id) if isinstance(room_id, int) else None
    if room is None or room.level != "room" or not room.path.startswith(estate.path):
        errors.append(FieldError("room_id", MSG_ROOM))
    text = (reason or "").strip()
    if not (1 <= len(text) <= 200):
        errors.append(FieldError("reason", MSG_REASON))
    if errors:
        raise Invalid(details=errors)
    assert room is not None
    if blocked(session, room.id) is not None:
        raise Conflict(details=[FieldError("room_id", MSG_ALREADY_BLOCKED)])
    row = BlockedRoom(
        estate_id=estate.id,
        room_id=room.id,
        room_code=room.code,
        label=residences.address(session, room, within=estate.path)[:255],
        reason=text,
        blocked_by=actor.account_id,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "access.room_blocked", subject_type="room", subject_id=room.id, detail=text)
    return row


def unblock_room(session: Session, actor: Actor, *, estate_id: int, room_id: int) -> None:
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("pass:manage", region=estate)
    row = blocked(session, room_id)
    if row is None or row.estate_id != estate.id:
        raise NotFound(MSG_NOT_BLOCKED)
    session.delete(row)
    session.flush()
    audit.record(session, actor, "access.room_unblocked", subject_type="room", subject_id=room_id)


def revocation_list(
    session: Session, estate: Region, *, since: datetime | None = None, now: datetime | None = None
) -> offline.RevocationList:
    """What the gates of an estate refuse without asking: passes stopped before their time
    (revoked, cancelled, used up) that would otherwise still be valid, and the blocked rooms.
    With ``since``, only the passes stopped since then (blocked rooms always in full)."""
    at = _now(now)
    query = select(EntryPass.id).where(
        EntryPass.estate_id == estate.id,
        EntryPass.revoked_at.is_not(None),
        EntryPass.valid_until > at,
    )
    if since is not None:
        query = query.where(EntryPass.revoked_at >= since)
    passes = frozenset(int(i) for i in session.scalars(query))
    rooms = {
        str(code): str(reason)
        for code, reason in session.execute(
            select(BlockedRoom.room_code, BlockedRoom.reason).where(BlockedRoom.estate_id == estate.id)
        )
    }
    return offline.RevocationList(estate.id, passes, rooms, at.isoformat())


def revocation_json(revocation: offline.RevocationList) -> dict[str, object]:
    return {
        "estate_id": revocation.estate_id,
        "as_of": revocation.as_of,
        "passes": sorted(revocation.passes),
        "rooms": [{"code": c, "reason": r} for c, r in sorted(revocation.rooms.items())],
    }


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(details=[FieldError("since", MSG_SINCE)]) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- names for lists -----------------------------------------------------------------------------


def holder_names(session: Session, person_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in person_ids if i is not None}
    if not ids:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))}


# --- contracts for the dashboard and the home page -----------------------------------------------


def stats(session: Session, *, region: Region, now: datetime | None = None) -> dict[str, int | float]:
    """Entry figures of a region's estates: passes valid now, today's entries, exits, visitors
    and refusals (the city's local day), goods slips today, gates online of all gates."""
    at = _now(now)
    start = day_start(at)
    inside = subtree_clause(EntryPass.estate_path, region.path)
    active = session.scalar(
        select(func.count())
        .select_from(EntryPass)
        .where(inside, EntryPass.status == PassStatus.ACTIVE, EntryPass.valid_until > at, EntryPass.valid_from <= at)
    )
    events = session.execute(
        select(AccessEvent.kind, AccessEvent.direction, AccessEvent.result, func.count())
        .where(subtree_clause(AccessEvent.estate_path, region.path), AccessEvent.at >= start, AccessEvent.at <= at)
        .group_by(AccessEvent.kind, AccessEvent.direction, AccessEvent.result)
    ).all()
    entries = exits = visitors = refused = 0
    for kind, direction, result, count in events:
        if result != "allowed":
            refused += int(count)
        elif direction == "in":
            entries += int(count)
            if kind == PassKind.VISITOR:
                visitors += int(count)
        else:
            exits += int(count)
    slips = session.scalar(
        select(func.count())
        .select_from(GoodsSlip)
        .where(subtree_clause(GoodsSlip.estate_path, region.path), GoodsSlip.created_at >= start)
    )
    gates = devices.status_counts(session, region_path=region.path).get("gate", {})
    total = entries + refused + exits
    return {
        "passes_active": int(active or 0),
        "entries_today": entries,
        "exits_today": exits,
        "visitors_today": visitors,
        "refused_today": refused,
        "refusal_rate": round(refused / total, 4) if total else 0.0,
        "goods_slips_today": int(slips or 0),
        "gates_online": int(gates.get("online", 0)),
        "gates_total": sum(gates.values()),
    }


def expire(session: Session, *, now: datetime | None = None) -> int:
    """Mark passes and goods slips past their time as expired (every minute; one indexed
    UPDATE each, nothing to do most minutes)."""
    at = _now(now)
    passes = session.execute(
        update(EntryPass)
        .where(EntryPass.status == PassStatus.ACTIVE, EntryPass.valid_until <= at)
        .values(status=PassStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    slips = session.execute(
        update(GoodsSlip)
        .where(GoodsSlip.status == SlipStatus.ACTIVE, GoodsSlip.valid_until <= at)
        .values(status=SlipStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(passes, "rowcount", 0) or 0) + int(getattr(slips, "rowcount", 0) or 0)


def install(session: Session) -> None:
    """Nothing to install: an estate's rules are its defaults until the property office saves
    them, and its gate key is made when its first pass is signed."""
