from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import polars as pl
import typer
from typer.testing import CliRunner

from cityos.mobility.matching.commands import register
from cityos.mobility.network.schema import grid_network
from tests.mobility.matching.traces import drive


def test_match_command_writes_matched_points(tmp_path: Path) -> None:
    grid = grid_network(4, 4, 300.0)
    pts, truth = drive(grid, ["n1_0-n1_1", "n1_1-n1_2"])
    grid.write_parquet(tmp_path / "segments.parquet")
    pts.write_parquet(tmp_path / "points.parquet")
    app = typer.Typer()
    register(app, lambda: nullcontext())  # type: ignore[arg-type,return-value]
    app.command("noop")(lambda: None)  # a second command keeps typer from collapsing the group
    args = ["match", str(tmp_path / "points.parquet"), str(tmp_path / "segments.parquet"), str(tmp_path / "o.parquet")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"matched: {pts.height}" in result.output
    assert pl.read_parquet(tmp_path / "o.parquet")["segment_id"].to_list() == truth
