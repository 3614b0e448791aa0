"""通知公告: audiences by subtree and by tags (all / any), residence and registration, read
receipts counted once and shown to staff only, notification on publish (SMS when urgent),
scope, and bad input refused with nothing written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.governance import audience, notices, service, tasks
from cityos.community.governance.events import NoticePublished
from cityos.community.governance.models import Notice, NoticeRead
from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.identity.models import Notification
from tests.community.governance_fixtures import NOW, make_gov, resident
from tests.factories import make_person


def _people(session: Session):  # type: ignore[no-untyped-def]
    gov = make_gov(session)
    w = gov.world
    old = resident(session, w.room, name="独居老人", tags=["elderly", "living_alone"])
    young = resident(session, w.room2, name="年轻人")
    disabled = resident(session, w.room2, name="残疾人", relation="family", tags=["disabled"])
    elderly_far = resident(session, w.other_room, name="二网格老人", tags=["elderly"])
    moved = resident(session, w.room, name="已搬走", relation="tenant", since=date(2019, 1, 1), until=date(2025, 1, 1))
    moved.person.region_path = None  # moved out: no current residence, registered nowhere here
    session.flush()
    return gov, {"old": old, "young": young, "disabled": disabled, "far": elderly_far, "moved": moved}


def test_audience_by_subtree_and_by_tags(session: Session) -> None:
    gov, p = _people(session)
    w = gov.world
    building = notices.publish(session, gov.staff, title="停水通知", body="周三停水", region_id=w.building.id, now=NOW)
    community = notices.publish(
        session, gov.staff, title="社区通知", body="全体居民", region_id=w.community.id, now=NOW
    )
    elderly = notices.publish(
        session, gov.staff, title="老人体检", body="免费体检", region_id=w.community.id, tags=["elderly"], now=NOW
    )
    alone = notices.publish(
        session,
        gov.staff,
        title="独居老人关爱",
        body="上门服务",
        region_id=w.community.id,
        tags=["elderly", "living_alone"],
        now=NOW,
    )
    either = notices.publish(
        session,
        gov.staff,
        title="助残助老",
        body="补贴申请",
        region_id=w.community.id,
        tags=["living_alone", "disabled"],
        tag_match="any",
        now=NOW,
    )

    def seen(who: str) -> set[int]:
        return {n.id for n in service.my_notices(session, p[who].actor, limit=50)}

    assert seen("old") == {building.id, community.id, elderly.id, alone.id, either.id}
    assert seen("young") == {building.id, community.id}
    assert seen("disabled") == {building.id, community.id, either.id}
    assert seen("far") == {community.id, elderly.id}
    assert seen("moved") == set()
    assert audience.count(session, w.building.path, [], "all") == 3
    assert audience.count(session, w.community.path, ["elderly"], "all") == 2
    assert audience.count(session, w.community.path, ["living_alone", "disabled"], "any") == 2
    # Registered in a room without a residence record still counts (the matrix's resident).
    registered = make_person(session, name="只登记", region=w.room2)
    assert registered.id in set(session.scalars(audience.people_in(w.building.path, [], "all")))
    # Newest first, limited; staff and others have no "my" notices.
    assert [n.id for n in service.my_notices(session, p["old"].actor, limit=2)] == [either.id, alone.id]
    assert service.my_notices(session, gov.staff) == []


def test_read_receipts_once_counts_for_staff_never_names_to_residents(session: Session) -> None:
    gov, p = _people(session)
    n = notices.publish(session, gov.staff, title="停水通知", body="周三停水", region_id=gov.world.building.id, now=NOW)
    before = notices.receipts(session, gov.staff, n.id)
    assert (before.reached, before.read, before.unread) == (3, 0, 3)
    notices.open_notice(session, p["old"].actor, n.id, now=NOW)
    notices.open_notice(session, p["old"].actor, n.id, now=NOW + timedelta(hours=1))
    notices.open_notice(session, p["young"].actor, n.id, now=NOW)
    assert session.scalar(select(func.count()).select_from(NoticeRead).where(NoticeRead.notice_id == n.id)) == 2
    # Staff opening it leave no receipt.
    notices.open_notice(session, gov.staff, n.id)
    after = notices.receipts(session, gov.staff, n.id)
    assert (after.reached, after.read, after.unread, after.rate) == (3, 2, 1, 0.6667)
    assert after.readers is not None
    assert [name for name, _at in after.readers] == ["独居老人", "年轻人"]
    # The street observer sees the counts, not the names; residents see nothing of others.
    observed = notices.receipts(session, gov.observer, n.id)
    assert observed.read == 2
    assert observed.readers is None
    with pytest.raises(NotFound):
        notices.receipts(session, p["young"].actor, n.id)
    with pytest.raises(NotFound):
        notices.get_notice(session, p["far"].actor, n.id)
    assert notices.read_ids(session, p["old"].id, [n.id]) == {n.id}
    assert notices.unread_count(session, p["disabled"].actor) == 1


def test_publishing_notifies_the_people_reached(session: Session) -> None:
    gov, p = _people(session)
    n = notices.publish(
        session,
        gov.staff,
        title="燃气检修",
        body="请在家等候",
        region_id=gov.world.community.id,
        tags=["elderly"],
        urgency="urgent",
        now=NOW,
    )
    tasks.on_notice_published(session, NoticePublished(notice_id=n.id, urgency=n.urgency))
    told = {
        row.account_id: row
        for row in session.scalars(select(Notification).where(Notification.link == f"/community/notices/{n.id}"))
    }
    assert set(told) == {p["old"].account.id, p["far"].account.id}
    assert told[p["old"].account.id].title == "紧急通知：燃气检修"
    assert "sms" not in told[p["old"].account.id].channels  # no phone on record: in the app only
    # An outbox row was queued for the bus in the same transaction as the notice.
    from cityos.core.models import OutboxEvent

    assert session.scalar(select(OutboxEvent).where(OutboxEvent.topic == NoticePublished.topic)) is not None


def test_scope_and_permissions(session: Session) -> None:
    gov, p = _people(session)
    w = gov.world
    with pytest.raises(Invalid) as exc:
        notices.publish(session, gov.outsider_staff, title="越界", body="x", region_id=w.estate.id)
    assert [d.field for d in exc.value.details] == ["region_id"]
    with pytest.raises(Forbidden):
        notices.publish(session, gov.worker, title="网格员", body="x", region_id=w.grid1.id)
    with pytest.raises(Forbidden):
        notices.publish(session, p["old"].actor, title="居民", body="x", region_id=w.room.id)
    mine = notices.publish(session, gov.staff, title="一网格", body="x", region_id=w.grid1.id, now=NOW)
    assert notices.get_notice(session, gov.observer, mine.id) is mine
    with pytest.raises(NotFound):
        notices.get_notice(session, gov.outsider_staff, mine.id)
    assert notices.sent(session, gov.outsider_staff) == []
    assert mine in notices.sent(session, gov.staff)
    with pytest.raises(Forbidden):
        notices.sent(session, p["old"].actor)


def test_bad_input_is_refused_with_field_messages_and_nothing_written(session: Session) -> None:
    gov, _p = _people(session)
    with pytest.raises(Invalid) as exc:
        notices.publish(
            session,
            gov.staff,
            title="  ",
            body="",
            region_id=999999,
            urgency="very",
            tags=["elderly", "rich"],
            tag_match="most",
        )
    assert {d.field for d in exc.value.details} == {"title", "body", "region_id", "urgency", "tags", "tag_match"}
    with pytest.raises(Invalid) as exc:
        notices.publish(session, gov.staff, title="x" * 129, body="x" * 10_001, region_id="1", tags="elderly")
    assert {d.field for d in exc.value.details} == {"title", "body", "region_id", "tags"}
    with pytest.raises(Invalid):
        notices.publish(session, gov.staff, title="x", body="y", region_id=True)
    assert session.scalar(select(func.count()).select_from(Notice)) == 0


def test_the_bus_tells_people_after_the_commit(runtime, session: Session) -> None:  # type: ignore[no-untyped-def]
    from cityos.community.governance import surveys, votes
    from tests.community.governance_fixtures import set_area

    tasks.register(runtime.bus)
    gov, p = _people(session)
    set_area(session, gov.world.room, 80)
    session.commit()
    n = notices.publish(session, gov.staff, title="消防演练", body="周六上午", region_id=gov.world.building.id)
    s = surveys.create(
        session,
        gov.staff,
        title="意见征集",
        region_id=gov.world.building.id,
        questions=[{"kind": "rating", "text": "打分"}],
        closes_at=NOW + timedelta(days=30),
    )
    v = votes.call(
        session,
        gov.manager,
        title="更换门禁",
        region_id=gov.world.building.id,
        weighting="rooms",
        closes_at=NOW + timedelta(days=30),
    )
    session.commit()  # delivered now, each handler in its own transaction

    def told(link: str) -> set[int]:
        return set(session.scalars(select(Notification.account_id).where(Notification.link == link)))

    reached = {p["old"].account.id, p["young"].account.id, p["disabled"].account.id}
    assert told(f"/community/notices/{n.id}") == reached
    assert told(f"/community/surveys/{s.id}") == reached
    # Only owners hear of a vote: the family member of 102 does not.
    assert told(f"/community/votes/{v.id}") == {p["old"].account.id, p["young"].account.id}
