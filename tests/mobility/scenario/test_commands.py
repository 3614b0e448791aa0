from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.mobility.network import commands as network_commands
from cityos.mobility.network import service
from cityos.mobility.scenario import commands as scenario_commands
from cityos.mobility.scenario.tables import read_scenario

from ..network.test_import import TINY


def _app(session: Session) -> typer.Typer:
    @contextmanager
    def work() -> Iterator[Session]:
        yield session

    app = typer.Typer()
    network_commands.register(app, work)
    scenario_commands.register(app, work)
    return app


def test_network_commands(session: Session) -> None:
    app = _app(session)
    r = CliRunner().invoke(app, ["import-network", str(TINY), "--code", "tiny"])
    assert r.exit_code == 0, r.output
    assert "3 segments" in r.output
    assert "rejected 1: no lane for cars" in r.output
    r = CliRunner().invoke(app, ["grid-network", "--code", "g", "--rows", "3", "--cols", "3"])
    assert r.exit_code == 0, r.output
    assert service.load_segments(session, "g").height == 24
    r = CliRunner().invoke(app, ["networks"])
    assert "tiny\tsumo\t3" in r.output
    r = CliRunner().invoke(app, ["import-network", str(TINY), "--code", "tiny"])
    assert r.exit_code != 0


def test_generate_scenario_command(session: Session, tmp_path: Path) -> None:
    app = _app(session)
    args = ["generate-scenario", str(tmp_path), "--rows", "4", "--cols", "4", "--hours", "0.5", "--vehicles", "50"]
    r = CliRunner().invoke(app, [*args, "--start", "2026-12-01T07:30+08:00"])
    assert r.exit_code == 0, r.output
    assert read_scenario(tmp_path).probes.height > 0
    r = CliRunner().invoke(app, [*args, "--start", "2026-12-01T07:30"])
    assert r.exit_code != 0
