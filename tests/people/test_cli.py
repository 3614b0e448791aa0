"""``cityos people refresh-tags`` against a throw-away SQLite file."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.cli import app
from cityos.core.db import make_engine
from cityos.people.models import Person, PersonTag


def test_refresh_tags(cli_db: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(cli_db)
    with Session(engine) as session:
        session.add(Person(name="老人", gender="female", birth_date=date(1940, 5, 1)))
        session.commit()
    result = runner.invoke(app, ["people", "refresh-tags"])
    assert result.exit_code == 0, result.output
    assert "Age tags added or removed: 1" in result.output
    with Session(engine) as session:
        assert list(session.scalars(select(PersonTag.tag))) == ["elderly"]
    assert "removed: 0" in runner.invoke(app, ["people", "refresh-tags"]).output
    engine.dispose()
