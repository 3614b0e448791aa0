"""The data hub in a real browser (Debian's Chromium) on the tiny demo city, on a phone (zh-CN):

1. devices: the data officer registers a water level gauge on a street, reads its key once, the
   gauge reports water over the shipped street alarm threshold over HTTP ingest; the device page
   shows the reading and the open alarm, /hub lists the entity type and the entity page the
   attribute, and the case the alarm opened waits for verification in the city's case list;
2. governed sharing: the data officer publishes a shared file dataset with a personal field, the
   transport bureau asks for it, the officer agrees with that field masked; the bureau reads the
   sample with only masked values of it, and the read log shows the read with the chain intact;
3. open platform: a developer registers and submits an app, the administrator approves it with a
   scope and a rate limit, the developer collects the secret once, and the app gets a token with
   it (client credentials) and calls an allowed API.

Screenshots are kept in test-artifacts/ (hub-*.png)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import make_engine
from tests.e2e.conftest import PHONE, screenshot, signed_in, until

pytestmark = pytest.mark.browser
DEVICE = "E2E-WL-001"
VENDORS_CSV = "name,spot,goods\n赵大海,春熙路口,水果\n钱小红,太古里北侧,小吃\n"


def _fits(page: Any) -> None:
    """No sideways scrolling on the phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def _deliver(url: str) -> int:
    """What the server's outbox poller does every few seconds: the DeviceAlarm that the alarm rule
    published from inside a bus handler waits for it (``core.bus`` delivers after a commit only
    outside a delivery). The test server is given its runtime, so it runs no poller: do it here."""
    from cityos.core.runtime import Runtime
    from cityos.core.settings import Settings
    from cityos.registry import subscribe_all

    runtime = Runtime.create(Settings(env="test", database_url=url, log_level="WARNING"))
    try:
        subscribe_all(runtime.bus)
        return int(runtime.bus.deliver_pending())
    finally:
        runtime.close()


def _street_of(url: str, username: str) -> tuple[int, float, float]:
    """A street with a centre in the account's area (where a gauge can stand)."""
    from cityos.identity.models import Account
    from cityos.places.models import Region

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            account = session.scalar(select(Account).where(Account.username == username))
            assert account is not None
            assert account.scope_path is not None
            street = session.scalars(
                select(Region)
                .where(
                    Region.level == "street",
                    Region.path.startswith(account.scope_path),
                    Region.lon.is_not(None),
                    Region.lat.is_not(None),
                )
                .order_by(Region.code)
            ).first()
            assert street is not None, "the demo district has streets"
            assert street.lon is not None
            assert street.lat is not None
            return street.id, street.lon, street.lat
    finally:
        engine.dispose()


