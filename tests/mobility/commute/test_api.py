"""The commute API (traffic:read; import traffic:manage) and the /tocc/commute page."""

from __future__ import annotations

import json
import re

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.mobility.commute import service
from cityos.mobility.commute.derive import TRIP_COLUMNS
from tests.factories import bearer, session_cookie
from tests.mobility.commute.conftest import PM, A, B, CommuteWorld, trip
from tests.mobility.commute.test_import import GOOD

DAY = "2026-12-02"


def seed(session: Session) -> None:
    rows = [trip(f"am{i}", A, B) for i in range(3)] + [trip("pm", B, A, at=PM), trip("inside", B, B)]
    service.save_trips(session, pl.DataFrame(rows, schema=TRIP_COLUMNS))
    session.commit()


def test_reads(client: TestClient, session: Session, cw: CommuteWorld) -> None:
    seed(session)
    h = bearer(cw.operator_id)
    od = client.get("/api/v1/mobility/commute/od", params={"day": DAY, "peak": "am"}, headers=h)
    assert od.status_code == 200, od.text
    body = od.json()
    assert body["trips"] == 4
    assert body["pairs"][0] == {
        "origin": str(cw.w.district_a.id),
        "dest": str(cw.w.district_b.id),
        "trips": 3,
        "mean_minutes": 30.0,
        "mean_km": 10.0,
    }
    assert {z["name"] for z in body["zones"]} == {"甲区", "乙区"}
    cor = client.get("/api/v1/mobility/commute/corridors", params={"day": DAY, "peak": "pm"}, headers=h)
    assert cor.status_code == 200, cor.text
    (f,) = cor.json()["corridors"]["features"]
    assert f["properties"]["origin_name"] == "乙区"
    assert f["geometry"]["type"] == "LineString"
    dist = client.get("/api/v1/mobility/commute/districts", params={"day": DAY}, headers=h)
    assert dist.status_code == 200
    assert dist.json()["reference"] == {
        "label": "Beijing average",
        "minutes": 52.0,
        "km": 19.2,
        "source": dist.json()["reference"]["source"],
    }
    trips = client.get("/api/v1/mobility/commute/trips", params={"day": DAY, "limit": 2}, headers=h)
    assert trips.status_code == 200
    assert trips.json()["total"] == 5
    assert len(trips.json()["items"]) == 2


def test_bad_queries_are_answered_in_the_callers_language(
    client: TestClient, session: Session, cw: CommuteWorld
) -> None:
    h = bearer(cw.operator_id) | {"Accept-Language": "zh-CN"}
    bad = client.get("/api/v1/mobility/commute/od", params={"day": DAY, "peak": "noon"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "peak"
    assert "必须是以下之一" in bad.json()["error"]["details"][0]["message"]
    rng = client.get(
        "/api/v1/mobility/commute/od",
        params={"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"},
        headers=h,
    )
    assert rng.status_code == 422
    assert client.get("/api/v1/mobility/commute/od", params={"day": "tuesday"}, headers=h).status_code == 422
    mode = client.get("/api/v1/mobility/commute/trips", params={"day": DAY, "mode": "rocket"}, headers=h)
    assert mode.status_code == 422
    assert mode.json()["error"]["details"][0]["field"] == "mode"
    top = client.get("/api/v1/mobility/commute/corridors", params={"day": DAY, "top": 0}, headers=h)
    assert top.status_code == 422


def test_permissions(client: TestClient, session: Session, cw: CommuteWorld) -> None:
    session.commit()
    assert client.get("/api/v1/mobility/commute/od").status_code == 401
    assert client.get("/api/v1/mobility/commute/od", headers=bearer(cw.outsider_id)).status_code == 403
    assert client.get("/api/v1/mobility/commute/districts", headers=bearer(cw.reader_id)).status_code == 200
    refused = client.post("/api/v1/mobility/commute/trips/import", json={"records": GOOD}, headers=bearer(cw.reader_id))
    assert refused.status_code == 403
    # Single trips are personal movements: a read-only holder sees the aggregates, not the trips.
    trips = client.get("/api/v1/mobility/commute/trips", params={"day": DAY}, headers=bearer(cw.reader_id))
    assert trips.status_code == 403


def test_import(client: TestClient, session: Session, cw: CommuteWorld) -> None:
    session.commit()
    h = bearer(cw.operator_id) | {"Accept-Language": "zh-CN"}
    bad = client.post(
        "/api/v1/mobility/commute/trips/import", json={"records": [GOOD[0], {**GOOD[0], "mode": "rocket"}]}, headers=h
    )
    assert bad.status_code == 422
    detail = bad.json()["error"]["details"][0]
    assert detail["field"] == "rows.2.mode"
    assert detail["message"].startswith("第 2 行：mode 必须是以下之一")
    assert bad.json()["error"]["message"] == "部分行无效，未导入任何数据。"
    empty = client.post("/api/v1/mobility/commute/trips/import", json={"records": []}, headers=h)
    assert empty.status_code == 422
    ok = client.post("/api/v1/mobility/commute/trips/import", json={"records": GOOD}, headers=h)
    assert ok.status_code == 201, ok.text
    assert ok.json() == {"written": 2, "duplicates": 0}
    listed = client.get("/api/v1/mobility/commute/trips", params={"day": DAY}, headers=h)
    assert listed.json()["total"] == 2  # the bad file wrote nothing


def _sign_in(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))


def test_the_page(client: TestClient, session: Session, cw: CommuteWorld) -> None:
    seed(session)
    _sign_in(client, session, cw.operator_id)
    page = client.get("/tocc/commute", params={"day": DAY}, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text[-800:]
    assert "通勤走廊" in page.text
    assert 'data-testid="corridor-map"' in page.text
    assert "北京平均" in page.text
    data = json.loads(re.search(r'<script type="application/json" id="cm-data">(.*?)</script>', page.text, re.S)[1])
    assert len(data["corridors"]["am"]["features"]) == 1
    assert data["corridors"]["pm"]["features"][0]["properties"]["origin_name"] == "乙区"
    assert data["heat"]["am"]["zones"] == ["乙区", "甲区"] or data["heat"]["am"]["zones"] == ["甲区", "乙区"]
    assert data["reference"]["minutes"] == 52.0
    assert f'data-testid="district-{cw.w.district_a.id}"' in page.text
    en = client.get("/tocc/commute", params={"day": "not-a-day", "peak": "xx"}, headers={"Accept-Language": "en"})
    assert en.status_code == 200
    assert "Commute corridors" in en.text


def test_the_page_needs_traffic_read(client: TestClient, session: Session, cw: CommuteWorld) -> None:
    _sign_in(client, session, cw.outsider_id)
    assert client.get("/tocc/commute").status_code == 403


def test_importing_a_file(client: TestClient, session: Session, cw: CommuteWorld) -> None:
    import io

    session.commit()
    h = bearer(cw.operator_id)
    buf = io.BytesIO()
    pl.DataFrame(GOOD).write_parquet(buf)
    ok = client.post(
        "/api/v1/mobility/commute/trips/import-file", files={"file": ("survey.parquet", buf.getvalue())}, headers=h
    )
    assert ok.status_code == 201, ok.text
    assert ok.json() == {"written": 2, "duplicates": 0}
    wrong = client.post("/api/v1/mobility/commute/trips/import-file", files={"file": ("s.txt", b"x")}, headers=h)
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"][0]["field"] == "file"
    refused = client.post(
        "/api/v1/mobility/commute/trips/import-file",
        files={"file": ("s.csv", b"a\n1\n")},
        headers=bearer(cw.reader_id),
    )
    assert refused.status_code == 403
