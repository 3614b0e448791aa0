"""A gate online: it enforces what the token alone cannot — the pass's state, time windows,
exits per period, a visitor's entries — and records every event; a visitor pass expires on time
and counts entries; events a gate recorded offline are synchronised once, late ones flagged;
goods-out slips are let out once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.access import gates, goods, rules, service, visitors
from cityos.community.access.models import AccessEvent, EntryPass
from cityos.core.errors import Conflict, Forbidden, Invalid, Unauthorized
from cityos.core.pagination import PageParams
from cityos.places.devices import service as devices
from tests.community.access_fixtures import AccessWorld, make_access_world
from tests.factories import make_actor

NOW = datetime(2026, 12, 1, 2, 0, 3, tzinfo=UTC)  # 10:00:03 in the city


@pytest.fixture
def aw(session: Session) -> AccessWorld:
    return make_access_world(session)


def _gate(session: Session, aw: AccessWorld, at: datetime = NOW) -> gates.Gate:
    return gates.gate_for_key(session, aw.gate_key, now=at)


def _show(session: Session, aw: AccessWorld, p: EntryPass, direction: str, at: datetime) -> gates.Decision:
    token = service.sign_token(session, p, now=at).token
    return gates.verify(session, _gate(session, aw, at), token=token, direction=direction, now=at)


def _events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AccessEvent)) or 0)


def test_gate_key_is_checked(session: Session, aw: AccessWorld) -> None:
    with pytest.raises(Unauthorized):
        gates.gate_for_key(session, None)
    with pytest.raises(Unauthorized):
        gates.gate_for_key(session, "dk_not-a-key")
    meter = devices.register(
        session,
        aw.manager,
        code="meter-1",
        kind="meter_water",
        name="水表",
        region_id=aw.estate.id,
        permission="pass:manage",
        with_key=True,
    )
    with pytest.raises(Forbidden):
        gates.gate_for_key(session, meter.key)
    gate = _gate(session, aw)
    assert gate.device.id == aw.gate.id
    assert gate.estate.id == aw.estate.id
    assert gate.device.last_seen_at == NOW


def test_allowed_entry_is_recorded_with_the_person(session: Session, aw: AccessWorld) -> None:
    p = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW - timedelta(days=1))
    decision = _show(session, aw, p, "in", NOW)
    assert decision.allowed
    assert decision.reason == "ok"
    e = decision.event
    assert (e.gate_id, e.pass_id, e.person_id, e.room_id, e.kind, e.direction, e.result) == (
        aw.gate.id,
        p.id,
        aw.owner.id,
        aw.world.room.id,
        "resident",
        "in",
        "allowed",
    )
    assert not e.recorded_offline
    # A revoked pass: the gate online knows at once, whatever list it holds.
    service.revoke_pass(session, aw.manager, pass_id=p.id, reason="测试", now=NOW)
    refused = _show(session, aw, p, "in", NOW + timedelta(seconds=1))
    assert (refused.allowed, refused.reason, refused.event.result) == (False, "revoked", "refused")
    assert refused.event.pass_id == p.id
    # A forged code names no pass.
    junk = gates.verify(session, _gate(session, aw), token="garbage", direction="in", now=NOW)
    assert (junk.reason, junk.event.pass_id, junk.event.kind) == ("malformed", None, "unknown")
    with pytest.raises(Invalid):
        gates.verify(session, _gate(session, aw), token="garbage", direction="sideways", now=NOW)
    assert _events(session) == 3


def test_exits_per_period(session: Session, aw: AccessWorld) -> None:
    rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"exit_limit": 1, "exit_period_hours": 48})
    p = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW - timedelta(days=1))
    assert _show(session, aw, p, "out", NOW).allowed
    assert _show(session, aw, p, "in", NOW + timedelta(hours=2)).allowed  # coming back is fine
    second = _show(session, aw, p, "out", NOW + timedelta(hours=3))
    assert (second.allowed, second.reason) == (False, "exit_limit")
    # The limit is per household: another member of room 101 is refused too.
    from tests.community.access_fixtures import residence
    from tests.factories import make_person

    spouse = make_person(session, name="王太太")
    residence(session, spouse, aw.world.room, "family")
    spouse_actor = make_actor(session, roles=["resident"], scope=aw.estate, person_id=spouse.id)
    q = service.issue_pass(session, spouse_actor, estate_id=aw.estate.id, now=NOW)
    assert _show(session, aw, q, "out", NOW + timedelta(hours=4)).reason == "exit_limit"
    # Room 102 is another household.
    t = service.issue_pass(session, aw.tenant_actor, estate_id=aw.estate.id, now=NOW)
    assert _show(session, aw, t, "out", NOW + timedelta(hours=4)).allowed
    # After the period the household may go out again.
    assert _show(session, aw, p, "out", NOW + timedelta(hours=48, seconds=1)).allowed


def test_time_window_for_tenants_owners_always(session: Session, aw: AccessWorld) -> None:
    rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"windows": {"tenant": ["06:00", "23:00"]}})
    owner = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW - timedelta(days=1))
    tenant = service.issue_pass(session, aw.tenant_actor, estate_id=aw.estate.id, now=NOW - timedelta(days=1))
    night = datetime(2026, 12, 1, 16, 30, 1, tzinfo=UTC)  # 00:30 local
    assert _show(session, aw, tenant, "in", NOW).allowed  # 10:00 local
    assert _show(session, aw, tenant, "in", night).reason == "outside_window"
    assert _show(session, aw, owner, "in", night).allowed


def test_visitor_pass_counts_entries_and_expires_on_time(session: Session, aw: AccessWorld) -> None:
    invitation = visitors.invite(
        session,
        aw.owner_actor,
        room_id=aw.world.room.id,
        name="陈访客",
        phone="139 0000 1234",
        valid_from=NOW,
        valid_until=NOW + timedelta(hours=3),
        max_entries=2,
        now=NOW,
    )
    p = invitation.entry_pass
    assert (p.kind, p.host_person_id, p.holder_person_id, p.entries_left) == ("visitor", aw.owner.id, None, 2)
    assert visitors.visitor_name(p, masked=True) == "陈**"
    assert visitors.visitor_phone(p) == "139****1234"
    assert "陈访客" not in (p.visitor_name_enc or "")  # stored encrypted
    assert visitors.by_link(session, invitation.code).id == p.id

    first = _show(session, aw, p, "in", NOW + timedelta(minutes=5))
    assert first.allowed
    assert first.event.kind == "visitor"
    assert first.event.person_id is None
    assert p.entries_left == 1
    assert _show(session, aw, p, "out", NOW + timedelta(minutes=50)).allowed  # leaving does not count
    assert _show(session, aw, p, "in", NOW + timedelta(hours=1)).allowed
    assert p.entries_left == 0
    assert p.status == "used_up"
    assert _show(session, aw, p, "in", NOW + timedelta(hours=1, minutes=5)).reason == "no_entries_left"
    assert p.id in service.revocation_list(session, aw.estate, now=NOW + timedelta(hours=1, minutes=6)).passes

    later = visitors.invite(
        session,
        aw.owner_actor,
        room_id=aw.world.room.id,
        name="周",
        phone="13900001111",
        valid_from=NOW,
        valid_until=NOW + timedelta(hours=2),
        max_entries=4,
        now=NOW,
    ).entry_pass
    assert _show(session, aw, later, "in", NOW + timedelta(hours=1, minutes=59)).allowed
    assert _show(session, aw, later, "in", NOW + timedelta(hours=2)).reason == "expired"  # on time, to the second
    with pytest.raises(Conflict):
        service.usable_token(session, later, now=NOW + timedelta(hours=2))


def test_visitor_pass_not_valid_before_its_start(session: Session, aw: AccessWorld) -> None:
    tomorrow = NOW + timedelta(days=1)
    p = visitors.invite(
        session,
        aw.owner_actor,
        room_id=aw.world.room.id,
        name="明天来",
        phone="13900001111",
        valid_from=tomorrow,
        valid_until=tomorrow + timedelta(hours=4),
        max_entries=1,
        now=NOW,
    ).entry_pass
    with pytest.raises(Conflict):
        service.usable_token(session, p, now=NOW)
    assert _show(session, aw, p, "in", NOW).reason == "not_yet_valid"
    assert _show(session, aw, p, "in", tomorrow + timedelta(minutes=1)).allowed


def test_visitor_invitation_bad_input(session: Session, aw: AccessWorld) -> None:
    rules.update(
        session, aw.manager, estate_id=aw.estate.id, changes={"visitor_max_hours": 4, "visitor_max_entries": 3}
    )
    with pytest.raises(Invalid) as bad:
        visitors.invite(
            session,
            aw.owner_actor,
            room_id=aw.world.room2.id,
            name=" ",
            phone="12345",
            valid_from=NOW - timedelta(hours=1),
            valid_until=NOW - timedelta(hours=2),
            max_entries=9,
            now=NOW,
        )
    fields = {d.field: d for d in bad.value.details}
    assert set(fields) == {"room_id", "name", "phone", "valid_from", "valid_until", "max_entries"}
    with pytest.raises(Invalid) as long:
        visitors.invite(
            session,
            aw.owner_actor,
            room_id=aw.world.room.id,
            name="张",
            phone="13900001111",
            valid_from=NOW,
            valid_until=NOW + timedelta(hours=5),
            max_entries=1,
            now=NOW,
        )
    assert long.value.details[0].field == "valid_until"
    assert long.value.details[0].params == {"hours": 4}
    with pytest.raises(Invalid) as nobody:
        visitors.invite(
            session,
            aw.stranger_actor,
            room_id=aw.world.room.id,
            name="张",
            phone="13900001111",
            valid_from=None,
            valid_until=None,
            max_entries=None,
            now=NOW,
        )
    assert nobody.value.details[0].field == "room_id"
    # Defaults: now, the longest visit, the most entries.
    p = visitors.invite(
        session,
        aw.owner_actor,
        room_id=aw.world.room.id,
        name="张",
        phone="13900001111",
        valid_from=None,
        valid_until=None,
        max_entries=None,
        now=NOW,
    ).entry_pass
    assert (p.valid_from, p.valid_until, p.entries_max) == (NOW, NOW + timedelta(hours=4), 3)
    assert int(session.scalar(select(func.count()).select_from(EntryPass)) or 0) == 1
    visitors.cancel(session, aw.owner_actor, pass_id=p.id, now=NOW)
    assert p.status == "cancelled"
    assert _show(session, aw, p, "in", NOW + timedelta(seconds=1)).reason == "cancelled"


def test_offline_events_sync_once_and_late_ones_are_flagged(session: Session, aw: AccessWorld) -> None:
    p = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW - timedelta(days=1))
    v = visitors.invite(
        session,
        aw.owner_actor,
        room_id=aw.world.room.id,
        name="钱",
        phone="13900001111",
        valid_from=NOW - timedelta(hours=2),
        valid_until=NOW + timedelta(hours=2),
        max_entries=2,
        now=NOW - timedelta(hours=2),
    ).entry_pass
    batch = [
        gates.OfflineEvent(
            id="g1-0001", direction="out", result="allowed", reason="ok", at=NOW - timedelta(hours=1), pass_id=p.id
        ),
        gates.OfflineEvent(
            id="g1-0002", direction="in", result="allowed", reason="ok", at=NOW - timedelta(minutes=5), pass_id=v.id
        ),
        gates.OfflineEvent(
            id="g1-0003", direction="in", result="refused", reason="stale", at=NOW - timedelta(minutes=4)
        ),
        gates.OfflineEvent(
            id="g1-0003", direction="in", result="refused", reason="stale", at=NOW - timedelta(minutes=4)
        ),
    ]
    first = gates.upload(session, _gate(session, aw), events=batch, now=NOW)
    assert (first.accepted, first.duplicates, first.late) == (3, 1, 1)
    assert _events(session) == 3
    assert v.entries_left == 1  # the offline entry counted
    again = gates.upload(session, _gate(session, aw), events=batch, now=NOW + timedelta(minutes=1))
    assert (again.accepted, again.duplicates) == (0, 4)
    assert _events(session) == 3
    rows = session.scalars(select(AccessEvent).order_by(AccessEvent.at)).all()
    assert [r.late for r in rows] == [True, False, False]
    assert all(r.recorded_offline for r in rows)
    assert rows[0].person_id == aw.owner.id
    assert rows[0].room_id == aw.world.room.id
    # The synced exit counts toward the household's exits.
    rules.update(session, aw.manager, estate_id=aw.estate.id, changes={"exit_limit": 1, "exit_period_hours": 24})
    assert _show(session, aw, p, "out", NOW + timedelta(minutes=2)).reason == "exit_limit"


def test_a_bad_offline_batch_stores_nothing(session: Session, aw: AccessWorld) -> None:
    other_actor = make_actor(session, roles=["resident"], scope=aw.other_estate)
    assert other_actor.person_id is None
    foreign = EntryPass(
        estate_id=aw.other_estate.id,
        estate_path=aw.other_estate.path,
        room_id=aw.world.other_room.id,
        room_code=aw.world.other_room.code,
        label="月亮小区",
        kind="resident",
        relation="owner",
        status="active",
        valid_from=NOW,
        valid_until=NOW + timedelta(days=1),
    )
    session.add(foreign)
    session.flush()
    batch = [
        gates.OfflineEvent(id="ok-1", direction="in", result="allowed", reason="ok", at=NOW - timedelta(minutes=1)),
        gates.OfflineEvent(id="bad-1", direction="in", result="allowed", reason="ok", at=NOW + timedelta(hours=1)),
        gates.OfflineEvent(id="bad-2", direction="in", result="allowed", reason="ok", at=NOW, pass_id=foreign.id),
    ]
    with pytest.raises(Invalid) as bad:
        gates.upload(session, _gate(session, aw), events=batch, now=NOW)
    assert [d.field for d in bad.value.details] == ["events.1.at", "events.2.pass_id"]
    assert _events(session) == 0
    with pytest.raises(Invalid):
        gates.upload(session, _gate(session, aw), events=[], now=NOW)


def test_config_holds_what_a_gate_needs(session: Session, aw: AccessWorld) -> None:
    p = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW)
    service.revoke_pass(session, aw.manager, pass_id=p.id, reason="x", now=NOW)
    config = gates.config(session, _gate(session, aw), now=NOW)
    assert config["estate"] == {"id": aw.estate.id, "name": "阳光小区"}
    assert config["key"]["public_key"] == service.public_key(session, aw.estate.id)[1]
    assert config["rotation_seconds"] == 10
    assert config["skew_steps"] == 1
    assert config["rules"]["validity_days"] == 30
    assert config["revocations"]["passes"] == [p.id]


def test_access_log_filters_pages_and_masks(session: Session, aw: AccessWorld) -> None:
    p = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW - timedelta(days=1))
    for i in range(3):
        _show(session, aw, p, "in" if i % 2 == 0 else "out", NOW + timedelta(minutes=i))
    gates.verify(session, _gate(session, aw), token="junk", direction="in", now=NOW)
    rows, total, masked = gates.access_log(
        session, aw.observer, estate_id=aw.estate.id, filters=gates.LogFilter(), params=PageParams(page=1, size=2)
    )
    assert total == 4
    assert len(rows) == 2
    assert masked
    assert rows[0].person == "王**"
    assert rows[0].gate == "东门"
    assert rows[0].place == "阳光小区 1栋 1单元 101"
    refused, total_refused, _ = gates.access_log(
        session, aw.observer, estate_id=aw.estate.id, filters=gates.LogFilter(result="refused"), params=PageParams()
    )
    assert total_refused == 1
    assert refused[0].event.reason == "malformed"
    outs, n_out, _ = gates.access_log(
        session, aw.observer, estate_id=aw.estate.id, filters=gates.LogFilter(direction="out"), params=PageParams()
    )
    assert n_out == 1
    admin = make_actor(session, roles=["admin"], scope=aw.world.city)
    full, _, unmasked = gates.access_log(
        session, admin, estate_id=aw.estate.id, filters=gates.LogFilter(), params=PageParams()
    )
    assert not unmasked
    assert full[0].person == "王建国"
    with pytest.raises(Invalid):
        gates.access_log(
            session,
            aw.observer,
            estate_id=aw.estate.id,
            filters=gates.LogFilter(date_from=NOW.date(), date_to=NOW.date() - timedelta(days=1)),
            params=PageParams(),
        )
    assert service.stats(session, region=aw.estate, now=NOW + timedelta(minutes=5))["refused_today"] == 1


def test_goods_slip_goes_out_once(session: Session, aw: AccessWorld) -> None:
    slip = goods.register(
        session,
        aw.owner_actor,
        room_id=aw.world.room.id,
        description="旧沙发一张",
        valid_from=None,
        valid_until=NOW + timedelta(hours=6),
        now=NOW,
    )
    assert len(slip.code) == 8
    with pytest.raises(Forbidden):
        goods.let_out(session, aw.estate, code=slip.code, actor=aw.observer, now=NOW)
    assert goods.let_out(session, aw.estate, code="NOPE1234", gate=aw.gate, now=NOW).reason == "slip_not_found"
    assert goods.let_out(session, aw.other_estate, code=slip.code, gate=aw.gate, now=NOW).reason == "slip_not_found"
    done = goods.let_out(session, aw.estate, code=slip.code.lower(), actor=aw.manager, now=NOW + timedelta(minutes=1))
    assert done.allowed
    assert slip.status == "used"
    assert goods.let_out(session, aw.estate, code=slip.code, gate=aw.gate, now=NOW).reason == "slip_used"
    with pytest.raises(Invalid) as bad:
        goods.register(
            session,
            aw.owner_actor,
            room_id=aw.world.room.id,
            description="",
            valid_from=NOW,
            valid_until=NOW + timedelta(days=8),
            now=NOW,
        )
    assert {d.field for d in bad.value.details} == {"description", "valid_until"}
    late = goods.register(
        session,
        aw.owner_actor,
        room_id=aw.world.room.id,
        description="纸箱",
        valid_from=NOW,
        valid_until=NOW + timedelta(hours=1),
        now=NOW,
    )
    assert (
        goods.let_out(session, aw.estate, code=late.code, gate=aw.gate, now=NOW + timedelta(hours=2)).reason
        == "slip_expired"
    )
    kinds = session.scalars(select(AccessEvent.kind).where(AccessEvent.kind == "goods")).all()
    assert len(kinds) == 5
