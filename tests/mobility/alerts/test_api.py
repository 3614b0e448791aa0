"""The JSON routes: rules CRUD with bad input (traffic:manage), the alerts with acknowledge and
close, and the guidance feed with its ETag."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.mobility.alerts import evaluate
from cityos.mobility.alerts.models import TrafficAlert, TrafficAlertRule
from tests.factories import bearer, make_account
from tests.mobility.alerts.fixtures import EXPRESSWAY, NETWORK, AlertWorld, at, put_state

ZH = {"Accept-Language": "zh-CN"}
GOOD = {
    "name": "次干路严重拥堵",
    "target": "segment",
    "kind": "band",
    "min_band": 5,
    "duration_min": 15,
    "clear_min": 10,
    "road_classes": ["secondary"],
}


def _jam(session: Session) -> TrafficAlert:
    for k in (0, 1):
        put_state(session, EXPRESSWAY, k, state=5)
        evaluate.evaluate(session, network_code=NETWORK, bin_start=at(k))
    session.commit()
    return session.scalars(select(TrafficAlert)).one()


def test_rules_crud_and_bad_input(client: TestClient, session: Session, aw: AlertWorld) -> None:
    op, reader = bearer(aw.operator_id), bearer(aw.reader_id)
    listed = client.get("/api/v1/mobility/alert-rules", headers=op)
    assert listed.status_code == 200
    assert {r["code"] for r in listed.json()} >= {"segment-band", "corridor-band", "segment-baseline"}
    assert client.get("/api/v1/mobility/alert-rules", headers=reader).status_code == 403
    assert client.post("/api/v1/mobility/alert-rules", json=GOOD, headers=reader).status_code == 403
    made = client.post("/api/v1/mobility/alert-rules", json=GOOD, headers=op)
    assert made.status_code == 201, made.text
    rule = made.json()
    assert (rule["min_band"], rule["ratio"], rule["road_classes"]) == (5, None, ["secondary"])
    bad = {
        "name": " ",
        "target": "bridge",
        "kind": "guess",
        "duration_min": 7,
        "clear_min": 0,
        "road_classes": ["motorway"],
        "active": "yes",
    }
    refused = client.post("/api/v1/mobility/alert-rules", json=bad, headers={**op, **ZH})
    assert refused.status_code == 422
    fields = {d["field"] for d in refused.json()["error"]["details"]}
    assert fields == {"name", "target", "kind", "duration_min", "clear_min", "road_classes", "active"}
    assert "5 的倍数" in refused.text
    baseline = {**GOOD, "kind": "baseline", "ratio": 1.5, "min_weeks": 0, "target": "corridor", "road_classes": None}
    refused = client.post("/api/v1/mobility/alert-rules", json=baseline, headers=op)
    assert {d["field"] for d in refused.json()["error"]["details"]} == {"kind", "ratio", "min_weeks"}
    before = len(list(session.scalars(select(TrafficAlertRule))))
    patched = client.patch(f"/api/v1/mobility/alert-rules/{rule['id']}", json={"min_band": 9}, headers=op)
    assert patched.status_code == 422
    change = {"kind": "baseline", "ratio": 0.4, "min_weeks": 3}
    patched = client.patch(f"/api/v1/mobility/alert-rules/{rule['id']}", json=change, headers=op)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["kind"], patched.json()["min_band"], patched.json()["ratio"]) == ("baseline", None, 0.4)
    assert client.delete(f"/api/v1/mobility/alert-rules/{rule['id']}", headers=op).status_code == 204
    assert client.get(f"/api/v1/mobility/alert-rules/{rule['id']}", headers=op).status_code == 404
    session.expire_all()
    assert len(list(session.scalars(select(TrafficAlertRule)))) == before - 1


def test_alerts_acknowledge_and_close(client: TestClient, session: Session, aw: AlertWorld) -> None:
    alert = _jam(session)
    op, reader = bearer(aw.operator_id), bearer(aw.reader_id)
    listed = client.get("/api/v1/mobility/alerts?status=active", headers=reader)
    assert listed.status_code == 200
    assert [a["alert_id"] for a in listed.json()["items"]] == [alert.alert_id]
    assert client.get("/api/v1/mobility/alerts?status=nonsense", headers=op).status_code == 422
    far = make_account(session, roles=["traffic_operator"], scope=aw.w.district_b, username="far-op")
    session.commit()
    assert client.get("/api/v1/mobility/alerts", headers=bearer(far.id)).json()["total"] == 0  # another district's
    assert client.post(f"/api/v1/mobility/alerts/{alert.alert_id}/close", headers=bearer(far.id)).status_code == 404
    assert alert.region_path.startswith(aw.w.district_a.path)
    path = f"/api/v1/mobility/alerts/{alert.alert_id}"
    assert client.post(path + "/acknowledge", headers=reader).status_code == 403
    acked = client.post(path + "/acknowledge", headers=op)
    assert acked.json()["status"] == "acknowledged"
    assert client.post(path + "/acknowledge", headers=op).json()["status"] == "acknowledged"
    closed = client.post(path + "/close", headers=op)
    assert closed.json()["status"] == "cleared"
    assert client.post(path + "/close", headers=op).status_code == 409
    assert client.post("/api/v1/mobility/alerts/nope/close", headers=op).status_code == 404
    assert client.get("/api/v1/mobility/alerts?status=cleared", headers=op).json()["total"] == 1
    # The jam goes on: a closed alert is raised again only after the rule's duration of it.
    put_state(session, EXPRESSWAY, 2, state=5)
    assert evaluate.evaluate(session, network_code=NETWORK, bin_start=at(2)).raised == []


def test_guidance_feed_with_etag_and_cursor(client: TestClient, session: Session, aw: AlertWorld) -> None:
    reader = bearer(aw.reader_id)
    assert client.get("/api/v1/mobility/guidance").status_code == 401
    empty = client.get("/api/v1/mobility/guidance", headers=reader)
    assert empty.status_code == 200
    cursor = empty.json()["cursor"]
    alert = _jam(session)
    # The test bins are in the past: make the congestion message active now.
    from cityos.core.db import utcnow
    from cityos.mobility.alerts import guidance

    guidance.refresh(session, alert, at=utcnow())
    session.commit()
    feed = client.get("/api/v1/mobility/guidance", headers=reader)
    assert feed.status_code == 200
    items = feed.json()["items"]
    assert [(m["kind"], m["alert_id"], m["target_id"]) for m in items] == [("congestion", alert.alert_id, EXPRESSWAY)]
    assert "快速路路段" in items[0]["text_zh"]
    etag = feed.headers["ETag"]
    same = client.get("/api/v1/mobility/guidance", headers={**reader, "If-None-Match": etag})
    assert same.status_code == 304
    changed = client.get(f"/api/v1/mobility/guidance?since={cursor}", headers=reader)
    assert [m["kind"] for m in changed.json()["items"]] == ["congestion"]
    assert changed.headers["ETag"] != etag
    later = client.get(f"/api/v1/mobility/guidance?since={changed.json()['cursor']}", headers=reader)
    assert later.json()["items"] == []
    assert client.get("/api/v1/mobility/guidance?since=yesterday", headers=reader).status_code == 422
