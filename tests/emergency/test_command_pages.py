"""The command dashboard's pages: zh_CN and en, the live fragment, drill-down, the wall screen,
the unreached list, scope and bad input."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from tests.emergency.command_fixtures import Known, build_known
from tests.factories import make_account, session_cookie


@pytest.fixture
def known(session: Session) -> Known:
    k = build_known(session)
    session.commit()
    return k


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))


def _kpi(html: str, name: str) -> str:
    found = re.search(rf'data-kpi="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


def test_dashboard_in_chinese(client: TestClient, session: Session, known: Known) -> None:
    staff = make_account(session, roles=["community_staff"], scope=known.world.community)
    _as(client, session, staff.id)
    r = client.get(f"/emergency/command?campaign_id={known.campaign.id}", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200, r.text
    html = r.text
    for text in ("应急指挥", "今日已报", "已触达", "求助超时", "未触达", "超时求助", "下载日报（XLSX）", "大屏模式"):
        assert text in html, text
    assert (_kpi(html, "residents"), _kpi(html, "reached"), _kpi(html, "reported"), _kpi(html, "abnormal")) == (
        "8",
        "5",
        "4",
        "2",
    )
    assert (_kpi(html, "help_overdue"), _kpi(html, "supplies_rate")) == ("2", "40.0%")
    assert "钱七" in html
    assert "残疾人" in html
    assert 'hx-trigger="every 5s"' in html
    assert f"/api/v1/campaigns/{known.campaign.id}/rollup-map?region_id={known.world.community.id}" in html
    assert f"/api/v1/campaigns/{known.campaign.id}/daily-report.pdf?region_id={known.world.community.id}" in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/static/vendor/maplibre/maplibre-gl.js" in html
    data = json.loads(re.search(r'<script type="application/json" id="ec-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert data == {"names": ["第一网格", "第二网格"], "reported": [3, 1], "not_reported": [3, 1], "abnormal": [1, 1]}
    assert 'name="campaign_id"' in html
    assert "幸福社区疫情筛查 · 进行中" in html


def test_dashboard_in_english_with_drill_down_and_wall_screen(
    client: TestClient, session: Session, known: Known
) -> None:
    commander = make_account(session, roles=["commander"], scope=known.world.city)
    _as(client, session, commander.id)
    r = client.get(f"/emergency/command?campaign_id={known.campaign.id}&region_id={known.world.city.id}")
    assert r.status_code == 200, r.text
    assert "Emergency command" in r.text
    assert "Reported today" in r.text
    assert f"region_id={known.world.district_a.id}" in r.text  # the child to drill into
    assert "Choose a street or a smaller area to list residents." in r.text
    down = client.get(f"/emergency/command?campaign_id={known.campaign.id}&region_id={known.building3.id}&wall=1")
    assert down.status_code == 200
    assert 'class="ec ec-wall"' in down.text
    assert "A building has no parts to compare" in down.text
    assert "钱七" in down.text
    assert "孙八" in down.text
    assert ">阳光小区</a>" in down.text  # the breadcrumb goes back up


def test_the_live_fragment(client: TestClient, session: Session, known: Known) -> None:
    staff = make_account(session, roles=["community_staff"], scope=known.world.community)
    _as(client, session, staff.id)
    r = client.get(
        f"/emergency/command/live?campaign_id={known.campaign.id}&region_id={known.world.grid1.id}",
        headers={"HX-Request": "true", "Accept-Language": "zh-CN"},
    )
    assert r.status_code == 200
    assert "<html" not in r.text
    assert _kpi(r.text, "reported") == "3"
    assert "数据截至" in r.text
    bad = client.get(
        f"/emergency/command/live?campaign_id={known.campaign.id}&region_id={known.world.district_b.id}",
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 404


def test_bad_day_and_region_show_field_errors(client: TestClient, session: Session, known: Known) -> None:
    commander = make_account(session, roles=["commander"], scope=known.world.city)
    _as(client, session, commander.id)
    base = f"/emergency/command?campaign_id={known.campaign.id}"
    r = client.get(f"{base}&day=2026-02-30", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422
    assert "日期格式应为 2024-05-01。" in r.text
    assert _kpi(r.text, "reported") == "4"  # today's figures instead
    future = client.get(f"{base}&day={(known.today + timedelta(days=3)).isoformat()}")
    assert future.status_code == 422
    assert "The day cannot be in the future." in future.text
    outside = client.get(f"{base}&region_id={known.world.district_b.id}")
    assert outside.status_code == 422
    assert "This area is not part of the campaign&#39;s area." in outside.text
    assert client.get("/emergency/command?campaign_id=999999").status_code == 404


def test_the_unreached_page(client: TestClient, session: Session, known: Known) -> None:
    observer = make_account(session, roles=["street_observer"], scope=known.world.street)
    _as(client, session, observer.id)
    r = client.get(
        f"/emergency/command/unreached?campaign_id={known.campaign.id}", headers={"Accept-Language": "zh-CN"}
    )
    assert r.status_code == 200, r.text
    assert "还有 3 位居民未触达" in r.text
    assert "钱*" in r.text
    assert "钱七" not in r.text
    assert "139****0005" in r.text
    wide = client.get(
        f"/emergency/command/unreached?campaign_id={known.campaign.id}&region_id={known.world.street.id}&page=1"
    )
    assert wide.status_code == 200
    too_wide = make_account(session, roles=["commander"], scope=known.world.city)
    _as(client, session, too_wide.id)
    refused = client.get(
        f"/emergency/command/unreached?campaign_id={known.campaign.id}&region_id={known.world.city.id}"
    )
    assert refused.status_code == 422
    assert "Choose a street or a smaller area" in refused.text


def test_who_sees_the_dashboard(client: TestClient, session: Session, known: Known) -> None:
    resident = make_account(session, roles=["resident"], scope=known.world.community)
    _as(client, session, resident.id)
    assert client.get("/emergency/command", headers={"Accept": "text/html"}).status_code == 403
    other = make_account(session, roles=["community_staff"], scope=known.world.district_b)
    _as(client, session, other.id)
    r = client.get("/emergency/command")
    assert r.status_code == 200
    assert "全市疫情筛查" in r.text
    assert "幸福社区疫情筛查" not in r.text
    assert (_kpi(r.text, "residents"), _kpi(r.text, "reported")) == ("1", "1")  # 郑一 of district B
    client.cookies.clear()
    assert client.get("/emergency/command", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
