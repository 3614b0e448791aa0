"""``cityos hub alarm-rules``, ``alarm-rule-set``, ``alarm-rules-install`` and ``alarms``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.hub.devices.models import AlarmRule


def test_alarm_rules_from_the_command_line(cli_db: str) -> None:
    from cityos.cases import service as cases
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        cases.install_categories(session)
        session.commit()
    runner = CliRunner()
    installed = runner.invoke(app, ["hub", "alarm-rules-install"])
    assert installed.exit_code == 0, installed.output
    again = runner.invoke(app, ["hub", "alarm-rules-install"])
    assert "0 alarm rules installed" in again.output
    listed = runner.invoke(app, ["hub", "alarm-rules"])
    assert listed.exit_code == 0, listed.output
    assert "waterLevel > 0.3 (clear 0.2) → event.04.04  Water on the street (/)" in listed.output
    with Session(engine) as session:
        rule_id = session.scalar(select(AlarmRule.id).where(AlarmRule.code == "water-level-high"))
    changed = runner.invoke(app, ["hub", "alarm-rule-set", str(rule_id), "--threshold", "0.5", "--off"])
    assert changed.exit_code == 0, changed.output
    assert f"rule {rule_id} waterLevel > 0.5 (off)" in changed.output
    refused = runner.invoke(app, ["hub", "alarm-rule-set", str(rule_id), "--clear", "0.9"])
    assert refused.exit_code == 1
    assert "clear_threshold: The alarm ends on the other side of the threshold" in refused.output
    shown = runner.invoke(app, ["hub", "alarms"])
    assert "0 open alarms" in shown.output
    engine.dispose()
