"""智慧社区 in a real browser on a phone-sized screen, on the demo estate of demo-property:
a resident gets an entry pass from the join page and its QR renews itself; invites a visitor
whose pass opens the gate now and is refused after its end; reports a repair that the property
manager takes and closes; tips an owners' vote over its quorum; pays a bill through the sandbox
gateway, which the property manager then sees paid; and the community dashboard renders the
buildings in 3D (MapLibre fill-extrusion, WebGL in Debian's Chromium) and drills down to masked
residents. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from cityos.core.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from cityos.core.settings import get_settings
from cityos.demo.accounts import demo_account
from tests.e2e.conftest import ARTIFACTS, screenshot, signed_in

pytestmark = pytest.mark.browser

MAP_TIMEOUT_MS = 30_000
ROTATION_S = 5  # the shortest QR rotation the rules allow, so the renewal is seen in seconds
VISITOR = "王来访"


@dataclass(frozen=True)
class Journey:
    live_db: str
    estate_id: int
    gate_key: str
    vote_id: int
    room_id: int  # the demo resident's room (owned) in the estate


def _actor(session, username: str):  # type: ignore[no-untyped-def]
    from cityos.identity.deps import actor_for_account
    from cityos.identity.models import Account

    return actor_for_account(session, session.scalars(select(Account).where(Account.username == username)).one())


def _owner_actor(person_id: int, scope_path: str):  # type: ignore[no-untyped-def]
    from cityos.core.actor import Actor
    from cityos.identity.permissions import permissions_for

    roles = frozenset({"resident"})
    return Actor(
        account_id=None,
        label=f"owner {person_id}",
        roles=roles,
        permissions=permissions_for(roles),
        scope_path=scope_path,
        person_id=person_id,
    )


@pytest.fixture(scope="module")
def journey(live_db: str) -> Iterator[Journey]:
    """The demo resident owns their room in demo-property's estate and holds no pass there yet;
    the estate's QR renews every 5 s and has a gate for this journey; this month's property fees
    are billed; an owners' vote is open in which every owner but the resident has voted, one
    room short of the two-thirds quorum."""
    from cityos.community.access import gates
    from cityos.community.access import rules as access_rules
    from cityos.community.access import service as access
    from cityos.community.governance import votes
    from cityos.community.governance.models import VoteBallot
    from cityos.community.property import billing
    from cityos.core.actor import SYSTEM
    from cityos.people.models import Residence
    from cityos.places.models import Region

    engine = make_engine(live_db)
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as session:
            manager = _actor(session, demo_account("property_manager").username)
            resident = _actor(session, demo_account("resident").username)
            estate = session.get(Region, manager.scope_region_id)
            assert estate is not None
            assert estate.level == "estate"
            home = session.scalars(
                select(Residence)
                .join(Region, Region.id == Residence.room_id)
                .where(
                    Residence.person_id == resident.person_id,
                    Residence.until.is_(None),
                    Region.path.startswith(estate.path),
                )
            ).first()
            assert home is not None, "the demo resident lives in demo-property's estate"
            home.relation = "owner"  # an owner, so that the owners' vote has a ballot for them
            for held in access.my_passes(session, resident):
                access.cancel_pass(session, resident, pass_id=held.id)
            access_rules.update(session, SYSTEM, estate_id=estate.id, changes={"rotation_seconds": ROTATION_S})
            gate = gates.register_gate(session, SYSTEM, estate_id=estate.id, name="旅程测试门", code="journey-gate")
            assert gate.key
            billing.run_billing(
                session,
                manager,
                estate_id=estate.id,
                period=utcnow().astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m"),
                kinds=["property_fee"],
            )
            session.flush()
            staff = _actor(session, "demo-community")
            vote = votes.call(
                session,
                staff,
                title="是否同意更换小区门禁系统",
                region_id=estate.id,
                closes_at=utcnow() + timedelta(days=7),
                weighting="rooms",
                options=["同意", "不同意"],
            )
            ballots = session.scalars(
                select(VoteBallot).where(VoteBallot.vote_id == vote.id).order_by(VoteBallot.room_id)
            ).all()
            others = [b for b in ballots if b.room_id != home.room_id]
            needed = math.ceil(len(ballots) * 2 / 3)
            assert 0 < needed - 1 <= len(others), "the resident's ballot is the one that reaches the quorum"
            for ballot in others[: needed - 1]:
                owner = session.scalar(
                    select(Residence.person_id).where(
                        Residence.room_id == ballot.room_id, Residence.relation == "owner", Residence.until.is_(None)
                    )
                )
                assert owner is not None
                voter = _owner_actor(int(owner), estate.path)
                votes.cast(session, voter, vote_id=vote.id, room_id=ballot.room_id, choice=0)
            assert not votes.tally(session, vote).quorum_met
            made = Journey(live_db, estate.id, gate.key, vote.id, home.room_id)
        yield made
    finally:
        engine.dispose()


def _local_input(moment: datetime) -> str:
    """A datetime-local form value in the city's time zone."""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%dT%H:%M")


