"""Gates (门禁) and the access log: registering an estate's gates (devices of kind ``gate`` with
a key), what a gate fetches (its configuration and the revocation list), the online check that
also enforces counts and time windows, the upload of events a gate recorded while offline, and
the log the property office reads. Plain functions; they flush, never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.community.access import offline, service
from cityos.community.access import rules as rules_
from cityos.community.access.events import VisitorArrived
from cityos.community.access.models import AccessEvent, EntryPass, PassKind, PassStatus
from cityos.core import audit, bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid, NotFound, Unauthorized
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.core.settings import get_settings
from cityos.people.pii import mask_name
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device
from cityos.places.models import Region

GATE_KIND = "gate"
LATE_AFTER = timedelta(minutes=15)  # an uploaded event older than this is flagged late
FUTURE_SLACK = timedelta(minutes=5)
MAX_BATCH = 500

MSG_KEY = N_("The device key is not valid.")
MSG_NOT_A_GATE = N_("This device is not a gate of an estate.")
MSG_GATE_NAME = N_("Give the gate a name of 1 to 128 characters.")
MSG_FUTURE = N_("This time is in the future.")
MSG_PASS_ELSEWHERE = N_("No pass with this number in this estate.")
MSG_BATCH = N_("Send 1 to {max} events at a time.")
MSG_DATE_ORDER = N_("The end date is before the start date.")

# Why the gate opened or not; shown at the gate and in the access log.
REASONS: dict[str, str] = {
    offline.OK: N_("Welcome."),
    offline.MALFORMED: N_("This is not an entry pass code."),
    offline.WRONG_ESTATE: N_("This pass is for another estate."),
    offline.BAD_SIGNATURE: N_("This code is forged or damaged."),
    offline.STALE: N_("This code is out of date (a screenshot or a copy). Show the live code on the phone."),
    offline.EXPIRED: N_("This pass has expired."),
    offline.REVOKED: N_("This pass has been revoked."),
    offline.BLOCKED_ROOM: N_("Passes for this room are suspended."),
    "cancelled": N_("This pass was cancelled."),
    "not_found": N_("No such pass in this estate."),
    "not_yet_valid": N_("This pass is not valid yet."),
    "outside_window": N_("This pass does not open the gate at this time of day."),
    "exit_limit": N_("This household has used all its exits for the period."),
    "no_entries_left": N_("This visitor pass has no entries left."),
    "slip_ok": N_("Goods may go out."),
    "slip_not_found": N_("No such goods-out slip in this estate."),
    "slip_used": N_("These goods have already gone out."),
    "slip_cancelled": N_("This goods-out slip was cancelled."),
    "slip_expired": N_("This goods-out slip has expired."),
    "slip_not_yet": N_("This goods-out slip is not valid yet."),
}
UNSIGNED = frozenset({offline.MALFORMED, offline.WRONG_ESTATE, offline.BAD_SIGNATURE})
DIRECTIONS = ("in", "out")
RESULTS = ("allowed", "refused")
DIRECTION_LABELS = {"in": N_("Coming in"), "out": N_("Going out")}
RESULT_LABELS = {"allowed": N_("Allowed"), "refused": N_("Turned away")}


@dataclass(frozen=True)
class Gate:
    device: Device
    estate: Region


def gate_for_key(session: Session, key: str | None, *, now: datetime | None = None) -> Gate:
    """The gate that holds ``key`` (Unauthorized for a missing or unknown key); it is seen now."""
    if not key:
        raise Unauthorized(MSG_KEY)
    try:
        device = devices.by_key(session, key)
    except NotFound as exc:
        raise Unauthorized(MSG_KEY) from exc
    estate = session.get(Region, device.region_id)
    if device.kind != GATE_KIND or estate is None or estate.level != "estate":
        raise Forbidden(MSG_NOT_A_GATE)
    devices.record_state(session, device, status="online", at=now)
    return Gate(device, estate)


def register_gate(
    session: Session,
    actor: Actor,
    *,
    estate_id: int,
    name: str,
    code: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> devices.Registered:
    """A new gate of the estate (pass:manage); its device key is in the result, shown once."""
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("pass:manage", region=estate)
    text = (name or "").strip()
    if not (1 <= len(text) <= 128):
        raise Invalid(details=[FieldError("name", MSG_GATE_NAME)])
    made = devices.register(
        session,
        actor,
        code=(code or "").strip() or f"gate-{estate.id}-{secrets.token_hex(3)}",
        kind=GATE_KIND,
        name=text,
        region_id=estate.id,
        permission="pass:manage",
        lon=lon,
        lat=lat,
        with_key=True,
    )
    audit.record(session, actor, "access.gate_registered", subject_type="device", subject_id=made.device.id)
    return made


def gates(session: Session, actor: Actor, *, estate_id: int) -> list[Device]:
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("access:read", region=estate)
    return devices.in_region(session, actor, region=estate, kind=GATE_KIND)


def config(session: Session, gate: Gate, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything a gate needs to check passes offline."""
    at = now or utcnow()
    rules = rules_.for_estate(session, gate.estate)
    kid, public = service.public_key(session, gate.estate.id)
    return {
        "gate": {"id": gate.device.id, "code": gate.device.code, "name": gate.device.name},
        "estate": {"id": gate.estate.id, "name": gate.estate.name},
        "key": {"kid": kid, "algorithm": "Ed25519", "public_key": public},
        "rotation_seconds": rules.rotation_seconds,
        "skew_steps": service.SKEW_STEPS,
        "rules": rules_.as_dict(rules),
        "revocations": service.revocation_json(service.revocation_list(session, gate.estate, now=at)),
        "server_time": at.isoformat(),
    }


