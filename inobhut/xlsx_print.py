"""Page setup of every workbook sheet inobhut writes, so that printed workbooks are documents.

Belongs here: the one print layout all workbooks share (reports, Prüfbericht, delivery
template): A4, landscape where the sheet is wider than a portrait page, scaled to the page width
(never split column-wise), the table's header rows repeated on every page, a footer with the
document title (left), the sheet name and "Seite x von y" (right). Not here: what the sheets contain.

Works for normal and write-only openpyxl worksheets (the delivery template; call it before the
first row of a write-only sheet is appended: its properties are written first) and, with
:func:`setup_print_xlsxwriter`, for XlsxWriter worksheets (reports, statutory outputs, Prüfbericht)
-- the same layout from the same constants.
"""

from __future__ import annotations

from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

#: total column width (Excel character units) that still fits A4 portrait at 100 % with the
#: margins below (about 180 mm at ~1.9 mm per unit); wider sheets print landscape
PORTRAIT_MAX_WIDTH = 95.0
PAPER_A4 = "9"  # ECMA-376 paper size code (openpyxl: Worksheet.PAPERSIZE_A4)
DEFAULT_WIDTH = 8.43  # Excel's default column width
FOOTER_TITLE_MAX = 80  # left and right footer part share one line even on A4 portrait (7 pt)
FOOTER_SIZE = 7  # pt
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.75, "header": 0.3, "footer": 0.3}  # inches
FOOTER_RIGHT = "Blatt „&A“, Seite &P von &N"


def _escape(text: str) -> str:
    return text.replace("&", "&&")


def sheet_width(ws, ncols: int) -> float:
    """Sum of the widths of the first ``ncols`` columns (default width where none is set)."""
    from openpyxl.utils import get_column_letter

    total = 0.0
    for j in range(1, ncols + 1):
        dim = ws.column_dimensions.get(get_column_letter(j))
        w = dim.width if dim is not None and dim.width else DEFAULT_WIDTH
        total += w
    return total


def setup_print(ws, title: str, ncols: int, header_rows: tuple[int, int] | None = None,
                landscape: bool | None = None) -> None:
    """A4, fit to page width, ``header_rows`` (first, last; 1-based) repeated on every page,
    footer "title" left and "Blatt „<sheet>“, Seite x von y" right. ``landscape`` None: chosen from the width of
    the first ``ncols`` columns."""
    ps = ws.page_setup
    ps.paperSize = PAPER_A4
    wide = sheet_width(ws, ncols) > PORTRAIT_MAX_WIDTH if landscape is None else landscape
    ps.orientation = "landscape" if wide else "portrait"
    ps.fitToWidth = 1
    ps.fitToHeight = 0  # as many pages down as needed
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(**MARGINS)
    ws.print_options.gridLines = False
    if header_rows:
        ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    footer = ws.HeaderFooter.oddFooter  # (write-only sheets have no oddFooter shortcut)
    footer.left.text, footer.left.size = _escape(_short(title)), FOOTER_SIZE
    footer.right.text, footer.right.size = FOOTER_RIGHT, FOOTER_SIZE


def _short(title: str) -> str:
    return title if len(title) <= FOOTER_TITLE_MAX else title[:FOOTER_TITLE_MAX - 1] + "…"


def setup_print_xlsxwriter(ws, title: str, widths: list[float], header_row: int | None = None,
                           landscape: bool | None = None) -> None:
    """:func:`setup_print` for an XlsxWriter worksheet whose columns have ``widths``:
    ``header_row`` (1-based) repeated on every page; ``landscape`` None: chosen from ``widths``."""
    ws.set_paper(int(PAPER_A4))
    if (sum(widths) > PORTRAIT_MAX_WIDTH if landscape is None else landscape):
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=MARGINS["left"], right=MARGINS["right"], top=MARGINS["top"], bottom=MARGINS["bottom"])
    ws.set_header("", {"margin": MARGINS["header"]})
    ws.set_footer(f"&L&{FOOTER_SIZE}{_escape(_short(title))}&R&{FOOTER_SIZE}{FOOTER_RIGHT}",
                  {"margin": MARGINS["footer"]})
    if header_row:
        ws.repeat_rows(header_row - 1)


def wrapped_row_height(texts: list[str], widths: list[float], line_pt: float = 15.0) -> float | None:
    """Height (pt) of a row whose cells wrap: enough lines for the longest cell. Spreadsheet
    programs do not all recompute it on opening (LibreOffice keeps one line and the text runs
    into the next row, in print too). None: one line suffices."""
    import math

    lines = 1
    for t, w in zip(texts, widths):
        per_line = max(1, int(w * 1.1) - 2)  # characters of ~11 pt text per width unit, cautiously
        n = sum(max(1, math.ceil(len(part) / per_line)) for part in str(t or "").split("\n"))
        lines = max(lines, n)
    return None if lines == 1 else round(lines * line_pt, 1)
