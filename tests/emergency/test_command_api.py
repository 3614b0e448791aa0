"""The command's JSON endpoints and files: figures, scope, bad input with field messages in the
caller's language, and the daily report downloads."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.emergency.command_fixtures import Known, build_known
from tests.emergency.test_command_report import pdf_title
from tests.factories import bearer, make_account


@pytest.fixture
def known(session: Session) -> Known:
    k = build_known(session)
    session.commit()
    return k


def test_rollup_json(client: TestClient, session: Session, known: Known) -> None:
    staff = make_account(session, roles=["community_staff"], scope=known.world.community)
    r = client.get(f"/api/v1/campaigns/{known.campaign.id}/rollup", headers=bearer(staff.id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["id"] == known.world.community.id
    assert body["region"]["level_label"] == "Community"
    f = body["region"]["figures"]
    assert (f["residents"], f["reached"], f["reported"], f["abnormal"], f["help_open"], f["help_overdue"]) == (
        8,
        5,
        4,
        2,
        3,
        2,
    )
    assert (f["reach_rate"], f["report_rate"], f["unreached"]) == (62.5, 50.0, 3)
    assert [c["name"] for c in body["children"]] == ["第一网格", "第二网格"]
    assert body["live"] is True
    assert body["day"] == known.today.isoformat()
    zh = client.get(
        f"/api/v1/campaigns/{known.campaign.id}/rollup",
        params={"region_id": known.world.grid1.id},
        headers={**bearer(staff.id), "Accept-Language": "zh-CN"},
    )
    assert zh.status_code == 200
    assert zh.json()["region"]["level_label"] == "网格"
    assert [c["name"] for c in zh.json()["children"]] == ["阳光小区"]


def test_lists_and_map(client: TestClient, session: Session, known: Known) -> None:
    staff = make_account(session, roles=["community_staff"], scope=known.world.community)
    r = client.get(f"/api/v1/campaigns/{known.campaign.id}/unreached", params={"size": 2}, headers=bearer(staff.id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["size"], [p["name"] for p in body["items"]]) == (3, 2, ["钱七", "孙八"])
    assert body["items"][0]["tags"] == ["disabled"]
    assert body["items"][0]["phone"] == "139****0005"
    help_list = client.get(f"/api/v1/campaigns/{known.campaign.id}/overdue-help", headers=bearer(staff.id))
    assert help_list.status_code == 200
    assert [h["status"] for h in help_list.json()] == ["open", "escalated"]
    assert help_list.json()[0]["category"] == "Buy medicine for me"
    geo = client.get(f"/api/v1/campaigns/{known.campaign.id}/rollup-map", headers=bearer(staff.id))
    assert geo.status_code == 200
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert {f["properties"]["name"] for f in geo.json()["features"]} == {"1栋", "3栋", "2栋"}


def test_daily_report_files(client: TestClient, session: Session, known: Known) -> None:
    staff = make_account(session, roles=["community_staff"], scope=known.world.community)
    x = client.get(
        f"/api/v1/campaigns/{known.campaign.id}/daily-report.xlsx",
        headers={**bearer(staff.id), "Accept-Language": "zh-CN"},
    )
    assert x.status_code == 200, x.text
    assert x.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in x.headers["content-disposition"]
    book = load_workbook(io.BytesIO(x.content))
    assert book.sheetnames[0] == "汇总"
    p = client.get(f"/api/v1/campaigns/{known.campaign.id}/daily-report.pdf", headers=bearer(staff.id))
    assert p.status_code == 200
    assert p.headers["content-type"] == "application/pdf"
    assert p.content.startswith(b"%PDF")
    assert pdf_title(p.content) == "幸福社区疫情筛查"


def test_bad_input_is_refused_with_field_messages(client: TestClient, session: Session, known: Known) -> None:
    staff = make_account(session, roles=["community_staff"], scope=known.world.community)
    commander = make_account(session, roles=["commander"], scope=known.world.city)
    base = f"/api/v1/campaigns/{known.campaign.id}"
    assert client.get("/api/v1/campaigns/999999/rollup", headers=bearer(staff.id)).status_code == 404
    # A region outside the caller's area is not found; one outside the campaign's is a field error.
    r = client.get(f"{base}/rollup", params={"region_id": known.world.district_a.id}, headers=bearer(staff.id))
    assert r.status_code == 404
    outside = client.get(
        f"{base}/rollup",
        params={"region_id": known.world.district_b.id},
        headers={**bearer(commander.id), "Accept-Language": "zh-CN"},
    )
    assert outside.status_code == 422
    assert outside.json()["error"]["details"] == [
        {"field": "region_id", "message": "该区域不在活动范围内。", "type": "invalid"}
    ]
    future = client.get(
        f"{base}/rollup", params={"day": (known.today + timedelta(days=1)).isoformat()}, headers=bearer(staff.id)
    )
    assert future.status_code == 422
    assert future.json()["error"]["details"][0] == {
        "field": "day",
        "message": "The day cannot be in the future.",
        "type": "invalid",
    }
    for bad in ("2026-13-01", "yesterday"):
        r = client.get(f"{base}/daily-report.xlsx", params={"day": bad}, headers=bearer(staff.id))
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["field"] == "day"
    r = client.get(f"{base}/rollup", params={"region_id": 0}, headers=bearer(staff.id))
    assert r.status_code == 422
    listed = client.get(f"{base}/unreached", params={"region_id": known.world.city.id}, headers=bearer(commander.id))
    assert listed.status_code == 422
    assert listed.json()["error"]["details"][0]["message"] == "Choose a street or a smaller area to list residents."
    assert client.get(f"{base}/unreached", params={"size": 500}, headers=bearer(staff.id)).status_code == 422


def test_who_may_call(client: TestClient, session: Session, known: Known) -> None:
    base = f"/api/v1/campaigns/{known.campaign.id}"
    assert client.get(f"{base}/rollup").status_code == 401
    resident = make_account(session, roles=["resident"], scope=known.world.community)
    assert client.get(f"{base}/rollup", headers=bearer(resident.id)).status_code == 403
    other = make_account(session, roles=["community_staff"], scope=known.world.district_b)
    assert client.get(f"{base}/rollup", headers=bearer(other.id)).status_code == 404
    assert client.get(f"{base}/daily-report.pdf", headers=bearer(other.id)).status_code == 404
