"""The device registry: registration with field errors, device keys, reported states."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.places.devices import service as devices
from tests.factories import make_actor, make_world


def test_register_with_key_and_report_state(session: Session) -> None:
    world = make_world(session)
    manager = make_actor(session, roles=["property_manager"], scope=world.estate)
    made = devices.register(
        session,
        manager,
        code="gate-01",
        kind="gate",
        name="东门",
        region_id=world.estate.id,
        permission="pass:manage",
        with_key=True,
    )
    assert made.key is not None
    assert made.key.startswith("dk_")
    assert made.device.key_hash is not None
    assert made.key not in made.device.key_hash
    assert devices.by_key(session, made.key).id == made.device.id
    with pytest.raises(NotFound):
        devices.by_key(session, "dk_wrong")
    rotated = devices.new_key(session, made.device)
    assert rotated != made.key
    assert devices.by_key(session, rotated).id == made.device.id
    with pytest.raises(NotFound):
        devices.by_key(session, made.key)
    devices.record_state(session, made.device, status="alarm", state={"door": "forced"})
    devices.record_state(session, made.device, state={"battery": 0.9})
    assert made.device.state == {"door": "forced", "battery": 0.9}
    assert made.device.last_seen_at is not None
    assert devices.status_counts(session, region_path=world.district_a.path) == {"gate": {"alarm": 1}}
    assert devices.status_counts(session, region_path=world.district_b.path) == {}
    with pytest.raises(Invalid):
        devices.record_state(session, made.device, status="exploded")


def test_register_refuses_bad_input_and_other_areas(session: Session) -> None:
    world = make_world(session)
    manager = make_actor(session, roles=["property_manager"], scope=world.estate)
    with pytest.raises(Invalid) as exc:
        devices.register(
            session, manager, code="x", kind="Gate!", name="", region_id=world.other_room.id, permission="pass:manage"
        )
    assert {e.field for e in exc.value.details} == {"code", "kind", "name", "region_id"}
    resident = make_actor(session, roles=["resident"], scope=world.estate)
    with pytest.raises(Forbidden):
        devices.register(
            session,
            resident,
            code="gate-02",
            kind="gate",
            name="西门",
            region_id=world.estate.id,
            permission="pass:manage",
        )
    devices.register(
        session, manager, code="bin-1", kind="bin", name="1号桶", region_id=world.estate.id, permission="pass:manage"
    )
    with pytest.raises(Conflict):
        devices.register(
            session, manager, code="bin-1", kind="bin", name="重复", region_id=world.estate.id, permission="pass:manage"
        )
    assert [d.code for d in devices.in_region(session, manager, region=world.estate)] == ["bin-1"]
