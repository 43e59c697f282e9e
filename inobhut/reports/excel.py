"""Excel rendering of a :class:`~inobhut.reports.model.ReportModel` (openpyxl).

Belongs here: the workbook layout after the UK Analysis Function guidance "Releasing
statistics in spreadsheets" with German symbols — sheets ``Deckblatt``, ``Inhalt``,
``Erläuterungen``, then one marked-up Excel table per sheet, native charts with alt text,
document properties, a print layout per sheet (:mod:`inobhut.xlsx_print`) — and byte-reproducible saving (fixed zip timestamps, created/modified
= ``model.created_at``). Styles come from ``report_templates/excel_styles.yaml``.
Does not belong here: what the tables contain (report builders), HTML.
"""

from __future__ import annotations

import datetime as dt
import io
from copy import copy
import types
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from inobhut.xlsx_io import save_workbook
from inobhut.xlsx_print import setup_print, wrapped_row_height

from .common import DISCLOSURE_LABELS, report_tables, sheet_names
from .fmt import fmt_datetime, fmt_value
from .model import SYMBOLS, ReportModel, ReportTable


@lru_cache(maxsize=1)
def styles() -> dict:
    text = resources.files("report_templates").joinpath("excel_styles.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def _style_objects() -> dict:
    s = styles()
    side = Side(style=s["total"]["border_top"], color="000000")
    return {
        "title": Font(size=s["title"]["size"], bold=s["title"]["bold"]),
        "subtitle": Font(size=s["subtitle"]["size"], bold=s["subtitle"]["bold"]),
        "bold": Font(bold=True),
        "header_fill": PatternFill("solid", fgColor=s["header"]["fill"]),
        "header_align": Alignment(wrap_text=bool(s["header"]["wrap"]), vertical="top"),
        "total_border": Border(top=side),
        "right": Alignment(horizontal="right"),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "link": Font(color=s["hyperlink"]["color"], underline=s["hyperlink"]["underline"]),
    }


# ---------------------------------------------------------------- reproducible saving (inobhut.xlsx_io)
def _chart_frame_with_alt_text(drawing: SpreadsheetDrawing, idx: int):
    """Like ``SpreadsheetDrawing._chart_frame``, plus the chart's title and alt text in cNvPr.
    (Bound per instance: a subclass would lose openpyxl's serialisation metadata.)"""
    frame = SpreadsheetDrawing._chart_frame(drawing, idx)
    chart = drawing.charts[idx - 1]  # charts come first in SpreadsheetDrawing._write
    nv = frame.nvGraphicFramePr.cNvPr
    nv.name = f"Diagramm {idx}"
    nv.title = getattr(chart, "_inobhut_title", None)
    nv.descr = getattr(chart, "_inobhut_alt", None)
    return frame


class _Writer(ExcelWriter):
    def write_worksheet(self, ws):  # same as openpyxl's, with the alt-text chart frame
        ws._drawing = SpreadsheetDrawing()
        ws._drawing._chart_frame = types.MethodType(_chart_frame_with_alt_text, ws._drawing)
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        out = io.BytesIO()  # in memory instead of openpyxl's temporary file (faster, nothing to clean up)
        writer = WorksheetWriter(ws, out=out)
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], out.getvalue())
        self.manifest.append(ws)


def save_reproducible(wb: Workbook, path: Path, created_at: dt.datetime) -> Path:
    """Save ``wb`` so that the bytes depend only on its content and ``created_at``."""
    return save_workbook(wb, Path(path), created_at, writer=_Writer)


# ---------------------------------------------------------------- layout helpers
def _cell(ws, row: int, column: int, value):
    """``ws.cell(row, column, value)``, but text stays text: openpyxl would store a string
    starting with "=" as a formula (report cells never hold formulas; a label taken from the data
    must not become one)."""
    c = ws.cell(row=row, column=column, value=value)
    if c.data_type == "f":
        c.data_type = "s"
    return c


def _width(texts: list[str], header: str) -> float:
    cw = styles()["column_width"]
    longest = max((len(t) for t in texts), default=0)
    head = min(len(header), cw["header_max"])
    return float(min(max(longest, head, cw["min"]) + cw["padding"], cw["max"]))


def _table_name(prefix: str, used: set[str]) -> str:
    name = "T_" + "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in prefix)
    base, n = name, 2
    while name.lower() in used:
        name = f"{base}_{n}"
        n += 1
    used.add(name.lower())
    return name


