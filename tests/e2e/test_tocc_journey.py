"""The traffic operations centre in a real browser (Debian's Chromium) on the tiny demo city, on a
phone (zh-CN):

1. the TOCC duty officer (demo-tocc) opens /tocc: the map of the demo network and the five
   vital signs;
2. a scenario generated on the demo network is replayed into the server's database at high
   speed (``cityos mobility replay … --jam``, in-process), with a jam on an expressway segment;
   the board's latest bin moves and a congestion alert appears in its alerts panel;
3. the alert links to the case it opened (交通拥堵, found by the monitor, which the machine
   dispatches to the district's 交警大队 at once): the city's dispatch centre follows the link, and
   the 交警大队 (demo-jj) finds the case in its department inbox.

Screenshots are kept in test-artifacts/ (tocc-*.png)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.e2e.conftest import screenshot, signed_in, until

pytestmark = pytest.mark.browser
JAM_SEGMENT = "n0_0-n0_1"  # the demo grid's outer ring: an expressway with a loop detector


def _deliver(url: str) -> int:
    """What the server's outbox poller does: the alert raised inside the rules' bus handler opens
    its case in a handler of its own, delivered by a later pass (the test server runs no poller)."""
    from cityos.core.runtime import Runtime
    from cityos.core.settings import Settings
    from cityos.registry import subscribe_all

    runtime = Runtime.create(Settings(env="test", database_url=url, log_level="WARNING"))
    try:
        subscribe_all(runtime.bus)
        total = 0
        for _ in range(8):
            n = int(runtime.bus.deliver_pending())
            total += n
            if n == 0:
                break
        return total
    finally:
        runtime.close()


def _cli(monkeypatch: pytest.MonkeyPatch, url: str, args: list[str]) -> str:
    """``cityos …`` on the live server's database, in this process."""
    from cityos.cli import app
    from cityos.core.settings import get_settings

    monkeypatch.setenv("CITYOS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


def _latest_bin(page: Any) -> str:
    return str(page.get_by_test_id("tocc-latest-bin").get_attribute("data-bin") or "")


def test_tocc_live_replay_alert_and_case(
    browser: Any, live_server: str, live_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    # 1. the board of the demo city
    context, page = signed_in(browser, live_server, "demo-tocc", timeout_ms=15_000)
    page.goto("/tocc")
    assert page.get_by_test_id("tocc-map").is_visible()
    assert page.get_by_test_id("tocc-vitals").is_visible()
    assert page.locator("[data-vital=tpi]").count() == 1
    assert page.get_by_test_id("tocc-no-network").count() == 0  # the demo network is there
    before = _latest_bin(page)
    panel = page.locator("#tocc-alerts [data-total]")
    assert until(lambda: panel.count() > 0, seconds=15.0), "the alerts panel did not load"
    seen = set(page.locator("#tocc-alerts [data-alert-id]").evaluate_all("els => els.map(e => e.dataset.alertId)"))
    screenshot(page, "tocc-1-board")

    # 2. a jam replayed at high speed, starting now (the replay's clock runs ahead of the wall clock)
    folder = tmp_path / "scenario"
    _cli(
        monkeypatch,
        live_db,
        ["mobility", "generate-scenario", str(folder), "--network", "demo", "--start", "now"]
        + ["--hours", "0.75", "--vehicles", "3000", "--probe-s", "20", "--seed", "11"],
    )
    out = _cli(
        monkeypatch,
        live_db,
        ["mobility", "replay", str(folder), "--speed", "3000", "--start", "now"]
        + ["--jam", f"{JAM_SEGMENT}:10:40:0.15"],  # from minute 10 to the end: still open afterwards
    )
    assert "accepted" in out
    _deliver(live_db)

    page.reload()
    assert until(lambda: _latest_bin(page) not in ("", before), seconds=15.0), "the board's latest bin did not move"
    alerts = page.locator("#tocc-alerts [data-alert-id]")

    def new_alerts() -> list[str]:
        ids = alerts.evaluate_all("els => els.map(e => e.dataset.alertId)")
        return [i for i in ids if i not in seen]

    assert until(lambda: bool(new_alerts()), seconds=15.0), "no new congestion alert on the board"
    screenshot(page, "tocc-2-replayed")
    fresh = page.locator(f"#tocc-alerts [data-alert-id='{new_alerts()[0]}']")
    link = fresh.locator("[data-testid=alert-case]")
    assert link.count() == 1, "the new alert has no case"
    case_no = link.inner_text().strip()
    case_path = str(link.get_attribute("href"))
    assert re.fullmatch(r"/cases/\d+", case_path)

    # 3. the alert's case, followed from the board by the TOCC officer (who checks and closes traffic
    # cases): 交通拥堵, found by the monitor and dispatched by the machine to the district's 交警大队 at once
    page.goto(case_path)
    assert case_no in page.content()
    assert "交通警察大队" in page.get_by_test_id("case-department").inner_text()
    assert page.get_by_test_id("case-status").get_attribute("data-state") == "handling"
    screenshot(page, "tocc-3-case")
    context.close()

    context, page = signed_in(browser, live_server, "demo-jj", timeout_ms=15_000)
    page.goto("/cases?view=inbox")
    inbox = page.get_by_test_id("cases")
    assert case_no in inbox.inner_text()
    screenshot(page, "tocc-4-jj-inbox")
    page.locator(f"[data-testid=cases] li:has-text('{case_no}') a").first.click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert page.get_by_test_id("case-status").get_attribute("data-state") == "handling"
    screenshot(page, "tocc-5-jj-case")
    context.close()
