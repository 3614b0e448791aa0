"""``cityos mobility monitor …``: recompute a window of bins, train the forecast model, status."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import typer
from sqlalchemy.orm import Session

CHUNK = timedelta(hours=3)


def _when(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {text!r}") from None
    if ts.tzinfo is None:
        raise typer.BadParameter("give the time with its UTC offset, e.g. 2026-12-01T06:00+08:00")
    return ts.astimezone(UTC)


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds ``cityos mobility monitor`` and its commands."""
    monitor = typer.Typer(help="The TOCC board: segment states, vital signs, forecasts", no_args_is_help=True)
    app.add_typer(monitor, name="monitor")

    @monitor.command("compute")
    def compute(
        since: str | None = typer.Option(None, help="Start, ISO with offset (default: 24 hours ago)"),
        until: str | None = typer.Option(None, help="End, ISO with offset (default: now)"),
        network: str | None = typer.Option(None, help="Network code (default: the active network)"),
        forecasts: bool = typer.Option(True, help="Issue forecasts for the recomputed bins too"),
    ) -> None:
        """Recompute the bins of a window (replacing their rows), committing every 3 hours of bins."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.db import utcnow
        from cityos.core.errors import DomainError
        from cityos.core.i18n import translate
        from cityos.mobility.monitor import service

        end = _when(until, utcnow())
        start = _when(since, end - timedelta(hours=24))
        try:
            total = len(service.window_bins(start, end))
        except DomainError as exc:
            raise typer.BadParameter(translate(exc.details[0].message) if exc.details else exc.message) from exc
        done, quarantined = 0, 0
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("bins", total=total)
            at = start
            while at < end:
                stop = min(end, at + CHUNK)
                try:
                    with work() as session:
                        report = service.compute_window(
                            session, since=at, until=stop, network_code=network, with_forecasts=forecasts
                        )
                except DomainError as exc:
                    raise typer.BadParameter(translate(exc.message)) from exc
                done += len(report.bins)
                quarantined += sum(report.quarantined.values())
                bar.update(task, advance=len(report.bins))
                at = stop
        typer.echo(f"{done} bins computed, {quarantined} observations quarantined")

    @monitor.command("train-forecast")
    def train_forecast(
        days: int = typer.Option(14, min=1, max=90, help="Days of stored states to learn from"),
        network: str | None = typer.Option(None, help="Network code (default: the active network)"),
    ) -> None:
        """Fit the learned forecast model on the stored segment states and save it."""
        from cityos.core.errors import DomainError
        from cityos.core.i18n import translate
        from cityos.mobility.monitor import areas, forecasts
        from cityos.mobility.network import service as network_service

        with work() as session:
            net = network_service.active_network(session, network)
            if net is None:
                raise typer.BadParameter("no road network has been imported")
            places = areas.segment_places(session, net)
            try:
                report = forecasts.train(session, net=net, segments=places.segments, days=days)
            except DomainError as exc:
                raise typer.BadParameter(translate(exc.message)) from exc
        rows = ", ".join(f"{h} min: {n}" for h, n in report.rows.items())
        typer.echo(f"model saved to {report.path} (training rows {rows})")

    @monitor.command("status")
    def status(network: str | None = typer.Option(None, help="Network code (default: the active network)")) -> None:
        """The last bin computed, how far behind it is, and what the last run counted."""
        from cityos.mobility.monitor import forecasts, service

        with work() as session:
            st = service.status(session, network_code=network)
        if st.network_code is None:
            typer.echo("no road network has been imported")
            raise typer.Exit(1)
        last = st.last_bin_start.isoformat() if st.last_bin_start else "none"
        typer.echo(f"network {st.network_code}: last bin {last}, {st.behind_bins} finished bins waiting")
        for key, value in st.stats.items():
            typer.echo(f"  {key}: {value}")
        model = forecasts.describe(forecasts.load_model(st.network_code))
        typer.echo(f"  forecast model: {model.get('model') or 'none (historical average)'}")
