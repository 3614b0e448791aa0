"""Roll-ups of a known campaign at every level: the figures, the stored rows against the records,
refreshes after reports (through the bus), the periodic catch-up, scope, and bad input."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.db import utcnow
from cityos.core.errors import Forbidden, Invalid, NotFound
from cityos.core.runtime import Runtime
from cityos.emergency.campaigns.events import OrgReportReceived, ReportReceived
from cityos.emergency.campaigns.models import Reach, Report, SuppliesDelivery, Task
from cityos.emergency.command import service, store, tasks
from cityos.emergency.command.models import RollupBuild, RollupDay, RollupRow
from cityos.places.models import Region
from tests.emergency.command_fixtures import Known, build_known, report
from tests.factories import add_region, box, make_actor, make_person


@pytest.fixture
def known(session: Session) -> Known:
    return build_known(session)


def _commander(session: Session, known: Known):  # type: ignore[no-untyped-def]
    return make_actor(session, roles=["commander"], scope=known.world.city)


def _regions(known: Known) -> list[Region]:
    w = known.world
    return [
        w.city,
        w.district_a,
        w.street,
        w.community,
        w.grid1,
        w.grid2,
        w.estate,
        w.building,
        known.building3,
        known.b2,
    ]


def test_figures_at_each_level(session: Session, known: Known) -> None:
    actor = _commander(session, known)
    w = known.world
    at = {r.id: service.rollup(session, actor, campaign_id=known.campaign.id, region_id=r.id) for r in _regions(known)}
    community = at[w.community.id].region.figures
    assert (community.residents, community.households, community.special) == (8, 5, 2)
    assert (community.reached, community.unreached, community.reported, community.abnormal) == (5, 3, 4, 2)
    assert (community.staff_reported, community.staff_abnormal) == (1, 0)
    assert (community.help_total, community.help_open, community.help_overdue, community.help_escalated) == (4, 3, 2, 1)
    assert (community.tasks_open, community.tasks_done, community.supplied) == (2, 1, 2)
    assert community.reach_rate == 62.5
    assert community.report_rate == 50.0
    assert community.supplies_rate == 40.0
    # The city and the district see the community's campaign, and only the branch that leads to it.
    assert at[w.city.id].region.figures == community
    assert [c.name for c in at[w.city.id].children] == ["甲区"]
    assert [c.name for c in at[w.district_a.id].children] == ["一街道"]
    assert [c.name for c in at[w.community.id].children] == ["第一网格", "第二网格"]
    grid1, grid2 = (c.figures for c in at[w.community.id].children)
    assert (grid1.residents, grid1.reached, grid1.reported, grid1.abnormal, grid1.staff_reported) == (6, 4, 3, 1, 1)
    assert (grid1.help_open, grid1.help_overdue, grid1.tasks_open, grid1.tasks_done, grid1.supplied) == (2, 1, 1, 1, 1)
    assert (grid2.residents, grid2.reached, grid2.reported, grid2.abnormal) == (2, 1, 1, 1)
    assert (grid2.help_total, grid2.help_open, grid2.help_overdue, grid2.help_escalated) == (2, 1, 1, 1)
    estate = at[w.estate.id]
    assert [c.name for c in estate.children] == ["1栋", "3栋"]
    b1, b3 = (c.figures for c in estate.children)
    assert (b1.residents, b1.reached, b1.reported, b1.abnormal, b1.special) == (3, 3, 3, 1, 1)
    assert (b3.residents, b3.reached, b3.reported, b3.unreached, b3.report_rate) == (3, 1, 0, 2, 0.0)
    assert at[w.building.id].children == []  # drill-down ends at the building
    assert [a.name for a in at[w.building.id].ancestors] == [
        "测试市",
        "甲区",
        "一街道",
        "幸福社区",
        "第一网格",
        "阳光小区",
    ]
    yesterday = service.rollup(
        session, actor, campaign_id=known.campaign.id, region_id=w.community.id, day=known.today - timedelta(days=1)
    )
    assert (yesterday.region.figures.reported, yesterday.region.figures.reached) == (1, 5)


def test_stored_rows_equal_the_records_at_every_level(session: Session, known: Known) -> None:
    actor = _commander(session, known)
    live = {
        r.id: service.rollup(session, actor, campaign_id=known.campaign.id, region_id=r.id) for r in _regions(known)
    }
    assert all(r.live for r in live.values())
    state = store.build(session, known.campaign)
    # 测试市 甲区 一街道 above the scope; 幸福社区, two grids, two estates and three buildings in it.
    assert state.rows == 11
    for region_id, before in live.items():
        after = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=region_id)
        assert not after.live
        assert after.region.figures == before.region.figures
        assert [(c.id, c.figures) for c in after.children] == [(c.id, c.figures) for c in before.children]
    # A unit is below the stored levels: it is counted from the records.
    unit = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.unit.id)
    assert unit.live
    assert unit.region.figures.residents == 3


def test_a_report_reaches_the_rollup_through_the_bus_within_seconds(
    runtime: Runtime, session: Session, known: Known
) -> None:
    tasks.register(runtime.bus)
    actor = _commander(session, known)
    store.build(session, known.campaign)
    session.commit()
    person = known.persons["孙八"]
    row = report(session, known.campaign, person, known.today, abnormal=True)
    bus.publish(
        session, ReportReceived(campaign_id=known.campaign.id, region_path=row.region_path, day=row.day, abnormal=True)
    )
    started = time.perf_counter()
    session.commit()  # the handler runs after the commit
    shown = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.building3.id)
    latency = time.perf_counter() - started
    assert not shown.live
    assert (shown.region.figures.reported, shown.region.figures.abnormal, shown.region.figures.reached) == (1, 1, 2)
    city = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.city.id).region.figures
    assert (city.reported, city.abnormal, city.reached) == (5, 3, 6)
    assert latency < 5.0


def test_a_replaced_report_counts_once_and_a_late_one_updates_its_day(session: Session, known: Known) -> None:
    actor = _commander(session, known)
    store.build(session, known.campaign)
    li = session.scalar(select(Report).where(Report.person_id == known.persons["李四"].id, Report.day == known.today))
    assert li is not None
    li.abnormal = False  # a second report the same day replaces the first
    li.entries = 2
    session.flush()
    service.refresh_after_report(session, campaign_id=known.campaign.id, region_path=li.region_path, day=li.day)
    yesterday = known.today - timedelta(days=1)
    late = report(session, known.campaign, known.persons["王五"], yesterday)
    late.late = True
    service.refresh_after_report(session, campaign_id=known.campaign.id, region_path=late.region_path, day=yesterday)
    today = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.community.id)
    assert (today.region.figures.reported, today.region.figures.abnormal) == (4, 1)
    before = service.rollup(
        session, actor, campaign_id=known.campaign.id, region_id=known.world.community.id, day=yesterday
    )
    assert before.region.figures.reported == 2
    assert [c.figures.reported for c in before.children] == [2, 0]
    # Refreshing again changes nothing (at-least-once delivery).
    service.refresh_after_report(session, campaign_id=known.campaign.id, region_path=late.region_path, day=yesterday)
    again = service.rollup(
        session, actor, campaign_id=known.campaign.id, region_id=known.world.community.id, day=yesterday
    )
    assert again.region.figures == before.region.figures


def test_an_enterprise_staff_report_counts_where_the_organisation_is(
    runtime: Runtime, session: Session, known: Known
) -> None:
    from cityos.emergency.campaigns.models import OrgReport

    tasks.register(runtime.bus)
    actor = _commander(session, known)
    store.build(session, known.campaign)
    org = session.scalar(select(OrgReport.organisation_id).where(OrgReport.campaign_id == known.campaign.id))
    session.add(
        OrgReport(
            campaign_id=known.campaign.id,
            organisation_id=org,
            region_path=known.world.grid1.path,
            day=known.today,
            name="员工乙",
            phone_enc="x",
            phone_hash="h-2",
            form_version=1,
            answers={},
            abnormal=True,
        )
    )
    bus.publish(
        session,
        OrgReportReceived(
            campaign_id=known.campaign.id, organisation_id=org, region_path=known.world.grid1.path, day=known.today
        ),
    )
    session.commit()
    grid = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.grid1.id).region.figures
    assert (grid.staff_reported, grid.staff_abnormal) == (2, 1)
    estate = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.estate.id)
    assert estate.region.figures.staff_reported == 0


def test_a_building_added_after_the_build_gets_its_rows(session: Session, known: Known) -> None:
    actor = _commander(session, known)
    store.build(session, known.campaign)
    b5 = add_region(session, known.world.estate, "building", "5栋", geometry=box(104.016, 30.012, 0.001, 0.0005))
    unit = add_region(session, b5, "unit", "1单元")
    room = add_region(session, unit, "room", "501")
    person = make_person(session, name="冯五", region=room)
    row = report(session, known.campaign, person, known.today)
    service.refresh_after_report(session, campaign_id=known.campaign.id, region_path=row.region_path, day=row.day)
    estate = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.estate.id)
    assert [c.name for c in estate.children] == ["1栋", "3栋", "5栋"]
    assert (estate.children[2].figures.residents, estate.children[2].figures.reported) == (1, 1)
    assert (estate.region.figures.residents, estate.region.figures.reported) == (7, 4)
    # A report from outside the campaign's area changes nothing.
    outside = report(session, known.campaign, known.persons["郑一"], known.today)
    assert (
        service.refresh_after_report(
            session, campaign_id=known.campaign.id, region_path=outside.region_path, day=known.today
        )
        == 0
    )


def test_the_periodic_job_builds_and_catches_up(session: Session, known: Known) -> None:
    actor = _commander(session, known)
    assert service.periodic(session) == 11 + 17  # both published campaigns get their rows
    assert session.scalar(select(func.count()).select_from(RollupBuild)) == 2
    settled = utcnow() - timedelta(minutes=3)
    session.add(
        Reach(
            campaign_id=known.campaign.id,
            person_id=known.persons["孙八"].id,
            region_path=known.room302.path,
            how="phone",
            at=settled,
        )
    )
    session.add(
        SuppliesDelivery(
            campaign_id=known.campaign.id,
            room_id=known.room301.id,
            region_path=known.room301.path,
            item_code="rice",
            quantity=1,
            delivered_at=settled,
        )
    )
    task = session.scalar(select(Task).where(Task.campaign_id == known.campaign.id, Task.region_id == known.b2.id))
    assert task is not None
    task.status, task.done_at = "done", utcnow()
    session.flush()
    assert service.periodic(session) >= 2
    community = service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.community.id)
    f = community.region.figures
    assert (f.reached, f.supplied, f.tasks_done, f.tasks_open) == (6, 3, 2, 1)
    assert not community.live
    state = session.get(RollupBuild, known.campaign.id)
    assert state is not None
    assert state.reach_id > 0
    assert state.supplies_id > 0


def test_the_periodic_check_repairs_what_came_without_an_event(session: Session, known: Known) -> None:
    actor = _commander(session, known)
    for done in session.scalars(select(Task).where(Task.status == "done")):
        done.done_at = utcnow() - timedelta(minutes=10)  # long folded in
    store.build(session, known.campaign)
    store.build(session, known.city_campaign)
    state = session.get(RollupBuild, known.campaign.id)
    assert state is not None
    # Nothing differs: a whole pass recounts nothing and starts again.
    assert service.periodic(session) == 0
    assert state.reconcile_path != ""
    assert service.periodic(session) == 0
    assert state.reconcile_path == ""
    # Someone moves in, a task is reopened, a report is edited by hand: no event tells the roll-up.
    make_person(session, name="新住户", region=known.room302)
    task = session.scalar(
        select(Task).where(Task.campaign_id == known.campaign.id, Task.region_id == known.world.building.id)
    )
    assert task is not None
    task.status, task.done_at = "open", None
    wang = session.scalar(select(Report).where(Report.person_id == known.persons["王五"].id, Report.day == known.today))
    assert wang is not None
    wang.abnormal = True
    session.flush()
    # 3栋 (the newcomer) and 1栋 (the task, the report); 3栋 again in the city-wide campaign.
    assert service.periodic(session) == 3
    f = service.rollup(session, actor, campaign_id=known.campaign.id).region.figures
    assert (f.residents, f.tasks_open, f.tasks_done, f.abnormal) == (9, 3, 0, 3)
    assert (
        f
        == service.rollup(
            session, actor, campaign_id=known.campaign.id, region_id=known.world.community.id
        ).region.figures
    )
    # A small campaign is checked through at every call, with a limit the slices go on where they stopped.
    state.reconcile_path = ""
    calls = 0
    while True:
        calls += 1
        store.reconcile(session, known.campaign, state, days=[known.today], limit=3)
        if state.reconcile_path == "":
            break
    assert calls == 4  # 8 rows in scope, 3 a call (3 + 3 + 2), then the empty call that starts again


def test_closed_campaigns_are_left_alone(session: Session, known: Known) -> None:
    known.campaign.status = "closed"
    known.city_campaign.status = "closed"
    session.flush()
    assert service.periodic(session) == 0


def test_a_rebuild_replaces_the_rows(session: Session, known: Known) -> None:
    store.build(session, known.campaign)
    rows = session.scalar(select(func.count()).select_from(RollupRow).where(RollupRow.campaign_id == known.campaign.id))
    days = session.scalar(select(func.count()).select_from(RollupDay).where(RollupDay.campaign_id == known.campaign.id))
    again = service.rebuild(session, campaign_id=known.campaign.id)
    assert again is not None
    assert again.rows == rows
    assert (
        session.scalar(select(func.count()).select_from(RollupDay).where(RollupDay.campaign_id == known.campaign.id))
        == days
    )
    with pytest.raises(NotFound):
        service.rebuild(session, campaign_id=999_999)
    assert service.rebuild(session, campaign_id=999_999, missing_ok=True) is None


# --- scope ---------------------------------------------------------------------------------------------------


def test_a_community_sees_only_its_own_part_of_a_city_campaign(session: Session, known: Known) -> None:
    staff = make_actor(session, roles=["community_staff"], scope=known.world.community)
    shown = service.rollup(session, staff, campaign_id=known.city_campaign.id)
    assert shown.region.id == known.world.community.id
    assert (shown.region.figures.residents, shown.region.figures.reported) == (8, 1)  # not 郑一 of district B
    assert shown.ancestors == []
    with pytest.raises(NotFound):
        service.rollup(session, staff, campaign_id=known.city_campaign.id, region_id=known.world.district_a.id)
    with pytest.raises(NotFound):
        service.rollup(session, staff, campaign_id=known.city_campaign.id, region_id=known.outside_district_room.id)
    store.build(session, known.city_campaign)
    assert service.rollup(session, staff, campaign_id=known.city_campaign.id).region.figures.reported == 1


def test_a_district_sees_its_communities_and_no_one_sees_another_districts_campaign(
    session: Session, known: Known
) -> None:
    district = make_actor(session, roles=["commander"], scope=known.world.district_a)
    shown = service.rollup(session, district, campaign_id=known.campaign.id)
    assert shown.region.id == known.world.community.id  # the deeper of the two scopes
    up = service.rollup(session, district, campaign_id=known.campaign.id, region_id=known.world.district_a.id)
    assert [c.name for c in up.children] == ["一街道"]
    assert up.region.figures.residents == 8
    other = make_actor(session, roles=["commander"], scope=known.world.district_b)
    with pytest.raises(NotFound):
        service.rollup(session, other, campaign_id=known.campaign.id)
    city = service.rollup(session, other, campaign_id=known.city_campaign.id)
    assert city.region.id == known.world.district_b.id
    assert city.region.figures.residents == 1
    grid = make_actor(session, roles=["grid_worker"], scope=known.world.grid2)
    mine = service.rollup(session, grid, campaign_id=known.campaign.id)
    assert mine.region.id == known.world.grid2.id
    assert mine.region.figures.residents == 2
    assert [c.id for c in service.campaigns_for(session, grid)] == [known.city_campaign.id, known.campaign.id]
    assert [c.id for c in service.campaigns_for(session, other)] == [known.city_campaign.id]


def test_who_may_read_rollups(session: Session, known: Known) -> None:
    resident = make_actor(session, roles=["resident"], scope=known.world.city)
    with pytest.raises(Forbidden):
        service.rollup(session, resident, campaign_id=known.campaign.id)
    observer = make_actor(session, roles=["street_observer"], scope=known.world.street)
    assert service.rollup(session, observer, campaign_id=known.campaign.id).region.figures.residents == 8


def test_bad_input(session: Session, known: Known) -> None:
    actor = _commander(session, known)
    with pytest.raises(NotFound):
        service.rollup(session, actor, campaign_id=999_999)
    with pytest.raises(NotFound):
        service.rollup(session, actor, campaign_id=known.campaign.id, region_id=999_999)
    with pytest.raises(Invalid) as outside:
        service.rollup(session, actor, campaign_id=known.campaign.id, region_id=known.world.district_b.id)
    assert [d.field for d in outside.value.details] == ["region_id"]
    with pytest.raises(Invalid) as future:
        service.rollup(session, actor, campaign_id=known.campaign.id, day=known.today + timedelta(days=2))
    assert [d.field for d in future.value.details] == ["day"]
    assert session.scalar(select(func.count()).select_from(RollupRow)) == 0  # reads write nothing