class _Styler:
    """Applies a style once per kind and copies the resulting style array to further cells
    (openpyxl hashes style objects on every assignment, which dominates rendering time)."""

    def __init__(self) -> None:
        self._cache: dict[tuple, object] = {}

    def apply(self, cell, key: tuple, setter) -> None:
        arr = self._cache.get(key)
        if arr is None:
            setter(cell)
            self._cache[key] = copy(cell._style)
        else:
            cell._style = copy(arr)


def _styler(ws) -> _Styler:
    wb = ws.parent
    st = getattr(wb, "_inobhut_styler", None)
    if st is None:
        st = _Styler()
        wb._inobhut_styler = st
    return st


def _write_table(ws, top: int, headers: list[str], rows: list[list], formats: dict[str, str],
                 total_rows: set[int], name: str, wrap_cols: set[str] = frozenset()) -> tuple[str, list[list[str]]]:
    """Write one marked-up table with its header in row ``top``; returns its ref and display texts."""
    st = _style_objects()
    styler = _styler(ws)
    ncol = len(headers)

    def head(c):
        c.font = st["bold"]
        c.fill = st["header_fill"]
        c.alignment = st["header_align"]

    def body(kind: str, fmt: str | None, total: bool):
        def setter(c):
            if kind == "num":
                c.number_format = fmt
            elif kind == "sym":
                c.alignment = st["right"]
            elif kind == "wrap":
                c.alignment = st["wrap"]
            if total:
                c.font = st["bold"]
                c.border = st["total_border"]
        return setter

    for j, h in enumerate(headers, 1):
        styler.apply(_cell(ws, top, j, h), ("head",), head)
    texts: list[list[str]] = [[] for _ in headers]
    col_fmt = [formats.get(h) for h in headers]
    col_wrap = [h in wrap_cols for h in headers]
    for i, row in enumerate(rows):
        r = top + 1 + i
        is_total = i in total_rows
        for j, v in enumerate(row):
            fmt = col_fmt[j]
            c = _cell(ws, r, j + 1, v)
            if fmt is not None:
                kind = "sym" if isinstance(v, str) else "num"
            else:
                kind = "wrap" if col_wrap[j] else "text"
            if kind != "text" or is_total:
                styler.apply(c, (kind, fmt if kind == "num" else None, is_total), body(kind, fmt, is_total))
            texts[j].append(fmt_value(v, fmt))
    ref = f"A{top}:{get_column_letter(ncol)}{top + len(rows)}"
    tab = Table(displayName=name, ref=ref)
    tab.tableStyleInfo = TableStyleInfo(name=styles()["table_style"], showFirstColumn=False,
                                        showLastColumn=False, showRowStripes=False, showColumnStripes=False)
    ws.add_table(tab)
    return ref, texts


def _set_widths(ws, headers: list[str], texts: list[list[str]], minimum: dict[int, float] | None = None) -> None:
    for j, h in enumerate(headers, 1):
        w = _width(texts[j - 1], h)
        if minimum and j in minimum:
            w = max(w, minimum[j])
        letter = get_column_letter(j)
        cur = ws.column_dimensions[letter].width
        ws.column_dimensions[letter].width = max(w, cur or 0)


def _fit_wrapped_rows(ws, first: int, last: int, ncols: int) -> None:
    """Row heights for rows ``first..last`` whose wrapping cells need more than one line (with
    the sheet's final column widths)."""
    widths = [ws.column_dimensions[get_column_letter(j)].width or 8.43 for j in range(1, ncols + 1)]
    for r in range(first, last + 1):
        cells = [ws.cell(row=r, column=j) for j in range(1, ncols + 1)]
        texts = [str(c.value) if c.value is not None and c.alignment.wrap_text else "" for c in cells]
        height = wrapped_row_height(texts, widths)
        if height:
            ws.row_dimensions[r].height = height


