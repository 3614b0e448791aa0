"""``cityos community …`` commands of community.dashboard."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("dashboard")
    def dashboard(
        region: str = typer.Argument(..., help="The region: its id or its code (e.g. a community's 12-digit code)"),
        as_json: bool = typer.Option(False, "--json", help="Print the dashboard data as JSON (as the API returns it)"),
    ) -> None:
        """Print 一屏观社区 of a region: people, places, cases, devices and the parts' KPIs (counts only)."""
        from rich.console import Console
        from rich.table import Table
        from sqlalchemy import or_, select

        from cityos.community.dashboard import service
        from cityos.community.dashboard.schemas import DashboardRead
        from cityos.core.actor import SYSTEM
        from cityos.places.models import Region

        with work() as session:
            clause = Region.code == region
            if region.isdigit():
                clause = or_(clause, Region.id == int(region))
            found = session.scalars(select(Region).where(clause).order_by(Region.id).limit(1)).first()
            if found is None:
                raise typer.BadParameter("no region with this id or code", param_hint="REGION")
            data = service.dashboard(session, SYSTEM, region_id=found.id)
            read = DashboardRead.model_validate(data)
        if as_json:
            typer.echo(read.model_dump_json(indent=2))
            return
        console = Console()
        table = Table(title=f"一屏观社区 · {read.region.name} ({read.region.level_label})", show_header=False)
        table.add_column("figure")
        table.add_column("value", justify="right")
        if read.people:
            p = read.people
            share = "—" if p.elderly_share is None else f"{p.elderly_share}%"
            table.add_row("人 residents · households", f"{p.residents:,} · {p.households:,}")
            table.add_row("人 owners · tenants · aged 60+", f"{p.owners:,} · {p.tenants:,} · {share}")
            for g in p.groups:
                if g.count:
                    table.add_row(f"   {g.label}", f"{g.count:,}")
        if read.places:
            pl = read.places
            occupancy = "—" if pl.occupancy is None else f"{pl.occupancy}%"
            table.add_row("地 estates · buildings · rooms", f"{pl.estates:,} · {pl.buildings:,} · {pl.rooms:,}")
            table.add_row("地 occupied rooms", f"{pl.occupied_rooms:,} ({occupancy})")
        if read.cases:
            table.add_row("事 open · overdue cases", f"{read.cases.open:,} · {read.cases.overdue:,}")
        if read.things:
            counts = " · ".join(f"{read.things.status_labels.get(s, s)} {n}" for s, n in read.things.by_status.items())
            table.add_row("物 devices", f"{read.things.total:,} ({counts})")
        for part in read.situation:
            if not part.ok:
                table.add_row(f"情 {part.title}", part.error or "")
                continue
            for f in part.figures:
                if f.headline:
                    value = "—" if f.value is None else f"{f.value}{f.unit}"
                    table.add_row(f"情 {part.title} · {f.label}", value)
        for panel, why in read.errors.items():
            table.add_row(panel, why)
        console.print(table)
