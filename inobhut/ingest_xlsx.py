"""Reading a delivered XLSX workbook (the XLSX half of :mod:`inobhut.ingest`).

Belongs here: the zip checks before anything is decompressed (zip bombs, macros, encryption,
hostile XML via :mod:`inobhut.xmlguard`), the scan of the sheet XML for formulas, merged cells
and hidden columns, choosing the sheet and the header row, and the rows of the sheet through
python-calamine -- or, for a sheet reaching beyond ``max_rows`` plus the blank run, streamed
with openpyxl. The rows then go through the header mapping and row building that CSV files
share (:mod:`inobhut.ingest`: ``_build``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# as a module, not its names: ingest calls this module and this module calls back into ingest
from inobhut import ingest, xmlguard
from inobhut.validation.rules import Finding, make_finding
from schemas.datasets import Dataset

# Zip-bomb limits, checked on the zip directory before anything is decompressed.
MAX_UNZIPPED_BYTES = 500 * 1024 * 1024
MAX_RATIO = 100  # uncompressed : compressed, for members larger than RATIO_MIN_BYTES
RATIO_MIN_BYTES = 20 * 1024 * 1024
MAX_XLSX_COLUMNS = 100  # columns read from a worksheet (the datasets have at most 24)
MAX_BLANK_RUN = 5000  # stop reading a worksheet after this many consecutive blank rows
SCAN_LIMIT_BYTES = 50 * 1024 * 1024  # sheet XML larger than this is not scanned for formulas


def _read_xlsx(path: Path, ds: Dataset, max_rows: int, screen_only: bool = False) -> ingest.ReadResult:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        return ingest.ReadResult(None, [make_finding("D007", detail=_zip_detail(exc))], None, None, fmt="xlsx")
    with zf:
        try:
            refused = _inspect_zip(zf)
        except ZIP_ERRORS as exc:
            return ingest.ReadResult(None, [make_finding("D007", detail=_zip_detail(exc))], None, None, fmt="xlsx")
        if refused is not None:
            return ingest.ReadResult(None, [refused], None, None, fmt="xlsx")
    try:
        return _read_workbook(path, ds, max_rows, screen_only)
    except Exception as exc:  # noqa: BLE001 - zlib.error, XML errors, openpyxl internals
        return ingest.ReadResult(None, [make_finding("D007", detail=ingest.reader_detail(exc))], None, None, fmt="xlsx")


ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError)


def _inspect_zip(zf: zipfile.ZipFile) -> Finding | None:
    """The finding that refuses the zip before openpyxl opens it (OpenDocument, zip bomb, not a
    workbook, macros, hostile XML), or None. Corrupt members raise one of ``ZIP_ERRORS``."""
    infos = zf.infolist()
    names = {i.filename for i in infos}
    if "mimetype" in names:
        mt = zf.open("mimetype").read(200)
        if mt.startswith(b"application/vnd.oasis.opendocument"):
            return make_finding("D006", format="OpenDocument (.ods)")
    total = sum(i.file_size for i in infos)
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1), default=None)
    ratio = worst.file_size / max(worst.compress_size, 1) if worst else 0
    if total > MAX_UNZIPPED_BYTES or (worst is not None and worst.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO):
        return make_finding("D008", entpackt_mb=ingest._mb(total), verhaeltnis=int(ratio))
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        kind = ", sondern ein Word-Dokument" if "word/document.xml" in names else ", sondern ein anderes Zip-Archiv"
        return make_finding("D003", detail=kind)
    ctypes = zf.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    if "xl/vbaProject.bin" in names or b"macroEnabled" in ctypes or "xl/workbook.bin" in names:
        return make_finding("D004")
    hostile = xmlguard.check(zf)
    if hostile is not None:
        return make_finding("D093", detail=hostile[0], teil=hostile[1][:80])
    return None


def _zip_detail(exc: BaseException) -> str:
    return ingest.reader_detail(exc)


@dataclass
class _SheetScan:
    formulas: list[tuple[int, int, str, bool]] = field(default_factory=list)  # row, col, formula, has value
    merged: list[tuple[int, int, int, int, str]] = field(default_factory=list)  # r1, c1, r2, c2, ref
    hidden_cols: list[int] = field(default_factory=list)
    hidden_rows: list[int] = field(default_factory=list)


_MARKERS = re.compile(rb"<(?:\w+:)?(?:f[ >]|mergeCell )|hidden=\"(?:1|true)\"")
_CELLREF = re.compile(r"^([A-Z]+)([0-9]+)$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _scan_sheet(zf: zipfile.ZipFile, sheet_path: str) -> _SheetScan:
    """Formulas (with/without cached value), merged ranges, hidden rows/columns."""
    scan = _SheetScan()
    info = zf.getinfo(sheet_path)
    if info.file_size > SCAN_LIMIT_BYTES:
        return scan
    data = zf.read(sheet_path)
    if not _MARKERS.search(data):
        return scan
    from defusedxml.ElementTree import iterparse

    for _, el in iterparse(io.BytesIO(data), events=("end",)):
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "c":
            f = v = None
            for ch in el:
                t = ch.tag.rsplit("}", 1)[-1]
                if t == "f":
                    f = ch
                elif t == "v":
                    v = ch
            if f is not None:
                m = _CELLREF.match(el.get("r", ""))
                if m:
                    has_value = v is not None and (v.text or "") != ""
                    scan.formulas.append((int(m[2]), _col_index(m[1]), f"={f.text or ''}", has_value))
        elif tag == "row":
            if el.get("hidden") in ("1", "true"):
                scan.hidden_rows.append(int(el.get("r", "0")))
            el.clear()
        elif tag == "col":
            if el.get("hidden") in ("1", "true"):
                lo, hi = int(el.get("min", "0")), int(el.get("max", "0"))
                scan.hidden_cols.extend(range(lo, min(hi, MAX_XLSX_COLUMNS) + 1))
        elif tag == "mergeCell":
            ref = el.get("ref", "")
            parts = ref.split(":")
            if len(parts) == 2:
                a, b = _CELLREF.match(parts[0]), _CELLREF.match(parts[1])
                if a and b:
                    scan.merged.append((int(a[2]), _col_index(a[1]), int(b[2]), _col_index(b[1]), ref))
    return scan


class _CalamineSheet:
    """One worksheet read by calamine (Rust; ≈ 25× faster than openpyxl on delivery files,
    see docs/leistung.md), with the part of openpyxl's read-only worksheet interface that the
    reader uses: ``iter_rows(values_only=True, max_col=…)`` and ``max_row``. Values are made
    equal to openpyxl's: empty cells are None, integral numbers int, dates datetime."""

    def __init__(self, sheet):
        self._sheet = sheet
        self.max_row = (sheet.end[0] + 1) if sheet.end else 0
        self._col0 = sheet.start[1] if sheet.start else 0

    def iter_rows(self, values_only: bool = True, max_col: int | None = None) -> Iterable[tuple]:
        pad = (None,) * self._col0
        for row in self._sheet.iter_rows():
            cells = pad + tuple(_calamine_value(v) for v in row)
            yield cells[:max_col] if max_col else cells


