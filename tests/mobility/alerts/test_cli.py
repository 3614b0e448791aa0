"""``cityos mobility alerts evaluate`` (catch-up over stored bins) and ``… alerts list``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.db import utcnow
from cityos.mobility.monitor.models import SegmentState


def test_catch_up_and_list(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine
    from cityos.mobility.alerts import evaluate, service
    from cityos.mobility.network.schema import grid_network
    from cityos.mobility.network.service import save_segments

    evaluate.forget()
    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    now = utcnow().replace(second=0, microsecond=0)
    last = now - timedelta(minutes=now.minute % 5 + 10)
    with Session(engine) as session:
        service.install_rules(session)
        save_segments(session, "cli", grid_network(), name="cli grid")
        for k in range(3):
            session.add(
                SegmentState(
                    network_code="cli",
                    segment_id="n0_0-n0_1",
                    bin_start=last - timedelta(minutes=5 * k),
                    speed_kmh=12.0,
                    state=5,
                    sources=1,
                )
            )
        session.commit()
    runner = CliRunner()
    done = runner.invoke(app, ["mobility", "alerts", "evaluate", "--hours", "2"])
    assert done.exit_code == 0, done.output
    assert "3 bins evaluated: 1 alerts raised, 0 cleared" in done.output
    again = runner.invoke(app, ["mobility", "alerts", "evaluate", "--hours", "2"])
    assert "0 bins evaluated" in again.output
    listed = runner.invoke(app, ["mobility", "alerts", "list"])
    assert listed.exit_code == 0, listed.output
    assert "n0_0-n0_1" in listed.output
    assert "1 alerts" in listed.output
    assert runner.invoke(app, ["mobility", "alerts", "list", "--status", "bogus"]).exit_code != 0
    engine.dispose()
    evaluate.forget()
