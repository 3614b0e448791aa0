"""Cases: intake, routing by category and exact place, the city-event and 12345 lifecycles,
scoped views, 好差评."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases import processes, service
from cityos.cases.models import Case, Rating
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.models import OutboxEvent
from cityos.core.pagination import PageParams
from cityos.people.models import Department, Responsibility
from cityos.places import index
from cityos.workflow.calendar import WorkCalendar, seed_years
from tests.factories import World, make_actor, make_world

CST = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=CST)
IN_GRID1 = (104.02, 30.05)


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    service.install_categories(session)
    processes.install(session)
    seed_years(session, [2026])
    yield w
    index.invalidate()


@pytest.fixture
def calendar(session: Session, world: World) -> WorkCalendar:
    return WorkCalendar.load(session)


def _department(session: Session, code: str, region, category: str) -> Department:  # type: ignore[no-untyped-def]
    dept = Department(code=code, name=f"{code}局", region_id=region.id, region_path=region.path)
    session.add(dept)
    session.flush()
    session.add(
        Responsibility(department_id=dept.id, case_category=category, region_id=region.id, region_path=region.path)
    )
    session.flush()
    return dept


def _fields(exc: pytest.ExceptionInfo) -> set[str]:
    return {d.field for d in exc.value.details}


def test_resident_report_is_placed_and_routed(session: Session, world: World, calendar: WorkCalendar) -> None:
    lights = _department(session, "a-gy", world.district_a, "component.01")
    resident = make_actor(session, roles=["resident"], scope=world.room)
    case = service.report(
        session,
        resident,
        category_code="component.01.01",
        title="  路灯  不亮 ",
        channel="resident",
        lon=IN_GRID1[0],
        lat=IN_GRID1[1],
        now=MONDAY_9,
        calendar=calendar,
    )
    assert case.title == "路灯 不亮"
    assert case.no == f"20261123{case.id:08d}"
    assert case.region_id == world.grid1.id
    assert case.department_id is None  # suggested, not yet dispatched
    assert case.routing == {"department_id": lights.id, "by": "responsibility", "category": "component.01"}
    assert case.status == "found"
    assert "cases.reported" in set(session.scalars(select(OutboxEvent.topic)))


def test_reports_near_a_boundary_go_to_the_right_side(session: Session, world: World, calendar: WorkCalendar) -> None:
    dept_a = _department(session, "a-cg", world.district_a, "event.01")
    dept_b = _department(session, "b-cg", world.district_b, "event.01")
    resident = make_actor(session, roles=["resident"], scope=world.room)
    west = service.report(
        session,
        resident,
        category_code="event.01.01",
        title="垃圾",
        channel="resident",
        lon=104.0999,
        lat=30.05,
        calendar=calendar,
    )
    east = service.report(
        session,
        resident,
        category_code="event.01.01",
        title="垃圾",
        channel="resident",
        lon=104.1001,
        lat=30.05,
        calendar=calendar,
    )
    assert (west.routing["department_id"], east.routing["department_id"]) == (dept_a.id, dept_b.id)


def test_bad_reports_store_nothing(session: Session, world: World, calendar: WorkCalendar) -> None:
    resident = make_actor(session, roles=["resident"], scope=world.room)
    with pytest.raises(Invalid) as exc:
        service.report(
            session,
            resident,
            category_code="event",
            title="",
            channel="fax",
            urgency="whenever",
            lon=200,
            lat=30,
            calendar=calendar,
        )
    assert _fields(exc) == {"category_code", "title", "channel", "urgency", "lon"}
    with pytest.raises(Invalid) as exc:
        service.report(
            session,
            resident,
            category_code="event.01.01",
            title="x",
            channel="resident",
            lon=120.0,
            lat=30.0,
            calendar=calendar,
        )
    assert _fields(exc) == {"lon"}  # outside the city
    with pytest.raises(Invalid) as exc:
        service.report(session, resident, category_code="event.01.01", title="x", channel="resident", calendar=calendar)
    assert _fields(exc) == {"lon"}  # no place at all
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Invalid):  # a patrol reports inside its own grid
        service.report(
            session,
            worker,
            category_code="event.01.01",
            title="x",
            channel="patrol",
            lon=104.07,
            lat=30.05,
            calendar=calendar,
        )
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_city_event_lifecycle_and_rating(session: Session, world: World, calendar: WorkCalendar) -> None:
    dept = _department(session, "a-gy", world.district_a, "component.01")
    resident = make_actor(session, roles=["resident"], scope=world.room)
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    staff = make_actor(session, roles=["department_staff"], scope=world.district_a, department_id=dept.id)
    other_staff = make_actor(
        session,
        roles=["department_staff"],
        scope=world.district_a,
        department_id=_department(session, "a-x", world.district_a, "event.02").id,
    )
    case = service.report(
        session,
        resident,
        category_code="component.01.01",
        title="路灯不亮",
        channel="resident",
        lon=IN_GRID1[0],
        lat=IN_GRID1[1],
        now=MONDAY_9,
        calendar=calendar,
    )

    with pytest.raises(NotFound):  # not dispatched to the department yet
        service.get_case(session, staff, case.id)
    with pytest.raises(NotFound):  # and cannot act on it
        service.act(session, staff, case_id=case.id, action="accept", now=MONDAY_9, calendar=calendar)
    with pytest.raises(Forbidden):  # a resident sees their own report but cannot accept it
        service.act(session, resident, case_id=case.id, action="accept", now=MONDAY_9, calendar=calendar)
    assert [a.name for a in service.available_actions(session, worker, case)] == ["accept"]
    service.act(session, worker, case_id=case.id, action="accept", now=MONDAY_9, calendar=calendar)
    service.act(session, dispatcher, case_id=case.id, action="file", now=MONDAY_9, calendar=calendar)
    service.act(session, dispatcher, case_id=case.id, action="dispatch", now=MONDAY_9, calendar=calendar)
    assert (case.status, case.department_id) == ("handling", dept.id)
    assert service.get_case(session, staff, case.id) is case
    with pytest.raises(NotFound):
        service.get_case(session, other_staff, case.id)
    with pytest.raises(Invalid):  # 处置 needs a note of what was done
        service.act(session, staff, case_id=case.id, action="handle", now=MONDAY_9, calendar=calendar)
    service.act(session, staff, case_id=case.id, action="handle", comment="已更换灯泡", now=MONDAY_9, calendar=calendar)
    service.act(session, worker, case_id=case.id, action="check_pass", now=MONDAY_9, calendar=calendar)
    with pytest.raises(Conflict):  # rating waits for the end
        service.rate(session, resident, case_id=case.id, level=5)
    service.act(session, dispatcher, case_id=case.id, action="close", now=MONDAY_9, calendar=calendar)
    assert case.status == "closed"
    assert case.closed_at is not None
    steps = [e.action for e in service.timeline(session, resident, case.id)]
    assert steps == ["start", "accept", "file", "dispatch", "handle", "check_pass", "close"]

    with pytest.raises(Forbidden):
        service.rate(session, worker, case_id=case.id, level=5)
    with pytest.raises(Invalid):
        service.rate(session, resident, case_id=case.id, level=6)
    service.rate(session, resident, case_id=case.id, level=5)
    service.rate(session, resident, case_id=case.id, level=2, comment="灯又坏了")  # one re-rating: 差评
    assert case.rating == 2
    assert "cases.badly_rated" in set(session.scalars(select(OutboxEvent.topic)))
    with pytest.raises(Conflict):
        service.rate(session, resident, case_id=case.id, level=4)
    assert session.scalar(select(func.count()).select_from(Rating)) == 2


def test_machine_detected_events_need_a_person_to_verify(
    session: Session, world: World, calendar: WorkCalendar
) -> None:
    system = make_actor(session, roles=["dispatcher"], scope=world.city)
    case = service.report(
        session,
        system,
        category_code="event.05.02",
        title="占道经营（视频识别）",
        channel="video",
        lon=IN_GRID1[0],
        lat=IN_GRID1[1],
        machine=True,
        calendar=calendar,
    )
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    assert [a.name for a in service.available_actions(session, worker, case)] == ["verify"]
    with pytest.raises(Invalid):
        service.act(session, worker, case_id=case.id, action="accept", calendar=calendar)
    service.act(session, worker, case_id=case.id, action="verify", calendar=calendar)
    assert case.status == "reported"


def test_send_back_and_redispatch_are_recorded(session: Session, world: World, calendar: WorkCalendar) -> None:
    first = _department(session, "a-gy", world.district_a, "component.01")
    second = _department(session, "a-dl", world.district_a, "component.02")
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    staff = make_actor(session, roles=["department_staff"], scope=world.district_a, department_id=first.id)
    case = service.report(
        session,
        dispatcher,
        category_code="component.01.01",
        title="灯",
        channel="hotline",
        lon=IN_GRID1[0],
        lat=IN_GRID1[1],
        calendar=calendar,
    )
    assert case.status == "found"  # a component problem runs the city-event process whatever the channel
    service.act(session, dispatcher, case_id=case.id, action="accept", calendar=calendar)
    service.act(session, dispatcher, case_id=case.id, action="file", calendar=calendar)
    service.act(session, dispatcher, case_id=case.id, action="dispatch", calendar=calendar)
    service.act(session, staff, case_id=case.id, action="send_back", comment="非本部门职责", calendar=calendar)
    assert case.status == "filed"
    with pytest.raises(Invalid):  # a department outside the case's place cannot take it
        service.act(
            session,
            dispatcher,
            case_id=case.id,
            action="dispatch",
            department_id=_department(session, "b-x", world.district_b, "x").id,
            calendar=calendar,
        )
    service.act(session, dispatcher, case_id=case.id, action="dispatch", department_id=second.id, calendar=calendar)
    assert case.department_id == second.id
    assert case.routing["transferred_from"] == first.id


def test_hotline_time_limit_follows_urgency(session: Session, world: World, calendar: WorkCalendar) -> None:
    dispatcher = make_actor(session, roles=["dispatcher"], scope=world.district_a)
    urgent = service.report(
        session,
        dispatcher,
        category_code="hotline.11.01",
        title="停水",
        channel="hotline",
        address="一街道幸福社区",
        urgency="urgent",
        now=MONDAY_9,
        calendar=calendar,
    )
    normal = service.report(
        session,
        dispatcher,
        category_code="hotline.01.01",
        title="物业不作为",
        channel="hotline",
        address="一街道",
        urgency="normal",
        now=MONDAY_9,
        calendar=calendar,
    )
    assert urgent.status == "accepted"
    assert urgent.due_at == datetime(2026, 11, 23, 11, 0, tzinfo=CST)
    assert normal.due_at == datetime(2026, 12, 2, 17, 30, tzinfo=CST)


def test_urgent_help_request_has_two_hours(session: Session, world: World, calendar: WorkCalendar) -> None:
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    help_case = service.report(
        session,
        worker,
        category_code="help.02.01",
        title="独居老人失联",
        channel="patrol",
        lon=104.02,
        lat=30.05,
        urgency="urgent",
        now=MONDAY_9,
        calendar=calendar,
    )
    assert help_case.due_at == datetime(2026, 11, 23, 11, 0, tzinfo=CST)
    volunteer = make_actor(session, roles=["volunteer"], scope=world.grid1)
    assert [a.name for a in service.available_actions(session, volunteer, help_case)] == ["take"]


def test_lists_are_scoped(session: Session, world: World, calendar: WorkCalendar) -> None:
    resident = make_actor(session, roles=["resident"], scope=world.room)
    neighbour = make_actor(session, roles=["resident"], scope=world.room2)
    mine = service.report(
        session,
        resident,
        category_code="event.01.01",
        title="垃圾",
        channel="resident",
        lon=IN_GRID1[0],
        lat=IN_GRID1[1],
        calendar=calendar,
    )
    service.report(
        session,
        neighbour,
        category_code="event.01.01",
        title="垃圾2",
        channel="resident",
        lon=104.07,
        lat=30.05,
        calendar=calendar,
    )
    rows, total = service.list_cases(session, resident, PageParams())
    assert ([c.id for c in rows], total) == ([mine.id], 1)
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    assert [c.id for c in service.list_cases(session, worker, PageParams())[0]] == [mine.id]
    commander = make_actor(session, roles=["commander"], scope=world.city)
    assert service.list_cases(session, commander, PageParams())[1] == 2
    assert service.list_cases(session, commander, PageParams(), service.CaseFilter(q=mine.no))[1] == 1
