"""The daily report files: the XLSX opens with openpyxl and has the right totals and formats in
Chinese; the PDF is a PDF whose title is the campaign's."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from cityos.core.i18n import current_locale
from cityos.emergency.command import export
from cityos.emergency.command import report as daily
from tests.emergency.command_fixtures import Known, build_known
from tests.factories import make_actor


@pytest.fixture
def report(session: Session) -> daily.DailyReport:
    known: Known = build_known(session)
    commander = make_actor(session, roles=["commander"], scope=known.world.city)
    return daily.daily_report(session, commander, campaign_id=known.campaign.id, region_id=known.world.community.id)


def pdf_title(data: bytes) -> str:
    """The document title from the PDF's info dictionary (a UTF-16 string with escapes)."""
    found = re.search(rb"/Title \((.*?)(?<!\\)\)", data, re.S)
    assert found is not None
    raw, out, i = found.group(1), bytearray(), 0
    while i < len(raw):
        if raw[i : i + 1] == b"\\":
            nxt = raw[i + 1 : i + 4]
            if re.match(rb"[0-7]{3}", nxt):
                out.append(int(nxt, 8))
                i += 4
                continue
            out.append({b"n": 10, b"r": 13, b"t": 9}.get(raw[i + 1 : i + 2], raw[i + 1]))
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return bytes(out).decode("utf-16")


def test_xlsx_has_a_summary_and_a_sheet_per_level_in_chinese(report: daily.DailyReport) -> None:
    token = current_locale.set("zh_CN")
    try:
        data = export.xlsx(report)
    finally:
        current_locale.reset(token)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["汇总", "网格", "小区", "楼栋", "超时求助"]
    summary = book["汇总"]
    values = {row[0].value: row[1].value for row in summary.iter_rows(min_row=2) if row[0].value}
    assert values["活动"] == "幸福社区疫情筛查"
    assert values["居民"] == 8
    assert values["今日已报"] == 4
    assert values["今日异常"] == 2
    assert values["上报率"] == 0.5
    cell = next(r[1] for r in summary.iter_rows(min_row=2) if r[0].value == "上报率")
    assert cell.number_format == "0.0%"
    buildings = book["楼栋"]
    headers = [c.value for c in buildings[1]]
    assert headers[:4] == ["所属", "名称", "居民", "户数"]
    rows = [[c.value for c in row] for row in buildings.iter_rows(min_row=2)]
    assert [r[1] for r in rows] == ["1栋", "3栋", "2栋"]
    reported = headers.index("今日已报")
    assert sum(r[reported] for r in rows) == 4
    assert sum(r[2] for r in rows) == 8
    overdue = [[c.value for c in row] for row in book["超时求助"].iter_rows(min_row=2)]
    assert [r[2] for r in overdue] == ["待响应", "已升级"]


def test_xlsx_headers_follow_the_language(report: daily.DailyReport) -> None:
    token = current_locale.set("en")
    try:
        book = load_workbook(io.BytesIO(export.xlsx(report)))
    finally:
        current_locale.reset(token)
    assert book.sheetnames == ["Summary", "Grid", "Estate", "Building", "Overdue help"]


def test_pdf_is_a_pdf_titled_with_the_campaign(report: daily.DailyReport) -> None:
    data = export.pdf(report)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert pdf_title(data) == "幸福社区疫情筛查"
    assert b"STSong-Light" in data  # the built-in CID font, nothing embedded from disk
    assert len(data) > 3000


def test_filenames_name_the_campaign_region_and_day(report: daily.DailyReport) -> None:
    name = export.filename(report, "xlsx")
    assert name == f"daily-report-{report.campaign_id}-{report.region.id}-{report.day.isoformat()}.xlsx"
