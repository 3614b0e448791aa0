"""``cityos mobility transit import`` / ``feeds`` and ``cityos mobility hubs list`` / ``flow``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.mobility.transit.conftest import GridFeed


def test_the_transit_and_hub_commands(cli_db: str, grid_feed: GridFeed, tmp_path: Path) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    engine.dispose()
    runner = CliRunner()
    done = runner.invoke(
        app, ["mobility", "transit", "import", str(grid_feed.path), "--code", "grid", "--name", "Grid"]
    )
    assert done.exit_code == 0, done.output
    assert "feed grid: 2 routes" in done.output
    again = runner.invoke(app, ["mobility", "transit", "import", str(grid_feed.path), "--code", "grid"])
    assert again.exit_code == 0, again.output
    listed = runner.invoke(app, ["mobility", "transit", "feeds"])
    assert listed.output.splitlines() == ["grid\tGrid\t2 routes\t20 stops\t36 trips\tAsia/Shanghai"]
    bad = tmp_path / "bad.zip"
    bad.write_text("nope")
    refused = runner.invoke(app, ["mobility", "transit", "import", str(bad), "--code", "bad"])
    assert refused.exit_code == 1
    assert "file: 该文件不是 GTFS 压缩包。" in refused.output  # the CLI speaks the default language
    assert runner.invoke(app, ["mobility", "hubs", "list"]).exit_code == 0
    missing = runner.invoke(app, ["mobility", "hubs", "flow", "NOPE"])
    assert missing.exit_code == 1
    assert "没有该编码的枢纽。" in missing.output
    naive = runner.invoke(app, ["mobility", "hubs", "flow", "NOPE", "--start", "2026-11-20T08:00"])
    assert naive.exit_code == 2
