"""A resident reports a broken street light with a photo and a pin; it is routed to the right
department by itself; the grid worker accepts it, the dispatch centre files and dispatches it,
the department repairs it, the grid worker checks it, the centre closes it, the resident rates it."""

from __future__ import annotations

import re

import pytest

from cityos.demo.accounts import demo_account
from tests.e2e.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser

PNG = (  # a real 8×8 yellow PNG
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00Km)\xdc\x00\x00\x00\x12IDATx"
    b"\x9cc\xf8\x7f\x82\x01+\xc2.:h%\x00\xb2\x1cq\xc1K\x17\xec\xc0\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _step(browser, base_url: str, role: str, case_url: str, action: str, note: str = "") -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, base_url, demo_account(role).username)
    page.goto(case_url)
    form = page.locator(f"form:has([data-testid=act-{action}])")
    if note:
        form.locator("textarea[name=comment]").fill(note)
    form.get_by_test_id(f"act-{action}").click()
    page.wait_for_load_state()
    screenshot(page, f"case-{action}")
    context.close()


def test_street_light_from_report_to_rating(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto("/cases/new")
    page.select_option("select[name=category_code]", "component.01.01")
    page.fill("input[name=title]", "小区门口路灯不亮")
    page.wait_for_selector("[data-testid=case-map][data-ready='1']")
    box = page.get_by_test_id("case-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.get_by_test_id("case-map").get_attribute("data-picked") == "1"
    page.set_input_files("input[name=photo]", files=[{"name": "light.png", "mimeType": "image/png", "buffer": PNG}])
    screenshot(page, "case-report")
    page.get_by_test_id("submit-case").click()
    page.wait_for_url(re.compile(r"/cases/\d+\?reported=1"))
    case_url = page.url.split("?")[0]
    assert "城市管理局" in page.get_by_test_id("case-department").inner_text()  # routed by the responsibility list
    assert page.get_by_test_id("case-photo").count() == 1
    screenshot(page, "case-reported")
    context.close()

    _step(browser, live_server, "grid_worker", case_url, "accept")
    _step(browser, live_server, "dispatcher", case_url, "file")
    _step(browser, live_server, "dispatcher", case_url, "dispatch")
    _step(browser, live_server, "department_staff", case_url, "handle", "已更换灯泡")
    _step(browser, live_server, "grid_worker", case_url, "check_pass")
    _step(browser, live_server, "dispatcher", case_url, "close")

    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto(case_url)
    assert page.get_by_test_id("case-status").get_attribute("data-state") == "closed"
    page.check("input[name=level][value='5']")
    page.get_by_test_id("rate").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("case-rating").inner_text() == "非常满意"
    steps = page.get_by_test_id("timeline").inner_text()
    for title in ("已核实", "立案", "处置", "核查", "结案"):
        assert title in steps
    screenshot(page, "case-rated")
    context.close()
