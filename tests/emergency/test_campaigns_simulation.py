"""Simulation of the reference lockdown: a community of 6,000 residents (bulk-inserted with
plain inserts) reports over one simulated day through the service function, and 700 help
requests arrive over seven simulated days while the clock is driven forward (``now=``) and the
process engine's timers fire. Nothing is lost, and every help request is answered or escalated
within its 2-hour limit."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.cases.models import Case
from cityos.core.actor import Actor
from cityos.core.models import OutboxEvent
from cityos.core.runtime import Runtime
from cityos.emergency.campaigns import groups, reports
from cityos.emergency.campaigns import help as helps
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns import tasks as campaign_tasks
from cityos.emergency.campaigns.models import Campaign, HelpRequest, Reach, Report, ReportEntry
from cityos.identity.deps import actor_for_account
from cityos.identity.permissions import permissions_for
from cityos.people.models import Household, Person, PersonTag, Residence
from cityos.places import index
from cityos.places.models import LEVEL_DEPTH, Region
from cityos.workflow import service as workflow
from cityos.workflow.calendar import WorkCalendar, seed_years
from tests.factories import add_region, box, make_account, make_world

RESIDENTS = 6_000
BUILDINGS = 30  # 3 grids × 10 buildings, 2 units each, 34 rooms per unit
ROOMS_PER_UNIT = 34
KEY_GROUP = 60
SPECIAL = 33  # the reference case's special-needs residents
HELP_REQUESTS = 700
DAY = date(2026, 12, 8)  # a Tuesday
START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 08:00 in the city, the day before


@dataclass
class Sim:
    campaign: Campaign
    residents: list[tuple[int, str]]  # (person id, room path)
    key_group: set[int]
    grid_workers: dict[str, Actor]  # grid path → its worker
    staff: Actor


def _region(rid: int, parent: Region | dict, level: str, name: str, code: str, **extra: object) -> dict:
    parent_path = parent.path if isinstance(parent, Region) else parent["path"]
    return {
        "id": rid,
        "code": code,
        "name": name,
        "level": level,
        "parent_id": parent.id if isinstance(parent, Region) else parent["id"],
        "path": f"{parent_path}{rid}/",
        "depth": LEVEL_DEPTH[level],
        "attrs": {},
        **extra,
    }


def _build(session: Session) -> Sim:
    w = make_world(session)
    community = add_region(session, w.street, "community", "抗疫社区", geometry=box(104.3, 30.3, 0.03, 0.03))
    grids = [
        add_region(session, community, "grid", f"第{g + 1}网格", geometry=box(104.3 + 0.01 * g, 30.3, 0.01, 0.03))
        for g in range(3)
    ]
    estates = [
        add_region(session, grid, "estate", f"{g + 1}号小区", geometry=box(104.3 + 0.01 * g, 30.3, 0.01, 0.03))
        for g, grid in enumerate(grids)
    ]
    next_id = int(session.scalar(select(func.max(Region.id))) or 0) + 1
    buildings: list[dict] = []
    units: list[dict] = []
    rooms: list[dict] = []
    for b in range(BUILDINGS):
        estate = estates[b // 10]
        lon, lat = 104.3 + 0.01 * (b // 10) + 0.0008 * (b % 10), 30.31
        building = _region(
            next_id,
            estate,
            "building",
            f"{b % 10 + 1}栋",
            f"SB{b:04d}",
            geometry=box(lon, lat, 0.0004, 0.0004),
            lon=lon + 0.0002,
            lat=lat + 0.0002,
            min_lon=lon,
            max_lon=lon + 0.0004,
            min_lat=lat,
            max_lat=lat + 0.0004,
        )
        buildings.append(building)
        next_id += 1
        for u in range(2):
            unit = _region(next_id, building, "unit", f"{u + 1}单元", f"SU{b:04d}{u}")
            units.append(unit)
            next_id += 1
            for r in range(ROOMS_PER_UNIT):
                rooms.append(_region(next_id, unit, "room", f"{r // 4 + 1}{r % 4 + 1:02d}", f"SR{next_id}"))
                next_id += 1
    session.execute(insert(Region), buildings + units + rooms)
    households = session.execute(
        insert(Household).returning(Household.id, sort_by_parameter_order=True),
        [{"room_id": r["id"], "region_path": r["path"], "created_at": START} for r in rooms],
    ).all()
    people = session.execute(
        insert(Person).returning(Person.id, sort_by_parameter_order=True),
        [
            {
                "name": f"居民{n:04d}",
                "gender": "unknown",
                "region_id": rooms[n % len(rooms)]["id"],
                "region_path": rooms[n % len(rooms)]["path"],
                "created_at": START,
                "updated_at": START,
            }
            for n in range(RESIDENTS)
        ],
    ).all()
    ids = [int(p[0]) for p in people]
    session.execute(
        insert(Residence),
        [
            {
                "person_id": pid,
                "room_id": rooms[n % len(rooms)]["id"],
                "household_id": int(households[n % len(rooms)][0]),
                "relation": "owner" if n < len(rooms) else "family",
                "since": date(2020, 1, 1),
            }
            for n, pid in enumerate(ids)
        ],
    )
    special_tags = ("pregnant", "serious_illness", "living_alone", "disabled")
    session.execute(
        insert(PersonTag),
        [{"person_id": ids[7 * n], "tag": "key_group"} for n in range(KEY_GROUP)]
        + [{"person_id": ids[11 * n + 3], "tag": special_tags[n % 4]} for n in range(SPECIAL)],
    )
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    seed_years(session, [2026, 2027])
    campaigns.install(session)
    staff = actor_for_account(session, make_account(session, roles=["community_staff"], scope=community))
    workers = {g.path: actor_for_account(session, make_account(session, roles=["grid_worker"], scope=g)) for g in grids}
    campaign = campaigns.create_from_template(
        session, staff, template="epidemic_screening", scope_region_id=community.id, now=START
    )
    campaigns.publish(session, staff, campaign_id=campaign.id, now=START)
    session.commit()
    residents = [(pid, rooms[n % len(rooms)]["path"]) for n, pid in enumerate(ids)]
    return Sim(campaign, residents, {ids[7 * n] for n in range(KEY_GROUP)}, workers, staff)


@pytest.fixture
def sim(session: Session, runtime: Runtime) -> Iterator[Sim]:
    # Only this part's handlers: the help requests follow their cases' timers and steps through
    # them (the cases module's own notifications to reporters are tested with cases).
    campaign_tasks.register(runtime.bus)
    yield _build(session)
    index.invalidate()


def _resident(person_id: int, room_path: str) -> Actor:
    return Actor(
        account_id=None,
        label=f"resident:{person_id}",
        roles=frozenset({"resident"}),
        permissions=permissions_for({"resident"}),
        scope_path=room_path,
        person_id=person_id,
    )


GOOD = {"temperature": 36.5, "symptoms": ["none"], "test_result": "negative", "close_contact": False}
FEVER = {"temperature": 38.1, "symptoms": ["fever"], "test_result": "pending", "close_contact": False}


def _local(hour: float, day: date = DAY) -> datetime:
    """``hour`` o'clock in the city (UTC+8) on ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour - 8)


