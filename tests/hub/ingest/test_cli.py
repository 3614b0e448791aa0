"""``cityos hub ingest-profiles``, ``ingest-stats`` and ``ingest-prune`` on a throw-away database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.actor import SYSTEM
from tests.factories import add_region


def test_commands(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine, utcnow
    from cityos.hub.ingest import pipeline, profiles, service
    from cityos.hub.ingest.models import IngestMessage
    from cityos.hub.ingest.pipeline import Inbound

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        profiles.install(session)
        city = add_region(session, None, "city", "测试市")
        device, _ = service.register_device(
            session, SYSTEM, code="cli-meter", kind="meter", name="表", region_id=city.id, profile_code="meter"
        )
        good = {"mid": "1", "values": {"value": 5}}
        bad = {"mid": "2", "values": {"value": -5}}
        pipeline.process(session, [Inbound("http", device.id, good), Inbound("http", device.id, bad)])
        old = utcnow() - timedelta(hours=30)
        session.add(IngestMessage(device_id=device.id, mid="old", received_at=old))
        session.commit()
    engine.dispose()
    runner = CliRunner()
    listed = runner.invoke(app, ["hub", "ingest-profiles"])
    assert listed.exit_code == 0, listed.output
    assert "traffic-loop" in listed.output
    assert "fill→fillingLevel" in listed.output
    stats = runner.invoke(app, ["hub", "ingest-stats", "--minutes", "10"])
    assert stats.exit_code == 0, stats.output
    assert "accepted 1, duplicates 0, rejected 1" in stats.output
    assert "rejected invalid: 1" in stats.output
    assert runner.invoke(app, ["hub", "ingest-stats", "--minutes", "0"]).exit_code != 0
    pruned = runner.invoke(app, ["hub", "ingest-prune"])
    assert pruned.exit_code == 0, pruned.output
    assert "pruned 1 rows" in pruned.output
