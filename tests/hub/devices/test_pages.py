"""The device registry pages: list with filters, counts and map data, registering a device
(the key shown once; bad input answered on the form), the device page with readings, alarms
and entity link, key rotation, the rules editor; refused without device:manage."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.hub.devices.models import AlarmRule
from cityos.places.devices import service as registry
from cityos.places.devices.models import Device
from tests.factories import make_account, session_cookie
from tests.hub.devices.fixtures import HubWorld, later


def _sign_in(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))


def test_the_list_filters_and_maps_devices(client: TestClient, session: Session, hw: HubWorld) -> None:
    gauge = hw.device(session, "WL-P1", "water_level", "water-level", name="一号积水计")
    hw.device(session, "MH-P1", "manhole", "manhole-cover", name="一号井盖")
    session.commit()
    hw.observe(session, gauge, {"waterLevel": 0.5}, at=later(1))
    _sign_in(client, session, hw.officer_id)
    page = client.get("/hub/devices", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text[-800:]
    assert "设备管理" in page.text
    assert 'data-testid="device-WL-P1"' in page.text
    assert 'data-testid="device-MH-P1"' in page.text
    points = json.loads(re.search(r'<script type="application/json" id="hd-points">(.*?)</script>', page.text, re.S)[1])
    assert {p["code"]: p["status"] for p in points} == {"WL-P1": "alarm", "MH-P1": "online"}
    assert "道路积水" in page.text  # the open alarm, under its rule's name
    only = client.get("/hub/devices", params={"kind": "manhole"})
    assert 'data-testid="device-MH-P1"' in only.text
    assert 'data-testid="device-WL-P1"' not in only.text
    elsewhere = client.get("/hub/devices", params={"region_id": "999999", "status": "bogus"})
    assert elsewhere.status_code == 200  # an unknown place or status filters nothing
    assert 'data-testid="device-MH-P1"' in elsewhere.text
    street = client.get("/hub/devices", params={"region_id": str(hw.w.district_b.id)})
    assert 'data-testid="device-MH-P1"' not in street.text
    alarming = client.get("/hub/devices", params={"status": "alarm"})
    assert 'data-testid="device-WL-P1"' in alarming.text
    assert 'data-testid="device-MH-P1"' not in alarming.text


def test_registering_shows_the_key_once(client: TestClient, session: Session, hw: HubWorld) -> None:
    _sign_in(client, session, hw.officer_id)
    form = client.get("/hub/devices/new")
    assert form.status_code == 200
    assert "waste-container" in form.text
    made = client.post(
        "/hub/devices/new",
        data={
            "code": "BIN-P1",
            "name": "建设路果皮箱",
            "kind": "bin",
            "profile_code": "waste-container",
            "region_id": str(hw.w.street.id),
            "lon": "104.03",
            "lat": "30.04",
        },
    )
    assert made.status_code == 201, made.text
    key = re.search(r'data-testid="device-key">([^<]+)<', made.text)
    assert key is not None
    device = session.scalar(select(Device).where(Device.code == "BIN-P1"))
    assert device is not None
    assert registry.by_key(session, key[1].strip()).id == device.id
    detail = client.get(f"/hub/devices/{device.id}")
    assert key[1].strip() not in detail.text  # never shown again
    assert 'href="/hub/entities/urn%3Angsi-ld%3AWasteContainer%3ABIN-P1"' in detail.text


def test_bad_registration_is_answered_on_the_form(client: TestClient, session: Session, hw: HubWorld) -> None:
    _sign_in(client, session, hw.officer_id)
    bad = client.post(
        "/hub/devices/new",
        data={"code": "x", "name": "", "kind": "bin", "profile_code": "waste-container", "region_id": "", "lon": "abc"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    assert 'data-testid="error-lon"' in bad.text
    assert 'data-testid="error-region_id"' in bad.text
    assert "请修改下面标出的内容" in bad.text
    worse = client.post(
        "/hub/devices/new",
        data={"code": "x", "name": "", "kind": "bin", "profile_code": "nope", "region_id": str(hw.w.street.id)},
    )
    assert worse.status_code == 422
    assert 'data-testid="error-profile_code"' in worse.text
    assert session.scalar(select(Device).where(Device.code == "x")) is None


def test_the_device_page_and_key_rotation(client: TestClient, session: Session, hw: HubWorld) -> None:
    cover = hw.device(session, "MH-P2", "manhole", "manhole-cover", name="二号井盖")
    session.commit()
    registry.record_state(session, cover, state={"tiltAngle": 22.0, "batteryLevel": 0.8})
    session.commit()
    hw.observe(session, cover, {"tiltAngle": 22.0}, at=later(1))
    _sign_in(client, session, hw.officer_id)
    page = client.get(f"/hub/devices/{cover.id}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "tiltAngle" in page.text
    assert "80%" in page.text
    assert "井盖倾斜" in page.text  # its open alarm
    rotated = client.post(f"/hub/devices/{cover.id}/key")
    assert rotated.status_code == 200
    key = re.search(r'data-testid="device-key">([^<]+)<', rotated.text)
    assert key is not None
    assert registry.by_key(session, key[1].strip()).id == cover.id
    assert client.get("/hub/devices/999999").status_code == 404


def test_the_rules_editor(client: TestClient, session: Session, hw: HubWorld) -> None:
    _sign_in(client, session, hw.officer_id)
    page = client.get("/hub/devices/rules", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "垃圾桶满溢" in page.text
    made = client.post(
        "/hub/devices/rules",
        data={
            "name": "表计过高",
            "device_kind": "meter",
            "attribute": "numValue",
            "operator": ">=",
            "threshold": "1000",
            "clear_threshold": "800",
            "category_code": "component.01.06",
            "active": "1",
            "region_id": str(hw.w.district_a.id),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    rule = session.scalar(select(AlarmRule).where(AlarmRule.name == "表计过高"))
    assert rule is not None
    assert (rule.threshold, rule.clear_threshold, rule.active) == (1000, 800, True)
    bad = client.post(
        f"/hub/devices/rules/{rule.id}",
        data={"name": "表计过高", "device_kind": "meter", "attribute": "numValue", "operator": ">=", "threshold": "高",
              "category_code": "component.01.06"},
        headers={"Accept-Language": "zh-CN"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert 'data-testid="error-threshold"' in bad.text
    saved = client.post(
        f"/hub/devices/rules/{rule.id}",
        data={"name": "表计过高", "device_kind": "meter", "attribute": "numValue", "operator": ">=",
              "threshold": "1200", "category_code": "component.01.06"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    session.refresh(rule)
    assert (rule.threshold, rule.clear_threshold, rule.active) == (1200, None, False)
    assert client.get(f"/hub/devices/rules/{rule.id}").status_code == 200
    rule_id = rule.id
    gone = client.post(f"/hub/devices/rules/{rule_id}/delete", follow_redirects=False)
    assert gone.status_code == 303
    session.expire_all()
    assert session.scalar(select(AlarmRule).where(AlarmRule.id == rule_id)) is None


def test_pages_need_device_manage(client: TestClient, session: Session, hw: HubWorld) -> None:
    clerk = make_account(session, roles=["community_staff"], scope=hw.w.community)
    session.commit()
    _sign_in(client, session, clerk.id)
    for path in ("/hub/devices", "/hub/devices/new", "/hub/devices/rules"):
        assert client.get(path).status_code == 403, path
