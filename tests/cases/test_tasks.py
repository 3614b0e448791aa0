"""What follows a case's steps through the bus: notifications, rectification after 差评; and a
time limit that runs across 国庆."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.cases.models import Rectification
from cityos.core.errors import Forbidden, Invalid
from cityos.core.runtime import Runtime
from cityos.identity.models import Notification, SmsMessage
from cityos.people.models import Department, Responsibility
from cityos.places import index
from cityos.registry import subscribe_all
from cityos.workflow.calendar import WorkCalendar, seed_years
from tests.factories import World, make_account, make_person, make_world

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(session: Session, runtime: Runtime) -> Iterator[World]:
    subscribe_all(runtime.bus)
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    seed_years(session, [2026])
    session.commit()
    yield w
    index.invalidate()


def _actor(session: Session, account) -> object:  # type: ignore[no-untyped-def]
    from cityos.identity.deps import actor_for_account

    return actor_for_account(session, account)


def test_reporter_and_department_are_told(session: Session, world: World) -> None:
    dept = Department(
        code="a-gy", name="甲区公用设施局", region_id=world.district_a.id, region_path=world.district_a.path
    )
    session.add(dept)
    session.flush()
    session.add(
        Responsibility(
            department_id=dept.id,
            case_category="component.01",
            region_id=world.district_a.id,
            region_path=world.district_a.path,
        )
    )
    person = make_person(session, name="居民戊", region=world.room, phone="13912345678")
    resident_account = make_account(session, roles=["resident"], scope=world.room, person_id=person.id)
    staff_account = make_account(session, roles=["department_staff"], scope=world.district_a, department_id=dept.id)
    resident = _actor(session, resident_account)
    worker = _actor(session, make_account(session, roles=["grid_worker"], scope=world.grid1))
    dispatcher = _actor(session, make_account(session, roles=["dispatcher"], scope=world.district_a))
    staff = _actor(session, staff_account)
    case = cases.report(
        session, resident, category_code="component.01.01", title="路灯不亮", channel="resident", lon=104.02, lat=30.05
    )  # type: ignore[arg-type]
    session.commit()
    for who, action, comment in (
        (worker, "accept", None),
        (dispatcher, "file", None),
        (dispatcher, "dispatch", None),
        (staff, "handle", "已修"),
        (worker, "check_pass", None),
        (dispatcher, "close", None),
    ):
        cases.act(session, who, case_id=case.id, action=action, comment=comment)  # type: ignore[arg-type]
        session.commit()
    told = session.scalars(select(Notification).where(Notification.account_id == resident_account.id)).all()
    assert len(told) == 6  # every step
    assert told[-1].channels == "app,sms"  # the end also by SMS
    assert session.scalars(select(SmsMessage.phone_masked)).all() == ["139****5678"]
    inbox = session.scalars(select(Notification.title).where(Notification.account_id == staff_account.id)).all()
    assert any(case.no in t for t in inbox)

    cases.rate(session, resident, case_id=case.id, level=1, comment="没修好")  # type: ignore[arg-type]
    session.commit()
    rectification = session.scalars(select(Rectification)).one()
    assert (rectification.case_id, rectification.department_id, rectification.rating_level) == (case.id, dept.id, 1)
    assert rectification.rectify_due_at > rectification.callback_due_at


def test_time_limit_across_national_day(session: Session, world: World) -> None:
    dispatcher = _actor(session, make_account(session, roles=["dispatcher"], scope=world.district_a))
    eve = datetime(2026, 9, 30, 16, 0, tzinfo=CST)
    calendar = WorkCalendar.load(session)
    case = cases.report(
        session,
        dispatcher,
        category_code="hotline.11.01",
        title="停水",
        channel="hotline",
        address="一街道",
        urgency="urgent",
        now=eve,
        calendar=calendar,
    )  # type: ignore[arg-type]
    # 2 working hours from 16:00 on the eve: 1.5 h that day, the rest on 8 October.
    assert case.due_at == datetime(2026, 10, 8, 9, 30, tzinfo=CST)
    normal = cases.report(
        session,
        dispatcher,
        category_code="hotline.01.01",
        title="物业",
        channel="hotline",
        address="一街道",
        urgency="normal",
        now=eve,
        calendar=calendar,
    )  # type: ignore[arg-type]
    # 7 working days: 8, 9, 10 (make-up Saturday), 12, 13, 14, 15 October.
    assert normal.due_at == datetime(2026, 10, 15, 17, 30, tzinfo=CST)


def test_duplicates_are_suggested_merged_and_share_the_outcome(session: Session, world: World) -> None:
    first_account = make_account(session, roles=["resident"], scope=world.room)
    second_account = make_account(session, roles=["resident"], scope=world.room2)
    dispatcher = _actor(session, make_account(session, roles=["dispatcher"], scope=world.district_a))
    worker = _actor(session, make_account(session, roles=["grid_worker"], scope=world.grid1))
    first = cases.report(
        session,
        _actor(session, first_account),
        category_code="event.01.01",
        title="垃圾堆",
        channel="resident",
        lon=104.02,
        lat=30.05,
    )  # type: ignore[arg-type]
    far = cases.report(
        session,
        _actor(session, first_account),
        category_code="event.01.01",
        title="另一处垃圾",
        channel="resident",
        lon=104.03,
        lat=30.05,
    )  # type: ignore[arg-type]
    other_kind = cases.report(
        session,
        _actor(session, first_account),
        category_code="event.02.01",
        title="小广告",
        channel="resident",
        lon=104.0201,
        lat=30.05,
    )  # type: ignore[arg-type]
    second = cases.report(
        session,
        _actor(session, second_account),
        category_code="event.01.01",
        title="这里有垃圾",
        channel="resident",
        lon=104.0202,
        lat=30.0501,
    )  # type: ignore[arg-type]
    assert second.routing["possible_duplicates"] == [first.id]  # 20 m away, same kind; not 1 km away, not another kind
    assert far.id not in second.routing["possible_duplicates"]
    assert other_kind.id not in second.routing["possible_duplicates"]
    with pytest.raises(Forbidden):
        cases.merge(session, worker, case_id=second.id, into_id=first.id)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        cases.merge(session, dispatcher, case_id=second.id, into_id=second.id)  # type: ignore[arg-type]
    cases.merge(session, dispatcher, case_id=second.id, into_id=first.id)  # type: ignore[arg-type]
    assert (second.status, second.duplicate_of) == ("merged", first.id)
    session.commit()
    for who, action, comment in ((worker, "accept", None), (dispatcher, "reject", "已清理，无需立案")):
        cases.act(session, who, case_id=first.id, action=action, comment=comment)  # type: ignore[arg-type]
        session.commit()
    session.refresh(second)
    assert second.closed_at is not None  # shares the outcome
    told = session.scalars(select(Notification.title).where(Notification.account_id == second_account.id)).all()
    assert any(second.no in t for t in told)
    cases.rate(session, _actor(session, second_account), case_id=second.id, level=4)  # type: ignore[arg-type]