def test_a_gauge_reports_water_and_a_case_is_opened(browser: Any, live_server: str, live_db: str) -> None:
    street_id, lon, lat = _street_of(live_db, "demo-data")
    ctx, page = signed_in(browser, live_server, "demo-data", timeout_ms=10_000)
    try:
        page.goto("/hub/devices")
        page.wait_for_selector("#hd-map[data-ready='1']", timeout=10_000)
        assert int(page.get_attribute("#hd-map", "data-devices") or 0) > 0  # the demo's devices on the map
        screenshot(page, "hub-devices")

        page.get_by_test_id("register-device").click()
        page.wait_for_url(re.compile(r"/hub/devices/new$"))
        page.fill("#n-code", DEVICE)
        page.fill("#n-name", "下穿隧道积水监测")
        page.fill("#n-kind", "water_level")
        page.select_option("#n-profile", "water-level")
        page.select_option("#n-region", str(street_id))
        page.fill("#n-lon", f"{lon:.6f}")
        page.fill("#n-lat", f"{lat:.6f}")
        page.get_by_test_id("register").click()
        created = page.get_by_test_id("device-created")
        created.wait_for()
        assert DEVICE in created.inner_text()
        key = page.get_by_test_id("device-key").inner_text().strip()
        assert len(key) >= 20
        _fits(page)
        screenshot(page, "hub-device-key")
        created.locator("a[href^='/hub/devices/']:not([href$='/new'])").click()
        page.wait_for_url(re.compile(r"/hub/devices/\d+$"))
        device_url = page.url
        assert key not in page.content()  # shown that once only

        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        reading = {"mid": "e2e-1", "ts": now, "values": {"level": 0.45}}
        refused = httpx.post(
            f"{live_server}/device-api/v1/hub/observations", json=reading, headers={"X-Device-Key": "wrong"}
        )
        assert refused.status_code == 401
        sent = httpx.post(f"{live_server}/device-api/v1/hub/observations", json=reading, headers={"X-Device-Key": key})
        assert sent.status_code == 200, sent.text
        assert sent.json()["accepted"] == 1

        def alarmed() -> bool:
            page.goto(device_url)
            return "0.45" in page.get_by_test_id("device-alarms").inner_text()

        assert until(alarmed), "the reading over 0.3 m opens an alarm on the device page"
        assert "waterLevel" in page.get_by_test_id("readings").inner_text()
        assert "0.45" in page.get_by_test_id("readings").inner_text()
        assert "告警" in page.get_by_test_id("device-status").inner_text()
        _fits(page)
        screenshot(page, "hub-device-alarm")

        entity_id = page.get_by_test_id("entity-link").inner_text().strip()
        page.goto("/hub")
        page.wait_for_selector("#hub-types-chart[data-ready='1']", timeout=10_000)
        types = page.get_by_test_id("types-table")
        assert int(types.locator("td[data-type=DeviceMeasurement]").text_content() or 0) >= 1, types.text_content()
        screenshot(page, "hub-home")

        page.goto(device_url)
        page.get_by_test_id("entity-link").click()
        page.wait_for_url(re.compile(r"/hub/entities/"))
        assert page.get_by_test_id("entity-id").inner_text().strip() == entity_id
        assert page.get_by_test_id("entity-type").inner_text().strip() == "DeviceMeasurement"
        assert "0.45" in page.locator("[data-testid=attributes] tr[data-attr=waterLevel]").inner_text()
        page.wait_for_selector("#hub-history[data-ready='1']", timeout=10_000)
        screenshot(page, "hub-entity")
    finally:
        ctx.close()

    # The alarm opened a machine-found case (道路积水), waiting for someone to verify it.
    admin_ctx, admin = signed_in(browser, live_server, "demo-admin", timeout_ms=10_000)
    try:

        def listed() -> bool:
            admin.goto(f"/cases?view=all&q={DEVICE}")
            return DEVICE in admin.get_by_test_id("cases").inner_text()

        assert _deliver(live_db) >= 1  # at least the gauge's DeviceAlarm
        assert until(listed), "the alarm's case is in the city's case list"
        screenshot(admin, "hub-alarm-case")
        admin.get_by_test_id("cases").get_by_role("link").first.click()
        admin.wait_for_url(re.compile(r"/cases/\d+$"))
        assert "0.45" in admin.content()
    finally:
        admin_ctx.close()


def test_a_shared_dataset_is_read_with_a_masked_field(browser: Any, live_server: str) -> None:
    code = "cg.e2e-vendors"
    officer_ctx, officer = signed_in(browser, live_server, "demo-data", timeout_ms=10_000)
    staff_ctx, staff = signed_in(browser, live_server, "demo-jtj", timeout_ms=10_000)
    try:
        officer.goto("/data/new")
        officer.fill("#dc-code", code)
        officer.fill("#dc-name", "疏导点摊贩名单")
        officer.fill("#dc-desc", "疏导点登记的摊主和品类。")
        officer.check("input[name=access_class][value=shared]")
        officer.check("input[name=kind][value=file]")
        officer.set_input_files(
            "#dc-file", files=[{"name": "vendors.csv", "mimeType": "text/csv", "buffer": VENDORS_CSV.encode()}]
        )
        for i, (name, kind, sensitivity) in enumerate(
            [("name", "name", "personal"), ("spot", "string", "none"), ("goods", "string", "none")]
        ):
            officer.fill(f"input[name=f{i}_name]", name)
            officer.select_option(f"select[name=f{i}_type]", kind)
            officer.select_option(f"select[name=f{i}_sensitivity]", sensitivity)
        officer.get_by_test_id("publish").click()
        officer.wait_for_url(re.compile(rf"/data/{re.escape(code)}\?notice=published"))
        assert "共享" in officer.get_by_test_id("class-badge").inner_text()
        screenshot(officer, "hub-dataset-published")

        staff.goto(f"/data/{code}")
        assert staff.get_by_test_id("read-sample").count() == 0  # no access before the grant
        staff.fill("#dc-purpose", "核对占道经营点位，规划交通疏导")
        staff.fill("#dc-days", "30")
        staff.get_by_test_id("request").click()
        staff.get_by_test_id("waiting").wait_for()
        _fits(staff)
        screenshot(staff, "hub-dataset-requested")

        officer.goto("/data/requests?box=todo")
        item = officer.locator("[data-testid^=request-]", has_text="疏导点摊贩名单").first
        request_id = (item.get_attribute("data-testid") or "").removeprefix("request-")
        form = officer.get_by_test_id(f"approve-form-{request_id}")
        assert form.locator("input[name=masked][value=name]").is_checked()  # personal: masked by default
        assert not form.locator("input[name=masked][value=spot]").is_checked()
        officer.fill(f"#comment-{request_id}", "同意，摊主姓名脱敏")
        screenshot(officer, "hub-dataset-approve")
        officer.get_by_test_id(f"approve-{request_id}").click()
        officer.wait_for_load_state()
        assert officer.get_by_test_id(f"approve-form-{request_id}").count() == 0

        staff.goto(f"/data/{code}")
        staff.get_by_test_id("read-sample").click()
        staff.wait_for_url(re.compile(r"sample=1"))
        sample = staff.get_by_test_id("sample")
        text = sample.inner_text()
        assert "春熙路口" in text  # the fields granted in clear
        assert "小吃" in text
        masked = sample.locator("td.dc-masked")
        assert masked.count() == 2
        assert all("*" in v or "＊" in v for v in masked.all_inner_texts()), masked.all_inner_texts()
        html = staff.content()
        assert "赵大海" not in html  # never the clear names
        assert "钱小红" not in html
        _fits(staff)
        screenshot(staff, "hub-dataset-sample")

        officer.goto(f"/data/readlog?dataset={code}")
        assert "✔" in officer.get_by_test_id("chain-ok").inner_text()
        log = officer.get_by_test_id("readlog").inner_text()
        assert "交通" in log, log
        screenshot(officer, "hub-readlog")
    finally:
        staff_ctx.close()
        officer_ctx.close()


