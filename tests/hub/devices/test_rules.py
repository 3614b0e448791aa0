"""Alarm rules: create, change, delete through the API with field-level errors for bad input
(nothing written), data scoping (an area's manager sees the city's rules but cannot change
them), open alarms of one's area."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.hub.devices import service
from cityos.hub.devices.models import AlarmRule
from tests.factories import bearer, make_account
from tests.hub.devices.fixtures import HubWorld, later

GOOD: dict[str, Any] = {
    "name": "井盖倾斜（严格）",
    "profile_code": "manhole-cover",
    "attribute": "tiltAngle",
    "operator": ">",
    "threshold": 8,
    "clear_threshold": 3,
    "category_code": "component.01.03",
    "detail": "{name} 倾斜 {value}°",
}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AlarmRule)) or 0


def test_rules_crud_through_the_api(client: TestClient, session: Session, hw: HubWorld) -> None:
    auth = bearer(hw.officer_id)
    listed = client.get("/api/v1/hub/alarm-rules", headers=auth)
    assert listed.status_code == 200
    shipped = {r["code"]: r for r in listed.json() if r["code"]}
    assert shipped["bin-full"]["editable"] is True  # a city's manager may change the city's rules
    made = client.post("/api/v1/hub/alarm-rules", json={**GOOD, "region_id": hw.w.district_a.id}, headers=auth)
    assert made.status_code == 201, made.text
    rule = made.json()
    assert (rule["threshold"], rule["clear_threshold"], rule["region_id"]) == (8, 3, hw.w.district_a.id)
    changed = client.patch(
        f"/api/v1/hub/alarm-rules/{rule['id']}", json={"threshold": 10, "clear_threshold": None}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["threshold"], changed.json()["clear_threshold"], changed.json()["name"]) == (
        10,
        None,
        GOOD["name"],
    )
    gone = client.delete(f"/api/v1/hub/alarm-rules/{rule['id']}", headers=auth)
    assert gone.status_code == 204
    assert client.patch(f"/api/v1/hub/alarm-rules/{rule['id']}", json={}, headers=auth).status_code == 404


BAD: list[tuple[dict[str, Any], str]] = [
    ({"name": "  "}, "name"),
    ({"profile_code": None, "device_kind": None}, "device_kind"),
    ({"device_kind": "Bad Kind!"}, "device_kind"),
    ({"profile_code": "no-such-profile"}, "profile_code"),
    ({"attribute": "1st"}, "attribute"),
    ({"operator": "=~"}, "operator"),
    ({"threshold": "high"}, "threshold"),
    ({"threshold": True}, "threshold"),
    ({"clear_threshold": 12}, "clear_threshold"),  # an alarm above 8 cannot end above 8
    ({"operator": "==", "threshold": "open", "clear_threshold": 3}, "clear_threshold"),
    ({"category_code": "event"}, "category_code"),  # the top level
    ({"category_code": "nope.01"}, "category_code"),
    ({"detail": "x" * 201}, "detail"),
    ({"active": "yes"}, "active"),
    ({"region_id": 999999}, "region_id"),
]


def test_bad_rules_are_refused_field_by_field(client: TestClient, session: Session, hw: HubWorld) -> None:
    before = _count(session)
    headers = {**bearer(hw.officer_id), "Accept-Language": "zh-CN"}
    for change, field in BAD:
        response = client.post("/api/v1/hub/alarm-rules", json={**GOOD, **change}, headers=headers)
        assert response.status_code == 422, (change, response.text)
        details = response.json()["error"]["details"]
        assert field in {d["field"] for d in details}, change
        assert all(d["message"] and not d["message"].isascii() for d in details)  # in Chinese
    assert _count(session) == before


def test_a_bad_change_writes_nothing(session: Session, hw: HubWorld) -> None:
    rule = service.create_rule(session, hw.officer, **GOOD)
    session.commit()
    with pytest.raises(Invalid) as exc:
        service.update_rule(session, hw.officer, rule_id=rule.id, threshold="x", name="")
    assert {d.field for d in exc.value.details} == {"threshold", "name"}
    session.rollback()
    session.refresh(rule)
    assert (rule.threshold, rule.name) == (8, GOOD["name"])


def test_rules_are_scoped_by_area(client: TestClient, session: Session, hw: HubWorld) -> None:
    mine = service.create_rule(session, hw.officer, **GOOD, region_id=hw.w.district_a.id)
    theirs = service.create_rule(session, hw.other, **{**GOOD, "name": "乙区规则"})
    session.commit()
    visible = {r.id for r in service.list_rules(session, hw.other)}
    assert theirs.id in visible
    assert mine.id not in visible
    bin_full = session.scalar(select(AlarmRule).where(AlarmRule.code == "bin-full"))
    assert bin_full is not None
    assert bin_full.id in visible
    assert not service.editable(hw.other, bin_full)
    with pytest.raises(Forbidden):
        service.update_rule(session, hw.other, rule_id=bin_full.id, threshold=0.5)
    with pytest.raises(NotFound):
        service.delete_rule(session, hw.other, rule_id=mine.id)
    with pytest.raises(Invalid) as exc:
        service.create_rule(session, hw.other, **GOOD, region_id=hw.w.district_a.id)
    assert exc.value.details[0].field == "region_id"
    auth = bearer(hw.other_id)
    assert (
        client.patch(f"/api/v1/hub/alarm-rules/{bin_full.id}", json={"threshold": 0.5}, headers=auth).status_code == 403
    )
    assert client.delete(f"/api/v1/hub/alarm-rules/{mine.id}", headers=auth).status_code == 404
    resident = make_account(session, roles=["resident"], scope=hw.w.room)
    session.commit()
    assert client.get("/api/v1/hub/alarm-rules", headers=bearer(resident.id)).status_code == 403


def test_open_alarms_of_ones_area(client: TestClient, session: Session, hw: HubWorld) -> None:
    gauge = hw.device(session, "WL-100", "water_level", "water-level", name="一街道积水")
    session.commit()
    hw.observe(session, gauge, {"waterLevel": 0.6}, at=later(1))
    body = client.get("/api/v1/hub/alarms", headers=bearer(hw.officer_id)).json()
    assert body["total"] == 1
    alarm = body["items"][0]
    assert (alarm["device_code"], alarm["value"], alarm["category_code"]) == ("WL-100", 0.6, "event.04.04")
    assert alarm["alarm_id"].startswith("hub:")
    assert client.get("/api/v1/hub/alarms", headers=bearer(hw.other_id)).json()["total"] == 0
    filtered = client.get("/api/v1/hub/alarms", params={"device_id": gauge.id + 1000}, headers=bearer(hw.officer_id))
    assert filtered.json()["total"] == 0
    assert client.get("/api/v1/hub/alarms", params={"limit": 0}, headers=bearer(hw.officer_id)).status_code == 422
