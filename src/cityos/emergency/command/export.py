"""The daily report (日报) as files: XLSX (openpyxl: a summary sheet, a sheet per level below the
region, overdue help) and PDF (reportlab, Chinese in the built-in CID font STSong-Light — no font
file, no network). Headers are in the caller's language (zh_CN by default)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from cityos.core.i18n import N_, _, translate
from cityos.core.settings import get_settings
from cityos.emergency.command.report import DailyReport, LevelTable
from cityos.emergency.command.service import Figures, HelpItem
from cityos.places.service import level_label

PDF_FONT = "STSong-Light"
MSG_OMITTED = N_("{n} areas at this level: too many to list here. Export a smaller area.")
PDF_MAX_ROWS = 300
PDF_MAX_HELP = 50

# (header msgid, value of the figures, kind): kind "n" counts, "%" percentages.
COLUMNS: tuple[tuple[str, Callable[[Figures], Any], str], ...] = (
    (N_("Residents"), lambda f: f.residents, "n"),
    (N_("Households"), lambda f: f.households, "n"),
    (N_("Special groups"), lambda f: f.special, "n"),
    (N_("Reached"), lambda f: f.reached, "n"),
    (N_("Reach rate"), lambda f: f.reach_rate, "%"),
    (N_("Not reached"), lambda f: f.unreached, "n"),
    (N_("Reported today"), lambda f: f.reported, "n"),
    (N_("Report rate"), lambda f: f.report_rate, "%"),
    (N_("Abnormal today"), lambda f: f.abnormal, "n"),
    (N_("Staff reports"), lambda f: f.staff_reported, "n"),
    (N_("Staff abnormal"), lambda f: f.staff_abnormal, "n"),
    (N_("Help requests"), lambda f: f.help_total, "n"),
    (N_("Help waiting"), lambda f: f.help_open, "n"),
    (N_("Help overdue"), lambda f: f.help_overdue, "n"),
    (N_("Tasks open"), lambda f: f.tasks_open, "n"),
    (N_("Tasks done"), lambda f: f.tasks_done, "n"),
    (N_("Households supplied"), lambda f: f.supplied, "n"),
    (N_("Supplies coverage"), lambda f: f.supplies_rate, "%"),
)
# The columns a PDF page has room for.
PDF_COLUMNS = (
    N_("Residents"),
    N_("Reached"),
    N_("Reach rate"),
    N_("Reported today"),
    N_("Report rate"),
    N_("Abnormal today"),
    N_("Help waiting"),
    N_("Help overdue"),
    N_("Tasks open"),
    N_("Supplies coverage"),
)
HELP_STATUS = {"open": N_("Waiting"), "escalated": N_("Escalated"), "answered": N_("Answered"), "closed": N_("Closed")}


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


def _area(report: DailyReport) -> str:
    return " / ".join([*(c.name for c in report.ancestors), report.region.name])


def filename(report: DailyReport, extension: str) -> str:
    return f"daily-report-{report.campaign_id}-{report.region.id}-{report.day.isoformat()}.{extension}"


def _heading_lines(report: DailyReport) -> list[tuple[str, str]]:
    return [
        (_("Campaign"), report.campaign_title),
        (_("Area"), _area(report)),
        (_("Day"), report.day.isoformat()),
        (_("Generated at"), _local(report.generated_at)),
    ]


# --- XLSX ---------------------------------------------------------------------------------------------------


def xlsx(report: DailyReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE7F3")
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _sheet_name(_("Summary"), set())
    summary.append([_("Daily report")])
    summary["A1"].font = Font(bold=True, size=14)
    for label, value in _heading_lines(report):
        summary.append([label, value])
    summary.append([])
    summary.append([_("Indicator"), _("Value")])
    for cell in summary[summary.max_row]:
        cell.font, cell.fill = bold, head_fill
    f = report.region.figures
    for header, value_of, kind in COLUMNS:
        summary.append([translate(header), _cell_value(value_of(f), kind)])
        summary.cell(row=summary.max_row, column=2).number_format = "0.0%" if kind == "%" else "#,##0"
    summary.column_dimensions["A"].width = 22
    summary.column_dimensions["B"].width = 36

    names: set[str] = {summary.title}
    for table in report.levels:
        sheet = book.create_sheet(_sheet_name(level_label(table.level), names))
        headers = [_("Part of"), _("Name"), *(translate(h) for h, _v, _k in COLUMNS)]
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        if table.omitted:
            sheet.append([_("{n} areas at this level: too many to list here. Export a smaller area.", n=table.omitted)])
        for row in table.rows:
            sheet.append(
                [row.parent, row.region.name, *(_cell_value(v(row.region.figures), k) for _h, v, k in COLUMNS)]
            )
        for index, (_h, _v, kind) in enumerate(COLUMNS, start=3):
            letter = get_column_letter(index)
            for cell in sheet[letter][1:]:
                cell.number_format = "0.0%" if kind == "%" else "#,##0"
            sheet.column_dimensions[letter].width = 11
        sheet.column_dimensions["A"].width = 18
        sheet.column_dimensions["B"].width = 18
        sheet.freeze_panes = "C2"

    help_sheet = book.create_sheet(_sheet_name(_("Overdue help"), names))
    help_sheet.append(
        [
            _("Help request"),
            _("Address"),
            _("Status"),
            _("Escalation level"),
            _("Asked at"),
            _("Due at"),
        ]
    )
    for cell in help_sheet[1]:
        cell.font, cell.fill = bold, head_fill
    for item in report.overdue:
        help_sheet.append(_help_row(item))
    for letter, width in zip("ABCDEF", (24, 30, 10, 10, 18, 18), strict=True):
        help_sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell_value(value: Any, kind: str) -> Any:
    if kind == "%":
        return None if value is None else round(float(value) / 100.0, 4)
    return value


def _sheet_name(title: str, taken: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Sheet"
    name, n = clean, 2
    while name in taken:
        name, n = f"{clean} {n}", n + 1
    taken.add(name)
    return name


def _help_row(item: HelpItem) -> list[Any]:
    return [
        translate(item.category),
        item.address,
        translate(HELP_STATUS.get(item.status, item.status)),
        item.escalation_level,
        _local(item.created_at),
        _local(item.due_at),
    ]


# --- PDF ----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


def pdf(report: DailyReport) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13)
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde7f3")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ]
    )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=report.campaign_title,
        subject=f"{translate('Daily report')} {_area(report)} {report.day.isoformat()}",
        author="cityos",
    )
    story: list[Any] = [Paragraph(_escape(report.campaign_title), title_style)]
    story.append(Paragraph(_escape(_("Daily report")), h2))
    for label, value in _heading_lines(report):
        story.append(Paragraph(f"{_escape(label)}: {_escape(value)}", body))
    story.append(Spacer(1, 4 * mm))
    f = report.region.figures
    pairs = [(translate(h), _shown(v(f), k)) for h, v, k in COLUMNS]
    half = (len(pairs) + 1) // 2
    kpi_rows = [
        [a[0], a[1], *(pairs[half + i] if half + i < len(pairs) else ("", ""))] for i, a in enumerate(pairs[:half])
    ]
    kpis = Table(kpi_rows, colWidths=[45 * mm, 30 * mm, 45 * mm, 30 * mm], hAlign="LEFT")
    kpis.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
            ]
        )
    )
    story.append(kpis)
    columns = [c for c in COLUMNS if c[0] in PDF_COLUMNS]
    for table in report.levels[:2]:
        story.append(Paragraph(_escape(_("By {level}", level=level_label(table.level))), h2))
        story.extend(_level_story(table, columns, grid, body))
    story.append(Paragraph(_escape(_("Overdue help")), h2))
    if report.overdue:
        help_rows = [
            [
                _("Help request"),
                _("Address"),
                _("Status"),
                _("Escalation level"),
                _("Asked at"),
                _("Due at"),
            ],
            *(_help_row(item) for item in report.overdue[:PDF_MAX_HELP]),
        ]
        help_table = Table(help_rows, repeatRows=1, hAlign="LEFT")
        help_table.setStyle(grid)
        story.append(help_table)
    else:
        story.append(Paragraph(_escape(_("Nothing overdue.")), body))
    doc.build(story)
    return buf.getvalue()


def _level_story(
    table: LevelTable, columns: Sequence[tuple[str, Callable[[Figures], Any], str]], grid: Any, body: Any
) -> list[Any]:
    from reportlab.platypus import Paragraph, Table

    if table.omitted:
        text = translate(MSG_OMITTED, n=table.omitted)
        return [Paragraph(_escape(text), body)]
    rows = [[_("Part of"), _("Name"), *(translate(h) for h, _v, _k in columns)]]
    for row in table.rows[:PDF_MAX_ROWS]:
        rows.append([row.parent, row.region.name, *(_shown(v(row.region.figures), k) for _h, v, k in columns)])
    out: list[Any] = []
    shown = Table(rows, repeatRows=1, hAlign="LEFT")
    shown.setStyle(grid)
    out.append(shown)
    if len(table.rows) > PDF_MAX_ROWS:
        more = _("{n} more rows are in the XLSX file.", n=len(table.rows) - PDF_MAX_ROWS)
        out.append(Paragraph(_escape(more), body))
    return out


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}%" if kind == "%" else f"{value:,}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
