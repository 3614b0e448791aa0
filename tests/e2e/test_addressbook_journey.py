"""The address book in a real browser (Debian's Chromium) on the tiny demo city, on a phone: the
community worker opens the demo resident's building, builds its groups, makes demo-volunteer its
楼栋长 and sends an urgent broadcast there; the resident opens it (the read receipt); the worker
sees it counted. Nothing overflows the phone's width and the buttons are large enough to tap.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import make_engine
from tests.e2e.conftest import ARTIFACTS, signed_in

pytestmark = pytest.mark.browser


def _demo(url: str) -> tuple[int, int]:
    """The demo resident's building (where demo-volunteer is scoped) and demo-volunteer's account."""
    from cityos.identity.models import Account

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            volunteer = session.scalar(select(Account).where(Account.username == "demo-volunteer"))
            assert volunteer is not None, "the demo has a volunteer scoped to the resident's building"
            return volunteer.scope_region_id, volunteer.id
    finally:
        engine.dispose()


def _fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _tall_enough(page: Any, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None
    assert box["height"] >= 44, (selector, box)


def test_a_building_lead_and_an_urgent_broadcast_read(browser: Any, live_server: str, live_db: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    building_id, volunteer_id = _demo(live_db)
    staff_context, staff = signed_in(browser, live_server, "demo-community")
    staff.goto(f"/emergency/addressbook?region_id={building_id}")
    assert "云上通讯录" in staff.locator("h1").inner_text()
    if staff.locator("[data-testid=needs-sync]").count():
        staff.click("[data-testid=sync]")
        staff.wait_for_selector("[data-testid=notice]")
    staff.select_option("#ab-lead", str(volunteer_id))
    _tall_enough(staff, "[data-testid=set-lead]")
    staff.click("[data-testid=set-lead]")
    staff.wait_for_selector("[data-testid=notice]")
    assert "楼栋长已设置" in staff.locator("[data-testid=notice]").inner_text()
    assert staff.locator("[data-testid=member-lead]").count() == 1
    assert staff.locator("[data-testid=member-resident]").count() >= 1
    _fits_the_phone(staff)
    staff.screenshot(path=str(ARTIFACTS / "addressbook-building.png"), full_page=True)

    staff.click("[data-testid=send-here]")
    staff.wait_for_selector("[data-testid=send-form]")
    assert staff.locator("#bc-target").input_value() == f"region:{building_id}"
    staff.fill("#bc-title", "暴雨预警")
    staff.fill("#bc-body", "今晚有暴雨，请低楼层住户做好转移准备。")
    staff.check("[data-testid=urgency-urgent]")
    _tall_enough(staff, "[data-testid=send]")
    _fits_the_phone(staff)
    staff.click("[data-testid=send]")
    staff.wait_for_selector("[data-testid=receipts]")
    recipients = int(staff.locator("[data-testid=recipients]").inner_text())
    assert recipients >= 2
    assert staff.locator("[data-testid=read]").inner_text() == "0"
    url = staff.url.split("?")[0]

    resident_context, resident = signed_in(browser, live_server, "demo-resident")
    resident.goto("/emergency/broadcasts")
    assert resident.locator("[data-testid=send-form]").count() == 0
    resident.click("text=暴雨预警")
    resident.wait_for_selector("[data-testid=read-receipt]")
    assert "低楼层住户" in resident.locator("[data-testid=broadcast-body]").inner_text()
    assert resident.locator("[data-testid=receipts]").count() == 0
    _fits_the_phone(resident)
    resident.screenshot(path=str(ARTIFACTS / "addressbook-broadcast-read.png"), full_page=True)
    resident_context.close()

    staff.goto(url)
    assert staff.locator("[data-testid=read]").inner_text() == "1"
    assert int(staff.locator("[data-testid=unread]").inner_text()) == recipients - 1
    _fits_the_phone(staff)
    staff.screenshot(path=str(ARTIFACTS / "addressbook-receipts.png"), full_page=True)
    staff_context.close()
