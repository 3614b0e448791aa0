"""``cityos emergency …`` commands of emergency.command: rebuild a campaign's roll-up, print it,
write its daily report."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

T = TypeVar("T")


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("rollup-rebuild")
    def rollup_rebuild(campaign_id: int = typer.Argument(..., help="The campaign id")) -> None:
        """Recompute a campaign's roll-up rows from the records (they are kept current by every
        report; this repairs them after a bulk import)."""
        from cityos.core.errors import NotFound
        from cityos.emergency.command import service

        with work() as session:
            try:
                state = service.rebuild(session, campaign_id=campaign_id)
            except NotFound as exc:
                raise typer.BadParameter("no such campaign", param_hint="CAMPAIGN_ID") from exc
            assert state is not None
            typer.echo(f"campaign {campaign_id}: {state.rows} roll-up rows")

    @app.command("rollup")
    def rollup_show(
        campaign_id: int = typer.Argument(..., help="The campaign id"),
        region_id: int | None = typer.Option(None, help="Region (default: the campaign's area)"),
        day: str | None = typer.Option(None, help="Day, YYYY-MM-DD (default: today)"),
    ) -> None:
        """Print a campaign's figures at a region and for each of its children."""
        from rich.console import Console
        from rich.table import Table

        from cityos.core.actor import SYSTEM
        from cityos.emergency.command import service

        with work() as session:
            r = _run(
                lambda: service.rollup(session, SYSTEM, campaign_id=campaign_id, region_id=region_id, day=_day(day))
            )
            table = Table(title=f"{r.campaign_title} · {r.region.name} · {r.day.isoformat()}")
            for header in ("", "residents", "reached", "reported", "abnormal", "help open", "help overdue"):
                table.add_column(header, justify="right" if header else "left")
            for row in (r.region, *r.children):
                f = row.figures
                table.add_row(
                    row.name,
                    *(str(v) for v in (f.residents, f.reached, f.reported, f.abnormal, f.help_open, f.help_overdue)),
                )
            Console().print(table)

    @app.command("daily-report")
    def daily_report(
        campaign_id: int = typer.Argument(..., help="The campaign id"),
        out: Path = typer.Option(..., help="Where to write it: a .xlsx or .pdf file"),
        region_id: int | None = typer.Option(None, help="Region (default: the campaign's area)"),
        day: str | None = typer.Option(None, help="Day, YYYY-MM-DD (default: today)"),
    ) -> None:
        """Write a campaign's daily report (日报) as XLSX or PDF."""
        from cityos.core.actor import SYSTEM
        from cityos.emergency.command import export
        from cityos.emergency.command import report as daily

        if out.suffix not in (".xlsx", ".pdf"):
            raise typer.BadParameter("the file must end in .xlsx or .pdf", param_hint="--out")
        with work() as session:
            the_day = _day(day)
            report = _run(
                lambda: daily.daily_report(session, SYSTEM, campaign_id=campaign_id, region_id=region_id, day=the_day)
            )
            out.write_bytes(export.xlsx(report) if out.suffix == ".xlsx" else export.pdf(report))
        typer.echo(f"{out}: {report.campaign_title} · {report.region.name} · {report.day.isoformat()}")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--day") from exc


def _run(fn: Callable[[], T]) -> T:
    from cityos.core.errors import DomainError
    from cityos.core.i18n import translate

    try:
        return fn()
    except DomainError as exc:
        problems = [translate(d.message, **d.params) for d in exc.details] or [translate(exc.message)]
        raise typer.BadParameter("; ".join(problems)) from exc
