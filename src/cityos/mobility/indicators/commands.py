"""``cityos mobility indicators …``: compute fusion, states and the five vital signs from
Parquet files (to be mounted by the lead under ``cityos mobility``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
    """Adds ``indicators`` to ``app``; no database is needed (``work`` is unused)."""

    @app.command("indicators")
    def indicators(
        segments: Path = typer.Option(..., exists=True, help="Segment table (Parquet, network contract)"),
        out: Path = typer.Option(..., help="Folder for vitals/segments/quarantine Parquet files"),
        probes: Path | None = typer.Option(None, exists=True, help="Matched probe points (Parquet)"),
        loops: Path | None = typer.Option(None, exists=True, help="Loop detector records (Parquet)"),
        nav: Path | None = typer.Option(None, exists=True, help="Navigation speeds (Parquet)"),
        incidents: Path | None = typer.Option(None, exists=True, help="Incidents: area_id, ts, count (Parquet)"),
        district_col: str | None = typer.Option(None, help="Segment column naming the district"),
        city_id: str = typer.Option("city", help="Area id of the whole city"),
        spark: bool = typer.Option(False, help="Run on Spark local[2] instead of in-process"),
    ) -> None:
        """Fuse the sources per segment and 5 minutes, classify states, compute the vital signs."""
        import polars as pl
        from rich.progress import Progress

        from cityos.mobility.indicators.fusion import observations
        from cityos.mobility.indicators.pipeline import compute_local, compute_spark
        from cityos.mobility.indicators.vitals import membership

        def read(p: Path | None) -> pl.DataFrame | None:
            return pl.read_parquet(p) if p is not None else None

        with Progress() as progress:
            task = progress.add_task("indicators", total=3)
            segs = pl.read_parquet(segments)
            obs = observations(read(probes), read(loops), read(nav))
            areas = membership(segs, city_id=city_id, district_col=district_col)
            progress.advance(task)
            if spark:
                from cityos.mobility.indicators.runners import local_spark

                session = local_spark()
                try:
                    sdf = session.createDataFrame(obs.to_arrow())
                    result = compute_spark(session, sdf, segs, areas, read(incidents), buckets=8)
                finally:
                    session.stop()
            else:
                result = compute_local(obs, segs, areas, read(incidents))
            progress.advance(task)
            out.mkdir(parents=True, exist_ok=True)
            result.vitals.write_parquet(out / "vitals.parquet")
            result.segments.write_parquet(out / "segments.parquet")
            result.quarantine.write_parquet(out / "quarantine.parquet")
            progress.advance(task)
        typer.echo(
            f"{obs.height} records: {result.quarantine.height} quarantined, "
            f"{result.segments.height} segment-bins, {result.vitals.height} vital-sign rows → {out}"
        )
