"""``cityos hub archive``: one day to Parquet, re-runs, retention with --purge, a bad --day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.hub.temporal import archive
from cityos.hub.temporal.models import SensorObservation
from tests.hub.temporal.helpers import seed


def test_archive_from_the_command_line(cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine, utcnow
    from cityos.core.settings import get_settings

    monkeypatch.setenv("CITYOS_ARCHIVE_DIR", str(tmp_path))
    get_settings.cache_clear()
    zone = get_settings().timezone
    old_day = archive.local_day(utcnow(), zone) - timedelta(days=40)
    start, _ = archive.bounds(old_day, zone)
    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed(session, start=start + timedelta(hours=1), bins=2, hours=3)
        session.commit()
    runner = CliRunner()
    done = runner.invoke(app, ["hub", "archive", "--day", old_day.isoformat()])
    assert done.exit_code == 0, done.output
    assert f"{old_day.isoformat()}: 12 observations in 1 tenant file(s)" in done.output
    path = tmp_path / "observations" / f"day={old_day.isoformat()}" / "default.parquet"
    assert pl.read_parquet(path).height == 12
    again = runner.invoke(app, ["hub", "archive", "--day", old_day.isoformat(), "--purge"])
    assert again.exit_code == 0, again.output
    assert "12 rows moved from the database to the archive" in again.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(SensorObservation)) == 0
    assert pl.read_parquet(path).height == 12
    yesterday = runner.invoke(app, ["hub", "archive"])
    assert yesterday.exit_code == 0, yesterday.output
    assert "0 observations" in yesterday.output
    bad = runner.invoke(app, ["hub", "archive", "--day", "2026-13-40"])
    assert bad.exit_code == 2
    engine.dispose()
