"""网格任务: a monthly plan over elderly residents living alone makes one task per person per
period, once (at planning and by the per-minute job); each grid's worker sees only their grid's
tasks and logs visits (not home keeps the task open, a follow-up opens a case); staff see
completion per grid and overdue tasks; bad input is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.community.governance import gridtasks, service, tasks
from cityos.community.governance.events import TasksPlanned
from cityos.community.governance.models import GridTask, TaskPlan, VisitLog
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Notification
from tests.community.governance_fixtures import NOW, make_gov, resident
from tests.factories import make_account

ALONE = ["elderly", "living_alone"]


def _setup(session: Session):  # type: ignore[no-untyped-def]
    gov = make_gov(session)
    w = gov.world
    p = {
        "a": resident(session, w.room, name="独居甲", tags=ALONE, account=False),
        "b": resident(session, w.room2, name="老人乙", tags=["elderly"], account=False),
        "c": resident(session, w.other_room, name="独居丙", tags=ALONE, account=False),
    }
    worker2_account = make_account(session, roles=["grid_worker"], scope=w.grid2, username="wangge2")
    return gov, p, actor_for_account(session, worker2_account)


def test_tasks_are_made_once_per_period_for_the_grid_of_each_person(session: Session) -> None:
    gov, p, _worker2 = _setup(session)
    w = gov.world
    plan = gridtasks.plan(
        session, gov.staff, title="每月走访独居老人", region_id=w.community.id, tags=ALONE, instructions="看望", now=NOW
    )
    made = list(session.scalars(select(GridTask).where(GridTask.plan_id == plan.id).order_by(GridTask.person_id)))
    assert [(t.person_id, t.grid_id, t.period, t.due_on) for t in made] == [
        (p["a"].id, w.grid1.id, "2026-12", date(2026, 12, 31)),
        (p["c"].id, w.grid2.id, "2026-12", date(2026, 12, 31)),
    ]
    assert plan.last_period == "2026-12"
    # Running again in the same period makes nothing more, even for a new person.
    assert service.periodic_work(session, now=NOW)["tasks_made"] == 0
    assert gridtasks.generate(session, plan, today=date(2026, 12, 20)) == []
    # A new month: the job makes January's tasks once.
    january = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai on 1 January
    assert service.periodic_work(session, now=january)["tasks_made"] == 2
    assert service.periodic_work(session, now=january + timedelta(minutes=1))["tasks_made"] == 0
    assert session.scalar(select(func.count()).select_from(GridTask).where(GridTask.period == "2027-01")) == 2
    # A paused plan makes none.
    with pytest.raises(Invalid):
        gridtasks.set_active(session, gov.staff, plan_id=plan.id, active="no")
    with pytest.raises(NotFound):
        gridtasks.set_active(session, gov.outsider_staff, plan_id=plan.id, active=False)
    gridtasks.set_active(session, gov.staff, plan_id=plan.id, active=False)
    assert gridtasks.generate_due(session, today=date(2027, 2, 1)) == 0


def test_periods(session: Session) -> None:
    assert gridtasks.window("weekly", date(2026, 12, 10)) == gridtasks.Window(
        "2026-W50", date(2026, 12, 7), date(2026, 12, 13)
    )
    assert gridtasks.window("quarterly", date(2026, 11, 5)) == gridtasks.Window(
        "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)
    )
    assert gridtasks.window("monthly", date(2027, 2, 3)).end == date(2027, 2, 28)


def test_grid_workers_log_visits_in_their_grid(session: Session) -> None:
    gov, p, worker2 = _setup(session)
    plan = gridtasks.plan(session, gov.staff, title="每月走访", region_id=gov.world.community.id, tags=ALONE, now=NOW)
    mine = gridtasks.my_tasks(session, gov.worker)
    assert [(r.person_name, r.plan_title) for r in mine] == [("独居甲", "每月走访")]
    assert "阳光小区" in mine[0].address
    assert not mine[0].overdue
    task = mine[0].task
    assert [r.person_name for r in gridtasks.my_tasks(session, worker2)] == ["独居丙"]
    with pytest.raises(NotFound):
        gridtasks.log_visit(session, worker2, task_id=task.id, outcome="ok", now=NOW)
    # Not at home: logged, the task stays open.
    gridtasks.log_visit(
        session,
        gov.worker,
        task_id=task.id,
        outcome="not_home",
        note="敲门无人",
        visited_at=NOW - timedelta(hours=3),
        now=NOW,
    )
    assert task.status == "open"
    # Needs help: a note is required; with a follow-up a help case is opened by the worker.
    with pytest.raises(Invalid) as exc:
        gridtasks.log_visit(session, gov.worker, task_id=task.id, outcome="needs_help", now=NOW)
    assert [d.field for d in exc.value.details] == ["note"]
    visit = gridtasks.log_visit(
        session,
        gov.worker,
        task_id=task.id,
        outcome="needs_help",
        note="家中水管漏水，老人无法处理",
        follow_up=True,
        visited_at=NOW - timedelta(hours=1),
        now=NOW,
    )
    assert task.status == "done"
    assert visit.visited_at == NOW - timedelta(hours=1)
    case = session.get(Case, visit.case_id)
    assert case is not None
    assert (case.category_code, case.channel) == ("help.01", "patrol")
    assert case.title.startswith("走访跟进：")
    assert case.description == "家中水管漏水，老人无法处理"
    assert [v.outcome for v in gridtasks.visits_of(session, gov.worker, task.id)] == ["not_home", "needs_help"]
    with pytest.raises(Conflict):
        gridtasks.log_visit(session, gov.worker, task_id=task.id, outcome="ok", now=NOW)
    assert gridtasks.my_tasks(session, gov.worker) == []
    assert [r.task.id for r in gridtasks.my_tasks(session, gov.worker, status="done")] == [task.id]
    assert plan.id == task.plan_id


def test_completion_per_grid_and_overdue(session: Session) -> None:
    gov, p, worker2 = _setup(session)
    w = gov.world
    gridtasks.plan(session, gov.staff, title="每月走访", region_id=w.community.id, tags=ALONE, now=NOW)
    task_a = gridtasks.my_tasks(session, gov.worker)[0].task
    gridtasks.log_visit(session, gov.worker, task_id=task_a.id, outcome="ok", now=NOW)
    by_grid = {c.grid_name: c for c in gridtasks.completion(session, gov.staff, today=date(2026, 12, 10))}
    assert {k: (c.total, c.done, c.overdue, c.rate) for k, c in by_grid.items()} == {
        "第一网格": (1, 1, 0, 1.0),
        "第二网格": (1, 0, 0, 0.0),
    }
    # In January December's open task is overdue.
    late = {c.grid_name: c for c in gridtasks.completion(session, gov.staff, today=date(2027, 1, 2))}
    assert late["第二网格"].overdue == 1
    stats = service.stats(session, region=w.community, now=NOW)
    assert (stats["tasks_this_period"], stats["tasks_done"], stats["task_completion_rate"]) == (2, 1, 0.5)
    assert stats["visits_this_month"] == 1
    assert service.stats(session, region=w.grid2, now=NOW)["task_completion_rate"] == 0.0
    # The grid-2 staff see only grid 2.
    assert [c.grid_name for c in gridtasks.completion(session, gov.outsider_staff)] == ["第二网格"]
    assert [c.grid_name for c in gridtasks.completion(session, worker2)] == ["第二网格"]  # 网格员 read their grid
    with pytest.raises(Forbidden):
        gridtasks.completion(session, _p_actor(p))
    assert p["c"].id in {r.task.person_id for r in gridtasks.my_tasks(session, worker2)}


def _p_actor(p):  # type: ignore[no-untyped-def]
    from cityos.core.actor import Actor

    return Actor(account_id=1, label="居民", roles=frozenset({"resident"}), permissions=frozenset({"vote:cast"}))


def test_grid_workers_hear_of_their_new_tasks(session: Session) -> None:
    gov, _p, _worker2 = _setup(session)
    plan = gridtasks.plan(session, gov.staff, title="每月走访", region_id=gov.world.community.id, tags=ALONE, now=NOW)
    tasks.on_tasks_planned(
        session, TasksPlanned(plan_id=plan.id, period="2026-12", grid_ids=[gov.world.grid1.id, gov.world.grid2.id])
    )
    told = session.scalar(select(Notification).where(Notification.account_id == gov.worker_account.id))
    assert told is not None
    assert told.title == "新网格任务：1 项"
    assert told.link == "/community/tasks"


def test_bad_plans_and_visits_are_refused(session: Session) -> None:
    gov, _p, _worker2 = _setup(session)
    w = gov.world
    with pytest.raises(Invalid) as exc:
        gridtasks.plan(
            session, gov.staff, title="", region_id=w.room.id, period="daily", tags=["old"], instructions="x" * 4001
        )
    assert {d.field for d in exc.value.details} == {"title", "region_id", "period", "tags", "instructions"}
    with pytest.raises(Forbidden):
        gridtasks.plan(session, gov.worker, title="网格员不能排", region_id=w.grid1.id)
    with pytest.raises(Invalid) as exc:
        gridtasks.plan(session, gov.outsider_staff, title="越界", region_id=w.grid1.id)
    assert [d.field for d in exc.value.details] == ["region_id"]
    assert session.scalar(select(func.count()).select_from(TaskPlan)) == 0
    gridtasks.plan(session, gov.staff, title="每月走访", region_id=w.community.id, tags=ALONE, now=NOW)
    task = gridtasks.my_tasks(session, gov.worker)[0].task
    with pytest.raises(Invalid) as exc:
        gridtasks.log_visit(
            session,
            gov.worker,
            task_id=task.id,
            outcome="great",
            note="x" * 2001,
            visited_at=NOW + timedelta(hours=1),
            follow_up="yes",
            now=NOW,
        )
    assert {d.field for d in exc.value.details} == {"outcome", "note", "visited_at", "follow_up"}
    with pytest.raises(Invalid):
        gridtasks.log_visit(
            session, gov.worker, task_id=task.id, outcome="ok", visited_at=datetime(2026, 12, 1), now=NOW
        )
    with pytest.raises(Forbidden):
        gridtasks.log_visit(session, gov.staff, task_id=task.id, outcome="ok", now=NOW)
    assert session.scalar(select(func.count()).select_from(VisitLog)) == 0
    assert task.status == "open"