def test_6000_residents_report_over_one_day(sim: Sim, connection: Connection) -> None:
    # Reports go through a session without the test bus: their events wait in the outbox, where
    # they are counted (the command part's roll-ups read them; none may be lost).
    factory = sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    rng = random.Random(7)
    plan: list[tuple[datetime, int, str, dict]] = []
    for pid, path in sim.residents:
        answers = FEVER if rng.random() < 0.03 else GOOD
        plan.append((_local(7 + rng.random() * 4.9), pid, path, answers))  # morning, before noon
        if pid in sim.key_group:
            plan.append((_local(13 + rng.random() * 8), pid, path, GOOD))  # key groups: the afternoon too
        elif rng.random() < 0.05:
            plan.append((_local(12 + rng.random() * 10), pid, path, GOOD))  # a second report replaces the first
    plan.sort(key=lambda p: p[0])
    last: dict[int, dict] = {}
    began = time.perf_counter()
    with factory() as session:
        for n, (at, pid, path, answers) in enumerate(plan, start=1):
            reports.submit_report(
                session, _resident(pid, path), campaign_id=sim.campaign.id, person_id=pid, answers=answers, now=at
            )
            last[pid] = answers
            if n % 1000 == 0:
                session.commit()
        session.commit()
        elapsed = time.perf_counter() - began
        cid = sim.campaign.id
        assert session.scalar(select(func.count()).select_from(Report).where(Report.campaign_id == cid)) == RESIDENTS
        assert (
            session.scalar(select(func.count(func.distinct(Report.person_id))).where(Report.campaign_id == cid))
            == RESIDENTS
        )
        assert session.scalar(select(func.count()).select_from(ReportEntry)) == len(plan)
        assert session.scalar(select(func.sum(Report.entries))) == len(plan)
        assert session.scalar(select(func.count()).select_from(Reach).where(Reach.campaign_id == cid)) == RESIDENTS
        received = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == "campaigns.report_received")
        assert session.scalar(received) == len(plan)
        abnormal = sum(1 for a in last.values() if a is FEVER)
        assert session.scalar(select(func.count()).select_from(Report).where(Report.abnormal.is_(True))) == abnormal
        twice = select(func.count()).select_from(Report).where(Report.slots == groups.AM | groups.PM)
        assert session.scalar(twice) == KEY_GROUP
        assert session.scalar(select(func.count()).select_from(Report).where(Report.day != DAY)) == 0
        missing = groups.not_reported(session, sim.staff, campaign_id=cid, day=DAY, now=_local(23))
        assert missing == []
    if connection.dialect.name == "sqlite":  # a guard against a slow path, with room for a busy machine
        assert elapsed < 90, f"{len(plan)} reports took {elapsed:.1f} s"


