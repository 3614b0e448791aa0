"""The monitor's JSON routes: states as GeoJSON, vital signs, a segment's detail, corridors CRUD
with bad input and permissions."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.mobility.monitor import service
from tests.factories import bearer
from tests.mobility.monitor.conftest import T0, TrafficWorld

EXP = "n0_0-n0_1"


def _computed(session: Session, tw: TrafficWorld) -> None:
    tw.probes(session, EXP, T0 + timedelta(minutes=1), [30.0, 32.0])
    service.compute_bins(session, until=T0 + timedelta(minutes=12), network_code="t", max_bins=2)
    session.commit()


def test_states_are_a_feature_collection_of_the_latest_bin(
    client: TestClient, session: Session, tw: TrafficWorld
) -> None:
    _computed(session, tw)
    r = client.get("/api/v1/mobility/states", headers=bearer(tw.reader_id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["bin_start"] == T0.isoformat()  # the newest bin with states (00:05 saw no traffic)
    assert len(body["features"]) == tw.segments.height
    empty = client.get("/api/v1/mobility/states", params={"at": "2026-12-01T00:06:00Z"}, headers=bearer(tw.reader_id))
    assert {f["properties"]["state"] for f in empty.json()["features"]} == {None}
    at = client.get("/api/v1/mobility/states", params={"at": "2026-12-01T08:02:00+08:00"}, headers=bearer(tw.reader_id))
    props = {f["properties"]["id"]: f["properties"] for f in at.json()["features"]}
    assert props[EXP]["state"] == 4
    assert props[EXP]["speed"] == 31.0
    assert props[EXP]["class"] == "expressway"
    bad = client.get("/api/v1/mobility/states", params={"at": "yesterday"}, headers=bearer(tw.reader_id))
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "at"
    assert client.get("/api/v1/mobility/states", headers=bearer(tw.outsider_id)).status_code == 403
    assert client.get("/api/v1/mobility/states").status_code == 401


def test_vitals_by_area_and_bad_parameters(client: TestClient, session: Session, tw: TrafficWorld) -> None:
    _computed(session, tw)
    h = bearer(tw.reader_id)
    city = client.get("/api/v1/mobility/vitals", headers=h)
    assert city.status_code == 200
    assert [v["bin_start"] for v in city.json()] == ["2026-12-01T00:00:00Z"]  # the second bin had no traffic
    assert city.json()[0]["expressway_speed_kmh"] == 31.0
    west = client.get("/api/v1/mobility/vitals", params={"level": "district", "area": tw.w.district_a.code}, headers=h)
    assert west.status_code == 200
    assert len(west.json()) == 1
    for params, field in (
        ({"level": "street"}, "level"),
        ({"level": "district", "area": "nowhere"}, "area"),
        ({"hours": "0"}, "hours"),
        ({"hours": "500"}, "hours"),
    ):
        r = client.get("/api/v1/mobility/vitals", params=params, headers=h)
        assert r.status_code == 422, params
        assert r.json()["error"]["details"][0]["field"] == field


def test_a_segments_history_and_forecasts(client: TestClient, session: Session, tw: TrafficWorld) -> None:
    _computed(session, tw)
    r = client.get(f"/api/v1/mobility/segments/{EXP}", headers=bearer(tw.reader_id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [h["speed_kmh"] for h in body["history"]] == [31.0]
    assert body["history"][0]["probe_n"] == 2
    assert {f["horizon_min"] for f in body["forecasts"]} == {15, 30, 60}
    assert body["mae_samples"] == {"15": 0, "30": 0, "60": 0}
    assert client.get("/api/v1/mobility/segments/nope", headers=bearer(tw.reader_id)).status_code == 404


def test_corridors_crud_with_bad_input_and_permissions(client: TestClient, session: Session, tw: TrafficWorld) -> None:
    h = bearer(tw.operator_id)
    made = client.post(
        "/api/v1/mobility/corridors",
        json={"code": "east-1", "name": "东一通道", "segment_ids": [EXP, "n0_1-n0_2"]},
        headers={**h, "Accept-Language": "zh-CN"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["network_code"] == "t"
    dup = client.post(
        "/api/v1/mobility/corridors", json={"code": "east-1", "name": "x", "segment_ids": [EXP]}, headers=h
    )
    assert dup.status_code == 409
    bad = client.post(
        "/api/v1/mobility/corridors",
        json={"code": "Bad Code", "name": " ", "segment_ids": [EXP, EXP, "ghost", 7]},
        headers=h,
    )
    assert bad.status_code == 422
    fields = [d["field"] for d in bad.json()["error"]["details"]]
    assert fields == ["code", "name", "segment_ids.1", "segment_ids.2", "segment_ids.3"]
    zh = client.post(
        "/api/v1/mobility/corridors", json={"code": "x", "name": "x", "segment_ids": []},
        headers={**h, "Accept-Language": "zh-CN"},
    )  # fmt: skip
    assert zh.status_code == 422
    assert "路段" in zh.json()["error"]["details"][0]["message"]
    assert client.get("/api/v1/mobility/corridors", headers=bearer(tw.reader_id)).json()[0]["code"] == "east-1"
    refused = client.post(
        "/api/v1/mobility/corridors",
        json={"code": "c2", "name": "x", "segment_ids": [EXP]},
        headers=bearer(tw.reader_id),
    )
    assert refused.status_code == 403
    patched = client.patch("/api/v1/mobility/corridors/east-1", json={"active": False, "segment_ids": [EXP]}, headers=h)
    assert patched.status_code == 200
    assert patched.json()["segment_ids"] == [EXP]
    assert patched.json()["active"] is False
    assert (
        client.patch("/api/v1/mobility/corridors/east-1", json={"segment_ids": ["ghost"]}, headers=h).status_code == 422
    )
    assert client.get("/api/v1/mobility/corridors/east-1", headers=h).json()["segment_ids"] == [EXP]  # unchanged
    assert client.delete("/api/v1/mobility/corridors/east-1", headers=h).status_code == 204
    assert client.get("/api/v1/mobility/corridors/east-1", headers=h).status_code == 404
