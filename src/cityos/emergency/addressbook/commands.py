"""``cityos emergency …`` commands of emergency.addressbook: build the address book's groups of a
region and send a broadcast from the command line (as the system, e.g. from a duty script)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.places.models import Region


def _region(session: Session, ref: str) -> Region:
    """A region by its code (preferred) or its id."""
    region = session.scalar(select(Region).where(Region.code == ref))
    if region is None and ref.isdigit():
        region = session.get(Region, int(ref))
    if region is None:
        raise typer.BadParameter(f"no region with code or id {ref!r}", param_hint="REGION")
    return region


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("sync-groups")
    def sync_groups(region: str = typer.Argument(..., help="Region code (or id) whose subtree to build")) -> None:
        """云上通讯录: build or refresh the groups of every building and grid under REGION."""
        from cityos.emergency.addressbook import service

        with work() as session:
            place = _region(session, region)
            result = service.sync_groups(session, region=place)
            name = place.name
        typer.echo(
            f"{name}: {result.groups:,} groups ({result.created:,} new); members "
            f"+{result.added:,} -{result.removed:,} ~{result.updated:,}"
        )

    @app.command("broadcast")
    def broadcast(
        region: str = typer.Argument(..., help="Region code (or id) to reach"),
        title: str = typer.Option(..., "--title", help="Title (up to 128 characters)"),
        body: str = typer.Option(..., "--body", help="The message"),
        urgent: bool = typer.Option(False, "--urgent", help="Also send by SMS where a phone is known"),
    ) -> None:
        """通知群发: send a broadcast to everyone living under REGION and its staff, as the system."""
        from cityos.core.actor import SYSTEM
        from cityos.core.errors import Invalid
        from cityos.core.i18n import translate
        from cityos.emergency.addressbook import broadcasts

        try:
            with work() as session:
                place = _region(session, region)
                row = broadcasts.send(
                    session,
                    SYSTEM,
                    target_region_id=place.id,
                    title=title,
                    body=body,
                    urgency="urgent" if urgent else "normal",
                )
                sent, recipients = row.id, row.recipient_count
        except Invalid as exc:
            for d in exc.details:
                typer.echo(f"{d.field}: {translate(d.message, 'en', **d.params)}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"Broadcast {sent} sent to {recipients:,} recipients")
