"""``cityos emergency sync-groups`` and ``cityos emergency broadcast``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.emergency.addressbook.models import Broadcast, Group
from tests.emergency.addressbook_fixtures import build


def test_sync_and_broadcast_from_the_command_line(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        book = build(session)
        code = book.world.community.code
        building = book.world.building.code
        session.commit()
    runner = CliRunner()
    first = runner.invoke(app, ["emergency", "sync-groups", code])
    assert first.exit_code == 0, first.output
    assert "幸福社区: 4 groups (4 new)" in first.output
    again = runner.invoke(app, ["emergency", "sync-groups", code])
    assert "4 groups (0 new); members +0 -0 ~0" in again.output
    assert runner.invoke(app, ["emergency", "sync-groups", "NOPE"]).exit_code == 2
    sent = runner.invoke(app, ["emergency", "broadcast", building, "--title", "停电", "--body", "今晚八点停电"])
    assert sent.exit_code == 0, sent.output
    # 2 residents, the building's and the community's volunteers, the grid's worker, the community's staff
    assert "sent to 6 recipients" in sent.output
    refused = runner.invoke(app, ["emergency", "broadcast", building, "--title", " ", "--body", "x"])
    assert refused.exit_code == 1
    assert "title: Give a title of 1 to 128 characters." in refused.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Group)) == 4
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 1
    engine.dispose()
