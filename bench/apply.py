"""Benchmark: application submissions (办件) per second with 1M residents in the database.

Usage: .venv/bin/python bench/apply.py [--applications 300] [--rebuild]

Copies the `city` demo database (1M residents) to var/bench/apply.db and installs 一网通办
(catalogue, credential kinds, processes) once. Residents aged 60 or more with a phone are drawn at
random and get their registry e-licences (居民身份证, 户口簿) before the clock starts. Then, in-process
on SQLite, a window clerk files `--applications` applications for 老年人优待证办理 (mzj-002, parallel
approval by 民政局 and 交通运输局), each one transaction as the page's POST is: the draft, the prefill
from the record and the e-licences, the JSON Schema check, consent recorded per credential, the
departments resolved for the resident's district, the process started with its working-day limit;
with the bus handlers that follow each commit (notifications to the applicant and both
departments). It prints submissions per second and latency percentiles.

Baseline measured in the same run: the rate of the smallest write transaction on the same
database (one audit row, one commit) — what SQLite itself allows here. The ratio is printed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from citydb import CITY_DB, ensure_city_db  # noqa: E402

from cityos.core.settings import ROOT_DIR  # noqa: E402

APPLY_DB = ROOT_DIR / "var" / "bench" / "apply.db"
ITEM = "mzj-002"
CLERK = "bench-window"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare(console: Console, *, rebuild: bool) -> str:
    """var/bench/apply.db: the city demo with 一网通办 installed and a bench window clerk."""
    from sqlalchemy import select

    from cityos.core import migrate
    from cityos.core.db import make_engine, make_sessionmaker, unit_of_work
    from cityos.identity.models import Account, AccountRole
    from cityos.places.models import Region
    from cityos.services import setup
    from cityos.workflow.calendar import seed_years

    ensure_city_db(console)
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{APPLY_DB}{suffix}").unlink(missing_ok=True)
    if not APPLY_DB.exists():
        console.print(f"copying {CITY_DB.name} to {APPLY_DB.name} …")
        shutil.copyfile(CITY_DB, APPLY_DB)
    url = f"sqlite:///{APPLY_DB}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        setup.install(session)
        seed_years(session, [2025, 2026, 2027])
        if session.scalar(select(Account.id).where(Account.username == CLERK)) is None:
            city = session.scalars(select(Region).where(Region.level == "city").limit(1)).one()
            clerk = Account(
                username=CLERK,
                display_name="压测窗口",
                scope_region_id=city.id,
                scope_path=city.path,
                active=True,
                failed_attempts=0,
            )
            session.add(clerk)
            session.flush()
            session.add(AccountRole(account_id=clerk.id, role="window_clerk"))
    engine.dispose()
    return url


def fill(schema: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """What an applicant types: a plausible value for every required field the prefill left open."""
    form: dict[str, Any] = {}
    for key in schema.get("required") or []:
        if key in known:
            continue
        prop = (schema.get("properties") or {}).get(key) or {}
        if "enum" in prop:
            form[key] = prop["enum"][0]
        elif prop.get("type") == "boolean":
            form[key] = True
        elif prop.get("type") in ("integer", "number"):
            form[key] = max(1, int(prop.get("minimum", 1)))
        elif prop.get("format") == "date":
            form[key] = "2026-01-01"
        else:
            form[key] = "压测填写内容"[: max(2, int(prop.get("maxLength", 30)))]
    return form


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--applications", type=int, default=300, help="applications filed (one transaction each)")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    console = Console()
    url = prepare(console, rebuild=args.rebuild)

    from datetime import date

    from sqlalchemy import func, select

    from cityos.core import audit
    from cityos.core.db import unit_of_work
    from cityos.core.runtime import Runtime
    from cityos.core.settings import Settings
    from cityos.identity.deps import actor_for_account
    from cityos.identity.models import Account
    from cityos.people.models import Person
    from cityos.registry import subscribe_all
    from cityos.services.applications import service as applications
    from cityos.services.applications import submission, tasks
    from cityos.services.catalogue import service as catalogue
    from cityos.services.licences import service as licences

    runtime = Runtime.create(Settings(database_url=url, log_level="WARNING"))
    subscribe_all(runtime.bus)
    tasks.register(runtime.bus)
    factory = runtime.session_factory
    with factory() as session:
        residents = int(session.scalar(select(func.count()).select_from(Person)) or 0)
        top = int(session.scalar(select(func.max(Person.id))) or 0)
        clerk = actor_for_account(session, session.scalars(select(Account).where(Account.username == CLERK)).one())
        schema = catalogue.get_item(session, ITEM).form_schema
    rng = random.Random(11)
    chosen: list[int] = []
    with factory() as session:
        while len(chosen) < args.applications + 1:
            start = rng.randrange(1, max(2, top))
            found = session.scalars(
                select(Person.id)
                .where(
                    Person.id >= start,
                    Person.birth_date <= date(1965, 12, 31),
                    Person.phone_enc.is_not(None),
                    Person.region_id.is_not(None),
                )
                .order_by(Person.id)
                .limit(1)
            ).first()
            if found is not None and found not in chosen:
                chosen.append(int(found))
    console.print(f"{residents:,} residents in the database; {len(chosen)} applicants aged 60+ drawn")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("Registry e-licences (not timed)", total=len(chosen))
        for person_id in chosen:
            with unit_of_work(factory) as session:
                licences.registry_credentials(session, person_id)
            bar.advance(task)

    # Baseline: the smallest write transaction on this database.
    base: list[float] = []
    for _ in range(300):
        t0 = time.perf_counter()
        with unit_of_work(factory) as session:
            audit.record(session, None, "bench.baseline")
        base.append(time.perf_counter() - t0)
    base_rate = len(base) / sum(base)

    # The record and the e-licences fill the person's fields; the clerk types the rest.
    typed = fill(schema, dict.fromkeys(applications.PERSON_FIELDS))

    def file(person_id: int) -> None:
        with unit_of_work(factory) as session:
            app = applications.start_draft(session, clerk, item_code=ITEM, person_id=person_id, channel="counter")
            submission.submit(session, clerk, application_id=app.id, form=typed, consent=True)

    file(chosen[0])  # warm-up, not timed (caches, first key load)
    latencies: list[float] = []
    zero = 0
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("Filing applications", total=len(chosen) - 1)
        started = time.perf_counter()
        for person_id in chosen[1:]:
            t0 = time.perf_counter()
            file(person_id)
            latencies.append(time.perf_counter() - t0)
            bar.advance(task)
        elapsed = time.perf_counter() - started
    with factory() as session:
        from cityos.services.applications.models import Application

        zero = int(
            session.scalar(select(func.count()).select_from(Application).where(Application.zero_material.is_(True)))
            or 0
        )
        total_apps = int(session.scalar(select(func.count()).select_from(Application)) or 0)
    rate = len(latencies) / elapsed
    table = Table(title=f"Application submissions ({ITEM}) with {residents:,} residents, SQLite, one process")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("submissions per second", f"{rate:.1f}")
    table.add_row("p50 latency", f"{_percentile(latencies, 0.5) * 1000:.1f} ms")
    table.add_row("p99 latency", f"{_percentile(latencies, 0.99) * 1000:.1f} ms")
    table.add_row("baseline: one-row write transaction", f"{base_rate:.1f}/s")
    table.add_row("ratio submissions / baseline", f"{rate / base_rate:.3f}")
    table.add_row("zero-material applications (all runs)", f"{zero:,} of {total_apps:,}")
    console.print(table)
    runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
