"""Excel rendering of a :class:`~inobhut.reports.model.ReportModel` (XlsxWriter).

Belongs here: the workbook layout after the UK Analysis Function guidance "Releasing
statistics in spreadsheets" with German symbols — sheets ``Deckblatt``, ``Inhalt``,
``Erläuterungen``, then one marked-up Excel table per sheet, native charts with alt text,
document properties (language included), a print layout per sheet (:mod:`inobhut.xlsx_print`)
— saved byte-reproducibly through :func:`inobhut.xlsx_io.save_xlsxwriter` (created/modified and
every zip member's time = ``model.created_at``). Styles come from
``report_templates/excel_styles.yaml``.
Does not belong here: what the tables contain (report builders), HTML.

Written with XlsxWriter rather than openpyxl: about three times faster per workbook
(``bench/bench_excel.py``; every report, federal-statistic workbook and statutory output goes
through here). Every text goes in with ``write_string``: a label taken from the data that starts
with "=" stays text, never a formula.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from numbers import Number
from pathlib import Path

import yaml

from inobhut.xlsx_io import save_xlsxwriter, xlsxwriter_in_memory
from inobhut.xlsx_print import DEFAULT_WIDTH, setup_print_xlsxwriter, wrapped_row_height

from .common import DISCLOSURE_LABELS, report_tables, sheet_names
from .fmt import fmt_datetime, fmt_value
from .model import SYMBOLS, ReportModel, ReportModelError, ReportTable

LANGUAGE = "de-DE"
PX_PER_CM = 96 / 2.54  # XlsxWriter sizes charts in pixels at 96 dpi


@lru_cache(maxsize=1)
def styles() -> dict:
    text = resources.files("report_templates").joinpath("excel_styles.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _color(hex_rgb: str) -> str:
    return "#" + str(hex_rgb).lstrip("#")


BORDER_STYLES = {"thin": 1, "medium": 2, "thick": 5, "double": 6}  # XlsxWriter border index


@lru_cache(maxsize=1)
def _style_props() -> dict[str, dict]:
    """The cell styles as XlsxWriter format properties (combined per cell by :class:`_Book`)."""
    s = styles()
    return {
        "title": {"font_size": s["title"]["size"], "bold": bool(s["title"]["bold"])},
        "subtitle": {"font_size": s["subtitle"]["size"], "bold": bool(s["subtitle"]["bold"])},
        "bold": {"bold": True},
        "header": {"bold": bool(s["header"]["bold"]), "pattern": 1, "bg_color": _color(s["header"]["fill"]),
                   "text_wrap": bool(s["header"]["wrap"]), "valign": "top"},
        "total": {"bold": bool(s["total"]["bold"]), "top": BORDER_STYLES[s["total"]["border_top"]],
                  "top_color": "#000000"},
        "right": {"align": "right"},
        "wrap": {"text_wrap": True, "valign": "top"},
        "link": {"font_color": _color(s["hyperlink"]["color"]),
                 "underline": 1 if s["hyperlink"]["underline"] == "single" else 2},
    }


class _Book:
    """The workbook and its formats: one XlsxWriter format per combination of styles."""

    def __init__(self, wb) -> None:
        self.wb = wb
        self._formats: dict[tuple, object] = {}

    def fmt(self, *names: str, num_format: str | None = None):
        key = (names, num_format)
        f = self._formats.get(key)
        if f is None:
            props: dict = {}
            for n in names:
                props.update(_style_props()[n])
            if num_format:
                props["num_format"] = num_format
            f = self._formats[key] = self.wb.add_format(props)
        return f


class _Sheet:
    """One worksheet and what the layout needs to know of it afterwards: column widths and the
    texts of wrapping cells per row (rows and columns 0-based, as in XlsxWriter)."""

    def __init__(self, book: _Book, name: str) -> None:
        self.book = book
        self.ws = book.wb.add_worksheet(name)
        self.name = name
        self.widths: dict[int, float] = {}
        self.wrapped: dict[int, dict[int, str]] = {}

    def put(self, row: int, col: int, value, fmt=None, wraps: bool = False) -> None:
        """A number as a number, anything else as text (never a formula)."""
        if isinstance(value, Number) and not isinstance(value, bool):
            self.ws.write_number(row, col, value, fmt)
        else:
            self.ws.write_string(row, col, "" if value is None else str(value), fmt)
        if wraps:
            self.wrapped.setdefault(row, {})[col] = "" if value is None else str(value)

    def set_width(self, col: int, width: float, widen_only: bool = False) -> None:
        if widen_only:
            width = max(width, self.widths.get(col, 0.0))
        self.widths[col] = width
        self.ws.set_column(col, col, width)

    def width_list(self, ncols: int) -> list[float]:
        return [self.widths.get(j, DEFAULT_WIDTH) for j in range(ncols)]

    def fit_wrapped_rows(self, first: int, last: int, ncols: int) -> None:
        """Row heights for rows ``first..last`` whose wrapping cells need more than one line (with
        the sheet's final column widths)."""
        widths = self.width_list(ncols)
        for r in range(first, last + 1):
            cells = self.wrapped.get(r)
            if not cells:
                continue
            height = wrapped_row_height([cells.get(j, "") for j in range(ncols)], widths)
            if height:
                self.ws.set_row(r, height)


# ---------------------------------------------------------------- layout helpers
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


def _write_table(sh: _Sheet, top: int, headers: list[str], rows: list[list], formats: dict[str, str],
                 total_rows: set[int], name: str, wrap_cols: set[str] = frozenset()) -> list[list[str]]:
    """Write one marked-up table with its header in row ``top`` (0-based); returns the display
    texts per column."""
    book = sh.book
    head = book.fmt("header")
    for j, h in enumerate(headers):
        sh.wrapped.setdefault(top, {})[j] = h  # header cells wrap
    texts: list[list[str]] = [[] for _ in headers]
    col_fmt = [formats.get(h) for h in headers]
    col_wrap = [h in wrap_cols for h in headers]
    for i, row in enumerate(rows):
        r = top + 1 + i
        total = ("total",) if i in total_rows else ()
        for j, v in enumerate(row):
            fmt = col_fmt[j]
            if fmt is not None:
                cell_fmt = book.fmt("right", *total) if isinstance(v, str) else book.fmt(*total, num_format=fmt)
            elif col_wrap[j]:
                cell_fmt = book.fmt("wrap", *total)
            else:
                cell_fmt = book.fmt(*total) if total else None
            sh.put(r, j, v, cell_fmt, wraps=col_wrap[j] and fmt is None)
            texts[j].append(fmt_value(v, fmt))
    s = styles()
    done = sh.ws.add_table(top, 0, top + len(rows), len(headers) - 1, {
        "name": name, "style": s["table_style"], "banded_rows": False, "banded_columns": False,
        "first_column": False, "last_column": False,
        "columns": [{"header": str(h), "header_format": head} for h in headers]})
    if done != 0:  # XlsxWriter warns and returns -1/-2/-3 instead of raising
        raise ReportModelError(f"Tabelle {name}: konnte nicht als Excel-Tabelle angelegt werden")
    return texts


def _set_widths(sh: _Sheet, headers: list[str], texts: list[list[str]]) -> None:
    for j, h in enumerate(headers):
        sh.set_width(j, _width(texts[j], h), widen_only=True)


def _add_chart(sh: _Sheet, table: ReportTable, top: int, n: int) -> None:
    """A native chart right of the table whose header is in row ``top`` (0-based)."""
    spec = table.chart
    cols = list(table.data.columns)
    s = styles()["chart"]
    chart = sh.book.wb.add_chart({"type": "line" if spec.kind == "line" else "column"})
    chart.set_title({"name": spec.title})
    chart.set_y_axis({"name": spec.y_title or None, "num_format": "#,##0"} if spec.y_title else {"num_format": "#,##0"})
    if spec.x_title:
        chart.set_x_axis({"name": spec.x_title})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": round(s["width_cm"] * PX_PER_CM), "height": round(s["height_cm"] * PX_PER_CM)})
    xj = cols.index(spec.x)
    for k, ycol in enumerate(spec.y):
        j = cols.index(ycol)
        color = _color(s["colors"][k % len(s["colors"])])
        series = {"name": [sh.name, top, j], "categories": [sh.name, top + 1, xj, top + n, xj],
                  "values": [sh.name, top + 1, j, top + n, j]}
        if spec.kind == "line":
            series.update({"line": {"color": color, "width": 2.25}, "smooth": False})
        else:
            series.update({"fill": {"color": color}, "border": {"color": color}})
        chart.add_series(series)
    sh.ws.insert_chart(top, len(cols) + 1, chart, {"description": spec.alt_text})


# ---------------------------------------------------------------- sheets
def _cover(sh: _Sheet, model: ReportModel) -> None:
    book = sh.book
    sh.put(0, 0, model.title, book.fmt("title"))
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
    for i, (k, v) in enumerate(lines, 2):
        sh.put(i, 0, k, book.fmt("bold", "wrap"))
        sh.put(i, 1, v, book.fmt("wrap"))
        height = wrapped_row_height([k, v], widths)
        if height:
            sh.ws.set_row(i, height)
    for j, w in enumerate(widths):
        sh.set_width(j, w)


def _contents(sh: _Sheet, model: ReportModel, tables: list[ReportTable], names: list[str],
              refs: dict[str, list[int]], used: set[str]) -> None:
    book = sh.book
    sh.put(0, 0, "Inhalt", book.fmt("title"))
    sh.put(1, 0, "Die Einträge der Spalte Blatt sind Verweise auf das jeweilige Tabellenblatt.")
    headers = ["Blatt", "Inhalt", "Anmerkungen"]
    rows = [["Deckblatt", "Titel, Zeitraum, Quelle, Kontakt, Datenstand, Geheimhaltung", "–"],
            ["Erläuterungen", "Zeichenerklärung, Begriffe und Anmerkungen", "–"]]
    for t, n in zip(tables, names):
        nums = refs.get(t.id, [])
        rows.append([n, t.title, " ".join(f"[Anmerkung {k}]" for k in nums) or "–"])
    texts = _write_table(sh, 2, headers, rows, {}, set(), _table_name("inhalt", used), {"Inhalt"})
    link = book.fmt("link")
    for i, row in enumerate(rows):
        sh.ws.write_url(3 + i, 0, f"internal:'{row[0]}'!A1", link, string=row[0])
    _set_widths(sh, headers, texts)
    sh.fit_wrapped_rows(2, 2 + len(rows), len(headers))


def _explanations(sh: _Sheet, model: ReportModel, notes: list[str], tables: list[ReportTable], names: list[str],
                  refs: dict[str, list[int]], used: set[str]) -> None:
    book = sh.book
    sh.put(0, 0, "Erläuterungen", book.fmt("title"))
    row = 1

    def section(title: str, headers: list[str], rows: list[list], name: str, wrap: set[str]) -> None:
        nonlocal row
        sh.put(row, 0, title, book.fmt("subtitle"))
        _write_table(sh, row + 1, headers, rows, {}, set(), _table_name(name, used), wrap)
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
    for j, w in enumerate((22, 90, 30)):
        sh.set_width(j, w)
    sh.fit_wrapped_rows(1, row, 3)


def _table_sheet(sh: _Sheet, table: ReportTable, note_nums: list[int], used: set[str]) -> int:
    """Write the sheet of one table; returns the row of its header (0-based)."""
    sh.put(0, 0, table.title, sh.book.fmt("title"))
    lines = []
    if note_nums:
        lines.append("Anmerkungen zu dieser Tabelle: " + ", ".join(f"[Anmerkung {k}]" for k in note_nums)
                     + " (Text im Blatt Erläuterungen).")
    else:
        lines.append("Zeichenerklärung im Blatt Erläuterungen.")
    if table.description:
        lines.append(table.description)
    for i, text in enumerate(lines, 1):
        sh.put(i, 0, text)
    top = 1 + len(lines)
    headers = list(table.data.columns)
    rows = table.data.astype(object).values.tolist()
    texts = _write_table(sh, top, headers, rows, table.number_formats, set(table.total_rows or []),
                         _table_name(table.id, used))
    _set_widths(sh, headers, texts)
    if table.chart is not None:
        _add_chart(sh, table, top, len(rows))
    return top


def _properties(model: ReportModel) -> dict:
    return {
        "title": model.title,
        "subject": f"{model.title}, {model.period}, {model.scope}",
        "author": "inobhut",  # XlsxWriter writes it as creator and lastModifiedBy
        "keywords": f"{model.kind}; {model.scope_key}; {model.period_key}",
        "comments": f"Erstellt mit inobhut {model.product_version}; Geheimhaltung: {model.disclosure_method}",
    }


def write_xlsx(model: ReportModel, path: Path) -> Path:
    """Write the report as an Excel workbook to ``path`` (same model, same bytes)."""
    tables = report_tables(model)
    names = sheet_names(tables)
    notes, refs = model.numbered_notes(tables)  # the model's tables first, generated ones last
    wb, buf = xlsxwriter_in_memory(model.created_at, language=LANGUAGE, properties=_properties(model))
    book = _Book(wb)
    used: set[str] = set()
    doc_title = f"{model.title}, {model.period}"  # the title names the scope
    cover = _Sheet(book, "Deckblatt")
    _cover(cover, model)
    setup_print_xlsxwriter(cover.ws, doc_title, cover.width_list(2))
    contents = _Sheet(book, "Inhalt")
    _contents(contents, model, tables, names, refs, used)
    setup_print_xlsxwriter(contents.ws, doc_title, contents.width_list(3), header_row=3)
    expl = _Sheet(book, "Erläuterungen")
    _explanations(expl, model, notes, tables, names, refs, used)
    setup_print_xlsxwriter(expl.ws, doc_title, expl.width_list(3))
    for t, n in zip(tables, names):
        sh = _Sheet(book, n)
        top = _table_sheet(sh, t, refs.get(t.id, []), used)
        # a chart stands to the right of its table: such sheets print landscape
        setup_print_xlsxwriter(sh.ws, doc_title, sh.width_list(len(t.data.columns)), header_row=top + 1,
                               landscape=True if t.chart else None)
    return save_xlsxwriter(wb, buf, Path(path), model.created_at)
