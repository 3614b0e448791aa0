"""``cityos hub archive``: writes a day's observations to Parquet (default: yesterday, local
time) and, with ``--purge``, moves days past the retention window out of the database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos hub``."""

    @app.command("archive")
    def archive_command(
        day: str = typer.Option("", "--day", help="Local day YYYY-MM-DD (default: yesterday)"),
        purge: bool = typer.Option(False, "--purge", help="Also delete archived days past the retention window"),
    ) -> None:
        """Archives one day of observations as Parquet (one file per tenant, re-runs rewrite it)."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.db import utcnow
        from cityos.core.settings import get_settings
        from cityos.hub.temporal import archive

        settings = get_settings()
        zone = settings.timezone
        today = archive.local_day(utcnow(), zone)
        if day:
            try:
                chosen = date.fromisoformat(day)
            except ValueError as exc:
                raise typer.BadParameter("give the day as YYYY-MM-DD", param_hint="--day") from exc
        else:
            chosen = today - timedelta(days=1)
        console = Console()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with work() as session, Progress(*columns, console=console) as bar:
                task = bar.add_task(f"Archiving {chosen.isoformat()}", total=None)

                def report(label: str, done: int, total: int) -> None:
                    bar.update(task, description=f"Archiving {label}", completed=done, total=total)

                result = archive.archive_day(
                    session, archive_dir=settings.archive_dir, day=chosen, zone=zone, progress=report
                )
                purged = (
                    archive.purge(session, archive_dir=settings.archive_dir, today=today, zone=zone, progress=report)
                    if purge
                    else []
                )
        except archive.ArchiveError as exc:
            typer.echo(f"archive failed, nothing deleted: {exc}", err=True)
            raise typer.Exit(1) from exc
        folder = archive.day_dir(settings.archive_dir, chosen)
        typer.echo(
            f"{chosen.isoformat()}: {result.rows} observations in {len(result.tenants)} tenant file(s) at {folder}"
        )
        for tenant, rows in sorted(result.tenants.items()):
            typer.echo(f"  {tenant}: {rows}")
        for done in purged:
            typer.echo(f"{done.day.isoformat()}: {done.purged} rows moved from the database to the archive")
