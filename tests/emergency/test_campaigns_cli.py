"""``cityos emergency campaign-*``: templates, creating and publishing a campaign from a
template over a region, listing, closing, and escalating overdue help requests."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.emergency.campaigns.models import Campaign, Task
from tests.factories import make_world


def test_campaigns_from_the_command_line(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine
    from cityos.emergency.campaigns import service

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        service.install(session)
        world = make_world(session)
        code = world.community.code
        session.commit()
    runner = CliRunner()
    listed = runner.invoke(app, ["emergency", "campaign-templates"])
    assert listed.exit_code == 0, listed.output
    assert "epidemic_screening   Epidemic screening" in listed.output
    made = runner.invoke(app, ["emergency", "campaign-create", "epidemic_screening", code, "--publish"])
    assert made.exit_code == 0, made.output
    assert "is published with 2 tasks" in made.output
    refused = runner.invoke(app, ["emergency", "campaign-create", "nope", code])
    assert refused.exit_code == 1
    assert "template: Choose one of the campaign templates." in refused.output
    assert runner.invoke(app, ["emergency", "campaign-create", "flood_check", "NOPE"]).exit_code == 2
    with Session(engine) as session:
        campaign_id = session.scalar(select(Campaign.id))
        assert session.scalar(select(func.count()).select_from(Task)) == 2
    shown = runner.invoke(app, ["emergency", "campaigns"])
    assert f"{campaign_id:>6} published" in shown.output
    closed = runner.invoke(app, ["emergency", "campaign-close", str(campaign_id)])
    assert closed.exit_code == 0, closed.output
    again = runner.invoke(app, ["emergency", "campaign-close", str(campaign_id)])
    assert again.exit_code == 1
    assert "Only a running campaign can be closed." in again.output
    escalated = runner.invoke(app, ["emergency", "help-escalate"])
    assert "0 help requests escalated" in escalated.output
    engine.dispose()
