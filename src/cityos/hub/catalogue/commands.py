"""``cityos hub …`` commands of the data catalogue: ``verify-readlog`` and ``expire-grants``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

console = Console()


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos hub``."""

    @app.command("verify-readlog")
    def verify_readlog() -> None:
        """Recompute the read log's hash chain; exit 1 at the first tampered row."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.hub.catalogue import readlog

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with work() as session, Progress(*columns, console=console) as bar:
            task = bar.add_task("Verifying the read log", total=readlog.count(session))
            report = readlog.verify_chain(session, progress=lambda n: bar.advance(task, n))
        if report.ok:
            console.print(f"[green]The read log is intact[/]: {report.checked:,} reads checked.")
            return
        console.print(
            f"[red]The read log has been tampered with[/] at read #{report.first_bad_seq} "
            f"({report.problem}); {report.checked:,} reads before it are intact."
        )
        raise typer.Exit(1)

    @app.command("expire-grants")
    def expire_grants() -> None:
        """Mark data grants past their end as expired now (the server does it every minute)."""
        from cityos.hub.catalogue import grants

        with work() as session:
            count = grants.expire_grants(session)
        console.print(f"{count} grant(s) expired.")
