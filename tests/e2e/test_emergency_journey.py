"""应急, timed, in a real browser: a community worker signs in, creates an epidemic screening
campaign from the template over a 6,000-resident community, publishes it; a resident scans the
building's QR code, signs in with a code by SMS and reports; the report appears in the roll-up of
the command dashboard. The worker's time (sign-in to published) must stay under 10 minutes and the
roll-up must be current within 5 s of the report (the dashboard refreshes itself every 5 s)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from cityos.core.actor import subtree_clause
from cityos.core.db import make_engine, make_sessionmaker, unit_of_work
from cityos.demo.accounts import DEMO_PASSWORD, DEMO_RESIDENT_PHONE, demo_account
from cityos.identity.models import Account, SmsMessage
from cityos.people.models import Household, Person, Residence
from cityos.places.models import LEVEL_DEPTH, Region
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser

TARGET_WORKER_SECONDS = 600.0  # the issue: under 10 minutes of the worker's time
TARGET_ROLLUP_SECONDS = 5.0
REFRESH_SECONDS = 5.0  # the dashboard's own refresh (emergency.command.pages.REFRESH_SECONDS)
RESIDENTS = 6000
BUILDINGS, UNITS, ROOMS = 30, 2, 50  # 3,000 rooms, two residents each
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass(frozen=True)
class Setting:
    live_db: str
    community_id: int
    community_residents: int
    building_id: int  # the demo resident's building (its QR code)
    resident_person_id: int


def _bulk_community(session, grid: Region) -> int:  # type: ignore[no-untyped-def]
    """A new estate of 30 buildings with 6,000 residents in the grid, written in bulk."""
    next_id = int(session.scalar(select(func.max(Region.id))) or 0) + 1
    regions: list[dict[str, object]] = []

    def region(parent: dict[str, object] | Region, level: str, name: str, geometry: dict | None = None) -> dict:  # type: ignore[type-arg]
        nonlocal next_id
        parent_id = parent.id if isinstance(parent, Region) else parent["id"]
        parent_path = parent.path if isinstance(parent, Region) else parent["path"]
        row: dict[str, object] = {
            "id": next_id,
            "code": f"E2E-EM-{next_id}",
            "name": name,
            "level": level,
            "parent_id": parent_id,
            "path": f"{parent_path}{next_id}/",
            "depth": LEVEL_DEPTH[level],  # type: ignore[index]
            "geometry": geometry,
            "attrs": {"floors": 6} if level == "building" else {},
        }
        if geometry:
            ring = geometry["coordinates"][0]
            xs, ys = [c[0] for c in ring], [c[1] for c in ring]
            row.update(min_lon=min(xs), max_lon=max(xs), min_lat=min(ys), max_lat=max(ys))
            row.update(lon=(min(xs) + max(xs)) / 2, lat=(min(ys) + max(ys)) / 2)
        next_id += 1
        regions.append(row)
        return row

    # Beside the grid's existing buildings, so the map shows them together.
    edge = session.execute(
        select(func.max(Region.max_lon), func.min(Region.min_lat)).where(
            subtree_clause(Region.path, grid.path), Region.level == "building"
        )
    ).one()
    lon0 = float(edge[0]) + 0.0005 if edge[0] is not None else (grid.lon or 104.06)
    lat0 = float(edge[1]) if edge[1] is not None else (grid.lat or 30.66)
    estate = region(grid, "estate", "应急演练小区")
    rooms = []
    for b in range(BUILDINGS):
        x, y = lon0 + 0.0006 * (b % 6), lat0 + 0.0005 * (b // 6)
        ring = [[x, y], [x + 0.0004, y], [x + 0.0004, y + 0.0003], [x, y + 0.0003], [x, y]]
        shape = {"type": "Polygon", "coordinates": [ring]}
        building = region(estate, "building", f"{b + 1}栋", shape)
        for u in range(UNITS):
            unit = region(building, "unit", f"{u + 1}单元")
            for r in range(ROOMS):
                rooms.append(region(unit, "room", f"{r // 5 + 1}{r % 5 + 1:02d}"))
    session.execute(insert(Region), regions)
    households = [{"room_id": room["id"], "region_path": room["path"]} for room in rooms]
    session.execute(insert(Household), households)
    room_ids = [r["id"] for r in rooms]
    household_of = dict(
        session.execute(select(Household.room_id, Household.id).where(Household.room_id.in_(room_ids))).all()
    )
    people = []
    for n in range(RESIDENTS):
        room = rooms[n // 2]
        people.append(
            {
                "name": SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 7) % len(GIVEN)] + GIVEN[(n // 3) % len(GIVEN)],
                "gender": "female" if n % 2 else "male",
                "birth_date": date(1940 + n % 70, 1 + n % 12, 1 + n % 28),
                "region_id": room["id"],
                "region_path": room["path"],
            }
        )
    session.execute(insert(Person), people)
    made = session.execute(
        select(Person.id, Person.region_id)
        .where(Person.region_path.startswith(str(estate["path"])))
        .order_by(Person.id)
    ).all()
    session.execute(
        insert(Residence),
        [
            {
                "person_id": pid,
                "room_id": rid,
                "household_id": household_of[rid],
                "relation": "owner" if i % 2 == 0 else "family",
                "since": date(2015, 1, 1),
            }
            for i, (pid, rid) in enumerate(made)
        ],
    )
    return len(made)


@pytest.fixture(scope="module")
def setting(live_db: str) -> Iterator[Setting]:
    """The emergency part installed (templates), 6,000 residents added to the demo community."""
    from cityos.emergency import setup

    engine = make_engine(live_db)
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as session:
            setup.install(session)
            staff = session.scalar(select(Account).where(Account.username == demo_account("community_staff").username))
            resident = session.scalar(select(Account).where(Account.username == demo_account("resident").username))
            volunteer = session.scalar(select(Account).where(Account.username == "demo-volunteer"))
            assert staff is not None
            assert resident is not None
            assert resident.person_id is not None
            assert volunteer is not None, "the demo has the building lead of the demo resident's building"
            community = session.get(Region, staff.scope_region_id)
            assert community is not None
            grid = session.scalar(
                select(Region)
                .where(Region.parent_id == community.id, Region.level == "grid")
                .order_by(Region.code)
                .limit(1)
            )
            _bulk_community(session, grid or community)
            total = int(
                session.scalar(
                    select(func.count()).select_from(Person).where(subtree_clause(Person.region_path, community.path))
                )
                or 0
            )
            assert total >= RESIDENTS
            setting = Setting(live_db, community.id, total, int(volunteer.scope_region_id or 0), resident.person_id)
        yield setting
    finally:
        engine.dispose()


def _latest_code(live_db: str) -> str:
    """The sign-in code the SMS outbox holds for the demo resident (this system sends no real SMS)."""
    from cityos.core.runtime import field_cipher

    engine = make_engine(live_db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(SmsMessage.body, SmsMessage.phone_enc).order_by(SmsMessage.id.desc()).limit(20)
            ).all()
    finally:
        engine.dispose()
    for body, enc in rows:
        if field_cipher().decrypt(enc, context="sms.phone") == DEMO_RESIDENT_PHONE:
            found = re.search(r"(\d{6})", str(body))
            if found:
                return found.group(1)
    raise AssertionError("no sign-in code in the SMS outbox")


def _kpi(page, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(f"[data-kpi={name}]").first.inner_text()).replace(",", "").strip()


def test_screening_campaign_from_template_to_the_first_report_in_the_rollup(  # type: ignore[no-untyped-def]
    browser, live_server: str, setting: Setting
) -> None:
    # --- the community worker: sign in → create from the template → publish (timed) -------------------
    worker_ctx = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = worker_ctx.new_page()
    started = time.perf_counter()
    page.goto("/signin")
    page.fill("input[name=username]", demo_account("community_staff").username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/(me)?$"))
    page.goto("/emergency")
    page.get_by_test_id("template-epidemic_screening").check()
    page.get_by_test_id("scope").select_option(str(setting.community_id))
    screenshot(page, "emergency-01-create")
    page.get_by_test_id("create").click()
    page.wait_for_url(re.compile(r"/emergency/campaigns/\d+"))
    campaign_id = int(re.search(r"/emergency/campaigns/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    assert page.get_by_test_id("status").get_attribute("data-state") == "draft"
    page.get_by_test_id("publish").click()
    page.wait_for_url(re.compile(rf"/emergency/campaigns/{campaign_id}\?published=1"))
    assert page.get_by_test_id("status").get_attribute("data-state") == "published"
    worker_seconds = time.perf_counter() - started
    screenshot(page, "emergency-02-published")
    assert worker_seconds < TARGET_WORKER_SECONDS

    # The command dashboard of the building, open on the worker's screen before anyone reports.
    page.goto(f"/emergency/command?campaign_id={campaign_id}&region_id={setting.building_id}")
    assert _kpi(page, "reported") == "0"
    before_reached = int(_kpi(page, "reached"))
    page.goto(f"/emergency/command?campaign_id={campaign_id}&region_id={setting.community_id}")
    assert int(_kpi(page, "residents")) == setting.community_residents
    page.goto(f"/emergency/command?campaign_id={campaign_id}&region_id={setting.building_id}")

    # --- a resident: the building's QR code → sign in by SMS code → report ----------------------------------
    resident_ctx = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844})
    phone = resident_ctx.new_page()
    phone.goto(f"/e/{campaign_id}/b/{setting.building_id}")
    phone.fill("#p-phone", DEMO_RESIDENT_PHONE)
    phone.get_by_test_id("send-code").click()
    phone.wait_for_selector("[data-testid=verify-form]")
    phone.fill("#r-code", _latest_code(setting.live_db))
    phone.locator("[data-testid=verify-form] button[type=submit]").click()
    phone.wait_for_url(re.compile(rf"/e/{campaign_id}/b/{setting.building_id}"))
    phone.get_by_test_id(f"member-{setting.resident_person_id}").click()
    phone.wait_for_selector("[data-testid=report-form]")
    phone.fill("#f-temperature", "36.6")
    phone.locator("[data-testid=q-test_result] input[value=negative]").check()
    screenshot(phone, "emergency-03-report")
    reported_at = time.perf_counter()
    phone.get_by_test_id("submit").click()
    phone.wait_for_selector("[data-testid=done]")
    screenshot(phone, "emergency-04-reported")

    # The roll-up is current as soon as the report is stored (the bus handler follows its commit) …
    api = page.request.get(f"/api/v1/campaigns/{campaign_id}/rollup?region_id={setting.building_id}")
    assert api.ok
    api_seconds = time.perf_counter() - reported_at
    assert api.json()["region"]["figures"]["reported"] == 1
    assert api.json()["live"] is False  # from the roll-up rows, built when the campaign was published
    # … and the dashboard that was already open shows it at its next refresh, without a reload.
    page.wait_for_function(
        "() => document.querySelector('[data-kpi=reported]').textContent.trim() === '1'",
        timeout=int((REFRESH_SECONDS + 5) * 1000),
    )
    dashboard_seconds = time.perf_counter() - reported_at
    assert int(_kpi(page, "reached")) == before_reached + 1
    screenshot(page, "emergency-05-dashboard-building")
    page.goto(f"/emergency/command?campaign_id={campaign_id}&region_id={setting.community_id}")
    assert _kpi(page, "reported") == "1"
    page.wait_for_selector("#ec-map[data-ready='1']", timeout=15000)
    assert int(page.get_by_test_id("command-map").get_attribute("data-features") or 0) >= BUILDINGS
    screenshot(page, "emergency-06-dashboard-community")
    page.goto(f"/emergency/command?campaign_id={campaign_id}&region_id={setting.community_id}&wall=1")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_selector("#ec-map[data-ready='1']", timeout=15000)
    screenshot(page, "emergency-07-wall-screen")
    print(  # noqa: T201 - the measured figures, for the record
        f"\nworker: sign-in to published {worker_seconds:.1f} s (target < {TARGET_WORKER_SECONDS:.0f} s); "
        f"report to roll-up {api_seconds:.2f} s (target < {TARGET_ROLLUP_SECONDS:.0f} s); "
        f"to the open dashboard {dashboard_seconds:.2f} s (it refreshes every {REFRESH_SECONDS:.0f} s); "
        f"{setting.community_residents:,} residents in the community"
    )
    assert api_seconds < TARGET_ROLLUP_SECONDS
    assert dashboard_seconds < REFRESH_SECONDS + 1.0
    resident_ctx.close()
    worker_ctx.close()
