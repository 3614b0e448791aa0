"""``cityos community …`` commands of community.property (物业)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session


def _problems(exc: Exception) -> str:
    from cityos.core.errors import DomainError
    from cityos.core.i18n import translate

    if isinstance(exc, DomainError):
        found = [f"{d.field}: {translate(d.message, **d.params)}" for d in exc.details]
        return "; ".join(found) or translate(exc.message, **exc.params)
    return str(exc)


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("bill-run")
    def bill_run(
        estate_id: int = typer.Argument(..., help="The estate (小区) region id"),
        period: str = typer.Option("", help="The month, e.g. 2026-11 (default: last month)"),
        kind: list[str] = typer.Option([], help="property_fee, parking, water or power (default: all)"),
    ) -> None:
        """出账: make one month's bills for every room of an estate (safe to repeat)."""
        from cityos.community.property import billing
        from cityos.community.property.estates import previous_period
        from cityos.core.actor import SYSTEM
        from cityos.core.db import utcnow
        from cityos.core.errors import DomainError
        from cityos.core.i18n import translate

        month = period or previous_period(utcnow())
        with work() as session:
            try:
                run = billing.run_billing(session, SYSTEM, estate_id=estate_id, period=month, kinds=kind or None)
            except DomainError as exc:
                raise typer.BadParameter(_problems(exc)) from exc
            typer.echo(
                f"{month}: {len(run.created)} new bills, {billing.yuan(run.total_fen)} yuan; "
                f"{run.existing} already billed"
            )
            for skipped in run.skipped:
                typer.echo(f"  skipped room {skipped.room_id} {skipped.kind}: {translate(skipped.reason)}")

    @app.command("property-device-add")
    def device_add(
        estate_id: int = typer.Argument(..., help="The estate (小区) region id"),
        kind: str = typer.Argument(
            ..., help="parking_spot, camera, locker, bin, meter_water, meter_power, elevator, pump, fire_panel, light"
        ),
        code: str = typer.Argument(..., help="The device's code, unique in the city"),
        name: str = typer.Argument(..., help="Its name, e.g. 1栋1号电梯"),
        region_id: int = typer.Option(
            0, help="Where inside the estate (a building, unit or room; default: the estate)"
        ),
        compartments: int = typer.Option(0, help="A locker's number of compartments"),
        stream: str = typer.Option("", help="A bin's waste: kitchen, recyclable, hazardous or other"),
        visitor: bool = typer.Option(False, help="A parking space for visitors"),
    ) -> None:
        """Install a property device and print its device key (shown this once)."""
        from cityos.community.property import facilities
        from cityos.core.actor import SYSTEM
        from cityos.core.errors import DomainError

        with work() as session:
            try:
                made = facilities.add_device(
                    session,
                    SYSTEM,
                    estate_id=estate_id,
                    kind=kind,
                    code=code,
                    name=name,
                    region_id=region_id or None,
                    compartments=compartments or None,
                    stream=stream or None,
                    visitor=visitor,
                )
            except DomainError as exc:
                raise typer.BadParameter(_problems(exc)) from exc
            typer.echo(f"device {made.device.id} {made.device.code} · {made.device.kind} · {made.device.name}")
            if made.key:
                typer.echo(f"device key (shown once): {made.key}")

    @app.command("property-chase")
    def chase() -> None:
        """Send what the server sends every minute now: overdue-bill reminders, parcel reminders and returns."""
        from cityos.community.property import billing, lockers

        with work() as session:
            reminded = billing.remind_overdue(session)
            parcels, returned = lockers.chase(session)
        typer.echo(f"bills reminded: {reminded}; parcels reminded: {parcels}; parcels returned: {returned}")

    @app.command("property-stats")
    def stats(region_id: int = typer.Argument(..., help="A region id (community, estate, building …)")) -> None:
        """The property figures of a region: collection, parking, parcels, sorting, devices."""
        from cityos.community.property import service
        from cityos.places.models import Region

        with work() as session:
            region = session.get(Region, region_id)
            if region is None:
                raise typer.BadParameter("no such region", param_hint="REGION_ID")
            for key, value in service.stats(session, region=region).items():
                typer.echo(f"{key}: {value}")
