"""The ingest API: devices registered and listed over JSON (device:manage, scoped), keys
rotated, and devices posting readings with their key — good, bad, mixed batches, unknown keys,
back-pressure."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.hub.ingest import api
from cityos.hub.ingest.models import IngestBinding
from cityos.hub.ngsi.service import get_entity
from cityos.hub.temporal.models import SensorObservation
from cityos.places.devices import service as devices
from tests.factories import bearer
from tests.hub.ingest.conftest import IngestWorld, register

ZH = {"Accept-Language": "zh-CN"}
URL = "/device-api/v1/hub/observations"


def _fields(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SensorObservation)) or 0


def test_register_list_rotate_over_json(client: TestClient, session: Session, iw: IngestWorld) -> None:
    officer = bearer(iw.officer.account_id)  # type: ignore[arg-type]
    body = {
        "code": "bin-9",
        "kind": "bin",
        "name": "九号桶",
        "region_id": iw.world.grid1.id,
        "profile_code": "waste-container",
    }
    bad = client.post(
        "/api/v1/hub/devices",
        json={**body, "code": "x", "profile_code": "toaster", "lon": 999},
        headers={**officer, **ZH},
    )
    assert bad.status_code == 422
    assert _fields(bad) == {"profile_code": "不是已有的设备模板。", "lon": "经度须在 -180 到 180 之间。"}
    assert client.post("/api/v1/hub/devices", json={**body, "extra": 1}, headers=officer).status_code == 422
    assert session.scalar(select(func.count()).select_from(IngestBinding)) == 0

    made = client.post("/api/v1/hub/devices", json=body, headers=officer)
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["key"].startswith("dk_")
    assert created["entity_id"] == "urn:ngsi-ld:WasteContainer:bin-9"
    assert created["mqtt_topic"] == "cityos/default/devices/bin-9/attrs"
    listed = client.get("/api/v1/hub/devices", headers=officer).json()
    assert listed["total"] == 1
    assert "key" not in listed["items"][0]
    one = client.get(f"/api/v1/hub/devices/{created['id']}", headers=officer)
    assert one.json()["profile_code"] == "waste-container"
    far = bearer(iw.far.account_id)  # type: ignore[arg-type]
    assert client.get(f"/api/v1/hub/devices/{created['id']}", headers=far).status_code == 404
    assert client.get("/api/v1/hub/devices", headers=far).json()["total"] == 0
    assert client.get("/api/v1/hub/devices", headers=bearer(iw.resident.account_id)).status_code == 403  # type: ignore[arg-type]
    assert client.get("/api/v1/hub/devices?status=asleep", headers=officer).status_code == 422

    rotated = client.post(f"/api/v1/hub/devices/{created['id']}/key", headers=officer)
    assert rotated.status_code == 200
    assert rotated.json()["key"] != created["key"]
    assert client.post(f"/api/v1/hub/devices/{created['id']}/key", headers=far).status_code == 404
    sent = {"mid": "1", "values": {"fill": 10}}
    assert client.post(URL, json=sent, headers={"X-Device-Key": created["key"]}).status_code == 401
    assert client.post(URL, json=sent, headers={"X-Device-Key": rotated.json()["key"]}).status_code == 200

    profiles = client.get("/api/v1/hub/profiles", headers={**officer, **ZH}).json()
    assert {p["code"] for p in profiles} >= {"traffic-loop", "gate-door"}
    assert next(p for p in profiles if p["code"] == "water-level")["name"] == "水位计"


def test_a_device_posts_one_message(client: TestClient, session: Session, iw: IngestWorld) -> None:
    _, key = register(session, iw, "door-1", "gate-door", kind="gate")
    ok = client.post(
        URL, json={"mid": "d1", "ts": utcnow().isoformat(), "values": {"door": "forced"}}, headers={"X-Device-Key": key}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {
        "accepted": 1, "duplicates": 0, "rejected": 0,
        "results": [{"index": 0, "mid": "d1", "status": "accepted", "reason": None, "errors": []}],
    }  # fmt: skip
    entity = get_entity(session, tenant="default", entity_id="urn:ngsi-ld:Device:door-1")
    assert entity is not None
    again = client.post(URL, json={"mid": "d1", "values": {"door": "forced"}}, headers={"X-Device-Key": key})
    assert again.status_code == 200
    assert again.json()["duplicates"] == 1
    assert _count(session) == 1

    bad = client.post(URL, json={"mid": "d2", "values": {"door": "ajar"}}, headers={"X-Device-Key": key, **ZH})
    assert bad.status_code == 422
    assert _fields(bad) == {"values.door": "必须是以下之一：closed, open, forced。"}
    assert bad.json()["results"][0]["reason"] == "invalid"
    assert _count(session) == 1
    stats = client.get("/api/v1/hub/ingest/stats", headers=bearer(iw.officer.account_id)).json()  # type: ignore[arg-type]
    assert (stats["accepted"], stats["duplicates"], stats["rejected"]) == (1, 1, {"invalid": 1})  # counted, not dropped
    officer = bearer(iw.officer.account_id)  # type: ignore[arg-type]
    naive = client.get("/api/v1/hub/ingest/stats?since=2026-12-01T00:00:00", headers={**officer, **ZH})
    assert naive.status_code == 422
    assert _fields(naive) == {"since": "时间须带时区，如 2026-12-01T08:00:00Z。"}
    assert client.get("/api/v1/hub/ingest/stats?since=soon", headers=officer).status_code == 422
    assert stats["latest_rejections"][0]["fields"] == [
        {"field": "values.door", "message": "Must be one of: closed, open, forced."}
    ]


def test_a_mixed_batch_stores_the_good_ones_and_answers_207(
    client: TestClient, session: Session, iw: IngestWorld
) -> None:
    _, key = register(session, iw, "lvl-3", "water-level", kind="water_level")
    batch = {
        "messages": [
            {"mid": "a", "values": {"level": 2.5}},
            {"mid": "b", "values": {"level": "high"}},
            {"mid": "c", "ts": (utcnow() - timedelta(minutes=1)).isoformat(), "values": {"level": 2.7}},
            {"values": {"level": 1}},
        ]
    }
    answer = client.post(URL, json=batch, headers={"X-Device-Key": key})
    assert answer.status_code == 207, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (2, 2)
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "accepted", "rejected"]
    assert body["results"][1]["errors"] == [{"field": "messages[1].values.level", "message": "Must be a number."}]
    assert body["results"][3]["errors"][0]["field"] == "messages[3].mid"
    assert _count(session) == 2
    all_bad = client.post(URL, json={"messages": [{"mid": "z", "values": {}}]}, headers={"X-Device-Key": key})
    assert all_bad.status_code == 422
    assert set(_fields(all_bad)) == {"messages[0].values"}
    too_many = {"messages": [{"mid": str(i), "values": {"level": 1}} for i in range(api.MAX_BATCH + 1)]}
    assert client.post(URL, json=too_many, headers={"X-Device-Key": key}).status_code == 422
    assert client.post(URL, json={"messages": []}, headers={"X-Device-Key": key}).status_code == 422
    assert _count(session) == 2


def test_unknown_keys_and_devices_outside_the_hub(client: TestClient, session: Session, iw: IngestWorld) -> None:
    sent = {"mid": "1", "values": {"value": 1}}
    assert client.post(URL, json=sent).status_code == 401
    assert client.post(URL, json=sent, headers={"X-Device-Key": "dk_nope"}).status_code == 401
    other = devices.register(
        session, iw.officer, code="gate-z", kind="gate", name="门", region_id=iw.world.grid1.id,
        permission="device:manage", with_key=True,
    )  # fmt: skip
    assert other.key is not None
    assert client.post(URL, json=sent, headers={"X-Device-Key": other.key}).status_code == 404
    assert _count(session) == 0


def test_busy_writers_answer_503_with_retry_after(client: TestClient, session: Session, iw: IngestWorld) -> None:
    _, key = register(session, iw, "meter-5", "meter", kind="meter")
    api.gate = api.Gate(1)
    assert api.gate.enter(0)  # the only writer is busy
    original = api.SLOT_WAIT_S
    api.SLOT_WAIT_S = 0.05
    try:
        busy = client.post(URL, json={"mid": "1", "values": {"value": 3}}, headers={"X-Device-Key": key, **ZH})
    finally:
        api.SLOT_WAIT_S = original
        api.gate.leave()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == str(api.RETRY_AFTER_S)
    assert busy.json()["error"]["message"] == "接入繁忙，请几秒后重试。"
    assert _count(session) == 0
    assert client.post(URL, json={"mid": "1", "values": {"value": 3}}, headers={"X-Device-Key": key}).status_code == 200
    assert _count(session) == 1
