"""``cityos mobility commute …``: import OD records, derive trips from probe traces, simulate a day."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from rich.progress import Progress


def _bar() -> tuple[Progress, Callable[[str], Callable[[int, int], None]]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())

    def task(label: str) -> Callable[[int, int], None]:
        tid = bar.add_task(label, total=None)
        return lambda done, total: bar.update(tid, completed=done, total=total)

    return bar, task


def _fail(exc: Exception) -> None:
    from cityos.core.errors import DomainError
    from cityos.core.i18n import translate

    assert isinstance(exc, DomainError)
    typer.echo(translate(exc.message, **exc.params), err=True)
    for d in exc.details:
        typer.echo(f"  {d.field}: {translate(d.message, **d.params)}", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds ``cityos mobility commute`` to ``cityos mobility``."""
    commute = typer.Typer(help="Commute trips, OD matrices and corridors", no_args_is_help=True)
    app.add_typer(commute, name="commute")

    @commute.command("import")
    def import_file(
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or Parquet of OD records"),
    ) -> None:
        """Import OD records (see docs/mobility/commute.md); a bad row refuses the whole file."""
        from cityos.core.actor import SYSTEM
        from cityos.core.errors import DomainError
        from cityos.mobility.commute import imports, service

        bar, task = _bar()
        try:
            rows = imports.read_file(path)
            with bar, work() as session:
                result = service.import_trips(session, SYSTEM, rows=rows, progress=task("importing"))
        except DomainError as exc:
            _fail(exc)
            return
        typer.echo(f"{result.written} trips imported, {result.duplicates} already stored")

    @commute.command("derive")
    def derive(day: str = typer.Option(..., "--day", help="Local day, YYYY-MM-DD")) -> None:
        """Derive the trips of a local day from the stored probe traces."""
        from cityos.core.errors import DomainError
        from cityos.mobility.commute import analysis, service

        try:
            chosen = date.fromisoformat(day)
        except ValueError as exc:
            raise typer.BadParameter("give the day as YYYY-MM-DD") from exc
        start, end = analysis.local_day(chosen)
        bar, task = _bar()
        try:
            with bar, work() as session:
                r = service.derive_trips(session, start=start, end=end, progress=task("deriving"))
        except DomainError as exc:
            _fail(exc)
            return
        typer.echo(f"{r.points} probe points, {r.trips} trips: {r.written} stored, {r.duplicates} already stored")

    @commute.command("simulate")
    def simulate(
        day: str = typer.Option(..., "--day", help="Local day, YYYY-MM-DD"),
        seed: int = typer.Option(7),
    ) -> None:
        """Store a synthetic day of commute trips between the city's districts (as the demo does)."""
        import random

        from sqlalchemy import select

        from cityos.mobility.commute import demo
        from cityos.places.models import Region

        try:
            chosen = date.fromisoformat(day)
        except ValueError as exc:
            raise typer.BadParameter("give the day as YYYY-MM-DD") from exc
        with work() as session:
            city = session.scalar(select(Region).where(Region.level == "city").order_by(Region.id).limit(1))
            if city is None:
                typer.echo("no city in the region tree", err=True)
                raise typer.Exit(1)
            written = demo.seed_day(session, city=city, day=chosen, rng=random.Random(seed))
        typer.echo(f"{written} trips stored")
