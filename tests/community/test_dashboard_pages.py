"""The dashboard's pages: zh_CN and en, the region switcher, scope, the building drill-down."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from tests.community.dashboard_fixtures import Community, community_world  # noqa: F401
from tests.factories import make_account, session_cookie


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))


def _embedded(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r'<script type="application/json" id="cd-data">(.*?)</script>', html, re.S)
    assert found, "the page embeds the dashboard data"
    return json.loads(found.group(1))


def test_page_in_chinese(client: TestClient, session: Session, cw: Community) -> None:
    staff = make_account(session, roles=["community_staff"], scope=cw.world.community)
    _as(client, session, staff.id)
    r = client.get("/community/dashboard", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200, r.text
    html = r.text
    for text in ("一屏观社区", "人 · 人口结构", "地 · 楼栋三维", "事 · 事件工单", "物 · 设备状态", "情 · 社区运行"):
        assert text in html
    assert "特殊人群" in html
    assert "独居" in html
    assert "市容环境" in html  # open cases by category
    assert "告警" in html  # a device in alarm
    assert 'id="cd-map"' in html
    assert "/static/vendor/maplibre/maplibre-gl.js" in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/community/dashboard.js?v=" in html
    data = _embedded(html)
    assert data["region"]["id"] == cw.world.community.id
    assert len(data["places"]["geojson"]["features"]) == 3
    assert data["people"]["residents"] == 6
    assert "张三" not in html  # counts only
    assert 'data-field="people.residents">6<' in html
    # Buildings listed for phones and screen readers, each opening its drill-down.
    assert f'hx-get="/community/dashboard/buildings/{cw.world.building.id}"' in html


def test_page_in_english_for_a_grid(client: TestClient, session: Session, cw: Community) -> None:
    staff = make_account(session, roles=["community_staff"], scope=cw.world.community)
    _as(client, session, staff.id)
    r = client.get("/community/dashboard", params={"region_id": cw.world.grid1.id}, headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert "People: who lives here" in r.text
    assert "Places: buildings in 3D" in r.text
    assert "Living alone" in r.text
    assert _embedded(r.text)["people"]["residents"] == 3
    assert f'href="/community/dashboard?region_id={cw.world.community.id}"' in r.text  # back up the tree


def test_page_follows_the_region_switcher(client: TestClient, session: Session, cw: Community) -> None:
    staff = make_account(session, roles=["community_staff"], scope=cw.world.community)
    _as(client, session, staff.id)
    client.cookies.set("cityos_region", str(cw.world.grid2.id))
    r = client.get("/community/dashboard")
    assert r.status_code == 200
    assert _embedded(r.text)["region"]["id"] == cw.world.grid2.id
    client.cookies.set("cityos_region", str(cw.world.district_b.id))  # outside: the scope instead
    assert _embedded(client.get("/community/dashboard").text)["region"]["id"] == cw.world.community.id


def test_page_scope(client: TestClient, session: Session, cw: Community) -> None:
    other = make_account(session, roles=["community_staff"], scope=cw.world.grid2)
    _as(client, session, other.id)
    html = {"Accept": "text/html"}
    assert client.get("/community/dashboard", params={"region_id": cw.world.grid1.id}, headers=html).status_code == 404
    assert client.get(f"/community/dashboard/buildings/{cw.world.building.id}", headers=html).status_code == 404
    bad = client.get("/community/dashboard", params={"region_id": "x"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "region_id"
    resident = make_account(session, roles=["resident"], scope=cw.world.estate)
    _as(client, session, resident.id)
    assert client.get("/community/dashboard", headers=html).status_code == 403


def test_building_drill_down_fragment_and_page(client: TestClient, session: Session, cw: Community) -> None:
    worker = make_account(session, roles=["grid_worker"], scope=cw.world.grid1)
    _as(client, session, worker.id)
    url = f"/community/dashboard/buildings/{cw.world.building.id}"
    fragment = client.get(url, headers={"HX-Request": "true", "Accept-Language": "zh-CN"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "张*" in fragment.text
    assert "王*" in fragment.text
    assert "独居" in fragment.text
    assert "张三" not in fragment.text
    assert f'href="/people/{cw.persons["王五"].id}"' in fragment.text  # unmasking: the audited person card
    assert "居住 2 人" in fragment.text
    assert "电梯故障" in fragment.text
    page = client.get(url, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "<html" in page.text
    assert "阳光小区" in page.text
    observer = make_account(session, roles=["street_observer"], scope=cw.world.street)
    _as(client, session, observer.id)
    counted = client.get(url, headers={"HX-Request": "true", "Accept-Language": "zh-CN"})
    assert counted.status_code == 200
    assert "张*" not in counted.text
    assert "看不到具体是谁" in counted.text


def test_script_is_served(client: TestClient) -> None:
    r = client.get("/community/dashboard.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "fill-extrusion" in r.text
    assert "data-ready" in r.text or "dataset.ready" in r.text