def _shot(target, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot of what is on screen (a page's viewport or one element), not the whole page."""
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _map_drawn(page) -> int:  # type: ignore[no-untyped-def]
    """Waits for the 3D map and returns how many extruded buildings it drew."""
    page.wait_for_selector("[data-testid=cd-map][data-ready]", timeout=MAP_TIMEOUT_MS)
    the_map = page.get_by_test_id("cd-map")
    assert the_map.get_attribute("data-ready") == "1", "the 3D map failed to draw"
    assert int(the_map.get_attribute("data-features") or 0) > 0
    layer = page.evaluate(
        "() => { const m = window.cityosDashboardMap; const l = m.getLayer('buildings-3d');"
        " return { type: l.type, source: m.getSource('buildings').serialize().data.features.length,"
        " drawn: m.queryRenderedFeatures({ layers: ['buildings-3d'] }).length }; }"
    )
    assert layer["type"] == "fill-extrusion"
    assert layer["source"] == int(the_map.get_attribute("data-features") or 0)
    assert layer["drawn"] > 0
    return int(layer["drawn"])


def _zoom_to_first_estate(page) -> int:  # type: ignore[no-untyped-def]
    """Flies to the first estate (when the area has several) and returns the buildings drawn there."""
    buttons = page.locator("[data-testid=estate-zoom] button[data-zoom]:not([data-zoom=all])")
    if buttons.count():
        buttons.first.click()
    return int(
        page.evaluate(
            "() => new Promise(done => { const m = window.cityosDashboardMap;"
            " const count = () => done(m.queryRenderedFeatures({ layers: ['buildings-3d'] }).length);"
            " if (m.isMoving()) m.once('idle', count); else count(); })"
        )
    )


def test_dashboard_renders_the_buildings_in_3d(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, "demo-community")
    page.goto("/community/dashboard")
    assert "一屏观社区" in page.locator("h1").inner_text()
    assert page.get_by_test_id("panel-people").is_visible()
    page.wait_for_selector("#cd-pyramid[data-ready='1']", timeout=MAP_TIMEOUT_MS)
    assert _map_drawn(page) > 0
    assert int(page.get_by_test_id("cd-map").get_attribute("data-rendered") or 0) > 0
    assert _zoom_to_first_estate(page) > 0
    page.get_by_test_id("cd-map").scroll_into_view_if_needed()
    screenshot(page, "community-01-dashboard-phone")
    _shot(page, "community-01-map-phone")

    # Drill down: the first building of the list opens its units and rooms, names masked.
    page.locator("[data-testid=buildings] a[data-building]").first.click()
    building = page.get_by_test_id("building")
    building.wait_for(timeout=10_000)
    residents = [t.strip() for t in page.get_by_test_id("resident").all_inner_texts()]
    assert residents, "a building of the demo estate has residents"
    assert all(re.match(r"^\S\*+", r) for r in residents), residents
    _shot(building, "community-02-drill-down")
    context.close()

    # The same dashboard on a wall screen, coloured by open cases; the street observer reads it.
    context, page = signed_in(browser, live_server, "demo-street", viewport={"width": 1920, "height": 1080})
    page.goto("/community/dashboard")
    community = page.locator(".cd-children a").first
    community.click()
    page.wait_for_load_state()
    assert _map_drawn(page) > 0
    page.locator("[data-colour=cases]").click()
    assert page.locator("[data-colour=cases]").get_attribute("aria-pressed") == "true"
    assert _zoom_to_first_estate(page) > 0
    screenshot(page, "community-03-dashboard-wall")
    context.close()


def test_resident_gets_a_pass_whose_qr_renews(browser, live_server: str, journey: Journey) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto(f"/community/join/{journey.estate_id}")
    assert page.get_by_test_id("join-form").is_visible()
    screenshot(page, "community-10-join")
    page.get_by_test_id("get-pass").click()
    page.wait_for_url(re.compile(r"/community/pass"))
    assert page.get_by_test_id("pass-issued").is_visible()
    qr = page.locator("[data-testid=pass-qr] svg").first
    first = qr.inner_html()
    assert first
    _shot(page, "community-11-pass")
    # The page fetches a new code every rotation period: the QR drawn changes within a few seconds.
    page.wait_for_function(
        "old => { const s = document.querySelector('[data-testid=pass-qr] svg'); return s && s.innerHTML !== old; }",
        arg=first,
        timeout=(ROTATION_S * 2 + 3) * 1000,
    )
    assert page.locator("[data-testid=pass-qr] svg").first.inner_html() != first
    context.close()


def test_visitor_pass_opens_the_gate_until_its_end(browser, live_server: str, journey: Journey) -> None:  # type: ignore[no-untyped-def]
    from cityos.community.access import gates, offline, visitors
    from cityos.community.access import service as access
    from cityos.places.models import Region

    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto("/community/visitors")
    start = utcnow()
    page.fill("input[name=name]", VISITOR)
    page.fill("input[name=phone]", "13812345678")
    page.fill("input[name=valid_from]", _local_input(start))
    page.fill("input[name=valid_until]", _local_input(start + timedelta(hours=2)))
    page.fill("input[name=max_entries]", "3")
    page.get_by_test_id("invite").click()
    page.wait_for_load_state()
    link = page.get_by_test_id("visitor-link").inner_text().strip()
    assert "/community/visit/" in link
    screenshot(page, "community-12-visitor-invited")
    context.close()

    guest = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844})
    visit = guest.new_page()
    visit.goto(link)
    assert visit.get_by_test_id("qr-live").is_visible()  # no account needed: the link is the pass
    _shot(visit, "community-13-visitor-pass")
    guest.close()

    code = link.rstrip("/").rsplit("/", 1)[1]
    engine = make_engine(journey.live_db)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            entry_pass = visitors.by_link(session, code)
            until = entry_pass.valid_until
            token = access.sign_token(session, entry_pass).token
        # At the gate now (the gate's own API, with its device key): the visitor may enter.
        verdict = httpx.post(
            f"{live_server}/device-api/v1/gates/verify",
            json={"token": token, "direction": "in"},
            headers={"X-Device-Key": journey.gate_key},
            timeout=10,
        )
        assert verdict.status_code == 200, verdict.text
        assert verdict.json()["allowed"] is True
        assert verdict.json()["entries_left"] == 2
        with unit_of_work(make_sessionmaker(engine)) as session:
            entry_pass = visitors.by_link(session, code)
            estate = session.get(Region, journey.estate_id)
            assert estate is not None
            gate = gates.gate_for_key(session, journey.gate_key)
            # The live code a minute before the end still opens the gate; a second after, it does not.
            before = until - timedelta(minutes=1)
            late = access.sign_token(session, entry_pass, now=before).token
            assert gates.verify(session, gate, token=late, direction="in", now=before).allowed
            after = until + timedelta(seconds=1)
            expired = access.sign_token(session, entry_pass, now=after).token
            refused = gates.verify(session, gate, token=expired, direction="in", now=after)
            assert not refused.allowed
            assert refused.reason == offline.EXPIRED
    finally:
        engine.dispose()


