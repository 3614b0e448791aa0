"""``cityos mobility ingest FILE --source …`` and ``cityos mobility archive``."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.mobility.ingest.models import NavSpeed, TrafficObservation, TrafficQuarantine

from .conftest import loop, nav


@pytest.fixture
def cli_engine(cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from cityos.core import migrate
    from cityos.core.db import make_engine
    from cityos.core.settings import get_settings

    monkeypatch.setenv("CITYOS_ARCHIVE_DIR", str(tmp_path / "archive"))
    get_settings.cache_clear()
    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_ingest_csv_jsonl_parquet_and_archive(cli_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from cityos.cli import app

    runner = CliRunner()
    csv = tmp_path / "loops.csv"
    pl.DataFrame([loop(), loop(lane=2), loop(lane=3, occupancy=2.0)]).write_csv(csv)
    res = runner.invoke(app, ["mobility", "ingest", str(csv), "--source", "loop"])
    assert res.exit_code == 0, res.output
    assert "3 records: 2 accepted, 0 duplicates, 1 quarantined" in res.output
    assert "out_of_range: 1" in res.output
    again = runner.invoke(app, ["mobility", "ingest", str(csv), "--source", "loop"])
    assert "0 accepted, 2 duplicates, 1 quarantined" in again.output
    assert _count(cli_engine, TrafficObservation) == 2

    jsonl = tmp_path / "nav.jsonl"
    jsonl.write_text("\n".join([json.dumps(nav()), "{not json", json.dumps(nav(provider="b"))]) + "\n")
    res = runner.invoke(app, ["mobility", "ingest", str(jsonl), "--source", "nav"])
    assert "3 records: 2 accepted, 0 duplicates, 1 quarantined" in res.output, res.output
    assert "bad_record: 1" in res.output

    parquet = tmp_path / "nav.parquet"
    pl.DataFrame([nav(provider="c"), nav(provider="d", speed_kmh=-1)]).write_parquet(parquet)
    res = runner.invoke(app, ["mobility", "ingest", str(parquet), "--source", "nav"])
    assert "2 records: 1 accepted" in res.output, res.output
    assert _count(cli_engine, NavSpeed) == 3
    assert _count(cli_engine, TrafficQuarantine) == 4

    bad = runner.invoke(app, ["mobility", "ingest", str(csv), "--source", "plane"])
    assert bad.exit_code != 0
    other = tmp_path / "x.xml"
    other.write_text("<x/>")
    assert runner.invoke(app, ["mobility", "ingest", str(other), "--source", "loop"]).exit_code != 0
    missing_net = runner.invoke(app, ["mobility", "ingest", str(csv), "--source", "loop", "--network", "nope"])
    assert missing_net.exit_code == 1

    arch = runner.invoke(app, ["mobility", "archive", "--day", "2026-11-30", "--purge"])
    assert arch.exit_code == 0, arch.output
    assert "traffic_observation: 2 rows (written)" in arch.output
    assert (tmp_path / "archive/mobility/traffic_observation/day=2026-11-30/part.parquet").exists()
    assert "traffic_observation: 2 rows\n" in runner.invoke(app, ["mobility", "archive", "--day", "2026-11-30"]).output
    assert runner.invoke(app, ["mobility", "archive", "--day", "30/11"]).exit_code != 0
