"""``cityos hub …`` commands of the open platform: list the light apps, suspend or resume one
(an operator's brake when an app misbehaves at night), and send the due webhook deliveries now.
They act as the system."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import NoReturn

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import DomainError


def _fail(exc: DomainError) -> NoReturn:
    from cityos.core.i18n import translate

    typer.echo(translate(exc.message, "en", **exc.params), err=True)
    for d in exc.details:
        typer.echo(f"{d.field}: {translate(d.message, 'en', **d.params)}", err=True)
    raise typer.Exit(1) from exc


@contextmanager
def _english() -> Iterator[None]:
    """The commands answer in English (their messages carry translated parts, e.g. a status)."""
    from cityos.core.i18n import current_locale

    token = current_locale.set("en")
    try:
        yield
    finally:
        current_locale.reset(token)


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos hub``."""

    @app.command("apps")
    def list_apps(
        status: str = typer.Option("", "--status", help="draft, submitted, approved, rejected, suspended"),
    ) -> None:
        """Every light app (newest first): id, status, client id, rate limit, name."""
        from cityos.hub.apps.models import LightApp

        with work() as session:
            query = select(LightApp).order_by(LightApp.id.desc())
            if status:
                query = query.where(LightApp.status == status)
            rows = [(a.id, a.status, a.client_id or "-", a.rate_limit, a.name) for a in session.scalars(query)]
        for app_id, state, client_id, limit, name in rows:
            typer.echo(f"{app_id:>5} {state:<10} {client_id:<22} {limit:>6}/min {name}")

    @app.command("app-suspend")
    def suspend(app_id: int, reason: str = typer.Option(..., "--reason", help="shown to the developer")) -> None:
        """Suspend an approved app: its OAuth2 client stops working at once."""
        from cityos.core.actor import SYSTEM
        from cityos.hub.apps import service

        try:
            with _english(), work() as session:
                name = service.suspend(session, SYSTEM, app_id, reason=reason).name
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"app {app_id} ({name}) is suspended")

    @app.command("app-resume")
    def resume(app_id: int) -> None:
        """Resume a suspended app."""
        from cityos.core.actor import SYSTEM
        from cityos.hub.apps import service

        try:
            with _english(), work() as session:
                name = service.resume(session, SYSTEM, app_id).name
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"app {app_id} ({name}) is approved again")

    @app.command("webhooks-deliver")
    def deliver(limit: int = typer.Option(200, "--limit", min=1, max=5000)) -> None:
        """Send the webhook deliveries that are due now (the server does it every 2 seconds)."""
        from cityos.hub.apps import delivery

        with work() as session:
            jobs = delivery.due_jobs(session, limit=limit)
        outcomes = delivery.send_all(jobs)
        with work() as session:
            run = delivery.record(session, outcomes)
        typer.echo(f"{run.delivered} delivered, {run.failed} failed, {run.skipped} left for later")
