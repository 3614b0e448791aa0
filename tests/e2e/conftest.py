"""Browser journeys: a real uvicorn server on a file SQLite database with the tiny demo city,
driven by Playwright in Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cityos.core import migrate
from cityos.core.db import make_engine
from cityos.core.runtime import Runtime
from cityos.core.settings import Settings
from tests.conftest import need_service

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOT_TIMEOUT_MS = 60_000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a file SQLite database holding the tiny demo city."""
    from cityos.demo.generator import generate

    db = tmp_path_factory.mktemp("e2e") / "e2e.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    runtime = Runtime.create(Settings(env="test", database_url=url, log_level="WARNING"), engine=engine)
    generate(runtime.session_factory, size="tiny")
    # What `cityos db upgrade` adds beside the schema: what the modules ship, the calendar.
    from cityos.core.db import unit_of_work
    from cityos.registry import install_shipped
    from cityos.workflow.calendar import seed_years

    this_year = date.today().year
    with unit_of_work(runtime.session_factory) as session:
        install_shipped(session)
        # the years `cityos db upgrade` loads (last, this and next, where published)
        seed_years(session, range(this_year - 1, this_year + 2))
    runtime.close()
    return url


@pytest.fixture(scope="session")
def live_server(live_db: str) -> Iterator[str]:
    from cityos.app import create_app

    settings = Settings(env="test", database_url=live_db, log_level="WARNING")
    runtime = Runtime.create(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, runtime=runtime), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    runtime.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        need_service("Chromium", "Debian's chromium package is not installed (make test installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - dev extra missing
        need_service("Playwright", str(exc))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The page as a PNG under test-artifacts/: evidence of what users see, not an assertion. The
    whole page; the viewport alone when a slow machine cannot render the whole of it (a map drawn
    in software) within a minute."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
    except PlaywrightTimeout:
        page.screenshot(path=str(path), timeout=SCREENSHOT_TIMEOUT_MS)
    return path


PHONE = {"width": 390, "height": 844}


def signed_in(
    browser: Any,
    base_url: str,
    username: str,
    *,
    timeout_ms: int | None = None,
    viewport: dict[str, int] | None = None,
) -> tuple[Any, Any]:
    """A zh-CN browser context (phone-sized unless ``viewport``) signed in as a demo account (the
    demo password); ``timeout_ms`` for every wait of the page (None: Playwright's 30 s)."""
    from cityos.demo.accounts import DEMO_PASSWORD

    context = browser.new_context(base_url=base_url, locale="zh-CN", viewport=viewport or PHONE)
    page = context.new_page()
    if timeout_ms is not None:
        page.set_default_timeout(timeout_ms)
    page.goto("/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/(me)?$"))
    return context, page


def until(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Polls ``check`` every 0.25 s until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
