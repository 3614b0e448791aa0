"""POST /api/v1/mobility/feeds/{source} and the operators' reads (quarantine, hourly stats)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.mobility.ingest.models import TrafficObservation
from tests.factories import bearer, make_account, make_world

from .conftest import loop, video


def _accounts(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    world = make_world(session)
    tocc = make_account(session, roles=["traffic_operator"], scope=world.city)
    staff = make_account(session, roles=["department_staff"], scope=world.city)
    session.commit()
    return bearer(tocc.id), bearer(staff.id)


def test_post_batch_reports_per_record(client: TestClient, session: Session, grid: Any) -> None:
    tocc, _ = _accounts(session)
    body = {"records": [loop(), loop(), loop(lane=2, occupancy=3)], "batch_ref": "r-1"}
    res = client.post("/api/v1/mobility/feeds/loop", json=body, headers={**tocc, "Accept-Language": "zh-CN"})
    assert res.status_code == 200, res.text
    data = res.json()
    assert (data["accepted"], data["duplicates"], data["quarantined"]) == (1, 1, 1)
    assert data["reasons"] == {"out_of_range": 1}
    err = data["errors"][0]
    assert (err["index"], err["field"], err["reason"]) == (2, "occupancy", "out_of_range")
    assert "occupancy" in err["message"]
    assert err["message"] != "The value of occupancy is out of range."  # zh_CN
    en = client.post(
        "/api/v1/mobility/feeds/loop", json={"records": [loop(count=-1)]}, headers={**tocc, "Accept-Language": "en"}
    )
    assert en.json()["errors"][0]["message"] == "The value of count is out of range."


def test_envelope_size_and_source(client: TestClient, session: Session) -> None:
    tocc, _ = _accounts(session)
    too_many = client.post("/api/v1/mobility/feeds/video", json={"records": [video()] * 5001}, headers=tocc)
    assert too_many.status_code == 413
    assert too_many.json()["error"]["details"][0]["field"] == "records"
    for bad in ({"records": "x"}, {"rows": []}, [], {"records": [], "extra": 1}):
        res = client.post("/api/v1/mobility/feeds/video", json=bad, headers=tocc)
        assert res.status_code == 422, bad
    unknown = client.post("/api/v1/mobility/feeds/plane", json={"records": []}, headers=tocc)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"][0]["field"] == "source"
    assert session.scalar(select(func.count()).select_from(TrafficObservation)) == 0


def test_permissions(client: TestClient, session: Session) -> None:
    tocc, staff = _accounts(session)
    assert client.post("/api/v1/mobility/feeds/loop", json={"records": [loop()]}).status_code == 401
    assert client.post("/api/v1/mobility/feeds/loop", json={"records": [loop()]}, headers=staff).status_code == 403
    assert client.get("/api/v1/mobility/feeds/quarantine", headers=staff).status_code == 403
    assert client.get("/api/v1/mobility/feeds/stats", headers=staff).status_code == 403
    assert client.get("/api/v1/mobility/feeds/stats", headers=tocc).status_code == 200


def test_quarantine_and_stats(client: TestClient, session: Session, grid: Any) -> None:
    tocc, _ = _accounts(session)
    client.post(
        "/api/v1/mobility/feeds/video", json={"records": [video(), video(mode="x"), video(count=-5)]}, headers=tocc
    )
    client.post("/api/v1/mobility/feeds/loop", json={"records": [loop(ts="soon")]}, headers=tocc)
    res = client.get("/api/v1/mobility/feeds/quarantine", headers={**tocc, "Accept-Language": "en"})
    assert res.status_code == 200
    page = res.json()
    assert page["total"] == 3
    assert [i["reason"] for i in page["items"]][0] in {"bad_time", "unknown_mode", "out_of_range"}
    only = client.get(
        "/api/v1/mobility/feeds/quarantine", params={"source": "video", "reason": "unknown_mode"}, headers=tocc
    )
    items = only.json()["items"]
    assert len(items) == 1
    assert items[0]["record"]["mode"] == "x"
    assert items[0]["reason_text"] == "The mode in mode is not known."
    bad = client.get("/api/v1/mobility/feeds/quarantine", params={"reason": "nope"}, headers=tocc)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "reason"
    stats = client.get("/api/v1/mobility/feeds/stats", params={"hours": 2}, headers=tocc).json()
    assert len(stats) == 2 * 5
    now = {s["source"]: s for s in stats if s["accepted"] or s["quarantined"]}
    assert now["video"]["accepted"] == 1
    assert now["video"]["reasons"] == {"unknown_mode": 1, "out_of_range": 1}
    assert now["loop"]["reasons"] == {"bad_time": 1}
    assert client.get("/api/v1/mobility/feeds/stats", params={"hours": 0}, headers=tocc).status_code == 422
    assert client.get("/api/v1/mobility/feeds/stats", params={"hours": "x"}, headers=tocc).status_code == 422


def test_oauth_client_with_traffic_ingest(client: TestClient, session: Session, grid: Any) -> None:
    world = make_world(session)
    admin = make_account(session, roles=["admin"], scope=world.city)
    session.commit()
    created = client.post(
        "/api/v1/clients",
        json={"name": "线圈网关", "scopes": ["traffic:ingest"], "scope_region_id": world.city.id},
        headers=bearer(admin.id),
    )
    assert created.status_code == 201, created.text
    token = client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created.json()["client_id"],
            "client_secret": created.json()["client_secret"],
        },
    ).json()["access_token"]
    gateway = {"Authorization": f"Bearer {token}"}
    res = client.post("/api/v1/mobility/feeds/loop", json={"records": [loop()]}, headers=gateway)
    assert res.status_code == 200, res.text
    assert res.json()["accepted"] == 1
    assert client.get("/api/v1/mobility/feeds/quarantine", headers=gateway).status_code == 403
