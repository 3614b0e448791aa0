"""Governance in a real browser (Debian's Chromium) on the tiny demo city, on a phone: the
community office publishes a notice to the demo estate; an owner of the estate opens the seeded
owners' vote, taps 同意 for their room and sees it recorded and the live quorum bar; the office
then sees the participation and, the quorum reached, closes the vote and reads the result.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.db import make_engine
from cityos.demo.accounts import DEMO_PASSWORD
from tests.e2e.conftest import ARTIFACTS, PHONE, signed_in

pytestmark = pytest.mark.browser


def _owner_with_a_blank_ballot(url: str) -> tuple[int, int, str]:
    """The seeded vote, a room of it not voted yet, and a sign-in for that room's owner."""
    from cityos.community.governance import votes
    from cityos.community.governance.models import OwnersVote, VoteBallot
    from cityos.identity.models import Account, AccountRole
    from cityos.identity.passwords import hash_password
    from cityos.people.models import Residence

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            vote = session.scalar(select(OwnersVote).where(OwnersVote.status == "open").order_by(OwnersVote.id))
            assert vote is not None, "the demo seeds an open owners' vote"
            for ballot in session.scalars(
                select(VoteBallot).where(VoteBallot.vote_id == vote.id, VoteBallot.choice.is_(None))
            ):
                owner = session.scalar(
                    select(Residence.person_id).where(
                        Residence.room_id == ballot.room_id, Residence.relation == "owner", Residence.until.is_(None)
                    )
                )
                if owner is None or ballot.room_id not in votes.owned_rooms(session, owner):
                    continue
                account = Account(
                    username="e2e-owner",
                    display_name="业主",
                    person_id=owner,
                    scope_region_id=vote.region_id,
                    scope_path=vote.region_path,
                    password_hash=hash_password(DEMO_PASSWORD),
                    active=True,
                    failed_attempts=0,
                )
                session.add(account)
                session.flush()
                session.add(AccountRole(account_id=account.id, role="resident"))
                session.commit()
                return vote.id, ballot.room_id, "e2e-owner"
    finally:
        engine.dispose()
    raise AssertionError("no owner with a blank ballot in the demo vote")


def test_an_owner_votes_and_the_office_closes_the_vote(browser: Any, live_server: str, live_db: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    vote_id, room_id, owner = _owner_with_a_blank_ballot(live_db)

    staff_ctx, staff = signed_in(browser, live_server, "demo-community")
    staff.goto("/community/office")
    staff.locator("summary", has_text="发布通知").click()
    staff.fill("#n-title", "电梯维保通知")
    staff.fill("#n-body", "本周五上午电梯维保，请走楼梯。")
    staff.get_by_test_id("publish-notice").click()
    staff.wait_for_url(re.compile(r"/community/office\?done=notice"))
    assert "通知已发布" in staff.get_by_test_id("flash").inner_text()
    staff.screenshot(path=str(ARTIFACTS / "governance-office-phone.png"), full_page=True)

    owner_ctx, page = signed_in(browser, live_server, owner)
    page.goto("/community/votes")
    page.get_by_test_id(f"vote-{vote_id}").click()
    page.wait_for_url(re.compile(rf"/community/votes/{vote_id}$"))
    page.screenshot(path=str(ARTIFACTS / "governance-ballot-phone.png"), full_page=True)
    page.get_by_test_id(f"choose-{room_id}-0").click()
    page.wait_for_url(re.compile(r"done=cast"))
    assert "您已投票：同意" in page.get_by_test_id(f"ballot-{room_id}").inner_text()
    assert page.get_by_test_id("quorum").is_visible()
    box = page.get_by_test_id(f"ballot-{room_id}").bounding_box()
    assert box is not None
    assert box["width"] <= PHONE["width"]  # fits the phone without sideways scrolling

    staff.goto(f"/community/votes/{vote_id}")
    quorum = staff.get_by_test_id("quorum").inner_text()
    assert "参与表决业主" in quorum or "已达法定参与比例" in quorum or "尚未达到" in quorum
    reached = staff.get_by_test_id("quorum-met").count() == 1
    staff.screenshot(path=str(ARTIFACTS / "governance-quorum.png"), full_page=True)
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.get_by_test_id("close-vote").click()
    staff.wait_for_url(re.compile(r"done=closed"))
    result = staff.get_by_test_id("result").inner_text()
    assert "表决结果" in result or "未形成决定" in result
    if not reached:
        assert "未达到三分之二" in result
    staff.screenshot(path=str(ARTIFACTS / "governance-result.png"), full_page=True)

    page.goto("/community/notices")
    assert "业主表决结果" in page.get_by_test_id("my-notices").inner_text()
    owner_ctx.close()
    staff_ctx.close()


def test_a_grid_worker_logs_a_visit_on_the_phone(browser: Any, live_server: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    ctx, page = signed_in(browser, live_server, "demo-community")
    page.goto("/community/office")
    assert "每月走访独居老人" in page.locator("section[aria-labelledby=h-completion]").inner_text()
    ctx.close()
    ctx, page = signed_in(browser, live_server, "demo-grid")
    page.goto("/community/tasks")
    tasks = page.locator("[data-testid^=task-]")
    if tasks.count() == 0:  # the demo's visit plan is in another grid than demo-grid's
        assert page.get_by_test_id("no-tasks").is_visible()
        ctx.close()
        return
    first = tasks.first
    task_id = (first.get_attribute("data-testid") or "").removeprefix("task-")
    first.locator("summary").click()
    first.locator("input[name=outcome][value=ok]").check()
    first.locator("textarea[name=note]").fill("身体不错，燃气安全")
    page.screenshot(path=str(ARTIFACTS / "governance-visit-phone.png"), full_page=True)
    page.get_by_test_id(f"log-visit-{task_id}").click()
    page.wait_for_url(re.compile(r"done=visit"))
    assert "走访已记录" in page.get_by_test_id("flash").inner_text()
    assert page.get_by_test_id(f"task-{task_id}").count() == 0
    ctx.close()
