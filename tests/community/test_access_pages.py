"""community.access pages in zh_CN and en: the join page a gate's QR opens and the one tap, the
pass with its rotating QR, visitors (and the visitor's own page without an account), goods-out
slips; the property office's pages; a street observer reads them and changes nothing."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.access import service
from cityos.community.access.models import AccessRules, BlockedRoom, EntryPass, GoodsSlip
from cityos.places.devices.models import Device
from tests.community.access_fixtures import AccessWorld, make_access_world
from tests.factories import session_cookie

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def aw(session: Session) -> AccessWorld:
    w = make_access_world(session)
    session.commit()
    return w


def _as(client: TestClient, session: Session, account_id: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account_id))


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_join_page_one_tap_then_the_rotating_qr(client: TestClient, session: Session, aw: AccessWorld) -> None:
    signed_out = client.get(f"/community/join/{aw.estate.id}", headers={"Accept": "text/html"}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == f"/signin?next=/community/join/{aw.estate.id}"
    short = client.get(f"/community/j/{aw.estate.code}", follow_redirects=False)
    assert short.headers["location"] == f"/community/join/{aw.estate.id}"

    _as(client, session, aw.owner_account_id)
    zh = client.get(f"/community/join/{aw.estate.id}", headers=ZH)
    assert zh.status_code == 200
    assert "阳光小区 出入码" in zh.text
    assert "阳光小区 1栋 1单元 101" in zh.text
    assert "业主" in zh.text
    assert "领取出入码" in zh.text
    en = client.get(f"/community/join/{aw.estate.id}")
    assert "Get my entry pass" in en.text

    tapped = client.post(
        f"/community/join/{aw.estate.id}", data={"room_id": str(aw.world.room.id)}, follow_redirects=False
    )
    assert tapped.status_code == 303
    assert tapped.headers["location"].startswith("/community/pass?new=")
    page = client.get(tapped.headers["location"], headers=ZH)
    assert page.status_code == 200
    assert "出入码已领取" in page.text
    assert "<svg" in page.text
    assert "实时码：每10秒刷新一次" in page.text
    pass_id = session.scalars(select(EntryPass.id)).one()
    assert f'hx-get="/community/pass/{pass_id}/qr"' in page.text
    assert 'hx-trigger="every 10s"' in page.text
    fragment = client.get(f"/community/pass/{pass_id}/qr")
    assert fragment.status_code == 200
    assert "<svg" in fragment.text
    assert "<html" not in fragment.text
    assert "Live code" in fragment.text
    # Once the pass is revoked the fragment says so (and stops polling).
    service.revoke_pass(session, aw.manager, pass_id=pass_id, reason="测试")
    session.commit()
    stopped = client.get(f"/community/pass/{pass_id}/qr", headers=ZH)
    assert "已撤销" in stopped.text
    assert "hx-get" not in stopped.text
    assert client.get(f"/community/join/{aw.estate.id}/qr.svg").text.startswith("<svg")


def test_join_page_without_a_residence_tells_whom_to_ask(client: TestClient, session: Session, aw: AccessWorld) -> None:
    _as(client, session, aw.tenant_account_id)
    other = client.get(f"/community/join/{aw.other_estate.id}", headers=ZH)
    assert other.status_code == 200
    assert 'data-testid="no-residence"' in other.text
    assert "请联系物业服务中心为您登记" in other.text
    refused = client.post(f"/community/join/{aw.other_estate.id}", data={}, headers=ZH)
    assert refused.status_code == 422
    assert "请联系物业服务中心为您登记" in refused.text
    bad = client.post(f"/community/join/{aw.estate.id}", data={"room_id": "abc"}, headers=ZH)
    assert bad.status_code == 422
    assert "必须是整数" in bad.text
    assert _count(session, EntryPass) == 0


def test_join_refuses_a_blocked_room_on_the_page(client: TestClient, session: Session, aw: AccessWorld) -> None:
    service.block_room(session, aw.manager, estate_id=aw.estate.id, room_id=aw.world.room.id, reason="居家隔离")
    session.commit()
    _as(client, session, aw.owner_account_id)
    refused = client.post(f"/community/join/{aw.estate.id}", data={"room_id": str(aw.world.room.id)}, headers=ZH)
    assert refused.status_code == 409
    assert "该房屋的通行证已暂停：居家隔离" in refused.text


def test_visitors_invite_link_and_the_visitors_own_page(client: TestClient, session: Session, aw: AccessWorld) -> None:
    _as(client, session, aw.owner_account_id)
    page = client.get("/community/visitors", headers=ZH)
    assert page.status_code == 200
    assert "邀请访客" in page.text
    bad = client.post(
        "/community/visitors",
        data={
            "room_id": str(aw.world.room.id),
            "name": "",
            "phone": "12",
            "valid_from": "tomorrow",
            "max_entries": "x",
        },
        headers=ZH,
    )
    assert bad.status_code == 422
    assert "请填写访客姓名" in bad.text
    assert "手机号" in bad.text
    assert "请填写日期和时间" in bad.text
    assert "必须是整数" in bad.text
    assert 'value="12"' in bad.text  # what was typed stays
    assert _count(session, EntryPass) == 0
    made = client.post(
        "/community/visitors",
        data={"room_id": str(aw.world.room.id), "name": "陈访客", "phone": "13900001234", "max_entries": "2"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    shown = client.get(made.headers["location"], headers=ZH)
    assert "访客码已生成" in shown.text
    link = re.search(r'data-testid="visitor-link"[^>]*>([^<]+)<', shown.text)
    assert link is not None
    assert "139****1234" in shown.text
    path = link.group(1).split("testserver", 1)[1]

    client.cookies.clear()  # the visitor has no account
    visit = client.get(path, headers=ZH)
    assert visit.status_code == 200
    assert "访客码" in visit.text
    assert "陈**" in visit.text
    assert "<svg" in visit.text
    assert f'hx-get="{path}/qr"' in visit.text
    assert "<svg" in client.get(f"{path}/qr").text
    assert client.get("/community/visit/not-a-real-code").status_code == 404

    _as(client, session, aw.owner_account_id)
    p = session.scalars(select(EntryPass)).one()
    assert client.post(f"/community/visitors/{p.id}/cancel", follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert 'data-testid="qr-stopped"' in client.get(path, headers=ZH).text


def test_goods_slip_page_and_the_guard(client: TestClient, session: Session, aw: AccessWorld) -> None:
    _as(client, session, aw.owner_account_id)
    bad = client.post("/community/goods", data={"room_id": str(aw.world.room.id), "description": ""}, headers=ZH)
    assert bad.status_code == 422
    assert "请描述物品" in bad.text
    made = client.post(
        "/community/goods", data={"room_id": str(aw.world.room.id), "description": "旧沙发一张"}, follow_redirects=False
    )
    assert made.status_code == 303
    mine = client.get("/community/goods", headers=ZH)
    assert "旧沙发一张" in mine.text
    code = session.scalars(select(GoodsSlip.code)).one()
    assert code in mine.text

    _as(client, session, aw.manager_account_id)
    looked = client.get("/property/access/goods", params={"code": code}, headers=ZH)
    assert looked.status_code == 200
    assert 'data-testid="goods-found"' in looked.text
    assert "旧沙发一张" in looked.text
    out = client.post("/property/access/goods/check", data={"estate": str(aw.estate.id), "code": code}, headers=ZH)
    assert out.status_code == 200
    assert "物品可以放行" in out.text
    again = client.post("/property/access/goods/check", data={"estate": str(aw.estate.id), "code": code}, headers=ZH)
    assert "这些物品已经放行" in again.text


def test_property_office_pages(client: TestClient, session: Session, aw: AccessWorld) -> None:
    p = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id)
    session.commit()
    _as(client, session, aw.manager_account_id)
    overview = client.get("/property/access", headers=ZH)
    assert overview.status_code == 200
    assert "出入管理 · 阳光小区" in overview.text
    assert "东门" in overview.text
    assert 'data-testid="join-qr"' in overview.text
    assert f"/community/j/{aw.estate.code}" in overview.text
    assert 'data-testid="gate-form"' in overview.text
    en = client.get("/property/access")
    assert "Entry management" in en.text

    added = client.post("/property/access/gates", data={"estate": str(aw.estate.id), "name": "西门"}, headers=ZH)
    assert added.status_code == 200
    assert "密钥只显示这一次" in added.text
    key = re.search(r'class="acc-key">(dk_[^<]+)<', added.text)
    assert key is not None
    assert client.get("/device-api/v1/gates/config", headers={"X-Device-Key": key.group(1)}).status_code == 200
    assert key.group(1) not in client.get("/property/access").text
    empty = client.post("/property/access/gates", data={"estate": str(aw.estate.id), "name": ""}, headers=ZH)
    assert empty.status_code == 422
    assert "请填写门禁名称" in empty.text

    log = client.get("/property/access/log", params={"estate": aw.estate.id}, headers=ZH)
    assert log.status_code == 200
    assert "通行记录" in log.text
    assert "共 0 条记录" in log.text
    bad_dates = client.get(
        "/property/access/log", params={"date_from": "2026-12-05", "date_to": "2026-12-01"}, headers=ZH
    )
    assert bad_dates.status_code == 422
    assert "结束日期早于开始日期" in bad_dates.text

    passes = client.get("/property/access/passes", headers=ZH)
    assert "王**" in passes.text
    assert "王建国" not in passes.text
    no_reason = client.post(f"/property/access/passes/{p.id}/revoke", data={"reason": ""}, headers=ZH)
    assert no_reason.status_code == 422
    assert "请填写原因" in no_reason.text
    revoked = client.post(f"/property/access/passes/{p.id}/revoke", data={"reason": "租约到期"}, follow_redirects=False)
    assert revoked.status_code == 303

    rules = client.get("/property/access/rules", headers=ZH)
    assert "通行规则" in rules.text
    assert "租户" in rules.text
    bad = client.post(
        "/property/access/rules",
        data={
            "estate": str(aw.estate.id),
            "rotation_seconds": "1",
            "validity_days": "30",
            "tenant.start": "23:00",
            "tenant.end": "06:00",
        },
        headers=ZH,
    )
    assert bad.status_code == 422
    assert 'data-testid="error-rotation_seconds"' in bad.text
    error = re.search(r'data-testid="error-rotation_seconds">([^<]+)<', bad.text)
    assert error is not None
    assert "5" in error.group(1)
    assert "300" in error.group(1)
    assert "整数" in error.group(1)
    assert 'data-testid="error-windows-tenant"' in bad.text
    assert _count(session, AccessRules) == 0
    good = client.post(
        "/property/access/rules",
        data={
            "estate": str(aw.estate.id),
            "max_passes_per_person": "2",
            "max_passes_per_household": "6",
            "exit_limit": "1",
            "exit_period_hours": "48",
            "visitor_max_hours": "12",
            "visitor_max_entries": "2",
            "rotation_seconds": "15",
            "validity_days": "30",
            "tenant.start": "06:00",
            "tenant.end": "23:00",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    saved = session.scalars(select(AccessRules)).one()
    assert (saved.exit_limit, saved.rotation_seconds, saved.windows) == (1, 15, {"tenant": ["06:00", "23:00"]})
    assert "规则已保存" in client.get(good.headers["location"], headers=ZH).text

    blocked = client.post(
        "/property/access/blocked",
        data={"estate": str(aw.estate.id), "room_id": str(aw.world.room2.id), "reason": ""},
        headers=ZH,
    )
    assert blocked.status_code == 422
    assert "请填写原因" in blocked.text
    assert (
        client.post(
            "/property/access/blocked",
            data={"estate": str(aw.estate.id), "room_id": str(aw.world.room2.id), "reason": "居家隔离"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert "居家隔离" in client.get("/property/access/rules", headers=ZH).text
    assert (
        client.post(
            f"/property/access/blocked/{aw.world.room2.id}/delete",
            data={"estate": str(aw.estate.id)},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert _count(session, BlockedRoom) == 0


def test_street_observer_reads_but_changes_nothing(client: TestClient, session: Session, aw: AccessWorld) -> None:
    p = service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id)
    session.commit()
    _as(client, session, aw.observer_account_id)
    for path in (
        "/property/access",
        "/property/access/log",
        "/property/access/passes",
        "/property/access/rules",
        "/property/access/goods",
    ):
        page = client.get(path, params={"estate": aw.estate.id}, headers=ZH)
        assert page.status_code == 200, path
        assert 'data-testid="read-only"' in page.text
        for form in (
            'data-testid="gate-form"',
            'data-testid="save-rules"',
            'data-testid="block-form"',
            'data-testid="revoke-form"',
            'data-testid="let-out"',
        ):
            assert form not in page.text, (path, form)
    html = {"Accept": "text/html"}
    assert (
        client.post(
            "/property/access/gates", data={"estate": str(aw.estate.id), "name": "偷偷加"}, headers=html
        ).status_code
        == 403
    )
    assert (
        client.post("/property/access/rules", data={"estate": str(aw.estate.id), "validity_days": "1"}).status_code
        == 403
    )
    assert client.post(f"/property/access/passes/{p.id}/revoke", data={"reason": "看看"}).status_code == 403
    assert (
        client.post(
            "/property/access/blocked",
            data={"estate": str(aw.estate.id), "room_id": str(aw.world.room.id), "reason": "x"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/property/access/blocked/{aw.world.room.id}/delete", data={"estate": str(aw.estate.id)}
        ).status_code
        == 403
    )
    assert (
        client.post("/property/access/goods/check", data={"estate": str(aw.estate.id), "code": "ABCDEFGH"}).status_code
        == 403
    )
    assert _count(session, Device) == 1
    assert _count(session, AccessRules) == 0
    session.refresh(p)
    assert p.status == "active"
    # A resident is not the property office.
    _as(client, session, aw.owner_account_id)
    assert client.get("/property/access", headers=html).status_code == 403
