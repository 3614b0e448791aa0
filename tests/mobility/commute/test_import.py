"""Imported OD records: good rows stored and located; bad rows reported with row, field and
reason, and nothing written; CSV and Parquet files; the command line."""

from __future__ import annotations

import io

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.errors import Forbidden, Invalid
from cityos.core.i18n import translate
from cityos.mobility.commute import imports, service
from cityos.mobility.commute.models import CommuteTrip
from cityos.places import index
from tests.factories import make_world
from tests.mobility.commute.conftest import CommuteWorld

GOOD = [
    {
        "origin_lon": "104.05",
        "origin_lat": "30.05",
        "dest_lon": "104.15",
        "dest_lat": "30.05",
        "started_at": "2026-12-02T08:00:00",  # local time
        "duration_s": "1800",
        "distance_m": "12000",
        "mode": "car",
    },
    {
        "origin_lon": "104.15",
        "origin_lat": "30.05",
        "dest_lon": "104.05",
        "dest_lat": "30.05",
        "started_at": "2026-12-02T10:00:00Z",
        "ended_at": "2026-12-02T10:40:00Z",
        "mode": "",
        "trip_key": "survey-2",
        "segment_ids": "a b;c",
    },
]


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CommuteTrip)) or 0)


def test_good_rows_are_stored_located_and_once(session: Session, cw: CommuteWorld) -> None:
    result = service.import_trips(session, cw.operator, rows=GOOD)
    assert (result.written, result.duplicates) == (2, 0)
    first = session.scalar(select(CommuteTrip).where(CommuteTrip.mode == "car"))
    assert first is not None
    assert first.started_at.isoformat() == "2026-12-02T00:00:00+00:00"  # 08:00 in Shanghai
    assert first.origin_district_id == cw.w.district_a.id
    assert first.dest_district_id == cw.w.district_b.id
    assert first.source == "imported"
    second = session.scalar(select(CommuteTrip).where(CommuteTrip.trip_key == "survey-2"))
    assert second is not None
    assert second.mode == "other"
    assert second.duration_s == 2400
    assert second.segment_ids == ["a", "b", "c"]
    assert second.distance_m == pytest.approx(9_640 * 1.3, rel=0.01)  # no distance: straight line × 1.3
    again = service.import_trips(session, cw.operator, rows=GOOD)
    assert (again.written, again.duplicates) == (0, 2)
    assert count(session) == 2


def test_bad_rows_are_reported_and_nothing_is_written(session: Session, cw: CommuteWorld) -> None:
    bad = [
        GOOD[0],
        {**GOOD[0], "origin_lon": "east", "dest_lat": "95"},
        {**GOOD[0], "started_at": "yesterday", "mode": "rocket"},
        {**GOOD[1], "ended_at": "2026-12-02T09:00:00Z"},
        {k: v for k, v in GOOD[0].items() if k != "duration_s"},
        {**GOOD[1]},  # survey-2 twice
        {**GOOD[1], "origin_lat": ""},
    ]
    with pytest.raises(Invalid) as caught:
        service.import_trips(session, cw.operator, rows=bad)
    found = {(d.params["row"], d.params["field"]): d.message for d in caught.value.details}
    assert set(found) == {
        (2, "origin_lon"),
        (2, "dest_lat"),
        (3, "started_at"),
        (3, "mode"),
        (4, "ended_at"),
        (5, "ended_at"),
        (6, "trip_key"),
        (7, "origin_lat"),
        (7, "trip_key"),
    }
    assert found[(4, "ended_at")] == imports.MSG_ORDER
    assert found[(7, "origin_lat")] == imports.MSG_REQUIRED
    d = next(x for x in caught.value.details if x.params["row"] == 2 and x.params["field"] == "dest_lat")
    assert d.field == "rows.2.dest_lat"
    assert translate(d.message, "zh_CN", **d.params) == "第 2 行：dest_lat 应在 -90 到 90 之间。"
    assert count(session) == 0


def test_importing_needs_traffic_manage(session: Session, cw: CommuteWorld) -> None:
    with pytest.raises(Forbidden):
        service.import_trips(session, cw.reader, rows=GOOD)


def test_csv_and_parquet_files_are_read() -> None:
    df = pl.DataFrame(GOOD)
    csv, parquet = io.BytesIO(), io.BytesIO()
    df.write_csv(csv)
    df.write_parquet(parquet)
    assert imports.read_bytes(csv.getvalue(), "survey.csv")[0]["origin_lon"] == "104.05"
    assert len(imports.read_bytes(parquet.getvalue(), "survey.parquet")) == 2
    with pytest.raises(Invalid) as wrong:
        imports.read_bytes(b"x", "survey.xlsx")
    assert wrong.value.details[0].message == imports.MSG_FORMAT
    with pytest.raises(Invalid) as lacking:
        imports.read_bytes(b"origin_lon,origin_lat\n1,2\n", "s.csv")
    assert lacking.value.details[0].params == {"columns": "dest_lon, dest_lat, started_at"}
    with pytest.raises(Invalid) as broken:
        imports.read_bytes(b"\x00\x01garbage", "s.parquet")
    assert broken.value.details[0].message == imports.MSG_UNREADABLE


def test_the_command_line_imports_a_file_and_refuses_a_bad_one(cli_db: str, tmp_path: object) -> None:
    from pathlib import Path

    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    folder = Path(str(tmp_path))
    good, bad = folder / "good.csv", folder / "bad.csv"
    pl.DataFrame(GOOD).write_csv(good)
    pl.DataFrame([GOOD[0], {**GOOD[0], "origin_lon": "east"}]).write_csv(bad)
    runner = CliRunner()
    ok = runner.invoke(app, ["mobility", "commute", "import", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "2 trips imported, 0 already stored" in ok.output
    refused = runner.invoke(app, ["mobility", "commute", "import", str(bad)])
    assert refused.exit_code == 1
    assert "rows.2.origin_lon" in refused.output
    derived = runner.invoke(app, ["mobility", "commute", "derive", "--day", "2026-12-02"])
    assert derived.exit_code == 0, derived.output
    assert "0 probe points, 0 trips" in derived.output
    with Session(engine) as session:
        assert count(session) == 2
        make_world(session)
        index.rebuild_cells(session)
        session.commit()
    simulated = runner.invoke(app, ["mobility", "commute", "simulate", "--day", "2026-12-03"])
    assert simulated.exit_code == 0, simulated.output
    assert "trips stored" in simulated.output
    assert runner.invoke(app, ["mobility", "commute", "derive", "--day", "3 Dec"]).exit_code == 2
    with Session(engine) as session:
        assert count(session) > 1000
    index.invalidate()
    engine.dispose()
