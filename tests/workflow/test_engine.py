"""The process engine: definitions and their checks, actions, countersign, reopen, working-time
deadlines across 国庆, escalation timers that survive a restart."""

from __future__ import annotations

from copy import deepcopy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.errors import Conflict, Forbidden, Invalid
from cityos.core.models import OutboxEvent
from cityos.workflow import service
from cityos.workflow.calendar import WorkCalendar, seed_years
from cityos.workflow.models import CalendarYear, ProcessTimer
from cityos.workflow.spec import MSG_DEAD_END, MSG_UNREACHABLE
from tests.factories import World, make_actor, make_world

CST = ZoneInfo("Asia/Shanghai")

SPEC: dict[str, Any] = {
    "key": "test_event",
    "title": "测试事件",
    "initial": "filed",
    "limit": {"amount": 5, "unit": "working_days"},
    "states": {
        "filed": {
            "title": "立案",
            "limit": {"amount": 2, "unit": "working_hours"},
            "escalation": [{"after_hours": 0, "kind": "remind"}, {"after_hours": 2, "kind": "supervisor"}],
        },
        "handling": {"title": "处置", "limit": {"amount": 1, "unit": "working_days"}},
        "review": {"title": "会签"},
        "closed": {"title": "结案", "final": True},
    },
    "actions": [
        {
            "name": "dispatch",
            "from": ["filed"],
            "to": "handling",
            "roles": ["dispatcher"],
            "when": {"field": "department_id", "present": True},
        },
        {
            "name": "send_back",
            "from": ["handling"],
            "to": "filed",
            "roles": ["department_staff"],
            "comment_required": True,
        },
        {"name": "finish", "from": ["handling"], "to": "review", "roles": ["department_staff"]},
        {"name": "sign", "from": ["review"], "to": "closed", "roles": ["department_staff"], "countersign": "signers"},
    ],
    "reopen": {"within_days": 7, "to": "handling", "roles": ["resident"]},
}


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def calendar(session: Session) -> WorkCalendar:
    seed_years(session, [2026])
    return WorkCalendar.load(session)


def _fields(exc: pytest.ExceptionInfo) -> list[str]:
    return [d.message for d in exc.value.details]


def test_national_day_is_not_a_working_day(calendar: WorkCalendar) -> None:
    eve = datetime(2026, 9, 30, 16, 0, tzinfo=CST)
    # 2 office hours from 16:00 on 30 September: 1.5 h that day, the rest after the holiday week.
    assert calendar.add_working_hours(eve, 2) == datetime(2026, 10, 8, 9, 30, tzinfo=CST)
    assert calendar.add_working_days(eve, 1) == datetime(2026, 10, 8, 17, 30, tzinfo=CST)
    # 10 October is a Saturday but a make-up working day (调休).
    assert calendar.add_working_days(eve, 3) == datetime(2026, 10, 10, 17, 30, tzinfo=CST)
    assert calendar.missing_years == set()


def test_lunch_break_and_evening_do_not_count(calendar: WorkCalendar) -> None:
    start = datetime(2026, 11, 23, 11, 0, tzinfo=CST)  # Monday
    assert calendar.add_working_hours(start, 2) == datetime(2026, 11, 23, 14, 30, tzinfo=CST)
    assert calendar.add_working_hours(datetime(2026, 11, 23, 20, 0, tzinfo=CST), 1) == datetime(
        2026, 11, 24, 10, 0, tzinfo=CST
    )


def test_a_year_without_data_falls_back_to_weekends_and_says_so(session: Session) -> None:
    calendar = WorkCalendar.load(session)
    assert calendar.add_working_days(datetime(2027, 1, 1, 10, 0, tzinfo=CST), 1) == datetime(
        2027, 1, 4, 17, 30, tzinfo=CST
    )
    assert calendar.missing_years == {2027}
    assert seed_years(session, [2026, 2099]) == [2026]
    assert session.get(CalendarYear, 2099) is None


def test_definitions_are_checked(session: Session) -> None:
    broken = deepcopy(SPEC)
    broken["states"]["orphan"] = {"title": "孤立"}  # unreachable and a dead end
    broken["actions"].append({"name": "lost", "from": ["filed"], "to": "nowhere", "roles": ["admin"]})
    with pytest.raises(Invalid) as exc:
        service.parse_spec(broken)
    assert any("nowhere" in d.params.get("state", "") for d in exc.value.details)
    broken["actions"].pop()
    with pytest.raises(Invalid) as exc:
        service.parse_spec(broken)
    messages = {(d.message, d.params.get("state")) for d in exc.value.details}
    assert (MSG_UNREACHABLE, "orphan") in messages
    assert (MSG_DEAD_END, "orphan") in messages
    with pytest.raises(Invalid):
        service.parse_spec({"key": "Bad Key", "title": "x", "initial": "a", "states": {}, "actions": []})


def test_versions_keep_running_instances_on_their_own(session: Session, world: World, calendar: WorkCalendar) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    first = service.save_definition(session, admin, SPEC)
    instance = service.start(session, key="test_event", subject_type="case", subject_id=1, by=admin, calendar=calendar)
    changed = deepcopy(SPEC)
    changed["title"] = "测试事件 v2"
    second = service.save_definition(session, admin, changed)
    assert (first.version, second.version, first.active, second.active) == (1, 2, False, True)
    assert instance.definition_id == first.id
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Forbidden):
        service.save_definition(session, worker, SPEC)


