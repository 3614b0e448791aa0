"""community.access over HTTP: a resident's pass and token, visitors and slips; the property
office's lists, rules and blocked rooms; the gates' device API with its key (401 without one);
bad input answered with field-level messages in the caller's language and nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.community.access import offline
from cityos.community.access.models import AccessEvent, AccessRules, EntryPass, GoodsSlip
from cityos.core.models import AuditRecord
from tests.community.access_fixtures import AccessWorld, make_access_world
from tests.factories import bearer, make_account

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def aw(session: Session) -> AccessWorld:
    w = make_access_world(session)
    session.commit()
    return w


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _audited(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).where(AuditRecord.action == "pii.read")) or 0)


def _gate(aw: AccessWorld) -> dict[str, str]:
    return {"X-Device-Key": aw.gate_key}


def test_resident_gets_a_pass_and_its_rotating_token(client: TestClient, session: Session, aw: AccessWorld) -> None:
    me = bearer(aw.owner_account_id)
    join = client.get(f"/api/v1/estates/{aw.estate.id}/join", headers=me)
    assert join.status_code == 200
    assert join.json()["rooms"] == [
        {"room_id": aw.world.room.id, "label": "阳光小区 1栋 1单元 101", "relation": "owner", "pass_id": None}
    ]
    made = client.post("/api/v1/passes", json={"estate_id": aw.estate.id}, headers=me)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["status"], body["holder_name"], body["label"]) == ("active", "王建国", "阳光小区 1栋 1单元 101")
    listed = client.get("/api/v1/passes", headers=me).json()
    assert [p["id"] for p in listed] == [body["id"]]
    assert _audited(session) == 0  # one's own pass is not someone else's personal data
    admin = make_account(session, roles=["admin"], scope=aw.world.city)
    session.commit()
    seen = client.get(f"/api/v1/estates/{aw.estate.id}/passes", headers=bearer(admin.id)).json()
    assert seen["masked"] is False
    assert seen["items"][0]["holder_name"] == "王建国"
    assert _audited(session) == 1  # pii:read unmasks, and the read is audited
    masked = client.get(f"/api/v1/estates/{aw.estate.id}/passes", headers=bearer(aw.manager_account_id)).json()
    assert masked["items"][0]["holder_name"] == "王**"
    token = client.get(f"/api/v1/passes/{body['id']}/token", headers=me)
    assert token.status_code == 200
    t = token.json()
    assert t["rotation_seconds"] == 10
    assert offline.decode(t["token"])["p"] == body["id"]  # type: ignore[index]
    # Nobody else gets the token of my pass.
    assert client.get(f"/api/v1/passes/{body['id']}/token", headers=bearer(aw.tenant_account_id)).status_code == 404
    assert client.get(f"/api/v1/passes/{body['id']}/token", headers=bearer(aw.manager_account_id)).status_code == 404


def test_refusals_speak_the_callers_language(client: TestClient, session: Session, aw: AccessWorld) -> None:
    stranger = bearer(aw.manager_account_id)  # no person: no residence
    zh = client.post("/api/v1/passes", json={"estate_id": aw.estate.id}, headers={**stranger, **ZH})
    assert zh.status_code == 403  # a property manager does not hold passes
    owner = bearer(aw.owner_account_id)
    other = client.post("/api/v1/passes", json={"estate_id": aw.other_estate.id}, headers={**owner, **ZH})
    assert other.status_code == 422
    detail = other.json()["error"]["details"][0]
    assert detail["field"] == "room_id"
    assert "物业" in detail["message"]
    en = client.post("/api/v1/passes", json={"estate_id": aw.other_estate.id}, headers=owner)
    assert "property office" in en.json()["error"]["details"][0]["message"]
    typed = client.post("/api/v1/passes", json={"estate_id": "one"}, headers=owner)
    assert typed.status_code == 422
    assert typed.json()["error"]["details"][0]["field"] == "estate_id"
    assert _count(session, EntryPass) == 0


def test_rules_api_bad_input_and_the_observer(client: TestClient, session: Session, aw: AccessWorld) -> None:
    manager = {**bearer(aw.manager_account_id), **ZH}
    url = f"/api/v1/estates/{aw.estate.id}/access-rules"
    bad = client.patch(url, json={"rotation_seconds": 1, "windows": {"tenant": ["23:00", "06:00"]}}, headers=manager)
    assert bad.status_code == 422
    details = {d["field"]: d["message"] for d in bad.json()["error"]["details"]}
    assert set(details) == {"rotation_seconds", "windows.tenant"}
    assert "5" in details["rotation_seconds"]
    assert "300" in details["rotation_seconds"]
    assert _count(session, AccessRules) == 0
    extra = client.patch(url, json={"colour": "blue"}, headers=manager)
    assert extra.status_code == 422
    good = client.patch(url, json={"exit_limit": 1, "exit_period_hours": 48}, headers=manager)
    assert good.status_code == 200
    assert (good.json()["exit_limit"], good.json()["exit_period_hours"]) == (1, 48)
    observer = bearer(aw.observer_account_id)
    assert client.get(url, headers=observer).json()["exit_limit"] == 1
    assert client.patch(url, json={"exit_limit": 2}, headers=observer).status_code == 403
    blocked = client.post(
        f"/api/v1/estates/{aw.estate.id}/blocked-rooms",
        json={"room_id": aw.world.room.id, "reason": "x"},
        headers=observer,
    )
    assert blocked.status_code == 403
    gate = client.post(f"/api/v1/estates/{aw.estate.id}/gates", json={"name": "西门"}, headers=observer)
    assert gate.status_code == 403
    assert client.get(url, headers=observer).json()["exit_limit"] == 1


def test_blocked_rooms_and_gates(client: TestClient, session: Session, aw: AccessWorld) -> None:
    manager = bearer(aw.manager_account_id)
    base = f"/api/v1/estates/{aw.estate.id}"
    bad = client.post(f"{base}/blocked-rooms", json={"room_id": aw.world.other_room.id, "reason": ""}, headers=manager)
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"room_id", "reason"}
    ok = client.post(f"{base}/blocked-rooms", json={"room_id": aw.world.room.id, "reason": "居家观察"}, headers=manager)
    assert ok.status_code == 201
    assert (
        client.post(
            f"{base}/blocked-rooms", json={"room_id": aw.world.room.id, "reason": "再次"}, headers=manager
        ).status_code
        == 409
    )
    assert [b["reason"] for b in client.get(f"{base}/blocked-rooms", headers=manager).json()] == ["居家观察"]
    assert client.delete(f"{base}/blocked-rooms/{aw.world.room.id}", headers=manager).status_code == 204
    assert client.delete(f"{base}/blocked-rooms/{aw.world.room.id}", headers=manager).status_code == 404

    made = client.post(f"{base}/gates", json={"name": "西门"}, headers=manager)
    assert made.status_code == 201
    key = made.json()["key"]
    assert key.startswith("dk_")
    listed = client.get(f"{base}/gates", headers=manager).json()
    assert {g["name"] for g in listed} == {"东门", "西门"}
    assert all(g["key"] is None for g in listed)  # the key is shown only once
    assert client.get("/device-api/v1/gates/config", headers={"X-Device-Key": key}).status_code == 200
    assert client.post(f"{base}/gates", json={"name": ""}, headers=manager).status_code == 422


def test_device_api_needs_the_gate_key(client: TestClient, session: Session, aw: AccessWorld) -> None:
    for method, path, body in (
        ("GET", "/device-api/v1/gates/config", None),
        ("GET", "/device-api/v1/gates/revocations", None),
        ("POST", "/device-api/v1/gates/verify", {"token": "x", "direction": "in"}),
        (
            "POST",
            "/device-api/v1/gates/events",
            {"events": [{"id": "1", "direction": "in", "result": "allowed", "at": "2026-12-01T00:00:00Z"}]},
        ),
        ("POST", "/device-api/v1/gates/goods", {"code": "ABCD2345"}),
    ):
        assert client.request(method, path, json=body).status_code == 401, path
        wrong = client.request(method, path, json=body, headers={"X-Device-Key": "dk_wrong"})
        assert wrong.status_code == 401, path
        assert wrong.json()["error"]["code"] == "unauthorized"
        # A person's sign-in is not a gate's key.
        assert client.request(method, path, json=body, headers=bearer(aw.manager_account_id)).status_code == 401
    assert _count(session, AccessEvent) == 0


def test_gate_verifies_syncs_and_lets_goods_out(client: TestClient, session: Session, aw: AccessWorld) -> None:
    me = bearer(aw.owner_account_id)
    pass_id = client.post("/api/v1/passes", json={"estate_id": aw.estate.id}, headers=me).json()["id"]
    config = client.get("/device-api/v1/gates/config", headers=_gate(aw))
    assert config.status_code == 200
    key = config.json()["key"]["public_key"]
    public = client.get(f"/device-api/v1/estates/{aw.estate.id}/public-key").json()
    assert public["public_key"] == key

    token = client.get(f"/api/v1/passes/{pass_id}/token", headers=me).json()["token"]
    verdict = client.post(
        "/device-api/v1/gates/verify", json={"token": token, "direction": "in"}, headers={**_gate(aw), **ZH}
    )
    assert verdict.status_code == 200
    v = verdict.json()
    assert (v["allowed"], v["reason"], v["holder"], v["place"]) == (True, "ok", "王**", "阳光小区 1栋 1单元 101")
    assert v["message"] == "欢迎回家。"
    bad_dir = client.post("/device-api/v1/gates/verify", json={"token": token, "direction": "up"}, headers=_gate(aw))
    assert bad_dir.status_code == 422

    now = datetime.now(UTC)
    events = {
        "events": [
            {
                "id": "e-1",
                "direction": "out",
                "result": "allowed",
                "at": (now - timedelta(hours=1)).isoformat(),
                "pass_id": pass_id,
            },
            {
                "id": "e-2",
                "direction": "in",
                "result": "refused",
                "reason": "stale",
                "at": (now - timedelta(minutes=1)).isoformat(),
            },
        ]
    }
    first = client.post("/device-api/v1/gates/events", json=events, headers=_gate(aw))
    assert first.json() == {"accepted": 2, "duplicates": 0, "late": 1}
    assert client.post("/device-api/v1/gates/events", json=events, headers=_gate(aw)).json() == {
        "accepted": 0,
        "duplicates": 2,
        "late": 0,
    }
    junk = client.post(
        "/device-api/v1/gates/events",
        json={"events": [{"id": "", "direction": "x", "result": "y", "at": "soon"}]},
        headers=_gate(aw),
    )
    assert junk.status_code == 422
    assert {d["field"] for d in junk.json()["error"]["details"]} >= {"events.0.id", "events.0.direction", "events.0.at"}
    assert _count(session, AccessEvent) == 3

    client.post(f"/api/v1/passes/{pass_id}/revoke", json={"reason": "手机丢失"}, headers=bearer(aw.manager_account_id))
    revocations = client.get("/device-api/v1/gates/revocations", headers=_gate(aw)).json()
    assert revocations["passes"] == [pass_id]
    assert (
        client.get("/device-api/v1/gates/revocations", params={"since": "yesterday"}, headers=_gate(aw)).status_code
        == 422
    )

    slip = client.post(
        "/api/v1/goods-slips", json={"room_id": aw.world.room.id, "description": "冰箱一台"}, headers=me
    ).json()
    out = client.post("/device-api/v1/gates/goods", json={"code": slip["code"]}, headers=_gate(aw)).json()
    assert (out["allowed"], out["description"]) == (True, "冰箱一台")
    assert (
        client.post("/device-api/v1/gates/goods", json={"code": slip["code"]}, headers=_gate(aw)).json()["reason"]
        == "slip_used"
    )

    log = client.get(f"/api/v1/estates/{aw.estate.id}/access-events", headers=bearer(aw.observer_account_id))
    assert log.status_code == 200
    assert log.json()["total"] == 5  # one check, two synced, two goods checks
    assert log.json()["masked"] is True
    assert all("建国" not in e["person"] for e in log.json()["items"])
    offline_only = client.get(
        f"/api/v1/estates/{aw.estate.id}/access-events",
        params={"offline_only": True},
        headers=bearer(aw.observer_account_id),
    )
    assert offline_only.json()["total"] == 2


def test_visitors_and_slips_over_http(client: TestClient, session: Session, aw: AccessWorld) -> None:
    me = {**bearer(aw.owner_account_id), **ZH}
    start = datetime.now(UTC) + timedelta(minutes=1)
    bad = client.post(
        "/api/v1/visitor-passes",
        json={
            "room_id": aw.world.room.id,
            "name": "",
            "phone": "123",
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=3)).isoformat(),
            "max_entries": 0,
        },
        headers=me,
    )
    assert bad.status_code == 422
    messages = {d["field"]: d["message"] for d in bad.json()["error"]["details"]}
    assert set(messages) == {"name", "phone", "valid_until", "max_entries"}
    assert "24" in messages["valid_until"]
    assert _count(session, EntryPass) == 0
    made = client.post(
        "/api/v1/visitor-passes",
        json={"room_id": aw.world.room.id, "name": "陈访客", "phone": "13900001234", "max_entries": 2},
        headers=me,
    )
    assert made.status_code == 201
    v = made.json()
    assert (v["visitor_name"], v["visitor_phone"], v["entries_left"]) == ("陈访客", "139****1234", 2)
    assert v["link"].startswith("/community/visit/")
    assert [x["id"] for x in client.get("/api/v1/visitor-passes", headers=me).json()] == [v["id"]]
    passes = client.get(
        f"/api/v1/estates/{aw.estate.id}/passes", params={"kind": "visitor"}, headers=bearer(aw.manager_account_id)
    )
    assert passes.json()["items"][0]["holder_name"] == "陈**"
    assert (
        client.post(f"/api/v1/visitor-passes/{v['id']}/cancel", headers=bearer(aw.tenant_account_id)).status_code == 404
    )
    assert client.post(f"/api/v1/visitor-passes/{v['id']}/cancel", headers=me).json()["status"] == "cancelled"

    bad_slip = client.post("/api/v1/goods-slips", json={"room_id": aw.world.room2.id, "description": " "}, headers=me)
    assert bad_slip.status_code == 422
    assert {d["field"] for d in bad_slip.json()["error"]["details"]} == {"room_id", "description"}
    assert _count(session, GoodsSlip) == 0
    slip = client.post(
        "/api/v1/goods-slips", json={"room_id": aw.world.room.id, "description": "书架"}, headers=me
    ).json()
    office = client.get(f"/api/v1/estates/{aw.estate.id}/goods-slips", headers=bearer(aw.observer_account_id)).json()
    assert office["items"][0]["code"] is None  # only the resident sees the code
    assert office["items"][0]["person_name"] == "王**"
    checked = client.post(
        f"/api/v1/estates/{aw.estate.id}/goods-slips/check",
        json={"code": slip["code"]},
        headers=bearer(aw.observer_account_id),
    )
    assert checked.status_code == 403
    assert client.post(f"/api/v1/goods-slips/{slip['id']}/cancel", headers=me).json()["status"] == "cancelled"


def test_cli_gate_add_join_qr_and_pass_check(tmp_path: object, cli_db: str) -> None:
    from cityos.cli import app as cli
    from cityos.core import migrate
    from cityos.core.db import make_engine, make_sessionmaker, unit_of_work
    from tests.factories import make_world

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as session:
        estate_id = make_world(session).estate.id
    engine.dispose()
    runner = CliRunner()
    added = runner.invoke(cli, ["community", "gate-add", str(estate_id), "南门"])
    assert added.exit_code == 0, added.output
    assert "device key (shown once): dk_" in added.output
    out = f"{tmp_path}/join.svg"
    qr = runner.invoke(
        cli, ["community", "join-qr", str(estate_id), "--out", out, "--base-url", "https://city.example"]
    )
    assert qr.exit_code == 0, qr.output
    assert f"https://city.example/community/join/{estate_id}" in qr.output
    with open(out, encoding="utf-8") as fh:
        assert fh.read().startswith("<svg")
    refused = runner.invoke(cli, ["community", "pass-check", str(estate_id), "not-a-token"])
    assert refused.exit_code == 1
    assert "REFUSED (malformed)" in refused.output