def _add_chart(ws, table: ReportTable, top: int, n: int) -> None:
    spec = table.chart
    cols = list(table.data.columns)
    s = styles()["chart"]
    chart = LineChart() if spec.kind == "line" else BarChart()
    if spec.kind == "bar":
        chart.type = "col"
        chart.grouping = "clustered"
    chart.title = spec.title
    chart.y_axis.title = spec.y_title or None
    chart.x_axis.title = spec.x_title or None
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = "#,##0"
    chart.legend.position = "b"
    chart.width = s["width_cm"]
    chart.height = s["height_cm"]
    for k, ycol in enumerate(spec.y):
        j = cols.index(ycol) + 1
        ref = Reference(ws, min_col=j, min_row=top, max_row=top + n)
        chart.add_data(ref, titles_from_data=True)
        series = chart.series[-1]
        color = s["colors"][k % len(s["colors"])]
        if spec.kind == "line":
            series.graphicalProperties.line.solidFill = color
            series.graphicalProperties.line.width = 28575  # 2.25 pt
            series.smooth = False
        else:
            series.graphicalProperties.solidFill = color
            series.graphicalProperties.line.solidFill = color
    xj = cols.index(spec.x) + 1
    chart.set_categories(Reference(ws, min_col=xj, min_row=top + 1, max_row=top + n))
    chart._inobhut_title = spec.title
    chart._inobhut_alt = spec.alt_text
    ws.add_chart(chart, f"{get_column_letter(len(cols) + 2)}{top}")


# ---------------------------------------------------------------- sheets
def _cover(ws, model: ReportModel) -> None:
    st = _style_objects()
    _cell(ws, 1, 1, model.title)
    ws["A1"].font = st["title"]
    method = DISCLOSURE_LABELS.get(model.disclosure_method, model.disclosure_method)
    lines = [
        ("Bericht", model.title),
        ("Berichtszeitraum", model.period),
        ("Geltungsbereich", model.scope),
        ("Zielgruppe", model.audience),
        ("Datenstand", model.data_status_note or "siehe Blatt Datenstand"),
        ("Geheimhaltung", f"{method}. {model.disclosure_note}".strip()),
        ("Quelle", model.source),
        ("Kontakt", model.contact),
        ("Erstellt am", fmt_datetime(model.created_at)),
        ("Produktversion", f"inobhut {model.product_version}"),
        ("Aufbau", "Das Blatt Inhalt führt zu allen Tabellen; Zeichen, Begriffe und Anmerkungen "
                   "erklärt das Blatt Erläuterungen; die verwendeten Lieferungen nennt das Blatt Datenstand."),
    ]
    widths = [20, 75]  # labels and values print side by side on A4 portrait
    for i, (k, v) in enumerate(lines, 3):
        a = _cell(ws, i, 1, k)
        a.font = st["bold"]
        a.alignment = st["wrap"]
        b = _cell(ws, i, 2, v)
        b.alignment = st["wrap"]
        height = wrapped_row_height([k, v], widths)
        if height:
            ws.row_dimensions[i].height = height
    ws.column_dimensions["A"].width = widths[0]
    ws.column_dimensions["B"].width = widths[1]


def _contents(ws, model: ReportModel, tables: list[ReportTable], names: list[str], refs: dict[str, list[int]],
              used: set[str]) -> None:
    st = _style_objects()
    ws["A1"] = "Inhalt"
    ws["A1"].font = st["title"]
    ws["A2"] = "Die Einträge der Spalte Blatt sind Verweise auf das jeweilige Tabellenblatt."
    headers = ["Blatt", "Inhalt", "Anmerkungen"]
    rows = [["Deckblatt", "Titel, Zeitraum, Quelle, Kontakt, Datenstand, Geheimhaltung", "–"],
            ["Erläuterungen", "Zeichenerklärung, Begriffe und Anmerkungen", "–"]]
    for t, n in zip(tables, names):
        nums = refs.get(t.id, [])
        rows.append([n, t.title, " ".join(f"[Anmerkung {k}]" for k in nums) or "–"])
    _, texts = _write_table(ws, 3, headers, rows, {}, set(), _table_name("inhalt", used), {"Inhalt"})
    for i, row in enumerate(rows):
        c = ws.cell(row=4 + i, column=1)
        c.hyperlink = Hyperlink(ref=c.coordinate, location=f"'{row[0]}'!A1", display=row[0])
        c.font = st["link"]
    _set_widths(ws, headers, texts)
    _fit_wrapped_rows(ws, 3, 3 + len(rows), len(headers))


