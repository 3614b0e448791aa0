"""``cityos community …`` commands of community.commerce (邻里商业)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("shop-stats")
    def shop_stats(
        region: str = typer.Option(..., "--region", help="Code of the region (a community, a street, a district…)"),
    ) -> None:
        """邻里商业 in a region: active offers and shops, orders this month, open, the average rating."""
        from cityos.community.commerce import service
        from cityos.places.models import Region

        with work() as session:
            place = session.scalar(select(Region).where(Region.code == region))
            if place is None:
                raise typer.BadParameter("no region has this code", param_hint="--region")
            figures = service.stats(session, region=place)
        typer.echo(place.name)
        for key, value in figures.items():
            typer.echo(f"{key}: {value}")

    @app.command("shop-expire")
    def shop_expire() -> None:
        """Cancel orders no shop answered within 24 hours (the server does this every minute)."""
        from cityos.community.commerce import orders

        with work() as session:
            n = orders.expire_unanswered(session)
        typer.echo(f"Orders cancelled: {n}")
