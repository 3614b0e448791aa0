"""Catalogue pages: portal with branding and bundles, 办事指南, bundle page, admin paste/import/sites."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.services.catalogue import service as catalogue
from cityos.services.catalogue.models import LocalSite, ServiceItem
from cityos.services.catalogue.schemas import LocalSiteIn
from tests.factories import World, make_account, make_world, session_cookie
from tests.services.catalogue_fixtures import add_department, install, item_record

ZH = {"Accept-Language": "zh-CN"}


def _world(session: Session) -> World:
    install(session)
    world = make_world(session)
    add_department(session, world.district_a, "mzj", "甲区民政局")
    catalogue.save_local_site(
        session,
        SYSTEM,
        region_id=world.district_a.id,
        data=LocalSiteIn(
            site_name="甲区政务服务网", theme_color="#AA3300", banner="甲区欢迎您", hidden_item_codes=["zjj-001"]
        ),
    )
    session.commit()
    return world


def _as(client: TestClient, session: Session, roles: list[str], scope) -> None:  # type: ignore[no-untyped-def]
    account = make_account(session, roles=roles, scope=scope)
    client.cookies.set("cityos_session", session_cookie(session, account.id))


def test_portal_in_chinese_and_english(client: TestClient, session: Session) -> None:
    world = _world(session)
    _as(client, session, ["resident"], world.room)
    page = client.get("/services", headers=ZH)
    assert page.status_code == 200
    text = page.text
    assert "甲区政务服务网" in text
    assert "甲区欢迎您" in text
    assert "#aa3300" in text
    assert "一件事一次办" in text
    assert "新生儿出生一件事" in text
    assert "个人办事" in text
    assert "法人办事" in text
    assert "甲区民政局" in text  # the district's own department names the group
    assert "公共租赁住房申请" not in text  # hidden by the district's site
    assert 'href="/services/items/mzj-002"' in text
    english = client.get("/services", headers={"Accept-Language": "en"})
    assert "One thing, one application" in english.text
    assert "For businesses" in english.text
    found = client.get("/services", params={"q": "优待"}, headers=ZH)
    assert "找到 1 个" in found.text
    assert "mzj-002" in found.text
    assert "scjgj-001" not in found.text
    nothing = client.get("/services", params={"q": "火星移民"}, headers=ZH)
    assert 'data-testid="no-items"' in nothing.text


def test_item_guide_marks_what_e_licences_prove(client: TestClient, session: Session) -> None:
    world = _world(session)
    _as(client, session, ["resident"], world.room)
    page = client.get("/services/items/mzj-002", headers=ZH)
    assert page.status_code == 200
    text = page.text
    assert "老年人优待证办理" in text
    assert "免提交：由电子证照自动调取" in text
    assert "并联审批" in text
    assert "10 个工作日" in text
    assert "不收费" in text
    assert "全程网办" in text
    assert "【办理流程】" in text
    assert 'href="/services/items/mzj-002/apply"' in text
    paid = client.get("/services/items/ghzyj-001", headers=ZH)
    assert "80元/件（住宅）" in paid.text
    assert "最多跑一次" in paid.text
    assert client.get("/services/items/nope-1", headers=ZH).status_code == 404
    assert client.get("/services/items/mzj-002", headers={"Accept-Language": "en"}).text.count("No upload") == 1


def test_bundle_page(client: TestClient, session: Session) -> None:
    world = _world(session)
    _as(client, session, ["resident"], world.room)
    page = client.get("/services/bundles/newborn", headers=ZH)
    assert page.status_code == 200
    assert page.text.count('data-testid="bundle-item"') == 3
    assert 'href="/services/bundles/newborn/apply"' in page.text
    assert "一次提交即可办理 3 个事项" in page.text
    assert client.get("/services/bundles/none", headers=ZH).status_code == 404


def test_admin_pages_need_service_write(client: TestClient, session: Session) -> None:
    world = _world(session)
    _as(client, session, ["window_clerk"], world.city)
    assert client.get("/admin/services", headers=ZH).status_code == 403
    assert client.post("/admin/services/items", data={"record": "{}"}, headers=ZH).status_code == 403


def test_admin_paste_lists_every_problem_and_saves_nothing(client: TestClient, session: Session) -> None:
    world = _world(session)
    _as(client, session, ["admin"], world.city)
    page = client.get("/admin/services", headers=ZH)
    assert page.status_code == 200
    assert "甲区" in page.text
    assert "乙区" in page.text
    edit = client.get("/admin/services", params={"edit": "mzj-002"}, headers=ZH)
    assert "&#34;mzj-002&#34;" in edit.text or "&quot;mzj-002&quot;" in edit.text
    broken = client.post("/admin/services/items", data={"record": "{not json"}, headers=ZH)
    assert broken.status_code == 422
    assert "这不是有效的 JSON" in broken.text
    bad = item_record("mzj-995", time_limit_days=-1, form_schema={"type": "object", "properties": {"a": {"type": 1}}})
    refused = client.post("/admin/services/items", data={"record": json.dumps(bad)}, headers=ZH)
    assert refused.status_code == 422
    assert "time_limit_days: 不能小于 0。" in refused.text
    assert "mzj-995" in refused.text  # the pasted text is kept for correction
    good = client.post(
        "/admin/services/items", data={"record": json.dumps(item_record("mzj-995"))}, headers=ZH, follow_redirects=False
    )
    assert good.status_code == 303
    assert session.scalar(select(ServiceItem.name).where(ServiceItem.code == "mzj-995")) == "测试事项"
    bundle = {"code": "b1", "name": "测试一件事", "item_codes": ["mzj-995", "x-1"]}
    wrong = client.post("/admin/services/bundles", data={"record": json.dumps(bundle)}, headers=ZH)
    assert "item_codes.1: 没有服务事项“x-1”。" in wrong.text


def test_admin_import_and_sites(client: TestClient, session: Session) -> None:
    world = _world(session)
    _as(client, session, ["admin"], world.city)
    rows = json.dumps([item_record("mzj-996"), item_record("BAD")])
    refused = client.post(
        "/admin/services/import", data={"format": "json"}, files={"file": ("items.json", rows)}, headers=ZH
    )
    assert refused.status_code == 422
    assert "items.2.code" in refused.text
    assert session.scalar(select(ServiceItem).where(ServiceItem.code == "mzj-996")) is None
    done = client.post(
        "/admin/services/import",
        data={"format": "json"},
        files={"file": ("items.json", json.dumps([item_record("mzj-996")]))},
        headers=ZH,
        follow_redirects=False,
    )
    assert done.status_code == 303
    site = {
        "region_id": str(world.district_b.id),
        "site_name": "乙区站",
        "theme_color": "#123456",
        "hidden": "gaj-001，gaj-002",
    }
    assert client.post("/admin/services/sites", data=site, headers=ZH, follow_redirects=False).status_code == 303
    saved = session.scalar(select(LocalSite).where(LocalSite.region_id == world.district_b.id))
    assert saved is not None
    assert saved.hidden_item_codes == ["gaj-001", "gaj-002"]
    bad = client.post("/admin/services/sites", data={**site, "theme_color": "blue", "hidden": "x-9"}, headers=ZH)
    assert bad.status_code == 422
    assert "theme_color" in bad.text


def test_portal_needs_service_read(client: TestClient, session: Session) -> None:
    world = _world(session)
    _as(client, session, ["app_client"], world.city)
    assert client.get("/services", headers=ZH).status_code == 403
