"""The indicators command reads Parquet and writes the three result tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from typer.testing import CliRunner

from cityos.mobility.indicators.commands import register
from tests.mobility.indicators.data import at, segments


def test_indicators_command_writes_results(tmp_path: Path) -> None:
    segments().write_parquet(tmp_path / "segs.parquet")
    pl.DataFrame({"segment_id": ["a1", "a1", "ghost"], "ts": [at(1)] * 3, "speed": [30.0, 34.0, 20.0]}).write_parquet(
        tmp_path / "probes.parquet"
    )
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None: ...

    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "indicators",
            "--segments",
            str(tmp_path / "segs.parquet"),
            "--probes",
            str(tmp_path / "probes.parquet"),
            "--out",
            str(out),
            "--district-col",
            "district",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "1 quarantined" in res.output
    vitals = pl.read_parquet(out / "vitals.parquet")
    assert sorted(vitals["area_id"].to_list()) == ["510104", "city"]
    assert pl.read_parquet(out / "quarantine.parquet")["reason"].to_list() == ["unknown segment"]
