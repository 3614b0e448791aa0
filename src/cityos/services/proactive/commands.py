"""``cityos services …`` commands of services.proactive."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("offers-run")
    def offers_run(
        today: str = typer.Option("", "--today", help="Evaluate as of this day (YYYY-MM-DD); default: today"),
    ) -> None:
        """服务找人: offer services to newborns' parents, residents who turned 60 and new businesses; run nightly."""
        from cityos.services.proactive import tasks

        try:
            day = date.fromisoformat(today) if today else None
        except ValueError as exc:
            raise typer.BadParameter("use YYYY-MM-DD", param_hint="--today") from exc
        with work() as session:
            made = tasks.nightly(session, today=day)
        typer.echo(f"Offers made: {made:,}")
