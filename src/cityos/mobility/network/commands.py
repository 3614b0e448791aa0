"""``cityos mobility network …`` commands: import a road network (SUMO, GeoJSON, built-in grid),
list the imported ones. The lead mounts ``register`` under ``cityos mobility``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import typer
from sqlalchemy.orm import Session


def _report(code: str, segments: int, rejected: dict[str, int]) -> None:
    typer.echo(f"road network {code}: {segments} segments")
    for reason, n in sorted(rejected.items()):
        typer.echo(f"  rejected {n}: {reason}")


def _origin(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise typer.BadParameter("origin must be lon,lat", param_hint="--origin") from exc
    return lon, lat


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds the road-network commands to ``app``."""

    @app.command("import-network")
    def import_network(
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A SUMO .net.xml or a GeoJSON file"),
        code: str = typer.Option(..., help="Network code (unique)"),
        name: str | None = typer.Option(None, help="Display name"),
        replace: bool = typer.Option(False, help="Replace a network with the same code"),
        origin: str | None = typer.Option(None, help="lon,lat for a SUMO network without a projection"),
    ) -> None:
        """Import a road network into the database (opposite directions as separate segments)."""
        from cityos.core.errors import DomainError
        from cityos.mobility.network import service

        with work() as session:
            try:
                if path.name.endswith(".xml"):
                    o = tuple(float(v) for v in origin.split(",")) if origin else None
                    net = service.import_sumo(
                        session,
                        path,
                        code,
                        name=name,
                        replace=replace,
                        origin=o if o else None,  # type: ignore[arg-type]
                    )
                else:
                    net = service.import_geojson(session, path, code, name=name, replace=replace)
            except DomainError as exc:
                raise typer.BadParameter(exc.message) from exc
            _report(net.code, net.segments, net.rejected)

    @app.command("grid-network")
    def grid_network_cmd(
        code: str = typer.Option("grid", help="Network code"),
        rows: int = typer.Option(10),
        cols: int = typer.Option(10),
        spacing_m: float = typer.Option(250.0),
        replace: bool = typer.Option(False),
    ) -> None:
        """Save the built-in synthetic grid (no SUMO) as a road network."""
        from cityos.mobility.network import service
        from cityos.mobility.network.schema import grid_network

        with work() as session:
            grid = grid_network(rows, cols, spacing_m)
            ref = f"{rows}x{cols}@{spacing_m}"
            net = service.save_segments(session, code, grid, source="grid", source_ref=ref, replace=replace)
            _report(net.code, net.segments, net.rejected)

    @app.command("networks")
    def networks() -> None:
        """List the imported road networks."""
        from cityos.mobility.network import service

        with work() as session:
            for net in service.list_networks(session):
                typer.echo(f"{net.code}\t{net.source}\t{net.segments}\t{net.imported_at:%Y-%m-%d %H:%M}\t{net.name}")