def _explanations(ws, model: ReportModel, notes: list[str], tables: list[ReportTable], names: list[str],
                  refs: dict[str, list[int]], used: set[str]) -> None:
    st = _style_objects()
    ws["A1"] = "Erläuterungen"
    ws["A1"].font = st["title"]
    texts_all: list[list[str]] = [[], [], []]
    row = 2

    def section(title: str, headers: list[str], rows: list[list], name: str, wrap: set[str]) -> None:
        nonlocal row
        _cell(ws, row, 1, title).font = st["subtitle"]
        _, texts = _write_table(ws, row + 1, headers, rows, {}, set(), _table_name(name, used), wrap)
        for j, col in enumerate(texts):
            texts_all[j].extend(col)
        row += len(rows) + 3

    section("Zeichenerklärung", ["Zeichen", "Bedeutung"], [[k, v] for k, v in SYMBOLS.items()], "zeichen", set())
    method = DISCLOSURE_LABELS.get(model.disclosure_method, model.disclosure_method)
    defs = [*model.definitions, ("Geheimhaltung", f"{method}. {model.disclosure_note}".strip())]
    section("Begriffe", ["Begriff", "Erläuterung"], [[a, b] for a, b in defs], "begriffe", {"Erläuterung"})
    note_rows = []
    for k, text in enumerate(notes, 1):
        where = ", ".join(n for t, n in zip(tables, names) if k in refs.get(t.id, []))
        note_rows.append([f"[Anmerkung {k}]", text, where])
    if not note_rows:
        note_rows = [["–", "Dieser Bericht hat keine Anmerkungen.", "–"]]
    section("Anmerkungen", ["Anmerkung", "Text", "Tabellenblätter"], note_rows, "anmerkungen", {"Text"})
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90
    ws.column_dimensions["C"].width = 30
    _fit_wrapped_rows(ws, 2, row, 3)


def _table_sheet(ws, table: ReportTable, note_nums: list[int], used: set[str]) -> int:
    """Write the sheet of one table; returns the row of its header."""
    st = _style_objects()
    _cell(ws, 1, 1, table.title)
    ws["A1"].font = st["title"]
    lines = []
    if note_nums:
        lines.append("Anmerkungen zu dieser Tabelle: " + ", ".join(f"[Anmerkung {k}]" for k in note_nums)
                     + " (Text im Blatt Erläuterungen).")
    else:
        lines.append("Zeichenerklärung im Blatt Erläuterungen.")
    if table.description:
        lines.append(table.description)
    for i, text in enumerate(lines, 2):
        _cell(ws, i, 1, text)
    top = 2 + len(lines)
    headers = list(table.data.columns)
    rows = table.data.astype(object).values.tolist()
    _, texts = _write_table(ws, top, headers, rows, table.number_formats, set(table.total_rows or []),
                            _table_name(table.id, used))
    _set_widths(ws, headers, texts)
    if table.chart is not None:
        _add_chart(ws, table, top, len(rows))
    return top


def build_workbook(model: ReportModel) -> Workbook:
    tables = report_tables(model)
    names = sheet_names(tables)
    notes, refs = model.numbered_notes(tables)  # the model's tables first, generated ones last
    wb = Workbook()
    used: set[str] = set()
    cover = wb.active
    cover.title = "Deckblatt"
    doc_title = f"{model.title}, {model.period}"  # the title names the scope
    _cover(cover, model)
    setup_print(cover, doc_title, 2)
    contents = wb.create_sheet("Inhalt")
    _contents(contents, model, tables, names, refs, used)
    setup_print(contents, doc_title, 3, header_rows=(3, 3))
    expl = wb.create_sheet("Erläuterungen")
    _explanations(expl, model, notes, tables, names, refs, used)
    setup_print(expl, doc_title, 3)
    for t, n in zip(tables, names):
        ws = wb.create_sheet(n)
        top = _table_sheet(ws, t, refs.get(t.id, []), used)
        # a chart stands to the right of its table: such sheets print landscape
        setup_print(ws, doc_title, len(t.data.columns), header_rows=(top, top), landscape=True if t.chart else None)
    p = wb.properties
    p.title = model.title
    p.subject = f"{model.title}, {model.period}, {model.scope}"
    p.creator = "inobhut"
    p.lastModifiedBy = "inobhut"
    p.language = "de-DE"
    p.keywords = f"{model.kind}; {model.scope_key}; {model.period_key}"
    p.description = f"Erstellt mit inobhut {model.product_version}; Geheimhaltung: {model.disclosure_method}"
    return wb


def write_xlsx(model: ReportModel, path: Path) -> Path:
    """Write the report as an Excel workbook to ``path`` (same model, same bytes)."""
    return save_reproducible(build_workbook(model), Path(path), model.created_at)
