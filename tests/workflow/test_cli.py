"""``cityos db upgrade`` loads the working-day calendar; ``cityos workflow …`` commands."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.cases.models import Category
from cityos.cli import app
from cityos.core.db import make_engine
from cityos.workflow.models import CalendarDay, CalendarYear, ProcessDefinition


def test_upgrade_seeds_the_calendar_and_commands_work(cli_db: str) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    engine = make_engine(cli_db)
    with Session(engine) as session:
        years = set(session.scalars(select(CalendarYear.year)))
        assert date.today().year - 1 in years or date.today().year in years
        assert session.get(CalendarDay, date(2026, 10, 1)) is not None
        # The shipped case categories and processes come with the schema.
        assert session.get(Category, "component.01.01") is not None
        keys = set(session.scalars(select(ProcessDefinition.key)))
        assert {"city_event", "hotline_12345", "property_repair", "help_request"} <= keys
    seeded = runner.invoke(app, ["workflow", "seed-calendar", "--year", "2025", "--year", "2099"])
    assert seeded.exit_code == 0
    assert "loaded 2025" in seeded.output
    assert "no official data for 2099" in seeded.output
    timers = runner.invoke(app, ["workflow", "run-timers"])
    assert timers.exit_code == 0
    assert "timers fired: 0" in timers.output
    engine.dispose()
