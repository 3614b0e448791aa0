"""``cityos mobility monitor compute``, ``status`` and ``train-forecast`` on a throw-away database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.mobility.monitor.models import SegmentState


def test_compute_a_window_then_status(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine, utcnow
    from cityos.mobility.ingest.models import ProbePoint
    from cityos.mobility.monitor.service import floor_bin
    from cityos.mobility.network import service as network
    from cityos.mobility.network.schema import grid_network

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    start = floor_bin(utcnow()) - timedelta(hours=1)
    with Session(engine) as session:
        network.save_segments(session, "cli", grid_network(3, 3))
        session.execute(
            insert(ProbePoint),
            [{"kind": "taxi", "vehicle_key": f"v{i}", "ts": start + timedelta(minutes=5 * i + 1), "lon": 104.0,
              "lat": 30.0, "speed_kmh": 40.0 + i, "segment_id": "n0_0-n0_1"} for i in range(6)],
        )  # fmt: skip
        session.commit()
    runner = CliRunner()
    done = runner.invoke(app, ["mobility", "monitor", "compute", "--since", start.isoformat(), "--until",
                               (start + timedelta(minutes=30)).isoformat()])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "6 bins computed" in done.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(SegmentState)) == 6
    shown = runner.invoke(app, ["mobility", "monitor", "status"])
    assert shown.exit_code == 0, shown.output
    assert f"network cli: last bin {(start + timedelta(minutes=25)).isoformat()}" in shown.output
    bad = runner.invoke(app, ["mobility", "monitor", "compute", "--since", "2026-12-01T08:00"])
    assert bad.exit_code == 2
    assert "UTC offset" in bad.output
    backwards = runner.invoke(app, ["mobility", "monitor", "compute", "--since", start.isoformat(), "--until",
                                    (start - timedelta(hours=1)).isoformat()])  # fmt: skip
    assert backwards.exit_code == 2
    too_little = runner.invoke(app, ["mobility", "monitor", "train-forecast"])
    assert too_little.exit_code == 2
    assert "历史太少" in too_little.output  # the CLI speaks the default language, zh_CN
    engine.dispose()
