"""Reactions to device readings: a crossing raises one DeviceAlarm and one case, hysteresis ends
the episode, a new crossing is a new case; community bins alarm once (the community's own),
street bins through the hub's rule; parking spots feed the community occupancy."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases.events import DeviceAlarm
from cityos.cases.models import Case
from cityos.community.property import parking
from cityos.core.models import OutboxEvent
from cityos.hub.devices import service
from cityos.hub.devices.models import AlarmRule, AlarmState
from tests.hub.devices.fixtures import HubWorld, later


def _cases(session: Session) -> list[Case]:
    return list(session.scalars(select(Case).order_by(Case.id)))


def _alarms(session: Session) -> list[dict]:
    return [e.payload for e in session.scalars(select(OutboxEvent).where(OutboxEvent.topic == DeviceAlarm.topic))]


def test_a_crossing_opens_one_case_and_hysteresis_ends_the_episode(session: Session, hw: HubWorld) -> None:
    gauge = hw.device(session, "WL-001", "water_level", "water-level", name="建设路积水监测")
    session.commit()
    hw.observe(session, gauge, {"waterLevel": 0.1}, at=later(1))
    assert _cases(session) == []
    hw.observe(session, gauge, {"waterLevel": 0.42}, at=later(2))
    made = _cases(session)
    assert len(made) == 1
    case = made[0]
    assert (case.category_code, case.channel, case.status) == ("event.04.04", "device", "found")
    assert "建设路积水监测" in case.title
    state = session.scalar(select(AlarmState).where(AlarmState.device_id == gauge.id))
    assert state is not None
    assert state.active
    assert state.episode == 1
    assert case.external_ref == f"device:{state.alarm_id}"
    assert gauge.status == "alarm"
    # Still high, then between the clear and the raise thresholds: the same episode, no new case.
    hw.observe(session, gauge, {"waterLevel": 0.5}, at=later(3))
    hw.observe(session, gauge, {"waterLevel": 0.25}, at=later(4))
    assert len(_cases(session)) == 1
    session.refresh(state)
    assert state.active
    # Below the clear threshold: the episode ends; a new crossing is a new alarm and a new case.
    hw.observe(session, gauge, {"waterLevel": 0.15}, at=later(5))
    session.refresh(state)
    assert not state.active
    assert state.cleared_at is not None
    assert gauge.status == "online"
    hw.observe(session, gauge, {"waterLevel": {"type": "Property", "value": 0.35}}, at=later(6))
    session.refresh(state)
    assert state.active
    assert state.episode == 2
    assert len(_cases(session)) == 2
    assert len({a["alarm_id"] for a in _alarms(session)}) == 2


def test_handlers_are_idempotent_and_late_readings_do_not_count(session: Session, hw: HubWorld) -> None:
    cover = hw.device(session, "MH-001", "manhole", "manhole-cover")
    session.commit()
    hw.observe(session, cover, {"tiltAngle": 30.0}, at=later(10), key="batch-1")
    hw.observe(session, cover, {"tiltAngle": 30.0}, at=later(10), key="batch-1-again")  # ingest sent it twice
    hw.observe(session, cover, {"tiltAngle": 2.0}, at=later(5))  # older than what decided: ignored
    assert len(_cases(session)) == 1
    state = session.scalar(select(AlarmState).where(AlarmState.device_id == cover.id))
    assert state is not None
    assert state.active
    assert state.episode == 1
    assert _cases(session)[0].category_code == "component.01.03"


def test_equality_rule_on_a_gate(session: Session, hw: HubWorld) -> None:
    gate = hw.device(session, "GATE-001", "gate", "gate-door")
    session.commit()
    hw.observe(session, gate, {"doorState": "open"}, at=later(1))
    hw.observe(session, gate, {"doorState": "forced"}, at=later(2))
    hw.observe(session, gate, {"doorState": "forced"}, at=later(3))
    assert [c.category_code for c in _cases(session)] == ["event.08"]
    hw.observe(session, gate, {"doorState": "closed"}, at=later(4))
    state = session.scalar(select(AlarmState).where(AlarmState.device_id == gate.id))
    assert state is not None
    assert not state.active


def test_a_community_bin_alarms_once_and_a_street_bin_through_the_hub(session: Session, hw: HubWorld) -> None:
    estate_bin = hw.device(session, "BIN-E1", "bin", "waste-container", region=hw.w.estate, name="1栋厨余桶")
    street_bin = hw.device(session, "BIN-S1", "bin", "waste-container", region=hw.w.street, name="建设路果皮箱")
    session.commit()
    hw.observe(session, estate_bin, {"fillingLevel": 0.95}, at=later(1))
    made = _cases(session)
    assert len(made) == 1  # the community's alarm; the hub's bin rule leaves community bins alone
    assert made[0].external_ref.startswith("device:bin:")
    assert session.scalar(select(func.count()).select_from(AlarmState)) == 0
    assert estate_bin.state["fill_level"] == 0.95
    assert estate_bin.status == "alarm"
    hw.observe(session, estate_bin, {"fillingLevel": 0.97}, at=later(2))
    assert len(_cases(session)) == 1
    hw.observe(session, street_bin, {"fillingLevel": 0.92}, at=later(3))
    made = _cases(session)
    assert len(made) == 2
    assert made[1].category_code == "event.01.01"
    assert "建设路果皮箱" in made[1].title
    assert made[1].external_ref.startswith("device:hub:")


def test_parking_spots_feed_the_community_occupancy(session: Session, hw: HubWorld) -> None:
    spots = [hw.device(session, f"PS-{i}", "parking_spot", "parking-spot", region=hw.w.estate) for i in range(3)]
    session.commit()
    assert parking.occupancy(session, region_path=hw.w.estate.path) == (0, 3)
    hw.observe(session, spots[0], {"status": "occupied"}, at=later(1))
    hw.observe(session, spots[1], {"status": "occupied"}, at=later(1))
    hw.observe(session, spots[2], {"status": "closed"}, at=later(1))  # says nothing about a car
    assert parking.occupancy(session, region_path=hw.w.estate.path) == (2, 3)
    hw.observe(session, spots[0], {"status": "free"}, at=later(2))
    assert parking.occupancy(session, region_path=hw.w.estate.path) == (1, 3)
    assert spots[1].state["since"] is not None


def test_turning_a_rule_off_ends_its_alarms(session: Session, hw: HubWorld) -> None:
    gauge = hw.device(session, "WL-002", "water_level", "water-level")
    session.commit()
    hw.observe(session, gauge, {"waterLevel": 1.0}, at=later(1))
    rule = session.scalar(select(AlarmRule).where(AlarmRule.code == "water-level-high"))
    assert rule is not None
    assert service.open_alarms(session, hw.officer)[1] == 1
    assert service.open_alarms(session, hw.other)[1] == 0  # district B does not see district A's
    service.update_rule(session, hw.officer, rule_id=rule.id, active=False)
    session.commit()
    assert service.open_alarms(session, hw.officer)[1] == 0
    assert gauge.status == "online"
    hw.observe(session, gauge, {"waterLevel": 1.2}, at=later(2))
    assert len(_cases(session)) == 1


def test_a_device_kind_rule_of_an_area(session: Session, hw: HubWorld) -> None:
    rule = service.create_rule(
        session,
        hw.officer,
        name="表计读数过高",
        device_kind="meter",
        attribute="numValue",
        operator=">=",
        threshold=1000,
        category_code="component.01.06",
        detail="{name} 读数 {value}",
        region_id=hw.w.district_a.id,
    )
    inside = hw.device(session, "MTR-A", "meter", "meter", region=hw.w.street)
    outside = hw.device(session, "MTR-B", "meter", "meter", region=hw.w.district_b, lon=104.15, lat=30.05)
    session.commit()
    hw.observe(session, inside, {"numValue": 1500}, at=later(1))
    hw.observe(session, outside, {"numValue": 1500}, at=later(1))
    made = _cases(session)
    assert len(made) == 1
    assert made[0].description == "MTR-A 读数 1500"
    assert session.scalar(select(AlarmState.rule_id)) == rule.id


def test_the_shipped_rules_install_once(session: Session, hw: HubWorld) -> None:
    assert service.install_rules(session) == 0
    codes = set(session.scalars(select(AlarmRule.code)))
    assert {"bin-full", "gate-forced", "manhole-tilted", "water-level-high"} <= codes


def test_deleting_a_rule_removes_its_alarms(session: Session, hw: HubWorld) -> None:
    rule = service.create_rule(
        session,
        hw.officer,
        name="表计过高",
        device_kind="meter",
        attribute="numValue",
        operator=">",
        threshold=10,
        category_code="component.01.06",
    )
    meter = hw.device(session, "MTR-D", "meter", "meter")
    session.commit()
    hw.observe(session, meter, {"numValue": 50}, at=later(1))
    assert service.open_alarms(session, hw.officer)[1] == 1
    assert meter.status == "alarm"
    service.delete_rule(session, hw.officer, rule_id=rule.id)
    session.commit()
    assert session.scalar(select(func.count()).select_from(AlarmState)) == 0
    assert meter.status == "online"
    assert len(_cases(session)) == 1  # the case stays