def _calamine_value(v: Any) -> Any:
    if v == "":
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if type(v) is dt.date:
        return dt.datetime(v.year, v.month, v.day)
    return v


class _CalamineBook:
    def __init__(self, path: Path, parts: dict[str, str]):
        from python_calamine import CalamineWorkbook

        self._wb = CalamineWorkbook.from_path(str(path))
        self._parts = parts
        self.names = [m.name for m in self._wb.sheets_metadata if str(m.typ).endswith("WorkSheet")]

    def sheet(self, name: str) -> _CalamineSheet:
        return _CalamineSheet(self._wb.get_sheet_by_name(name))

    def part(self, name: str, _ws) -> str | None:
        return self._parts.get(name)

    def close(self) -> None:
        self._wb.close()


class _OpenpyxlBook:
    """openpyxl's streaming reader: for sheets whose rows reach beyond what can be data."""

    def __init__(self, path: Path):
        import openpyxl

        self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        self.names = self._wb.sheetnames

    def sheet(self, name: str):
        return self._wb[name]

    def part(self, _name: str, ws) -> str | None:
        return ws._worksheet_path

    def close(self) -> None:
        self._wb.close()


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> its XML part (``xl/worksheets/sheet1.xml``), from the workbook's
    relationships (for the formula/merge/hidden scan)."""
    from defusedxml.ElementTree import fromstring

    rels = {}
    for el in fromstring(zf.read("xl/_rels/workbook.xml.rels")):
        target = el.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        rels[el.get("Id")] = target
    out = {}
    for el in fromstring(zf.read("xl/workbook.xml")).iter():
        if el.tag.rsplit("}", 1)[-1] == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
            if rid in rels:
                out[el.get("name", "")] = rels[rid]
    return out


_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')


def _last_row_number(zf: zipfile.ZipFile, part: str) -> int:
    """The highest row number in a worksheet part, streamed (bounded memory)."""
    last, tail = 0, b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            for m in _ROW_NUMBER.finditer(data):
                last = max(last, int(m.group(1)))
            tail = data[-200:]
    return last


def _read_workbook(path: Path, ds: Dataset, max_rows: int, screen_only: bool = False) -> ingest.ReadResult:
    """The delivery sheet, read with calamine; a workbook with a sheet whose rows reach beyond
    what can be data (max rows plus the blank run that ends reading) is streamed with openpyxl
    instead, since calamine holds a sheet as one dense range in memory (a single cell at row
    1,048,576 would cost gigabytes)."""
    with zipfile.ZipFile(path) as zf:
        parts = _sheet_paths(zf)
        far = any(p in zf.NameToInfo and _last_row_number(zf, p) > max_rows + MAX_BLANK_RUN + 100 for p in parts.values())
    book = _OpenpyxlBook(path) if far else _CalamineBook(path, parts)
    findings: list[Finding] = []
    try:
        names = book.names
        if not names:
            return ingest.ReadResult(None, [make_finding("D002")], None, None, fmt="xlsx")
        sheet = next((n for n in names if n.strip().casefold() == ds.name), None)
        if sheet is None:
            sheet = names[0]
            if len(names) > 1:
                sheet = next((n for n in names if _has_header(book.sheet(n), ds)), names[0])
                findings.append(make_finding("D027", wert=ds.name, blatt=sheet))
        ws = book.sheet(sheet)
        with zipfile.ZipFile(path) as zf:
            part = book.part(sheet, ws)
            scan = _scan_sheet(zf, part) if part and part in zf.NameToInfo else _SheetScan()
        rows = _iter_sheet(ws, findings)
        res = ingest._build(rows, ds, max_rows, findings, fmt="xlsx", scan=scan, screen_only=screen_only)
    finally:
        book.close()
    return res


def _has_header(ws, ds: Dataset) -> bool:
    """Whether one of the first 30 rows of the worksheet is a header of the dataset."""
    hmap = ingest.header_map(ds)
    need = max(1, sum(1 for c in ds.columns if c.required) // 2)
    for _, cells in zip(range(30), ws.iter_rows(values_only=True, max_col=MAX_XLSX_COLUMNS)):
        if sum(1 for c in ingest._map_header(list(cells), hmap) if c is not None and c.required) >= need:
            return True
    return False


def _iter_sheet(ws, findings: list[Finding]) -> Iterable[tuple[int, list]]:
    """Rows of the worksheet; stops after MAX_BLANK_RUN consecutive blank rows (formatted but
    empty rows down to the sheet's end are common) and says so if the sheet goes on (D028)."""
    blank = 0
    for i, row in enumerate(ws.iter_rows(values_only=True, max_col=MAX_XLSX_COLUMNS), start=1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            blank += 1
            if blank > MAX_BLANK_RUN:
                last = ws.max_row or 0
                if last > i:
                    findings.append(make_finding("D028", zeile=i, leer=f"{MAX_BLANK_RUN:,}".replace(",", "."),
                                                 von=i - blank + 1, bis=i, letzte=last))
                return
        else:
            blank = 0
        yield i, list(row)