# --- the online check ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    detail: str
    entry_pass: EntryPass | None
    event: AccessEvent


def _exits(session: Session, room_id: int, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AccessEvent)
            .where(
                AccessEvent.room_id == room_id,
                AccessEvent.direction == "out",
                AccessEvent.at > since,
                AccessEvent.result == "allowed",
                AccessEvent.kind == PassKind.RESIDENT,
            )
        )
        or 0
    )


def _use_entry(session: Session, entry_pass: EntryPass, at: datetime) -> bool:
    """Count one entry of a visitor pass down (atomically); False when none was left."""
    done = session.execute(
        update(EntryPass)
        .where(EntryPass.id == entry_pass.id, EntryPass.entries_left > 0)
        .values(entries_left=EntryPass.entries_left - 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(entry_pass)
    if not getattr(done, "rowcount", 0):
        return False
    if entry_pass.entries_left == 0 and entry_pass.status == PassStatus.ACTIVE:
        entry_pass.status = PassStatus.USED_UP
        entry_pass.revoked_at = at
    return True


def _check_pass(session: Session, gate: Gate, entry_pass: EntryPass, direction: str, at: datetime) -> tuple[str, str]:
    state = service.state_of(entry_pass, at)
    if state == PassStatus.USED_UP:
        return "no_entries_left", ""
    if state != PassStatus.ACTIVE:
        stopped: dict[str, str] = {PassStatus.CANCELLED: "cancelled", PassStatus.EXPIRED: offline.EXPIRED}
        return stopped.get(state, offline.REVOKED), ""
    if entry_pass.valid_from > at:
        return "not_yet_valid", ""
    stop = service.blocked(session, entry_pass.room_id)
    if stop is not None:
        return offline.BLOCKED_ROOM, stop.reason
    rules = rules_.for_estate(session, gate.estate)
    if not rules_.in_window(rules, entry_pass.relation, at):
        return "outside_window", ""
    if direction == "out" and entry_pass.kind == PassKind.RESIDENT and rules.exit_limit:
        if _exits(session, entry_pass.room_id, at - timedelta(hours=rules.exit_period_hours)) >= rules.exit_limit:
            return "exit_limit", ""
    if direction == "in" and entry_pass.kind == PassKind.VISITOR and not _use_entry(session, entry_pass, at):
        return "no_entries_left", ""
    return offline.OK, ""


def verify(session: Session, gate: Gate, *, token: str, direction: str, now: datetime | None = None) -> Decision:
    """A gate online: the offline checks, then the pass's own state, blocked rooms, time windows,
    exits per period and a visitor's entries left; the event is recorded either way."""
    at = now or utcnow()
    if direction not in DIRECTIONS:
        raise Invalid(details=[FieldError("direction", N_("Must be one of: {expected}."), {"expected": "in, out"})])
    rules = rules_.for_estate(session, gate.estate)
    verdict = offline.verify_offline(
        token,
        public_key=service.estate_key(session, gate.estate.id).public_bytes(),
        revocation=offline.RevocationList(gate.estate.id),
        now=at,
        rotation=rules.rotation_seconds,
        skew_steps=service.SKEW_STEPS,
    )
    reason, detail = verdict.reason, verdict.detail
    entry_pass: EntryPass | None = None
    # Only a good signature names a pass worth looking at (or linking the event to).
    if verdict.reason not in UNSIGNED and verdict.pass_id is not None:
        entry_pass = session.get(EntryPass, verdict.pass_id)
        if entry_pass is None or entry_pass.estate_id != gate.estate.id:
            entry_pass, reason = None, "not_found"
        elif verdict.ok:
            reason, detail = _check_pass(session, gate, entry_pass, direction, at)
    event = AccessEvent(
        estate_id=gate.estate.id,
        estate_path=gate.estate.path,
        gate_id=gate.device.id,
        pass_id=entry_pass.id if entry_pass else None,
        person_id=entry_pass.holder_person_id if entry_pass else None,
        room_id=entry_pass.room_id if entry_pass else None,
        kind=entry_pass.kind if entry_pass else (verdict.kind or "unknown"),
        direction=direction,
        result="allowed" if reason == offline.OK else "refused",
        reason=reason,
        at=at,
        received_at=at,
    )
    session.add(event)
    session.flush()
    if (
        reason == offline.OK
        and entry_pass is not None
        and entry_pass.kind == PassKind.VISITOR
        and direction == "in"
        and entry_pass.host_person_id is not None
    ):
        bus.publish(
            session,
            VisitorArrived(pass_id=entry_pass.id, host_person_id=entry_pass.host_person_id, gate_id=gate.device.id),
        )
    return Decision(reason == offline.OK, reason, detail, entry_pass, event)


# --- events recorded offline ---------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineEvent:
    id: str
    direction: str
    result: str
    reason: str
    at: datetime
    pass_id: int | None = None


@dataclass(frozen=True)
class SyncResult:
    accepted: int
    duplicates: int
    late: int


def upload(session: Session, gate: Gate, *, events: list[OfflineEvent], now: datetime | None = None) -> SyncResult:
    """Store the events a gate recorded while it could not reach the platform. Each carries the
    gate's own id: an event sent again is not stored twice. Events older than ``LATE_AFTER``
    are accepted and flagged late. A bad event refuses the whole batch (nothing is stored)."""
    at = now or utcnow()
    if not (1 <= len(events) <= MAX_BATCH):
        raise Invalid(details=[FieldError("events", MSG_BATCH, {"max": MAX_BATCH})])
    pass_ids = {e.pass_id for e in events if e.pass_id is not None}
    passes = {p.id: p for p in session.scalars(select(EntryPass).where(EntryPass.id.in_(pass_ids)))} if pass_ids else {}
    errors: list[FieldError] = []
    for i, e in enumerate(events):
        if e.at > at + FUTURE_SLACK:
            errors.append(FieldError(f"events.{i}.at", MSG_FUTURE))
        if e.pass_id is not None and (e.pass_id not in passes or passes[e.pass_id].estate_id != gate.estate.id):
            errors.append(FieldError(f"events.{i}.pass_id", MSG_PASS_ELSEWHERE))
    if errors:
        raise Invalid(details=errors)
    unique: dict[str, OfflineEvent] = {}
    for e in events:
        unique.setdefault(e.id, e)
    known = set(
        session.scalars(
            select(AccessEvent.client_id).where(
                AccessEvent.gate_id == gate.device.id, AccessEvent.client_id.in_(list(unique))
            )
        )
    )
    fresh = [e for key, e in unique.items() if key not in known]
    late = 0
    for e in sorted(fresh, key=lambda x: x.at):
        entry_pass = passes.get(e.pass_id) if e.pass_id is not None else None
        is_late = at - e.at > LATE_AFTER
        late += is_late
        row = AccessEvent(
            estate_id=gate.estate.id,
            estate_path=gate.estate.path,
            gate_id=gate.device.id,
            pass_id=entry_pass.id if entry_pass else None,
            person_id=entry_pass.holder_person_id if entry_pass else None,
            room_id=entry_pass.room_id if entry_pass else None,
            kind=entry_pass.kind if entry_pass else "unknown",
            direction=e.direction,
            result=e.result,
            reason=e.reason if e.reason in REASONS else ("ok" if e.result == "allowed" else "malformed"),
            at=e.at,
            received_at=at,
            recorded_offline=True,
            late=is_late,
            client_id=e.id,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # the same event uploaded at the same moment by a retry
            late -= is_late
            known.add(e.id)
            continue
        if (
            entry_pass is not None
            and entry_pass.kind == PassKind.VISITOR
            and e.direction == "in"
            and e.result == "allowed"
            and (entry_pass.entries_left or 0) > 0
        ):
            _use_entry(session, entry_pass, e.at)
    session.flush()
    accepted = len(unique) - len(known)
    return SyncResult(accepted=accepted, duplicates=len(events) - accepted, late=late)


# --- the access log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogFilter:
    gate_id: int | None = None
    direction: str | None = None
    result: str | None = None
    kind: str | None = None
    room_id: int | None = None
    pass_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    offline_only: bool = False


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(get_settings().timezone)).astimezone(UTC)


def log_query(actor: Actor, estate: Region, filters: LogFilter) -> Select[AccessEvent]:
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise Invalid(details=[FieldError("date_to", MSG_DATE_ORDER)])
    query = select(AccessEvent).where(AccessEvent.estate_id == estate.id, actor.scope_clause(AccessEvent.estate_path))
    for column, value in (
        (AccessEvent.gate_id, filters.gate_id),
        (AccessEvent.direction, filters.direction),
        (AccessEvent.result, filters.result),
        (AccessEvent.kind, filters.kind),
        (AccessEvent.room_id, filters.room_id),
        (AccessEvent.pass_id, filters.pass_id),
    ):
        if value is not None and value != "":
            query = query.where(column == value)
    if filters.date_from:
        query = query.where(AccessEvent.at >= _local_start(filters.date_from))
    if filters.date_to:
        query = query.where(AccessEvent.at < _local_start(filters.date_to + timedelta(days=1)))
    if filters.offline_only:
        query = query.where(AccessEvent.recorded_offline.is_(True))
    return query.order_by(AccessEvent.at.desc(), AccessEvent.id.desc())


@dataclass(frozen=True)
class LogRow:
    event: AccessEvent
    gate: str
    person: str
    place: str


def access_log(
    session: Session, actor: Actor, *, estate_id: int, filters: LogFilter, params: PageParams
) -> tuple[list[LogRow], int | None, bool]:
    """One page of an estate's access log (access:read), newest first, with gate names, the
    room and the person's name — masked unless the reader holds pii:read (then audited).
    Returns (rows, total, masked)."""
    estate = rules_.estate_of(session, actor, estate_id)
    actor.require("access:read", region=estate)
    events, total = fetch_page(session, log_query(actor, estate, filters), params)
    rows, masked = rows_of(session, actor, events)
    return rows, total, masked


def rows_of(session: Session, actor: Actor, events: list[AccessEvent]) -> tuple[list[LogRow], bool]:
    gate_ids = {e.gate_id for e in events if e.gate_id is not None}
    gate_names = (
        {int(i): str(n) for i, n in session.execute(select(Device.id, Device.name).where(Device.id.in_(gate_ids)))}
        if gate_ids
        else {}
    )
    pass_ids = {e.pass_id for e in events if e.pass_id is not None}
    labels = (
        {
            int(i): str(n)
            for i, n in session.execute(select(EntryPass.id, EntryPass.label).where(EntryPass.id.in_(pass_ids)))
        }
        if pass_ids
        else {}
    )
    names = service.holder_names(session, {e.person_id for e in events})
    masked = not actor.can("pii:read")
    if not masked and names:
        audit.record(
            session,
            actor,
            "pii.read",
            subject_type="access_event",
            subject_id=",".join(str(e.id) for e in events)[:64],
            fields=["name"],
        )
    rows = []
    for e in events:
        name = names.get(e.person_id or 0, "")
        rows.append(
            LogRow(
                event=e,
                gate=gate_names.get(e.gate_id or 0, ""),
                person=mask_name(name) if masked else name,
                place=labels.get(e.pass_id or 0, ""),
            )
        )
    return rows, masked