def test_repair_reported_then_closed_by_the_property_manager(browser, live_server: str, journey: Journey) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto("/cases/new")
    page.select_option("select[name=category_code]", "repair.01.01")
    page.fill("input[name=title]", "3栋电梯停在二楼不动")
    page.wait_for_selector("[data-testid=case-map][data-ready='1']", timeout=MAP_TIMEOUT_MS)
    box = page.get_by_test_id("case-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_test_id("submit-case").click()
    page.wait_for_url(re.compile(r"/cases/\d+\?reported=1"))
    case_url = page.url.split("?")[0]
    screenshot(page, "community-14-repair-reported")
    context.close()

    context, page = signed_in(browser, live_server, demo_account("property_manager").username)
    page.goto(case_url)
    page.get_by_test_id("act-take").click()
    page.wait_for_load_state()
    form = page.locator("form:has([data-testid=act-finish])")
    form.locator("textarea[name=comment]").fill("已更换电梯控制板，运行正常")
    form.get_by_test_id("act-finish").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").get_attribute("data-state") == "done"
    screenshot(page, "community-15-repair-closed")
    context.close()

    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto(case_url)
    assert page.get_by_test_id("case-status").get_attribute("data-state") == "done"
    context.close()


def test_owners_vote_reaches_its_quorum(browser, live_server: str, journey: Journey) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto(f"/community/votes/{journey.vote_id}")
    assert page.get_by_test_id("quorum-not-met").is_visible()
    screenshot(page, "community-16-vote-before")
    page.get_by_test_id(f"choose-{journey.room_id}-0").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("quorum-met").is_visible()
    assert "同意" in page.get_by_test_id("cast").first.inner_text()
    screenshot(page, "community-17-vote-quorum")
    context.close()


def test_bill_paid_through_the_sandbox_and_seen_by_the_manager(browser, live_server: str, journey: Journey) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto("/community/bills")
    pay = page.locator("[data-testid=unpaid-bills] button[data-testid^=pay-]").first
    bill_id = (pay.get_attribute("data-testid") or "").removeprefix("pay-")
    assert bill_id.isdigit()
    screenshot(page, "community-18-bills")
    pay.click()
    page.wait_for_url(re.compile(r"/pay/sandbox/"))
    assert page.get_by_test_id("sandbox-amount").is_visible()
    _shot(page, "community-19-sandbox")
    page.get_by_test_id("sandbox-confirm").click()
    page.wait_for_url(re.compile(r"/community/bills"))
    assert page.get_by_test_id("paid-notice").is_visible()
    assert page.get_by_test_id(f"bill-{bill_id}").count() == 0  # no longer unpaid
    context.close()

    context, page = signed_in(browser, live_server, demo_account("property_manager").username)
    page.goto("/property")
    payments = page.get_by_test_id("payments")
    assert payments.count() == 1
    assert payments.locator("a[data-testid^=receipt-]").count() >= 1
    screenshot(page, "community-20-property-paid")
    context.close()
