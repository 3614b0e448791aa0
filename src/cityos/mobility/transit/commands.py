"""``cityos mobility transit …``: import a GTFS feed (with a progress bar), list the feeds."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import typer
from sqlalchemy.orm import Session


def _fail(exc: Exception) -> None:
    from cityos.core.errors import DomainError
    from cityos.core.i18n import translate

    if isinstance(exc, DomainError):
        typer.echo(translate(exc.message, **exc.params), err=True)
        for d in exc.details:
            typer.echo(f"  {d.field}: {translate(d.message, **d.params)}", err=True)


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds ``transit`` to ``cityos mobility``."""
    transit = typer.Typer(help="Buses: GTFS static feeds, stop arrivals, adherence, headways", no_args_is_help=True)
    app.add_typer(transit, name="transit")

    @transit.command("import")
    def import_feed(
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A GTFS zip"),
        code: str = typer.Option(..., help="Feed code; importing the same code again replaces it"),
        name: str | None = typer.Option(None, help="Display name (default: the stored one, or the code)"),
    ) -> None:
        """Import (or replace) a GTFS static feed."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.actor import SYSTEM
        from cityos.core.errors import DomainError
        from cityos.mobility.transit import service

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with work() as session, Progress(*columns) as bar:
                task = bar.add_task("reading", total=None)

                def report(step: str, done: int, total: int) -> None:
                    bar.update(task, description=step, completed=done, total=total or None)

                feed = service.import_gtfs(session, SYSTEM, path=path, code=code, name=name, progress=report)
                summary = (feed.code, feed.routes, feed.stops, feed.trips, feed.stop_times, list(feed.warnings))
        except DomainError as exc:
            _fail(exc)
            raise typer.Exit(1) from exc
        typer.echo(
            f"feed {summary[0]}: {summary[1]} routes, {summary[2]} stops, {summary[3]} trips, {summary[4]} stop times"
        )
        for w in summary[5]:
            typer.echo(f"  warning {w['code']}: {w['count']}")

    @transit.command("feeds")
    def feeds() -> None:
        """List the imported feeds."""
        from cityos.core.actor import SYSTEM
        from cityos.mobility.transit import service

        with work() as session:
            for f in service.list_feeds(session, SYSTEM):
                typer.echo(f"{f.code}\t{f.name}\t{f.routes} routes\t{f.stops} stops\t{f.trips} trips\t{f.timezone}")
