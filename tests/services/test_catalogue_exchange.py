"""Catalogue import and export: JSON and CSV round trips; an import is all or nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.actor import SYSTEM
from cityos.core.errors import Forbidden, Invalid
from cityos.services.catalogue import service as catalogue
from cityos.services.catalogue import transfer
from cityos.services.catalogue.models import ServiceItem
from tests.factories import make_actor, make_world
from tests.services.catalogue_fixtures import install, item_record


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ServiceItem)) or 0)


def test_json_export_imports_back_unchanged(session: Session) -> None:
    install(session)
    text = transfer.export_items(session, "json")
    assert isinstance(text, str)
    data = json.loads(text)
    assert len(data["items"]) == 33
    assert {b["code"] for b in data["bundles"]} == {"newborn", "business", "elderly"}
    assert transfer.import_items(session, SYSTEM, text, "json") == 0  # nothing changed
    data["items"][0]["fee"] = "10元"
    data["items"].append(item_record("mzj-950"))
    assert transfer.import_items(session, SYSTEM, json.dumps(data, ensure_ascii=False), "json") == 2
    assert catalogue.get_item(session, data["items"][0]["code"]).fee == "10元"


def test_csv_carries_the_json_columns_as_json_text(session: Session) -> None:
    install(session)
    body = transfer.export_items(session, "csv")
    assert isinstance(body, bytes)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so spreadsheets show the Chinese
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 33
    elderly = next(r for r in rows if r["code"] == "mzj-002")
    assert json.loads(elderly["department_kinds"]) == ["mzj", "jtj"]
    assert json.loads(elderly["form_schema"])["type"] == "object"
    assert transfer.import_items(session, SYSTEM, body, "csv") == 0
    elderly["time_limit_days"] = "12"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerow(elderly)
    assert transfer.import_items(session, SYSTEM, out.getvalue(), "csv") == 1
    assert catalogue.get_item(session, "mzj-002").time_limit_days == 12


def test_an_import_with_one_bad_row_writes_nothing_and_names_row_and_field(session: Session) -> None:
    install(session)
    before = _count(session)
    rows = [
        item_record("mzj-960"),
        item_record("mzj-961", form_schema={"type": "object", "properties": {"x": {"minLength": -1}}}),
        item_record("mzj-962", time_limit_days="soon"),
        item_record("mzj-960"),
    ]
    with pytest.raises(Invalid) as exc:
        transfer.import_items(
            session,
            SYSTEM,
            json.dumps({"items": rows, "bundles": [{"code": "b", "name": "甲", "item_codes": ["mzj-960", "no-1"]}]}),
            "json",
        )
    fields = {d.field for d in exc.value.details}
    assert fields == {"items.2.form_schema", "items.3.time_limit_days", "items.4.code", "bundles.1.item_codes.1"}
    assert _count(session) == before
    assert session.scalar(select(ServiceItem).where(ServiceItem.code == "mzj-960")) is None


def test_bad_csv_cells_and_files(session: Session) -> None:
    install(session)
    header = ",".join(catalogue.ITEM_FIELDS)
    record = item_record("mzj-970")
    cells = [transfer._csv_cell(k, record.get(k)) for k in catalogue.ITEM_FIELDS]
    good = io.StringIO()
    csv.writer(good).writerows([catalogue.ITEM_FIELDS, cells])
    broken = list(cells)
    broken[catalogue.ITEM_FIELDS.index("materials")] = "[not json"
    bad = io.StringIO()
    csv.writer(bad).writerows([catalogue.ITEM_FIELDS, cells, broken])
    with pytest.raises(Invalid) as exc:
        transfer.import_items(session, SYSTEM, bad.getvalue(), "csv")
    assert {d.field for d in exc.value.details} == {"items.2.materials", "items.2.code"}
    assert session.scalar(select(ServiceItem).where(ServiceItem.code == "mzj-970")) is None
    assert transfer.import_items(session, SYSTEM, good.getvalue(), "csv") == 1
    for data, fmt, field in (
        ("{", "json", "file"),
        ('{"other": 1}', "json", "file"),
        ("[]", "json", "file"),
        (header + "\n", "csv", "file"),
        (b"\xff\xfe", "csv", "file"),
        ("[]", "xml", "format"),
    ):
        with pytest.raises(Invalid) as e:
            transfer.import_items(session, SYSTEM, data, fmt)
        assert [d.field for d in e.value.details] == [field], (data, fmt)
    with pytest.raises(Invalid):
        transfer.export_items(session, "xml")


def test_import_needs_service_write(session: Session) -> None:
    world = make_world(session)
    clerk = make_actor(session, roles=["window_clerk"], scope=world.city)
    with pytest.raises(Forbidden):
        transfer.import_items(session, clerk, "[]", "json")


def test_cli_exports_and_imports(cli_db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    engine.dispose()
    runner = CliRunner()
    shipped = tmp_path / "items.json"
    shipped.write_text(json.dumps(catalogue.shipped(), ensure_ascii=False), encoding="utf-8")
    first = runner.invoke(app, ["services", "items-import", str(shipped)])
    assert first.exit_code == 0, first.output
    assert "imported 36" in first.output
    out = tmp_path / "out.csv"
    exported = runner.invoke(app, ["services", "items-export", "--format", "csv", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes().decode("utf-8-sig").count("\n") >= 34
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([item_record("mzj-980", time_limit_days=-3)]), encoding="utf-8")
    refused = runner.invoke(app, ["services", "items-import", str(broken)])
    assert refused.exit_code == 1
    assert "items.1.time_limit_days" in refused.output
    assert runner.invoke(app, ["services", "items-export", "--format", "xml"]).exit_code == 1
