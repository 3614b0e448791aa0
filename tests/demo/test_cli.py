"""``cityos demo generate`` against a throw-away SQLite file."""

from __future__ import annotations

from typer.testing import CliRunner

from cityos.cli import app


def test_demo_generate_then_if_missing(cli_db: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    first = runner.invoke(app, ["demo", "generate", "--size", "tiny", "--seed", "11"])
    assert first.exit_code == 0, first.output
    assert "residents" in first.output
    assert "demo-grid" in first.output  # the sign-ins are printed after the summary

    again = runner.invoke(app, ["demo", "generate", "--size", "tiny", "--if-missing"])
    assert again.exit_code == 0
    assert "already present" in again.output

    refused = runner.invoke(app, ["demo", "generate", "--size", "tiny"])
    assert refused.exit_code == 1
    assert "already exists" in refused.output


def test_demo_generate_rejects_unknown_size(cli_db: str) -> None:
    result = CliRunner().invoke(app, ["demo", "generate", "--size", "huge"])
    assert result.exit_code == 2
    assert "tiny, small, city" in result.output
