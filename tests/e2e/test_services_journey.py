"""一网通办 in a real browser on a phone-sized screen: a resident who turns 60 today finds the
proactive offer of the 老年人优待证, applies in one tap with nothing to upload, 民政局 and
交通运输局 approve in parallel while the resident follows every step, the resident receives the
result e-licence in the wallet and rates the service; and a window clerk files the same item
for an elderly resident without a phone (代办)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from cityos.core.actor import subtree_clause
from cityos.core.db import make_engine, make_sessionmaker, unit_of_work
from cityos.core.runtime import blind_index, field_cipher
from cityos.demo.accounts import demo_account
from cityos.identity.models import Account
from cityos.people.models import Person, Residence
from cityos.people.validation import id_check_char
from cityos.places.models import Region
from tests.e2e.conftest import screenshot, signed_in

pytestmark = pytest.mark.browser

ITEM = "mzj-002"  # 老年人优待证办理: 民政局 and 交通运输局 in parallel, result credential elderly_card
ELDER_NAME = "赵桂兰"


@dataclass(frozen=True)
class Journey:
    live_db: str
    resident_name: str
    elder_id_number: str


def _id_number(birth: date) -> str:
    body = f"510104{birth:%Y%m%d}208"
    return body + id_check_char(body)


@pytest.fixture(scope="module")
def journey(live_db: str) -> Iterator[Journey]:
    """The demo resident turns 60 today; an elderly resident without a phone lives in the window
    clerk's district; the services are installed and the nightly evaluation has run."""
    from cityos.services import setup
    from cityos.services.licences import service as licences
    from cityos.services.proactive import rules
    from cityos.services.proactive import service as proactive

    engine = make_engine(live_db)
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as session:
            setup.install(session)
            today = rules.local_today()
            account = session.scalar(select(Account).where(Account.username == demo_account("resident").username))
            assert account is not None
            assert account.person_id is not None
            me = session.get(Person, account.person_id)
            assert me is not None
            me.birth_date = rules.years_after(today, -60)
            session.flush()
            licences.registry_credentials(session, me.id)
            clerk = session.scalar(select(Account).where(Account.username == "demo-window"))
            assert clerk is not None, "the applications part adds the demo-window account"
            room = session.scalar(
                select(Region)
                .where(Region.level == "room", subtree_clause(Region.path, clerk.scope_path))
                .order_by(Region.id)
                .limit(1)
            )
            assert room is not None
            birth = date(1950, 3, 15)
            number = _id_number(birth)
            elder = Person(
                name=ELDER_NAME,
                gender="female",
                birth_date=birth,
                id_number_enc=field_cipher().encrypt(number, context="person.id_number"),
                id_number_hash=blind_index().digest(number, purpose="id_number"),
                region_id=room.id,
                region_path=room.path,
            )
            session.add(elder)
            session.flush()
            session.add(Residence(person_id=elder.id, room_id=room.id, relation="owner", since=date(1990, 1, 1)))
            licences.registry_credentials(session, elder.id)
            assert proactive.evaluate_all(session, today=today) >= 2
            name = me.name
        yield Journey(live_db=live_db, resident_name=name, elder_id_number=number)
    finally:
        engine.dispose()


def _rating(url: str, app_url: str) -> int | None:
    from cityos.cases.models import Rating

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            level = conn.scalar(
                select(Rating.level)
                .where(Rating.subject_type == "application", Rating.subject_id == app_url.rsplit("/", 1)[1])
                .order_by(Rating.id.desc())
                .limit(1)
            )
    finally:
        engine.dispose()
    return int(level) if level is not None else None


def _approve(browser, base_url: str, username: str, url: str, shot: str) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, base_url, username)
    page.goto(url)
    if page.get_by_test_id("act-receive").count():  # 受理 comes first, by whichever department is first
        page.get_by_test_id("act-receive").click()
        page.wait_for_load_state()
    page.get_by_test_id("act-approve").click()
    page.wait_for_load_state()
    screenshot(page, shot)
    context.close()


def test_turning_60_to_elderly_card_in_the_wallet(browser, live_server: str, journey: Journey) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto("/offers")
    card = page.locator("[data-testid=offer]", has_text="老年人优待证")
    assert card.count() == 1
    assert "年满60周岁，可申请老年人优待证" in card.get_by_test_id("offer-reason").inner_text()
    screenshot(page, "services-01-offer")
    card.get_by_test_id("offer-apply").click()
    page.wait_for_url(re.compile(r"/applications/\d+"))
    app_url = page.url.split("?")[0]
    assert page.locator("input[type=file]").count() == 0  # 零材料: nothing to upload
    assert "e-licences proved them" in page.get_by_test_id("zero-material").inner_text() or "电子证照" in (
        page.get_by_test_id("zero-material").inner_text()
    )
    steps = page.get_by_test_id("steps").inner_text()
    assert "民政局" in steps
    assert "交通运输局" in steps
    screenshot(page, "services-02-submitted")
    context.close()

    _approve(browser, live_server, "demo-mzj", app_url, "services-03-mzj-approved")
    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto(app_url)
    assert page.get_by_test_id("app-status").get_attribute("data-state") == "approving"
    steps = page.get_by_test_id("steps").inner_text()
    assert "民政局: 已准予" in steps
    assert "交通运输局: 待审批" in steps  # parallel: the second department has not decided yet
    screenshot(page, "services-04-one-of-two")  # 民政局 done, 交通运输局 still holding it
    context.close()
    _approve(browser, live_server, "demo-jtj", app_url, "services-05-jtj-approved")

    context, page = signed_in(browser, live_server, demo_account("resident").username)
    page.goto(app_url)
    assert page.get_by_test_id("app-status").get_attribute("data-state") == "approved"
    result = page.get_by_test_id("result-credential")
    assert result.count() == 1
    page.check("input[name=level][value='5']")
    page.get_by_test_id("rate").click()
    page.wait_for_load_state()
    assert _rating(journey.live_db, app_url) == 5
    screenshot(page, "services-06-rated")
    page.goto("/wallet")
    assert "老年人优待证" in page.locator("main").inner_text()
    screenshot(page, "services-07-wallet")
    page.goto("/offers?status=applied")
    assert page.locator("[data-testid=offer]", has_text="老年人优待证").count() == 1
    context.close()


def test_window_clerk_files_for_a_resident_without_a_phone(browser, live_server: str, journey: Journey) -> None:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, live_server, "demo-window")
    page.goto("/counter")
    page.get_by_test_id("counter-id").fill(journey.elder_id_number)
    page.get_by_test_id("counter-find").click()
    page.wait_for_load_state()
    page.get_by_test_id("counter-found").get_by_text(ELDER_NAME).click()
    page.wait_for_load_state()
    screenshot(page, "services-08-counter-found")
    page.get_by_test_id("counter-items").locator(f"a[href*='/services/items/{ITEM}/apply']").click()
    page.wait_for_load_state()
    phone = page.locator("input[name=phone]")
    if phone.count():  # no phone on record: the clerk writes down a relative's number
        phone.fill("13512345678")
    if page.get_by_test_id("consent").count():
        page.get_by_test_id("consent").check()  # the resident agrees at the counter
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/applications/\d+"))
    assert page.get_by_test_id("app-status").get_attribute("data-state") in ("submitted", "approving")
    assert page.get_by_test_id("receipt").count() == 1  # a print-friendly receipt for the resident
    screenshot(page, "services-09-counter-filed")
    context.close()