def test_700_help_requests_over_seven_days_are_answered_or_escalated_in_time(
    sim: Sim, session: Session, runtime: Runtime
) -> None:
    rng = random.Random(11)
    calendar = WorkCalendar.load(session)
    first_day = DAY
    arrivals = sorted(
        (_local(7 + rng.random() * 15, first_day + timedelta(days=n // 100)), sim.residents[rng.randrange(RESIDENTS)])
        for n in range(HELP_REQUESTS)
    )
    categories = ("help.01.01", "help.01.02", "help.01.03", "help.02.01")
    events: list[tuple[datetime, int, str, object]] = [(at, 0, "request", who) for at, who in arrivals]
    step = timedelta(minutes=10)
    clock = _local(6, first_day)
    end = _local(6, first_day + timedelta(days=8))
    pending: list[tuple[datetime, int, str, object]] = []
    requested: dict[int, HelpRequest] = {}
    began = time.perf_counter()
    while clock < end:
        clock += step
        due_now = [e for e in events if e[0] <= clock] + [e for e in pending if e[0] <= clock]
        events = [e for e in events if e[0] > clock]
        pending = [e for e in pending if e[0] > clock]
        for at, _, kind, payload in sorted(due_now, key=lambda e: (e[0], e[1])):
            if kind == "request":
                pid, path = payload  # type: ignore[misc]
                row = helps.request_help(
                    session,
                    _resident(pid, path),
                    campaign_id=sim.campaign.id,
                    category_code=categories[len(requested) % 4],
                    text="居家隔离，需要帮助",
                    now=at,
                    calendar=calendar,
                )
                requested[row.id] = row
                # Most are answered within the hour; some after the engine's 1-hour reminder has passed
                # them up the ladder; a few only after the 2-hour limit, by when they must be escalated.
                luck = rng.random()
                minutes = (
                    rng.randint(130, 200) if luck < 0.1 else rng.randint(70, 110) if luck < 0.3 else rng.randint(5, 55)
                )
                delay = timedelta(minutes=minutes)
                pending.append((at + delay, 1, "answer", row.id))
                pending.append((at + delay + timedelta(minutes=rng.randint(20, 90)), 2, "close", row.id))
            else:
                row = requested[int(payload)]  # type: ignore[call-overload]
                grid = next(p for p in sim.grid_workers if row.region_path.startswith(p))
                worker = sim.grid_workers[grid]
                if kind == "answer":
                    helps.answer(session, worker, help_id=row.id, answer="马上处理", now=at)
                else:
                    helps.close(session, worker, help_id=row.id, note="已处理", now=at)
        workflow.fire_due_timers(session, now=clock, limit=5000)
        helps.escalate_due(session, now=clock)
        session.commit()
        if due_now or clock.minute == 0:
            runtime.bus.deliver_pending(limit=5000)
    elapsed = time.perf_counter() - began
    session.expire_all()
    rows = session.scalars(select(HelpRequest).where(HelpRequest.campaign_id == sim.campaign.id)).all()
    assert len(rows) == HELP_REQUESTS
    assert len({r.case_id for r in rows if r.case_id is not None}) == HELP_REQUESTS
    assert session.scalar(select(func.count()).select_from(Case).where(Case.category_code.startswith("help."))) == (
        HELP_REQUESTS
    )
    late = [
        r.id
        for r in rows
        if not (
            (r.answered_at is not None and r.answered_at <= r.due_at)
            or (r.escalated_at is not None and r.escalated_at <= r.due_at)
        )
    ]
    assert late == [], f"{len(late)} help requests were neither answered nor escalated in time"
    escalated = [r for r in rows if r.escalated_at is not None]
    assert escalated, "the ladder was never needed"
    assert all(r.escalated_at - r.created_at <= timedelta(hours=1, minutes=10) for r in escalated)  # type: ignore[operator]
    answered_late = [r for r in rows if r.answered_at is not None and r.answered_at > r.due_at]
    assert answered_late, "no request outlived its limit"
    assert all(r.escalation_level >= 2 for r in answered_late)  # the community was told at the limit
    assert {r.status for r in rows} == {"closed"}
    assert (
        session.scalar(
            select(func.count()).select_from(Case).where(Case.status != "done", Case.category_code.startswith("help."))
        )
        == 0
    )
    if session.get_bind().dialect.name == "sqlite":
        assert elapsed < 150, f"seven days of help requests took {elapsed:.1f} s"
