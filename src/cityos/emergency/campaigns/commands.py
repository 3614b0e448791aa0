"""``cityos emergency …`` commands of emergency.campaigns: list the templates and campaigns,
create a campaign from a template over a region (and publish it), close one, and pass the help
requests past their limit up the ladder now. They act as the system (e.g. from a duty script)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import NoReturn

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import DomainError
from cityos.places.models import Region


def _region(session: Session, ref: str) -> Region:
    """A region by its code (preferred) or its id."""
    region = session.scalar(select(Region).where(Region.code == ref))
    if region is None and ref.isdigit():
        region = session.get(Region, int(ref))
    if region is None:
        raise typer.BadParameter(f"no region with code or id {ref!r}", param_hint="REGION")
    return region


def _fail(exc: DomainError) -> NoReturn:
    from cityos.core.i18n import translate

    typer.echo(translate(exc.message, "en", **exc.params), err=True)
    for d in exc.details:
        typer.echo(f"{d.field}: {translate(d.message, 'en', **d.params)}", err=True)
    raise typer.Exit(1) from exc


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("campaign-templates")
    def list_templates() -> None:
        """The campaign templates (疫情筛查, 防汛排查, 高温探访 and any added)."""
        from cityos.core.i18n import translate
        from cityos.emergency.campaigns import service

        with work() as session:
            rows = [(t.key, translate(t.title, "en"), dict(t.settings)) for t in service.templates(session)]
        for key, title, settings in rows:
            typer.echo(
                f"{key:<20} {title:<20} tasks per {settings.get('task_level')}, "
                f"{settings.get('cadence')}×/day (key groups {settings.get('key_group_cadence')}×)"
            )

    @app.command("campaigns")
    def list_campaigns(status: str = typer.Option("", "--status", help="draft, published or closed")) -> None:
        """Every campaign (newest first), with its status and area."""
        from cityos.core.actor import SYSTEM
        from cityos.emergency.campaigns import service

        with work() as session:
            rows = [
                (c.id, c.status, c.title, c.scope_path)
                for c in service.list_campaigns(session, SYSTEM, status=status or None)
            ]
        for cid, state, title, path in rows:
            typer.echo(f"{cid:>6} {state:<10} {title} ({path})")

    @app.command("campaign-create")
    def create(
        template: str = typer.Argument(..., help="Template key, e.g. epidemic_screening"),
        region: str = typer.Argument(..., help="Region code (or id) the campaign covers"),
        title: str = typer.Option("", "--title", help="Title (default: the template and the region)"),
        publish: bool = typer.Option(False, "--publish", help="Publish at once: tasks, groups, broadcast"),
    ) -> None:
        """A campaign from a template over REGION, in one step (and published with --publish)."""
        from cityos.core.actor import SYSTEM
        from cityos.emergency.campaigns import service

        try:
            with work() as session:
                place = _region(session, region)
                campaign = service.create_from_template(
                    session, SYSTEM, template=template, scope_region_id=place.id, title=title or None
                )
                tasks = service.publish(session, SYSTEM, campaign_id=campaign.id).tasks if publish else 0
                cid, name, state = campaign.id, campaign.title, campaign.status
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"Campaign {cid} ({name}) is {state}" + (f" with {tasks:,} tasks" if publish else ""))

    @app.command("campaign-close")
    def close(campaign_id: int = typer.Argument(..., help="The campaign's id")) -> None:
        """End a running campaign: reports are no longer accepted."""
        from cityos.core.actor import SYSTEM
        from cityos.emergency.campaigns import service

        try:
            with work() as session:
                service.close(session, SYSTEM, campaign_id=campaign_id)
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"Campaign {campaign_id} is closed")

    @app.command("help-escalate")
    def escalate() -> None:
        """Pass the help requests past their 2-hour limit to the community now (the server does it every minute)."""
        from cityos.emergency.campaigns import help as helps

        with work() as session:
            count = helps.escalate_due(session)
        typer.echo(f"{count:,} help requests escalated")
