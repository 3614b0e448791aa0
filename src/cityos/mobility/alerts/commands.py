"""``cityos mobility alerts …``: the open alerts, and a catch-up evaluation of stored bins."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds ``cityos mobility alerts`` and its commands."""
    alerts = typer.Typer(help="Congestion alerts and the guidance feed", no_args_is_help=True)
    app.add_typer(alerts, name="alerts")

    @alerts.command("list")
    def list_alerts(
        status: str = typer.Option("active", help="active, open, acknowledged or cleared"),
        limit: int = typer.Option(20, min=1, max=500),
    ) -> None:
        """The latest alerts (target, severity, start in UTC, case number)."""
        from sqlalchemy import select

        from cityos.mobility.alerts.models import OPEN_STATUSES, STATUSES, TrafficAlert

        if status != "active" and status not in STATUSES:
            raise typer.BadParameter(f"choose among: active, {', '.join(STATUSES)}")
        with work() as session:
            query = select(TrafficAlert).order_by(TrafficAlert.started_at.desc()).limit(limit)
            chosen = OPEN_STATUSES if status == "active" else (status,)
            rows = list(session.scalars(query.where(TrafficAlert.status.in_(chosen))))
            for a in rows:
                typer.echo(
                    f"{a.alert_id}  {a.kind:8} {a.target_id:24} severity {a.severity}  "
                    f"{a.started_at:%Y-%m-%d %H:%M}Z  {a.status:12} {a.case_no or '-'}"
                )
            typer.echo(f"{len(rows)} alerts")

    @alerts.command("evaluate")
    def evaluate_pending(
        hours: int = typer.Option(24, min=1, max=24 * 14, help="Look back this many hours for stored bins"),
    ) -> None:
        """Evaluate the rules for the stored bins not yet evaluated (after a lost event), in order;
        each bin's alerts and cases follow through the bus as they do live."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.db import utcnow
        from cityos.mobility.alerts import evaluate

        with work() as session:
            pending = evaluate.pending_bins(session, since=utcnow() - timedelta(hours=hours))
        total = sum(len(b) for b in pending.values())
        raised = cleared = 0
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("bins", total=total)
            for code, bins in pending.items():
                for bin_start in bins:
                    with work() as session:
                        report = evaluate.evaluate(session, network_code=code, bin_start=bin_start)
                    raised += len(report.raised)
                    cleared += len(report.cleared)
                    bar.update(task, advance=1)
        typer.echo(f"{total} bins evaluated: {raised} alerts raised, {cleared} cleared")
