"""``cityos mobility forecast-backtest``: hold out the last day(s) of a speed table and score
the historical average, the last value and the gradient-boosting model per horizon."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app`` (``work`` is unused: nothing here touches the database)."""

    @app.command("forecast-backtest")
    def forecast_backtest(
        table: Path | None = typer.Option(None, help="Parquet or CSV long table: sensor_id, ts, speed_kmh"),
        los_loop: Path | None = typer.Option(None, help="A Los-loop directory (los_speed.csv, los_adj.csv)"),
        edges: Path | None = typer.Option(None, help="CSV of neighbours: sensor_id, neighbour_id, weight"),
        holdout_days: int = typer.Option(1, min=1, help="Days at the end held out for scoring"),
        threads: int | None = typer.Option(None, help="Threads for fitting (default: all cores)"),
    ) -> None:
        """Train before the hold-out, forecast 15/30/60 minutes after it, print MAE/RMSE/MAPE (km/h)."""
        import polars as pl
        from rich.console import Console
        from rich.table import Table

        from cityos.core.errors import DomainError
        from cityos.mobility.forecast import HORIZONS_MIN
        from cityos.mobility.forecast.backtest import backtest, holdout_cut
        from cityos.mobility.forecast.data import load_los_loop
        from cityos.mobility.forecast.model import ModelParams
        from cityos.mobility.forecast.series import prepare

        if (table is None) == (los_loop is None):
            raise typer.BadParameter("give exactly one of --table and --los-loop")
        console = Console()
        try:
            with console.status("reading and cleaning the series"):
                if los_loop is not None:
                    long, edge_table = load_los_loop(los_loop)
                else:
                    assert table is not None
                    long = (
                        pl.read_parquet(table)
                        if table.suffix == ".parquet"
                        else pl.read_csv(table, try_parse_dates=True)
                    )
                    edge_table = None
                if edges is not None:
                    edge_table = pl.read_csv(
                        edges, schema_overrides={"sensor_id": pl.String, "neighbour_id": pl.String}
                    )
                prepared = prepare(long)
            grid = prepared.grid
            cut = holdout_cut(grid, holdout_days)
            with console.status("training one model per horizon and scoring"):
                result = backtest(grid, cut, edges=edge_table, params=ModelParams(threads=threads))
        except DomainError as exc:
            raise typer.BadParameter(exc.message) from exc
        console.print(
            f"{prepared.quarantine.height} records quarantined, {prepared.missing_steps} missing steps; "
            f"historical average by {result.profile.replace('_', ' ')}"
        )
        out = Table(title="MAE / RMSE (km/h) / MAPE (%)")
        out.add_column("method")
        for h in HORIZONS_MIN:
            out.add_column(f"{h} min", justify="right")
        for method, frame in result.metrics.items():
            cells = [
                f"{r['mae']:.2f} / {r['rmse']:.2f} / {r['mape']:.1f}"
                for r in frame.sort("horizon_min").iter_rows(named=True)
            ]
            out.add_row(method.replace("_", " "), *cells)
        console.print(out)
