"""Benchmark: 一屏观社区 data for one community of about 20,000 residents (target p95 ≤ 300 ms).

Usage: .venv/bin/python bench/community_dashboard.py [--calls 200] [--http 100] [--rebuild]

Builds var/bench/community.db once with the demo generator's own machinery (the real 锦江区 and
one of its streets, then one community of 8 grids × 3 estates × 9–10 buildings with footprints and
6–14 floors, two units of two rooms a floor, households with ages, relations and tags, and the
community parts' demo records for the demo estate), then adds about 800 cases (open, overdue and
closed, of the shipped categories, placed in buildings and estates) and about 1,000 devices in
every status. Later runs reuse the file; ``--rebuild`` makes a fresh one.

Then it times, on SQLite in one process, as the demo community worker (``demo-community``):
- the dashboard data function ``community.dashboard.service.dashboard`` (a fresh session per
  call, as a request has): every panel of 人地事物情 including the parts' ``stats``;
- the JSON endpoint ``GET /api/v1/community-dashboard`` through the whole app (authentication,
  scope, the figures, the response schema and JSON) with FastAPI's in-process test client;
- baseline, in the same run: ``SELECT count(*)`` of the community's residents (one index range
  scan over the same rows the dashboard starts from).
It prints p50/p95 of each and the ratios, and exits 1 when the data function's p95 is over 300 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from cityos.core.settings import ROOT_DIR

COMMUNITY_DB = ROOT_DIR / "var" / "bench" / "community.db"
SIZE = "bench-community"
TARGET_P95_MS = 300.0
CASES = 800
STAFF = "demo-community"
COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _spec() -> Any:
    from cityos.demo.generator import SizeSpec

    # One street with one community of 8 grids; ~20,000 residents.
    return SizeSpec(1, 1, 1, (1, 1), (8, 8), (3, 3), (9, 10), (2, 2), (6, 14), 2, 0.85, (1, 2), (1, 2))


def build(console: Console, *, rebuild: bool) -> str:
    """var/bench/community.db: the community, its cases and devices (made once)."""
    from sqlalchemy import select

    from cityos.core import migrate
    from cityos.core.db import make_engine, make_sessionmaker, unit_of_work
    from cityos.demo import generator
    from cityos.places.devices.models import Device

    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{COMMUNITY_DB}{suffix}").unlink(missing_ok=True)
    COMMUNITY_DB.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{COMMUNITY_DB}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        factory = make_sessionmaker(engine)
        with factory() as session:
            made = generator.demo_exists(session)
            extras = session.scalar(select(Device.id).where(Device.code == "bench-dev-00001")) is not None
        if not made:
            console.print(f"generating a ~20,000-resident community into {COMMUNITY_DB} (once) …")
            generator.SIZES[SIZE] = _spec()
            with Progress(*COLUMNS, console=console) as bar:
                tasks: dict[str, TaskID] = {}

                def report(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=total)
                    bar.update(tasks[stage], completed=done, total=total)

                summary = generator.generate(factory, size=SIZE, progress=report)  # type: ignore[arg-type]
            console.print(
                f"community demo: {summary.regions.get('building', 0):,} buildings, "
                f"{summary.regions.get('room', 0):,} rooms, {summary.residents:,} residents, "
                f"parts seeded: {', '.join(summary.community_seeded) or 'none'}"
                + (f", failed: {', '.join(summary.community_failed)}" if summary.community_failed else "")
            )
        if not extras:
            with unit_of_work(factory) as session:
                _cases_and_devices(session, console)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return url
    finally:
        engine.dispose()


def _cases_and_devices(session: Any, console: Console) -> None:
    from sqlalchemy import insert, select

    from cityos.cases.models import Case, Category
    from cityos.places.devices.models import Device
    from cityos.places.models import Region

    rng = random.Random(20)
    now = datetime.now(UTC)
    community = session.scalars(select(Region).where(Region.level == "community")).one()
    low, high = community.path, community.path[:-1] + "0"
    places = session.execute(
        select(Region.id, Region.path, Region.lon, Region.lat, Region.level).where(
            Region.path >= low, Region.path < high, Region.level.in_(("estate", "building", "unit"))
        )
    ).all()
    leaves = list(session.scalars(select(Category.code).where(Category.level == 3)))
    buildings = [p for p in places if p.level == "building"]
    estates = [p for p in places if p.level == "estate"]
    units = [p for p in places if p.level == "unit"]
    case_rows = []
    with Progress(*COLUMNS, console=console) as bar:
        task = bar.add_task("cases", total=CASES)
        for i in range(CASES):
            where = rng.choice(buildings if rng.random() < 0.6 else estates)
            created = now - timedelta(days=rng.uniform(0, 90))
            state = rng.random()
            closed = created + timedelta(days=rng.uniform(0.1, 6)) if state < 0.6 else None
            due = created + timedelta(days=7)
            if closed is None and state < 0.75:
                due = now - timedelta(days=rng.uniform(0.1, 10))  # overdue
            case_rows.append(
                {
                    "no": f"BENCH-{i:06d}",
                    "category_code": rng.choice(leaves),
                    "channel": "resident",
                    "urgency": "normal",
                    "title": "压测工单",
                    "description": "",
                    "lon": where.lon,
                    "lat": where.lat,
                    "region_id": where.id,
                    "region_path": where.path,
                    "reporter_label": "bench",
                    "status": "closed" if closed else "handling",
                    "due_at": due,
                    "closed_at": closed,
                    "routing": {},
                    "created_at": created,
                    "updated_at": closed or created,
                }
            )
            bar.advance(task)
    session.execute(insert(Case), case_rows)
    device_rows = []
    statuses = ["online"] * 17 + ["offline", "fault", "alarm"]
    kinds = [("gate", 2), ("camera", 4), ("parking_spot", 12), ("locker", 1), ("bin", 6), ("light", 3)]
    for where, kind, count in [(e, k, n) for e in estates for k, n in kinds] + [(u, "elevator", 1) for u in units]:
        for _ in range(count):
            n = len(device_rows) + 1
            device_rows.append(
                {
                    "code": f"bench-dev-{n:05d}",
                    "kind": kind,
                    "name": f"{kind}-{n}",
                    "region_id": where.id,
                    "region_path": where.path,
                    "lon": where.lon,
                    "lat": where.lat,
                    "status": rng.choice(statuses),
                    "state": {},
                    "last_seen_at": now - timedelta(minutes=rng.uniform(0, 600)),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    session.execute(insert(Device), device_rows)
    console.print(f"added {len(case_rows):,} cases and {len(device_rows):,} devices")


def _time(label: str, calls: int, fns: dict[str, Any], console: Console) -> dict[str, tuple[list[float], list[float]]]:
    """Calls each function in turn, ``calls`` rounds, so a busy spell of the machine falls on all;
    per call the wall time and this process's CPU time (the database runs in-process), in ms."""
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in fns}
    with Progress(*COLUMNS, console=console) as bar:
        task = bar.add_task(label, total=calls)
        for _ in range(calls):
            for name, fn in fns.items():
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                out[name][0].append((time.perf_counter() - t0) * 1000)
                out[name][1].append((time.process_time() - c0) * 1000)
            bar.advance(task)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls of the data function")
    parser.add_argument("--http", type=int, default=100, help="timed calls of the JSON endpoint")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    console = Console()
    url = build(console, rebuild=args.rebuild)

    from datetime import timedelta as td

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from cityos.app import create_app
    from cityos.community.dashboard import service
    from cityos.core.actor import subtree_clause
    from cityos.core.runtime import Runtime
    from cityos.core.settings import Settings
    from cityos.identity import tokens
    from cityos.identity.deps import actor_for_account
    from cityos.identity.models import Account
    from cityos.people.models import Person
    from cityos.places.models import Region

    settings = Settings(database_url=url, log_level="WARNING")
    runtime = Runtime.create(settings)
    factory = runtime.session_factory
    with factory() as session:
        account = session.scalars(select(Account).where(Account.username == STAFF)).one()
        actor = actor_for_account(session, account)
        account_id = account.id
        community = session.get(Region, account.scope_region_id)
        assert community is not None
        region_id, path, name = community.id, community.path, community.name
        sample = service.dashboard(session, actor, region_id=region_id)
        session.rollback()
    people, places, cases, things = sample.people, sample.places, sample.cases, sample.things
    if people is None or places is None or cases is None or things is None:
        raise SystemExit(f"a dashboard panel failed: {sample.errors}")
    parts_ok = [p.part for p in sample.situation if p.ok]
    console.print(
        f"{name}: {people.residents:,} residents, {people.households:,} households, "
        f"{places.buildings:,} buildings ({places.shown:,} drawn), {places.rooms:,} rooms, "
        f"{cases.open:,} open cases, {things.total:,} devices; parts reporting: {', '.join(parts_ok) or 'none'}"
    )

    def data() -> None:
        with factory() as session:
            service.dashboard(session, actor, region_id=region_id)
            session.rollback()

    def baseline() -> None:
        with factory() as session:
            session.scalar(select(func.count()).select_from(Person).where(subtree_clause(Person.region_path, path)))
            session.rollback()

    for _ in range(5):  # warm-up: caches, first imports
        data()
        baseline()
    rounds = _time("dashboard data and baseline, in turn", args.calls, {"data": data, "base": baseline}, console)
    (timed, timed_cpu), (base, base_cpu) = rounds["data"], rounds["base"]

    app = create_app(settings, runtime=runtime)
    token, _ = tokens.issue("access", str(account_id), td(hours=1))
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
    with TestClient(app) as client:
        first = client.get("/api/v1/community-dashboard", params={"region_id": region_id}, headers=headers)
        assert first.status_code == 200, first.text
        size_kb = len(first.content) / 1024

        def http() -> None:
            r = client.get("/api/v1/community-dashboard", params={"region_id": region_id}, headers=headers)
            assert r.status_code == 200

        for _ in range(3):
            http()
        served, served_cpu = _time("GET /api/v1/community-dashboard", args.http, {"http": http}, console)["http"]
    runtime.close()

    p50, p95 = _percentile(timed, 0.5), _percentile(timed, 0.95)
    b95 = _percentile(base, 0.95)
    title = f"一屏观社区 · {people.residents:,} residents, {places.buildings:,} buildings, SQLite, one process"
    table = Table(title=title)
    table.add_column("measure")
    for column in ("wall p50", "wall p95", "CPU p50", "CPU p95"):
        table.add_column(column, justify="right")

    def row(label: str, wall: list[float], cpu: list[float], digits: int = 1) -> None:
        cells = [_percentile(wall, 0.5), _percentile(wall, 0.95), _percentile(cpu, 0.5), _percentile(cpu, 0.95)]
        table.add_row(label, *(f"{v:.{digits}f} ms" for v in cells))

    row("dashboard data function", timed, timed_cpu)
    row(f"GET /api/v1/community-dashboard ({size_kb:.0f} KB)", served, served_cpu)
    row("baseline: SELECT count(*) of the residents", base, base_cpu, 2)
    table.add_row("ratio data / baseline (wall p95)", "", f"{p95 / b95:.0f}×", "", "")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    table.caption = (
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the end; mean data call {statistics.fmean(timed):.1f} ms"
    )
    console.print(table)
    ok = p95 <= TARGET_P95_MS
    console.print(
        f"target p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if ok else 'MISSED'} ({p95:.1f} ms wall, p50 {p50:.1f} ms)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
