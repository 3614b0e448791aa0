"""The TOCC pages: the board (map, five tiles, latest bin, alerts slot, area choice), the live
fragment, a segment's page, the corridors editor with bad input; refused without permission."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.mobility.monitor import service
from tests.factories import session_cookie
from tests.mobility.monitor.conftest import T0, TrafficWorld

EXP = "n0_0-n0_1"


def _sign_in(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))


def _computed(session: Session, tw: TrafficWorld) -> None:
    tw.probes(session, EXP, T0 + timedelta(minutes=1), [30.0, 32.0])
    service.compute_bins(session, until=T0 + timedelta(minutes=7), network_code="t", max_bins=1)
    session.commit()


def test_the_board_shows_map_tiles_latest_bin_and_alerts_slot(
    client: TestClient, session: Session, tw: TrafficWorld
) -> None:
    _computed(session, tw)
    _sign_in(client, session, tw.reader_id)
    page = client.get("/tocc", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text[-800:]
    text = page.text
    for marker in ('id="tocc-map"', 'id="tocc-vitals"', 'data-vital="tpi"', 'id="tocc-latest-bin"', 'id="tocc-alerts"'):
        assert marker in text, marker
    assert 'hx-get="/tocc/alerts/panel"' in text
    assert "畅通" in text
    assert "严重拥堵" in text
    assert "12-01 08:00" in text  # the latest bin in the city's time
    tile = re.search(r'data-vital="expressway".*?data-testid="vital-expressway">([^<]*)<', text, re.S)
    assert tile is not None
    assert tile[1] == "31.0"
    series = re.search(r'data-vital="tpi".*?data-series=\'([^\']*)\'', text, re.S)
    assert series is not None
    assert json.loads(series[1]) == [["08:00", 10.0]]
    live = client.get("/tocc/live", params={"level": "district", "area": tw.w.district_a.code})
    assert live.status_code == 200
    assert 'id="tocc-vitals"' in live.text
    assert "<html" not in live.text
    unknown = client.get("/tocc", params={"level": "district", "area": "nowhere"})
    assert unknown.status_code == 200  # falls back to the whole city


def test_the_board_is_refused_without_traffic_read(client: TestClient, session: Session, tw: TrafficWorld) -> None:
    _sign_in(client, session, tw.outsider_id)
    assert client.get("/tocc").status_code == 403


def test_a_segment_page(client: TestClient, session: Session, tw: TrafficWorld) -> None:
    _computed(session, tw)
    _sign_in(client, session, tw.reader_id)
    page = client.get(f"/tocc/segments/{EXP}", headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text[-800:]
    assert "Expressway" in page.text
    assert 'data-horizon="15"' in page.text
    assert "Last value" in page.text
    history = re.search(r"data-history='([^']*)'", page.text)
    assert history is not None
    assert json.loads(history[1])[0]["probe"] == 31.0
    assert client.get("/tocc/segments/ghost").status_code == 404


def test_corridors_are_edited_on_their_page(client: TestClient, session: Session, tw: TrafficWorld) -> None:
    _sign_in(client, session, tw.operator_id)
    assert client.get("/tocc/corridors").status_code == 200
    bad = client.post(
        "/tocc/corridors", data={"code": "c1", "name": "一号", "segment_ids": f"{EXP} ghost"},
        headers={"Accept-Language": "zh-CN"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert 'data-testid="error-segment_ids"' in bad.text
    assert "路网" in bad.text
    made = client.post(
        "/tocc/corridors", data={"code": "c1", "name": "一号", "segment_ids": f"{EXP}, n0_1-n0_2", "active": "1"}
    )
    assert made.status_code == 200
    assert 'data-testid="corridor-c1"' in made.text
    edit = client.get("/tocc/corridors/c1")
    assert f"{EXP} n0_1-n0_2" in edit.text
    client.post("/tocc/corridors/c1", data={"name": "一号通道", "segment_ids": EXP})
    assert "一号通道" in client.get("/tocc/corridors").text
    client.post("/tocc/corridors/c1", data={"delete": "1"})
    assert 'data-testid="corridor-c1"' not in client.get("/tocc/corridors").text
    _sign_in(client, session, tw.reader_id)
    assert client.get("/tocc/corridors").status_code == 403
