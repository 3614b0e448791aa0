"""``cityos mobility hubs …``: list the transport hubs, print a hub's passenger flow."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

import typer
from sqlalchemy.orm import Session


def _time(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("an ISO 8601 time with a zone", param_hint=name) from exc
    if value.tzinfo is None:
        raise typer.BadParameter("give the time zone, e.g. 2026-12-01T08:00+08:00", param_hint=name)
    return value


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds ``hubs`` to ``cityos mobility``."""
    hubs = typer.Typer(help="Transport hubs: passenger flow by mode, taxi supply, origins", no_args_is_help=True)
    app.add_typer(hubs, name="hubs")

    @hubs.command("list")
    def list_hubs() -> None:
        """The hubs, one a line."""
        from cityos.core.actor import SYSTEM
        from cityos.mobility.hubs import service

        with work() as session:
            for h in service.list_hubs(session, SYSTEM):
                typer.echo(f"{h.code}\t{h.kind}\t{h.name}\t{h.lon:.5f},{h.lat:.5f}\t{h.radius_m:.0f} m")

    @hubs.command("flow")
    def hub_flow(
        code: str = typer.Argument(..., help="Hub code"),
        start: str | None = typer.Option(None, help="ISO 8601 with a zone (default: 24 hours before the end)"),
        end: str | None = typer.Option(None, help="ISO 8601 with a zone (default: now)"),
    ) -> None:
        """Mode share, taxi shortage minutes and the top districts of a hub over a window."""
        from cityos.core.actor import SYSTEM
        from cityos.core.errors import DomainError
        from cityos.core.i18n import translate
        from cityos.mobility.hubs import flow

        try:
            with work() as session:
                f = flow.flow(session, SYSTEM, hub_code=code, start=_time(start, "--start"), end=_time(end, "--end"))
                share = f.mode_share.to_dicts()
                short = f.supply.filter(f.supply["shortage"]).height
                origins, destinations = f.origins.head(5).to_dicts(), f.destinations.head(5).to_dicts()
        except DomainError as exc:
            typer.echo(translate(exc.message, **exc.params), err=True)
            for d in exc.details:
                typer.echo(f"  {d.field}: {translate(d.message, **d.params)}", err=True)
            raise typer.Exit(1) from exc
        for s in share:
            typer.echo(
                f"{s['mode']:<11}{s['source']:<6} in {s['arrivals']:7.0f}  out {s['departures']:7.0f} {s['share']:6.1%}"
            )
        typer.echo(f"minutes short of taxis: {short}")
        for label, rows in (("from", origins), ("to", destinations)):
            typer.echo(f"{label}: " + ", ".join(f"{r['name']} {r['trips']}" for r in rows))
