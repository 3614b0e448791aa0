"""One ingest batch in one transaction (HTTP requests and the MQTT writer both come here).

For each message: check the envelope (``mid``, ``ts``, ``values``), map the readings through the
device's profile, refuse stale ones. Then, for the batch: one ``INSERT … ON CONFLICT DO NOTHING
RETURNING`` of the message ids (a message id seen before is a duplicate, race-free across
writers), the observations in bulk (``temporal.append_observations``), the latest values of
every device's entity in one store call (``ngsi.upsert_many(history=False)``: one SELECT, one
INSERT, one executemany UPDATE), the device's state (``record_state``), one
``DeviceObserved`` per device and one ``TrafficObserved`` per traffic interval on the bus, and
the tallies and rejections the ingest page shows. Nothing is silently dropped: every message
comes back as accepted, duplicate or rejected with a reason and field errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.bus import Event
from cityos.core.db import utcnow
from cityos.core.errors import FieldError
from cityos.core.i18n import N_
from cityos.hub.events import DeviceObserved, TrafficObserved
from cityos.hub.ingest import stores
from cityos.hub.ingest.models import DeviceProfile, IngestBinding, IngestMessage, IngestRejection, IngestTally
from cityos.hub.ingest.profiles import MSG_DATETIME, Profile, Reading, iso, map_values, parse_time
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device, DeviceStatus

Status = Literal["accepted", "duplicate", "rejected"]
STALE_AFTER = timedelta(hours=23)  # the de-duplication window is 24 h: older messages are refused
FUTURE_SLACK = timedelta(minutes=5)
MAX_REJECTIONS_KEPT = 100  # per batch; the tallies still count every rejected message
TRAFFIC_TYPE = "TrafficFlowObserved"

REASONS = ("malformed", "invalid", "stale", "unknown_device", "bad_signature")
REASON_TITLES = {
    "malformed": N_("Malformed message"),
    "invalid": N_("Reading out of range or of the wrong type"),
    "stale": N_("Too old or in the future"),
    "unknown_device": N_("Unknown device"),
    "bad_signature": N_("Bad signature"),
}
MSG_BODY = N_("Send a message object with mid, ts and values.")
MSG_MID = N_("Give each message an id (mid) of 1 to 64 characters.")
MSG_STALE = N_("Older than 23 hours or more than 5 minutes ahead: refused.")
MSG_DEVICE = N_("This device is not registered in the data hub.")
MSG_SIGNATURE = N_("The signature does not match the message under the device key.")


@dataclass(frozen=True)
class Inbound:
    """One message as a device sent it. ``reason`` is set when it was refused before mapping
    (unknown device, bad signature, unreadable payload); ``prefix`` is where its fields sit in
    the request (``messages[3].``)."""

    channel: str  # http | mqtt
    device_id: int | None
    body: Any
    device_code: str | None = None
    tenant: str | None = None
    reason: str | None = None
    errors: tuple[FieldError, ...] = ()
    prefix: str = ""


@dataclass
class Outcome:
    status: Status
    mid: str | None = None
    reason: str | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass
class _Good:
    index: int
    device: Device
    binding: IngestBinding
    profile: Profile
    mid: str
    observed_at: datetime
    readings: list[Reading]


_profiles: dict[tuple[str, datetime], Profile] = {}


def profile_of(row: DeviceProfile) -> Profile:
    key = (row.code, row.updated_at)
    found = _profiles.get(key)
    if found is None:
        if len(_profiles) > 256:
            _profiles.clear()
        found = _profiles[key] = Profile.of(row)
    return found


def _mid(body: dict[str, Any]) -> str | None:
    mid = body.get("mid")
    if isinstance(mid, int) and not isinstance(mid, bool):
        mid = str(mid)
    if not isinstance(mid, str) or not (1 <= len(mid) <= 64) or not mid.isprintable():
        return None
    return mid


def _check(
    message: Inbound, found: tuple[Device, IngestBinding, DeviceProfile] | None, now: datetime
) -> tuple[Outcome | None, _Good | None]:
    body = message.body
    if message.reason is not None:
        mid = _mid(body) if isinstance(body, dict) else None
        return Outcome("rejected", mid, message.reason, list(message.errors)), None
    if found is None:
        where = f"{message.prefix}device" if message.prefix else "device"
        return Outcome("rejected", None, "unknown_device", [FieldError(where, MSG_DEVICE)]), None
    if not isinstance(body, dict):
        where = message.prefix.rstrip(".") or "body"
        return Outcome("rejected", None, "malformed", [FieldError(where, MSG_BODY)]), None
    device, binding, profile_row = found
    mid = _mid(body)
    errors: list[FieldError] = []
    if mid is None:
        errors.append(FieldError(f"{message.prefix}mid", MSG_MID))
    ts: datetime | None = None
    if body.get("ts") is not None:
        ts = parse_time(body.get("ts"))
        if ts is None:
            errors.append(FieldError(f"{message.prefix}ts", MSG_DATETIME))
    if errors:
        return Outcome("rejected", mid, "malformed", errors), None
    assert mid is not None
    profile = profile_of(profile_row)
    mapped = map_values(profile, body.get("values"), prefix=f"{message.prefix}values")
    if mapped.errors:
        return Outcome("rejected", mid, "invalid", mapped.errors), None
    observed = mapped.observed_at or ts or now
    if observed < now - STALE_AFTER or observed > now + FUTURE_SLACK:
        where = f"{message.prefix}ts" if mapped.observed_at is None else f"{message.prefix}values.{profile.time_key}"
        return Outcome("rejected", mid, "stale", [FieldError(where, MSG_STALE)]), None
    return None, _Good(0, device, binding, profile, mid, observed, mapped.readings)


def _load(session: Session, ids: set[int]) -> dict[int, tuple[Device, IngestBinding, DeviceProfile]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Device, IngestBinding, DeviceProfile)
        .join(IngestBinding, IngestBinding.device_id == Device.id)
        .join(DeviceProfile, DeviceProfile.code == IngestBinding.profile_code)
        .where(Device.id.in_(ids))
    ).all()
    return {device.id: (device, binding, profile) for device, binding, profile in rows}


_CLAIM_PG = text(
    "INSERT INTO ingest_message (device_id, mid, received_at) "
    "SELECT * FROM unnest(CAST(:d AS integer[]), CAST(:m AS varchar[]), CAST(:r AS timestamptz[])) "
    "ON CONFLICT (device_id, mid) DO NOTHING RETURNING device_id, mid"
)


def _claim(session: Session, keys: list[tuple[int, str]], now: datetime) -> set[tuple[int, str]]:
    """Records the message ids; returns the ones that were new (one statement per 500, race-free)."""
    if not keys:
        return set()
    dialect = session.get_bind().dialect.name
    table = cast(Table, IngestMessage.__table__)
    fresh: set[tuple[int, str]] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        values: list[dict[str, Any]] = [{"device_id": d, "mid": m, "received_at": now} for d, m in chunk]
        if dialect == "postgresql":  # one statement over arrays: half the time of an executemany
            rows = session.execute(
                _CLAIM_PG,
                {"d": [d for d, _ in chunk], "m": [m for _, m in chunk], "r": [now] * len(chunk)},
            ).all()
            fresh.update((int(d), str(m)) for d, m in rows)
        elif dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            statement = (
                sqlite.insert(table)
                .on_conflict_do_nothing(index_elements=["device_id", "mid"])
                .returning(table.c.device_id, table.c.mid)
            )
            fresh.update((int(d), str(m)) for d, m in session.execute(statement, values).all())
        else:  # portable fallback: look first, then insert what is new
            seen = set(
                session.execute(
                    select(table.c.device_id, table.c.mid).where(
                        table.c.device_id.in_({d for d, _ in chunk}), table.c.mid.in_({m for _, m in chunk})
                    )
                ).all()
            )
            new = [v for v in values if (v["device_id"], v["mid"]) not in seen]
            if new:
                session.execute(insert(table), new)
            fresh.update((int(v["device_id"]), str(v["mid"])) for v in new)
    return fresh


def _observations(good: list[_Good]) -> list[Any]:
    rows = []
    for g in good:
        source = g.device.code
        for r in g.readings:
            rows.append(
                stores.observation_row(
                    tenant=g.binding.tenant,
                    entity_id=g.binding.entity_id,
                    entity_type=g.binding.entity_type,
                    attr=r.attr,
                    observed_at=g.observed_at,
                    value=r.value,
                    unit=r.unit,
                    kind=r.kind,
                    source=source,
                )
            )
    return rows


def _latest(items: list[_Good]) -> tuple[dict[str, tuple[datetime, Reading]], datetime]:
    latest: dict[str, tuple[datetime, Reading]] = {}
    for g in items:
        for r in g.readings:
            held = latest.get(r.attr)
            if held is None or g.observed_at >= held[0]:
                latest[r.attr] = (g.observed_at, r)
    return latest, max(g.observed_at for g in items)


def _record_states(session: Session, reported: list[tuple[Device, dict[str, Any]]], now: datetime) -> None:
    """The devices reported in: ``places.devices.service.record_state`` for each (readings merged
    into the state, seen now, an offline device back online). For a batch of many devices the
    same change is made on every row and flushed once, so the database gets one executemany
    UPDATE rather than one round trip per device."""
    if len(reported) == 1:
        device, state = reported[0]
        back = DeviceStatus.ONLINE.value if device.status == DeviceStatus.OFFLINE.value else None
        devices.record_state(session, device, status=back, state=state, at=now)
        return
    for device, state in reported:
        if device.status == DeviceStatus.OFFLINE.value:
            device.status = DeviceStatus.ONLINE.value
        device.state = {**(device.state or {}), **state}
        device.last_seen_at = now
    session.flush()


def _traffic(g: _Good) -> TrafficObserved:
    values = {r.attr: r.value for r in g.readings}

    def num(name: str) -> float | None:
        value = values.get(name)
        return float(value) if isinstance(value, int | float) else None

    lane = values.get("laneId")
    return TrafficObserved(
        tenant=g.binding.tenant,
        entity_id=g.binding.entity_id,
        device_code=g.device.code,
        ref_road_segment=values.get("refRoadSegment"),
        lane_id=lane if isinstance(lane, int) else None,
        date_observed_from=values.get("dateObservedFrom") or iso(g.observed_at),
        date_observed_to=values.get("dateObservedTo") or iso(g.observed_at),
        intensity=num("intensity"),
        occupancy=num("occupancy"),
        average_vehicle_speed=num("averageVehicleSpeed"),
        lon=g.device.lon,
        lat=g.device.lat,
    )


def _apply(session: Session, good: list[_Good], now: datetime) -> None:
    stores.append(session, _observations(good))
    by_device: dict[int, list[_Good]] = {}
    for g in good:
        by_device.setdefault(g.device.id, []).append(g)
    latest = {device_id: _latest(items) for device_id, items in by_device.items()}
    # Entities first, then device states, then events: nothing is pending in the session while
    # the store reads, so no autoflush writes rows one at a time between the entity updates.
    # One store call per tenant for the whole batch (one SELECT, one INSERT, one UPDATE).
    per_tenant: dict[str, list[tuple[str, str, dict[str, dict[str, Any]], datetime | None]]] = {}
    for device_id, items in by_device.items():
        binding = items[0].binding
        values, observed_at = latest[device_id]
        attrs = {name: reading.attribute(at) for name, (at, reading) in values.items()}
        per_tenant.setdefault(binding.tenant, []).append((binding.entity_id, binding.entity_type, attrs, observed_at))
    for tenant, entity_items in per_tenant.items():
        stores.upsert_entities(session, tenant=tenant, items=entity_items, history=False)
    states = {d: {name: reading.value for name, (_, reading) in latest[d][0].items()} for d in by_device}
    _record_states(session, [(items[0].device, states[device_id]) for device_id, items in by_device.items()], now)
    events: list[Event] = []
    for device_id, items in by_device.items():
        device, binding = items[0].device, items[0].binding
        events.append(
            DeviceObserved(
                tenant=binding.tenant,
                device_code=device.code,
                device_kind=device.kind,
                entity_id=binding.entity_id,
                entity_type=binding.entity_type,
                attrs=states[device_id],
                observed_at=iso(latest[device_id][1]),
                lon=device.lon,
                lat=device.lat,
            ),
        )
        if binding.entity_type == TRAFFIC_TYPE:
            events.extend(_traffic(g) for g in sorted(items, key=lambda item: item.observed_at))
    bus.publish_many(session, events)


def _record(session: Session, batch: Sequence[Inbound], outcomes: list[Outcome], now: datetime) -> None:
    minute = now.replace(second=0, microsecond=0)
    counts: dict[tuple[str, str, str], int] = {}
    rejections: list[dict[str, Any]] = []
    for message, outcome in zip(batch, outcomes, strict=True):
        key = (message.channel, outcome.status, outcome.reason or "")
        counts[key] = counts.get(key, 0) + 1
        if outcome.status == "rejected" and len(rejections) < MAX_REJECTIONS_KEPT:
            rejections.append(
                {
                    "at": now,
                    "channel": message.channel,
                    "tenant": message.tenant,
                    "device_code": message.device_code,
                    "mid": outcome.mid,
                    "reason": outcome.reason or "invalid",
                    "fields": [{"field": e.field, "message": e.message, "params": e.params} for e in outcome.errors],
                }
            )
    session.execute(
        insert(cast(Table, IngestTally.__table__)),
        [
            {"minute": minute, "channel": c, "outcome": o, "reason": r, "count": n}
            for (c, o, r), n in sorted(counts.items())
        ],
    )
    if rejections:
        session.execute(insert(cast(Table, IngestRejection.__table__)), rejections)


def process(session: Session, batch: Sequence[Inbound], *, now: datetime | None = None) -> list[Outcome]:
    """Ingests a batch in the caller's transaction; one outcome per message, in order."""
    if not batch:
        return []
    now = now or utcnow()
    found = _load(session, {m.device_id for m in batch if m.device_id is not None and m.reason is None})
    outcomes: list[Outcome | None] = []
    candidates: list[_Good] = []
    seen: set[tuple[int, str]] = set()
    for index, message in enumerate(batch):
        entry = found.get(message.device_id) if message.device_id is not None else None
        outcome, good = _check(message, entry, now)
        if good is not None:
            good.index = index
            key = (good.device.id, good.mid)
            if key in seen:
                outcome, good = Outcome("duplicate", good.mid), None
            else:
                seen.add(key)
                candidates.append(good)
        outcomes.append(outcome)
    fresh = _claim(session, [(g.device.id, g.mid) for g in candidates], now)
    accepted: list[_Good] = []
    for g in candidates:
        if (g.device.id, g.mid) in fresh:
            outcomes[g.index] = Outcome("accepted", g.mid)
            accepted.append(g)
        else:
            outcomes[g.index] = Outcome("duplicate", g.mid)
    if accepted:
        _apply(session, accepted, now)
    done = [o for o in outcomes if o is not None]
    assert len(done) == len(batch)
    _record(session, batch, done, now)
    session.flush()
    return done