def test_an_app_is_approved_and_calls_the_api(browser: Any, live_server: str) -> None:
    dev_ctx, dev = signed_in(browser, live_server, "demo-dev", timeout_ms=10_000)
    admin_ctx, admin = signed_in(browser, live_server, "demo-admin", timeout_ms=10_000)
    try:
        dev.goto("/developer")
        dev.get_by_test_id("name").fill("积水地图")
        dev.fill("#a-desc", "实时查看街道积水监测。")
        dev.fill("#a-entry", "https://example.org/water")
        dev.get_by_test_id("scope-hub:read").check()
        dev.get_by_test_id("create").click()
        dev.wait_for_url(re.compile(r"/developer/apps/\d+\?notice=created"))
        app_url = dev.url.split("?")[0]
        app_id = app_url.rsplit("/", 1)[1]
        dev.get_by_test_id("submit").click()
        dev.wait_for_url(re.compile(r"notice=submitted"))
        assert dev.get_by_test_id("status").get_attribute("data-state") == "submitted"
        _fits(dev)
        screenshot(dev, "hub-app-submitted")

        admin.goto("/admin/apps?status=submitted")
        admin.get_by_test_id("queue").get_by_role("link", name="积水地图").click()
        admin.wait_for_url(re.compile(rf"/admin/apps/{app_id}$"))
        admin.get_by_test_id("grant-hub:read").check()
        admin.get_by_test_id("rate").fill("30")
        admin.fill("#r-note", "只读实体")
        screenshot(admin, "hub-app-review")
        admin.get_by_test_id("do-approve").click()
        admin.wait_for_url(re.compile(r"notice="))
        assert admin.get_by_test_id("status").get_attribute("data-state") == "approved"
        assert admin.locator("#r-rate2").input_value() == "30"  # the rate limit chosen

        dev.goto(app_url)
        client_id = dev.get_by_test_id("client-id").inner_text().strip()
        assert client_id
        dev.get_by_test_id("collect").click()
        secret = dev.get_by_test_id("client-secret").inner_text().strip()
        assert len(secret) > 20
        screenshot(dev, "hub-app-keys")
        dev.goto(app_url)
        assert dev.get_by_test_id("collect").count() == 0  # once only
        assert secret not in dev.content()

        wrong = httpx.post(
            f"{live_server}/api/v1/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x" * 30},
        )
        assert wrong.status_code in (400, 401)
        token = httpx.post(
            f"{live_server}/api/v1/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        assert token.status_code == 200, token.text
        assert token.json()["scope"] == "hub:read"
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        entities = httpx.get(f"{live_server}/ngsi-ld/v1/entities", params={"type": "WasteContainer"}, headers=auth)
        assert entities.status_code == 200, entities.text
        assert isinstance(entities.json(), list)
        written = httpx.post(
            f"{live_server}/ngsi-ld/v1/entities",
            json={"id": "urn:ngsi-ld:WasteContainer:e2e", "type": "WasteContainer"},
            headers=auth,
        )
        assert written.status_code == 403  # hub:write was not granted
    finally:
        admin_ctx.close()
        dev_ctx.close()
