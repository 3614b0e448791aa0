"""Demo records of 电子出入码 for one estate of the demo city: its rules (tenants 06:00–23:00),
two gates, passes for some of its residents, a visitor pass, a goods-out slip and the last day
of access events at the gates (a few refused: a screenshot, a revoked pass). Guarded: an estate
that already has gates is left as it is."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.community.access import gates, goods, residents, rules, service, visitors
from cityos.community.access.models import AccessEvent, EntryPass
from cityos.core.actor import SYSTEM, Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Invalid
from cityos.people.models import Residence
from cityos.places.devices.models import Device
from cityos.places.models import Region

MAX_RESIDENTS = 24
VISITOR_NAMES = ("陈晓明", "刘芳", "张伟", "黄丽", "周杰")
GOODS = ("旧沙发一张", "搬家纸箱六个", "自行车一辆", "旧冰箱一台")


def _resident(person_id: int) -> Actor:
    return Actor(
        account_id=None,
        label=f"demo-resident:{person_id}",
        roles=frozenset({"resident"}),
        permissions=frozenset({"pass:request"}),
        person_id=person_id,
    )


def seed(session: Session, *, estate: Region, community: Region, rng: random.Random) -> None:
    """Rules, two gates, passes, a visitor, a goods slip and a day of events for ``estate``."""
    had_gates = session.scalar(
        select(Device.id).where(Device.kind == gates.GATE_KIND, Device.region_id == estate.id).limit(1)
    )
    if had_gates is not None:
        return
    now = utcnow()
    rules.update(
        session,
        SYSTEM,
        estate_id=estate.id,
        changes={"windows": {"tenant": ["06:00", "23:00"]}, "visitor_max_hours": 12},
    )
    east = gates.register_gate(session, SYSTEM, estate_id=estate.id, name="东门", code=f"gate-{estate.id}-east").device
    south = gates.register_gate(
        session, SYSTEM, estate_id=estate.id, name="南门", code=f"gate-{estate.id}-south"
    ).device
    south.status = "offline"
    south.last_seen_at = now - timedelta(hours=3)
    today = residents.local_date(now)
    rows = session.execute(
        select(Residence.person_id, Residence.room_id)
        .join(Region, Region.id == Residence.room_id)
        .where(
            Region.path.startswith(estate.path),
            Residence.since <= today,
            or_(Residence.until.is_(None), Residence.until >= today),
        )
        .order_by(Residence.id)
        .limit(MAX_RESIDENTS * 2)
    ).all()
    rooms: dict[int, int] = {}
    for person_id, room_id in rows:
        rooms.setdefault(int(person_id), int(room_id))
    passes: list[EntryPass] = []
    for person_id, room_id in list(rooms.items())[:MAX_RESIDENTS]:
        try:
            passes.append(
                service.issue_pass(
                    session, _resident(person_id), estate_id=estate.id, room_id=room_id, now=now - timedelta(days=3)
                )
            )
        except (Conflict, Invalid):
            continue  # a household already at its limit, a blocked room
    if not passes:
        return
    host = _resident(passes[0].holder_person_id or 0)
    guest = visitors.invite(
        session,
        host,
        room_id=passes[0].room_id,
        name=rng.choice(VISITOR_NAMES),
        phone=f"139{rng.randrange(10**8):08d}",
        valid_from=now - timedelta(hours=2),
        valid_until=now + timedelta(hours=6),
        max_entries=2,
        now=now - timedelta(hours=2),
    ).entry_pass
    goods.register(
        session,
        _resident(passes[-1].holder_person_id or 0),
        room_id=passes[-1].room_id,
        description=rng.choice(GOODS),
        valid_from=None,
        valid_until=now + timedelta(hours=20),
        now=now,
    )
    if len(passes) > 3:
        service.revoke_pass(
            session, SYSTEM, pass_id=passes[3].id, reason="手机遗失，已补办", now=now - timedelta(hours=5)
        )
    events: list[AccessEvent] = []

    def event(p: EntryPass | None, direction: str, hours_ago: float, reason: str = "ok", gate: Device = east) -> None:
        if gate is south and hours_ago < 3:
            gate = east  # the south gate has been offline for three hours
        # The south gate was also offline from 12 to 10 hours ago: what it saw then came in later.
        offline = gate is south and 10 <= hours_ago <= 12
        at = now - timedelta(hours=hours_ago)
        events.append(
            AccessEvent(
                estate_id=estate.id,
                estate_path=estate.path,
                gate_id=gate.id,
                pass_id=p.id if p else None,
                person_id=p.holder_person_id if p else None,
                room_id=p.room_id if p else None,
                kind=p.kind if p else "unknown",
                direction=direction,
                result="allowed" if reason == "ok" else "refused",
                reason=reason,
                at=at,
                received_at=now - timedelta(hours=9.9) if offline else at,
                recorded_offline=offline,
                late=offline,
                client_id=f"{gate.code}-{len(events)}" if offline else None,
            )
        )

    for p in passes:
        leave = rng.uniform(9, 15)  # out in the morning, back in the evening (hours ago)
        gate = south if rng.random() < 0.3 else east
        event(p, "out", leave, gate=gate)
        event(p, "in", leave - rng.uniform(6, 9), gate=east if rng.random() < 0.7 else south)
    event(guest, "in", 1.5)
    guest.entries_left = 1
    event(passes[0], "in", 0.8, reason="stale")  # a screenshot
    if len(passes) > 3:
        event(passes[3], "in", 4.0, reason="revoked")
    event(None, "in", 2.2, reason="bad_signature")
    session.add_all(events)
    session.flush()