def test_lifecycle_with_send_back_countersign_and_reopen(
    session: Session, world: World, calendar: WorkCalendar
) -> None:
    service.save_definition(session, SYSTEM, SPEC)
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    staff = make_actor(session, roles=["department_staff"], scope=world.district_a)
    resident = make_actor(session, roles=["resident"], scope=world.room)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
    instance = service.start(
        session, key="test_event", subject_type="case", subject_id=7, by=dispatcher, now=now, calendar=calendar
    )
    assert instance.state_due_at == datetime(2026, 11, 23, 11, 0, tzinfo=CST)
    assert instance.due_at == datetime(2026, 11, 30, 17, 30, tzinfo=CST)

    with pytest.raises(Invalid):  # condition: a department first
        service.act(session, instance, action="dispatch", by=dispatcher, now=now, calendar=calendar)
    with pytest.raises(Forbidden):
        service.act(
            session, instance, action="dispatch", by=staff, data={"department_id": 3}, now=now, calendar=calendar
        )
    with pytest.raises(Conflict):
        service.act(session, instance, action="finish", by=staff, now=now, calendar=calendar)
    assert [a.name for a in service.available_actions(session, instance, dispatcher)] == []  # no department yet
    service.act(
        session, instance, action="dispatch", by=dispatcher, data={"department_id": 3}, now=now, calendar=calendar
    )
    assert instance.state == "handling"
    with pytest.raises(Invalid):  # 退单 needs a reason
        service.act(session, instance, action="send_back", by=staff, now=now, calendar=calendar)
    service.act(session, instance, action="send_back", by=staff, comment="不属于本部门", now=now, calendar=calendar)
    service.act(session, instance, action="dispatch", by=dispatcher, now=now, calendar=calendar)  # re-dispatch
    service.act(
        session, instance, action="finish", by=staff, data={"signers": ["cg", "zj"]}, now=now, calendar=calendar
    )

    first = service.act(session, instance, action="sign", by=staff, party="cg", now=now, calendar=calendar)
    assert (first.moved, instance.state) == (False, "review")
    with pytest.raises(Conflict):
        service.act(session, instance, action="sign", by=staff, party="cg", now=now, calendar=calendar)
    with pytest.raises(Invalid):
        service.act(session, instance, action="sign", by=staff, party="gaj", now=now, calendar=calendar)
    last = service.act(session, instance, action="sign", by=staff, party="zj", now=now, calendar=calendar)
    assert last.moved
    assert instance.closed_at == now
    with pytest.raises(Conflict):
        service.act(session, instance, action="finish", by=staff, now=now, calendar=calendar)

    with pytest.raises(Invalid):
        service.reopen(session, instance, by=resident, comment="", now=now + timedelta(days=1), calendar=calendar)
    with pytest.raises(Conflict):
        service.reopen(
            session, instance, by=resident, comment="还是坏的", now=now + timedelta(days=8), calendar=calendar
        )
    service.reopen(session, instance, by=resident, comment="还是坏的", now=now + timedelta(days=2), calendar=calendar)
    assert (instance.state, instance.closed_at) == ("handling", None)

    steps = [(e.action, e.from_state, e.to_state, e.party) for e in service.history(session, instance)]
    assert steps == [
        ("start", None, "filed", None),
        ("dispatch", "filed", "handling", None),
        ("send_back", "handling", "filed", None),
        ("dispatch", "filed", "handling", None),
        ("finish", "handling", "review", None),
        ("sign", "review", None, "cg"),
        ("sign", "review", "closed", "zj"),
        ("reopen", "closed", "handling", None),
    ]
    topics = list(session.scalars(select(OutboxEvent.topic)))
    assert topics.count("workflow.state_changed") == 6


def test_escalation_ladder_fires_once_and_survives_a_restart(
    session: Session, world: World, calendar: WorkCalendar
) -> None:
    service.save_definition(session, SYSTEM, SPEC)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
    instance = service.start(
        session, key="test_event", subject_type="case", subject_id=8, by=SYSTEM, now=now, calendar=calendar
    )
    ladder = session.scalars(
        select(ProcessTimer).where(ProcessTimer.instance_id == instance.id).order_by(ProcessTimer.due_at)
    ).all()
    assert [(t.kind, t.due_at.astimezone(CST).hour) for t in ladder if t.state == "filed"] == [
        ("remind", 11),
        ("supervisor", 14),
    ]

    assert service.fire_due_timers(session, now=datetime(2026, 11, 23, 10, 59, tzinfo=CST)) == 0
    assert service.fire_due_timers(session, now=datetime(2026, 11, 23, 11, 0, tzinfo=CST)) == 1
    assert instance.escalation_level == 1
    # A restart: the next run sees what is already fired and fires only what is newly due.
    session.commit()
    session.expire_all()
    assert service.fire_due_timers(session, now=datetime(2026, 11, 23, 11, 30, tzinfo=CST)) == 0
    assert service.fire_due_timers(session, now=datetime(2026, 11, 23, 15, 0, tzinfo=CST)) == 1
    assert instance.escalation_level == 2
    escalations = list(session.scalars(select(OutboxEvent.topic).where(OutboxEvent.topic == "workflow.escalated")))
    assert len(escalations) == 2
    # Moving on cancels the old state's pending timers.
    service.act(
        session,
        instance,
        action="dispatch",
        by=SYSTEM,
        data={"department_id": 1},
        now=datetime(2026, 11, 23, 15, 5, tzinfo=CST),
        calendar=calendar,
    )
    pending = session.scalars(
        select(ProcessTimer).where(
            ProcessTimer.instance_id == instance.id,
            ProcessTimer.state == "filed",
            ProcessTimer.fired_at.is_(None),
            ProcessTimer.cancelled_at.is_(None),
        )
    ).all()
    assert pending == []
    assert date(2026, 11, 24) == instance.state_due_at.astimezone(CST).date()  # type: ignore[union-attr]
