"""``cityos hub …`` commands of hub.ingest: the device profiles, the ingest figures of the last
hour and the 24-hour prune (also run every minute by the server)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos hub``."""

    @app.command("ingest-profiles")
    def list_profiles() -> None:
        """The device profiles: code, entity type, payload key → attribute."""
        from cityos.core.i18n import translate
        from cityos.hub.ingest import service

        with work() as session:
            rows = [(p.code, p.entity_type, translate(p.name, "en"), p.mapping) for p in service.profiles(session)]
        for code, entity_type, name, mapping in rows:
            fields = ", ".join(f"{k}→{v['attr']}" for k, v in (mapping.get("fields") or {}).items())
            typer.echo(f"{code:<16} {entity_type:<20} {name} ({fields})")

    @app.command("ingest-stats")
    def show_stats(minutes: int = typer.Option(60, "--minutes", min=1, max=24 * 60, help="how far back")) -> None:
        """Accepted, duplicate and rejected messages (by reason) over the last minutes."""
        from cityos.core.db import utcnow
        from cityos.hub.ingest import service

        with work() as session:
            figures = service.stats(session, since=utcnow() - timedelta(minutes=minutes))
        typer.echo(f"accepted {figures.accepted}, duplicates {figures.duplicates}, rejected {figures.rejected_total}")
        for reason, count in sorted(figures.rejected.items()):
            typer.echo(f"  rejected {reason}: {count}")

    @app.command("ingest-prune")
    def prune() -> None:
        """Deletes message ids, tallies and rejections older than 24 hours."""
        from cityos.hub.ingest import tasks

        with work() as session:
            gone = tasks.prune(session)
        typer.echo(f"pruned {gone} rows")
