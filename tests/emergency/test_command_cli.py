"""``cityos emergency rollup``, ``daily-report`` and ``rollup-rebuild`` on a throw-away database."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.emergency.command_fixtures import build_known


def test_commands(cli_db: str, tmp_path: Path) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        known = build_known(session)
        session.commit()
        campaign_id, community_id = known.campaign.id, known.world.community.id
        outside_id = known.world.district_b.id
    engine.dispose()
    runner = CliRunner()
    built = runner.invoke(app, ["emergency", "rollup-rebuild", str(campaign_id)])
    assert built.exit_code == 0, built.output
    assert f"campaign {campaign_id}: 11 roll-up rows" in built.output
    shown = runner.invoke(app, ["emergency", "rollup", str(campaign_id), "--region-id", str(community_id)])
    assert shown.exit_code == 0, shown.output
    assert "幸福社区" in shown.output
    assert "第一网格" in shown.output
    out = tmp_path / "report.xlsx"
    written = runner.invoke(app, ["emergency", "daily-report", str(campaign_id), "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert load_workbook(out).sheetnames[0] == "汇总"
    pdf = tmp_path / "report.pdf"
    assert runner.invoke(app, ["emergency", "daily-report", str(campaign_id), "--out", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    # Bad input: an unknown campaign, a bad day, a region outside the campaign, a wrong file type.
    assert runner.invoke(app, ["emergency", "rollup-rebuild", "999999"]).exit_code == 2
    bad_day = runner.invoke(app, ["emergency", "rollup", str(campaign_id), "--day", "2026-02-30"])
    assert bad_day.exit_code == 2
    assert "YYYY-MM-DD" in bad_day.output
    outside = runner.invoke(app, ["emergency", "rollup", str(campaign_id), "--region-id", str(outside_id)])
    assert outside.exit_code == 2
    assert "该区域不在活动范围内" in outside.output
    wrong = runner.invoke(app, ["emergency", "daily-report", str(campaign_id), "--out", str(tmp_path / "r.csv")])
    assert wrong.exit_code == 2
