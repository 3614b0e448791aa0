"""The `city` demo database the benchmarks run on, generated once under var/bench/."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from cityos.core import migrate
from cityos.core.db import make_engine, make_sessionmaker
from cityos.core.settings import ROOT_DIR
from cityos.demo.generator import demo_exists, generate

CITY_DB = ROOT_DIR / "var" / "bench" / "city.db"


def ensure_city_db(console: Console, path: Path = CITY_DB, *, rebuild: bool = False) -> str:
    """Return the URL of the `city` demo database, generating it first when missing."""
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        factory = make_sessionmaker(engine)
        with factory() as session:
            if demo_exists(session):
                return url
        console.print(f"generating the [bold]city[/] demo into {path} (once; a few minutes) …")
        started = time.perf_counter()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            tasks: dict[str, TaskID] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            summary = generate(factory, size="city", progress=report)
        console.print(
            f"city demo: {summary.regions.get('grid', 0):,} grids, {summary.regions.get('building', 0):,} buildings, "
            f"{summary.residents:,} residents in {time.perf_counter() - started:.0f} s"
        )
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return url
    finally:
        engine.dispose()


def city_bbox(url: str) -> tuple[float, float, float, float]:
    from cityos.places.models import Region

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            row = session.execute(
                select(Region.min_lon, Region.min_lat, Region.max_lon, Region.max_lat).where(Region.level == "city")
            ).one()
            return float(row[0]), float(row[1]), float(row[2]), float(row[3])
    finally:
        engine.dispose()
