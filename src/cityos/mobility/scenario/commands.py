"""``cityos mobility build-scenario`` (SUMO) and ``generate-scenario`` (built-in, no SUMO)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from cityos.mobility.scenario.generator import GeneratorConfig
    from cityos.mobility.scenario.tables import ScenarioTables


def _demand(start: str | None, hours: float, vehicles: int, noise_m: float, probe_s: int, seed: int) -> GeneratorConfig:
    from cityos.mobility.scenario.generator import GeneratorConfig

    if not 1 <= probe_s <= 600 or hours <= 0 or vehicles <= 0 or noise_m < 0:
        raise typer.BadParameter("probe period 1-600 s, positive hours and vehicles, noise >= 0")
    cfg = GeneratorConfig(
        duration_s=int(hours * 3600), vehicles=vehicles, gps_noise_m=noise_m, probe_interval_s=probe_s, seed=seed
    )
    if start:
        ts = datetime.fromisoformat(start)
        if ts.tzinfo is None:
            raise typer.BadParameter("give the start with its UTC offset, e.g. 2026-12-01T06:00+08:00")
        cfg.start = ts
    return cfg


def _summary(tables: ScenarioTables) -> None:
    for name in ("segments", "probes", "loops", "loop_counts", "edge_truth"):
        typer.echo(f"  {name}: {getattr(tables, name).height} rows")


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds the scenario commands to ``app`` (``work`` unused: scenarios are files)."""

    @app.command("build-scenario")
    def build_scenario(
        out: Path = typer.Argument(..., file_okay=False, help="Output folder (Parquet tables + sumo/ work files)"),
        rows: int = typer.Option(10),
        cols: int = typer.Option(10),
        spacing_m: float = typer.Option(250.0),
        start: str | None = typer.Option(None, help="Start, ISO with offset (default 06:00 +08:00 on the demo day)"),
        hours: float = typer.Option(14.0, help="Simulated hours (default covers both peaks)"),
        vehicles: int = typer.Option(20000),
        noise_m: float = typer.Option(8.0, help="GPS noise σ in metres"),
        probe_s: int = typer.Option(15, help="FCD sampling period, 10-30 s"),
        seed: int = typer.Option(7),
    ) -> None:
        """Build and run a SUMO scenario at the demo city (needs the scenario extra)."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.errors import Invalid
        from cityos.mobility.scenario import sumo_builder

        cfg = sumo_builder.SumoConfig(
            rows=rows, cols=cols, spacing_m=spacing_m, demand=_demand(start, hours, vehicles, noise_m, probe_s, seed)
        )
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("starting", total=1.0)
            try:
                tables = sumo_builder.build_scenario(
                    cfg, out, lambda msg, f: bar.update(task, completed=f, description=msg)
                )
            except Invalid as exc:
                raise typer.BadParameter(exc.message) from exc
        typer.echo(f"scenario written to {out}")
        _summary(tables)

    @app.command("generate-scenario")
    def generate_scenario(
        out: Path = typer.Argument(..., file_okay=False),
        rows: int = typer.Option(10),
        cols: int = typer.Option(10),
        spacing_m: float = typer.Option(250.0),
        start: str | None = typer.Option(None),
        hours: float = typer.Option(14.0),
        vehicles: int = typer.Option(2000),
        noise_m: float = typer.Option(8.0),
        probe_s: int = typer.Option(15),
        seed: int = typer.Option(7),
    ) -> None:
        """The same tables from the fast built-in generator on the built-in grid (no SUMO)."""
        from cityos.mobility.network.schema import grid_network
        from cityos.mobility.scenario.generator import generate

        tables = generate(grid_network(rows, cols, spacing_m), _demand(start, hours, vehicles, noise_m, probe_s, seed))
        tables.write(out)
        typer.echo(f"scenario written to {out}")
        _summary(tables)
