"""A grid worker's first minutes, in a real browser on a phone-sized screen: sign in, see only
the grid's residents with masked numbers, switch to English, turn on 长辈模式."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from cityos.core.actor import subtree_clause
from cityos.core.db import make_engine
from cityos.demo.accounts import DEMO_PASSWORD, demo_account
from cityos.identity.models import Account
from cityos.people.models import Person
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")


def _grid_facts(url: str) -> tuple[int, int]:
    """How many residents the demo grid worker's grid holds, and one resident outside it."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            scope = conn.scalar(
                select(Account.scope_path).where(Account.username == demo_account("grid_worker").username)
            )
            assert scope is not None
            inside = conn.scalar(
                select(func.count()).select_from(Person).where(subtree_clause(Person.region_path, scope))
            )
            outside = conn.scalar(
                select(Person.id).where(~subtree_clause(Person.region_path, scope)).order_by(Person.id).limit(1)
            )
    finally:
        engine.dispose()
    assert inside
    assert outside
    return int(inside), int(outside)


def test_grid_worker_journey(page, live_db: str) -> None:  # type: ignore[no-untyped-def]
    inside, outside_id = _grid_facts(live_db)

    page.goto("/")
    page.get_by_test_id("signin-staff").click()
    page.fill("input[name=username]", demo_account("grid_worker").username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    screenshot(page, "01-signin")
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_test_id("who").inner_text().strip() != ""
    screenshot(page, "02-home")

    page.goto("/people")
    assert int(page.get_by_test_id("people-total").get_attribute("data-total") or -1) == inside
    cards = page.get_by_test_id("people-cards").locator("li")
    assert cards.count() > 0
    ids = page.locator("[data-testid=people] [data-testid=id-number]").all_text_contents()
    assert ids, "the table carries the identity numbers (masked)"
    assert all(MASKED_ID.match(v.strip()) or v.strip() == "—" for v in ids), ids
    card_text = cards.first.inner_text()
    assert not re.search(r"\d{17}[\dX]", card_text), "a full identity number is on the page"
    screenshot(page, "03-residents-zh")

    # A resident of another grid is not found, not just hidden.
    response = page.goto(f"/people/{outside_id}")
    assert response is not None
    assert response.status == 404

    page.goto("/people")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("Residents")
    screenshot(page, "04-residents-en")

    page.get_by_test_id("elder-switch").click()
    page.wait_for_load_state()
    assert "elder" in (page.locator("html").get_attribute("class") or "")
    size = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size >= 20
    first_phone = page.locator("[data-testid=people-cards] .num").first.inner_text()
    assert MASKED_PHONE.search(first_phone.split("·")[-1].strip()) or "—" in first_phone
    screenshot(page, "05-residents-elder")


def test_admin_browses_the_real_district_tree_on_a_map(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/signin")
    page.fill("input[name=username]", demo_account("admin").username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))

    page.goto("/places")
    page.wait_for_selector("[data-testid=places-map][data-ready]")
    assert page.get_by_test_id("places-map").get_attribute("data-ready") == "1"
    assert int(page.get_by_test_id("places-map").get_attribute("data-features") or 0) > 1
    assert page.get_by_test_id("region-title").inner_text().startswith("成都市")
    # The real districts of 成都 are the city's children; open one and see its streets.
    district = page.get_by_test_id("children").get_by_role("link", name="锦江区")
    district.click()
    page.wait_for_selector("[data-testid=places-map][data-ready]")
    assert page.get_by_test_id("region-title").inner_text().startswith("锦江区")
    assert page.get_by_test_id("children").locator("tbody tr").count() > 0
    screenshot(page, "06-places-district-map")


def test_commander_sees_the_command_dashboard(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/signin")
    page.fill("input[name=username]", demo_account("commander").username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/command")
    page.wait_for_selector("[data-testid=command-map][data-ready='1']")
    page.wait_for_selector("#parts-chart canvas")
    assert page.get_by_test_id("kpis").locator(".stat").count() == 8
    assert errors == []
    screenshot(page, "07-command")
