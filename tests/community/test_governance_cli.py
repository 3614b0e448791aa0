"""``cityos community governance-run`` and ``vote-tally``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.community.governance import votes
from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from tests.community.governance_fixtures import resident, set_area
from tests.factories import make_world


def test_the_commands(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        world = make_world(session)
        for room in (world.room, world.room2):
            set_area(session, room, "75.5")
            resident(session, room, name="业主", account=False)
        vote = votes.call(
            session, SYSTEM, title="更换门禁", region_id=world.estate.id, closes_at=utcnow() + timedelta(days=1)
        )
        vote_id = vote.id
        session.commit()
        vote.closes_at = utcnow() - timedelta(minutes=1)
        session.commit()
    engine.dispose()
    runner = CliRunner()
    tally = runner.invoke(app, ["community", "vote-tally", str(vote_id)])
    assert tally.exit_code == 0, tally.output
    assert "owners taking part: 0/2 = 0 (0.00%)" in tally.output
    assert "area taking part: 0.00/151.00 m²" in tally.output
    ran = runner.invoke(app, ["community", "governance-run"])
    assert ran.exit_code == 0, ran.output
    assert "votes closed: 1" in ran.output
    closed = runner.invoke(app, ["community", "vote-tally", str(vote_id)])
    assert "The quorum of two thirds was not reached" in closed.output
    assert runner.invoke(app, ["community", "vote-tally", "999999"]).exit_code != 0
