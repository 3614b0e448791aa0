"""``cityos mobility match`` — map-match a probe-point file onto a segment file."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app`` (``work`` is unused: matching is file to file)."""

    @app.command("match")
    def match_file(
        points: Path = typer.Argument(..., help="Parquet: vehicle_id, ts, lon, lat[, speed, heading]"),
        segments: Path = typer.Argument(..., help="Parquet: the road-segment table"),
        out: Path = typer.Argument(..., help="Parquet to write the matched points to"),
        sigma_m: float = typer.Option(10.0, help="GPS noise (m)"),
        radius_m: float = typer.Option(50.0, help="Candidate search radius (m)"),
    ) -> None:
        """Match every point to a road segment (HMM); unmatched points are kept with a reason."""
        import polars as pl
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from cityos.mobility.matching import MatchConfig, SegmentIndex, match

        cfg = MatchConfig(sigma_m=sigma_m, radius_m=radius_m)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()) as progress:
            task = progress.add_task("indexing segments", total=None)
            index = SegmentIndex.build(pl.read_parquet(segments), radius_m=radius_m, max_route_m=cfg.max_route_m)
            progress.update(task, description="matching points")
            res = match(pl.read_parquet(points), index, cfg)
            res.points.write_parquet(out)
        typer.echo(" · ".join(f"{k}: {v}" for k, v in sorted(res.counts.items())))
