"""电子出入码 in a real browser on a phone-sized screen: the demo resident opens the estate's join
page (what the gate's QR opens), taps once and holds a pass whose QR renews itself; invites a
visitor for the next minute or two; the visitor, without an account, opens the link and shows
the QR at a gate, which lets them in and counts the entry (the resident is told); when the visit
ends the visitor's page stops showing a code and the gate refuses it as expired. Screenshots go
to test-artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from cityos.community.access import gates, service, visitors
from cityos.community.access.models import EntryPass
from cityos.core.actor import SYSTEM
from cityos.core.db import make_engine, make_sessionmaker, unit_of_work
from cityos.demo.accounts import demo_account
from cityos.identity.models import Account
from tests.e2e.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser


ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Estate:
    live_db: str
    estate_id: int
    gate_key: str


@pytest.fixture(scope="module")
def estate(live_db: str) -> Iterator[Estate]:
    """The demo resident's estate, with a gate of the journey's own (its key known here)."""
    engine = make_engine(live_db)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            account = session.scalar(select(Account).where(Account.username == demo_account("resident").username))
            assert account is not None
            assert account.scope_region_id is not None
            made = gates.register_gate(session, SYSTEM, estate_id=account.scope_region_id, name="旅程门")
            assert made.key is not None
            found = Estate(live_db=live_db, estate_id=account.scope_region_id, gate_key=made.key)
        yield found
    finally:
        engine.dispose()


def _gate_check(base_url: str, estate: Estate, code: str) -> dict[str, object]:
    """What a gate does with the visitor's code: the token of this moment, checked online."""
    engine = make_engine(estate.live_db)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            p = visitors.by_link(session, code)
            token = service.sign_token(session, p).token
    finally:
        engine.dispose()
    answer = httpx.post(
        f"{base_url}/device-api/v1/gates/verify",
        json={"token": token, "direction": "in"},
        headers={"X-Device-Key": estate.gate_key, "Accept-Language": "zh-CN"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_resident_gets_a_pass_and_a_visitor_whose_pass_expires_on_time(
    browser, live_server: str, estate: Estate
) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto(f"/community/join/{estate.estate_id}")
    page.get_by_test_id("join-form").wait_for()
    screenshot(page, "access-01-join")
    page.get_by_test_id("get-pass").click()
    page.wait_for_url(re.compile(r"/community/pass\?new=\d+"))
    qr = page.get_by_test_id("pass-qr").first
    qr.locator("svg").wait_for()
    assert "实时码" in page.content()
    first = qr.inner_html()
    screenshot(page, "access-02-pass")
    # The page renews the code by itself (every rotation period, 10 s by default).
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline and page.get_by_test_id("pass-qr").first.inner_html() == first:
        page.wait_for_timeout(500)
    assert page.get_by_test_id("pass-qr").first.inner_html() != first, "the QR did not renew itself"

    # Invite a visitor until the next minute but one (the form's times are the city's, to the minute).
    now = datetime.now(ZONE)
    until = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
    page.goto("/community/visitors")
    page.fill("#v-name", "陈访客")
    page.fill("#v-phone", "13900001234")
    page.fill("#v-until", until.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#v-entries", "2")
    page.get_by_test_id("invite").click()
    page.get_by_test_id("invited").wait_for()
    link = page.get_by_test_id("visitor-link").inner_text()
    screenshot(page, "access-03-invited")
    code = link.rsplit("/", 1)[1]

    # The visitor has no account: a fresh browser opens the link.
    guest = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844})
    visit = guest.new_page()
    visit.goto(link)
    visit.get_by_test_id("pass-qr").locator("svg").wait_for()
    assert "陈**" in visit.content()
    screenshot(visit, "access-04-visitor")
    allowed = _gate_check(live_server, estate, code)
    assert allowed["allowed"] is True
    assert allowed["entries_left"] == 1
    assert allowed["message"] == "欢迎回家。"

    # The resident hears of the arrival.
    page.goto("/notifications")
    assert "您的访客已到达" in page.content()

    # When the visit ends the visitor's page stops showing a code (it polls), and the gate refuses.
    wait = (until.astimezone(ZONE) - datetime.now(ZONE)).total_seconds()
    assert 0 < wait <= 125
    visit.wait_for_timeout(int(wait * 1000) + 1500)
    visit.get_by_test_id("qr-stopped").wait_for(timeout=15_000)
    assert visit.get_by_test_id("pass-qr").locator("svg").count() == 0
    screenshot(visit, "access-05-visit-over")
    refused = _gate_check(live_server, estate, code)
    assert (refused["allowed"], refused["reason"]) == (False, "expired")

    engine = make_engine(estate.live_db)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            p = session.scalars(
                select(EntryPass).where(EntryPass.kind == "visitor").order_by(EntryPass.id.desc())
            ).first()
            assert p is not None
            assert service.state_of(p) == "expired"
    finally:
        engine.dispose()
    guest.close()
    context.close()
