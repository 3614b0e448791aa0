"""智慧社区 in a real browser: the community dashboard renders the estate's buildings in 3D
(MapLibre fill-extrusion, WebGL in Debian's Chromium) and drills down to a building's rooms with
masked residents; screenshots are kept in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from cityos.demo.accounts import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS, screenshot

pytestmark = pytest.mark.browser

MAP_TIMEOUT_MS = 30_000


def _signed_in(browser, base_url: str, username: str, *, viewport: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, locale="zh-CN", viewport=viewport or {"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/(me)?$"))
    return context, page


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
    context, page = _signed_in(browser, live_server, "demo-community")
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
    context, page = _signed_in(browser, live_server, "demo-street", viewport={"width": 1920, "height": 1080})
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
