"""Reading one delivery file into the canonical frame.

Belongs here: everything about the *file*: size limit, recognising CSV vs XLSX by content,
refusing macro, encrypted, legacy, OpenDocument, corrupt and zip-bomb files, encoding and
delimiter detection, the header row (mapping, missing/extra/duplicate columns, header not in
row 1, merged header cells), blank lines, total rows, formulas and hidden columns. The cell
values are then parsed into the canonical dtypes of :mod:`schemas.datasets` by
:mod:`inobhut.ingest_values` (with a parallel frame of the values as delivered, so that
validation can quote them; values that cannot be parsed become ``<NA>`` plus a finding
Z003/Z004 with row, column and delivered value).

Workbooks are read by :mod:`inobhut.ingest_xlsx` (zip checks, sheet scan, calamine/openpyxl),
whose rows come back to the header mapping and row building here. Hostile XML in a workbook is
recognised by :mod:`inobhut.xmlguard` before openpyxl opens it;
identifying columns and full birth dates by :mod:`inobhut.privacy`, called here while header and
cells are in hand (``screen_only`` stops right after them: the intake's screening).

Not here: plausibility rules (codes, ranges, cross-field, dataset level) — they live in
:mod:`inobhut.validation` — and pseudonymisation.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from inobhut import privacy
# as modules, not their names: ingest_xlsx calls back into this module, and ingest_values ->
# validation.rules -> the validation package -> checks -> ingest is a cycle; a process that imports
# one of them first finds it half initialised here
from inobhut import ingest_values, ingest_xlsx
from inobhut.validation.rules import Finding, make_finding
from schemas.datasets import DATASETS, Column, Dataset

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TOTAL_ROW = re.compile(r"^\s*(summe|gesamt|insgesamt|total|σ)\b", re.IGNORECASE)
CP1252_LIKE = {"cp1252", "windows-1252", "latin_1", "iso8859_1", "iso8859_15", "ascii"}
# Characters that German text decoded as cp1252 should not contain between letters
# (they are umlauts of DOS/Mac code pages read with the wrong table).
_WRONG_CP = re.compile(r"[A-Za-z][\u0080-\u009f\u201a\u0192\u201e\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u02dc\u2122\u0161\u203a\u0153\u017e\u0178\u00a6\u00a4\u00b5\u00a1\u00bf\u00ac\u00ab\u00bb][a-z]")
_MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf„–—‘’“”•…€¤¶¼½¾Ÿ]")


@dataclass
class ReadResult:
    frame: pd.DataFrame | None
    findings: list[Finding]
    encoding: str | None
    delimiter: str | None
    raw: pd.DataFrame | None = None  # values as delivered (text), same index and columns
    fmt: str | None = None  # "csv" | "xlsx"
    n_rows: int = 0
    extra: dict = field(default_factory=dict)


def normalise_header(text: Any) -> str:
    """Header spelling -> comparison key: case, spaces, punctuation and umlaut spelling ignored."""
    t = unicodedata.normalize("NFC", str(text)).replace("\ufeff", "").strip().casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        t = t.replace(a, b)
    return re.sub(r"[^0-9a-z]", "", t)


def header_map(ds: Dataset) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for c in ds.columns:
        for name in (c.header, c.name, *c.aliases):
            out[normalise_header(name)] = c
    return out


# --------------------------------------------------------------------------- entry point


def read_delivery(path: Path, dataset: str, *, max_bytes: int, max_rows: int, screen_only: bool = False) -> ReadResult:
    """Read ``path`` as a delivery of ``dataset``; never raises for bad input. ``screen_only``:
    stop after the privacy checks (intake screening, :func:`inobhut.privacy.screen_file`)."""
    try:
        return _read(Path(path), DATASETS[dataset], max_bytes, max_rows, screen_only)
    except MemoryError:
        return ReadResult(None, [make_finding("D024", detail="Datei zu groß für den Arbeitsspeicher")], None, None)
    except Exception as exc:  # noqa: BLE001 - every unexpected error becomes a finding
        return ReadResult(None, [make_finding("D024", detail=reader_detail(exc))], None, None)


def reader_detail(exc: BaseException) -> str:
    """What a reader exception means, in German (never the bare English class name alone)."""
    import xml.etree.ElementTree as ET

    name = type(exc).__name__
    if isinstance(exc, zipfile.BadZipFile):
        return "kein gültiges Zip-Archiv, vermutlich abgeschnitten oder unvollständig übertragen"
    if isinstance(exc, zlib.error):
        return "der komprimierte Inhalt ist beschädigt, vermutlich unvollständig übertragen"
    if isinstance(exc, EOFError):
        return "die Datei endet vorzeitig, vermutlich unvollständig übertragen"
    if isinstance(exc, KeyError):
        return f"ein Bestandteil der Arbeitsmappe fehlt ({exc})"
    if isinstance(exc, ET.ParseError) or name in ("ParseError", "ExpatError", "SAXParseException"):
        return "der XML-Inhalt der Arbeitsmappe ist fehlerhaft"
    # python-calamine (the XLSX reader) has its own exception classes
    if name == "XmlError":
        return "der XML-Inhalt der Arbeitsmappe ist fehlerhaft"
    if name == "ZipError":
        return "kein gültiges Zip-Archiv, vermutlich abgeschnitten oder unvollständig übertragen"
    if name == "PasswordError":
        return "die Arbeitsmappe ist mit einem Kennwort geschützt"
    if name in ("CalamineError", "WorksheetNotFound", "WorkbookClosed"):
        return "der Inhalt der Arbeitsmappe ist fehlerhaft oder unvollständig"
    if name in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden", "NotSupportedError"):
        return "die Arbeitsmappe enthält unzulässige XML-Bestandteile (Entitäten oder externe Verweise)"
    if isinstance(exc, csv.Error):
        return f"das CSV-Format ist fehlerhaft ({exc})"
    if isinstance(exc, PermissionError):
        return "keine Leseberechtigung für die Datei"
    if isinstance(exc, OSError):
        return f"Lesefehler des Dateisystems ({exc.strerror or name})"
    if isinstance(exc, UnicodeError):
        return "Zeichen, die im Zeichensatz der Datei nicht gültig sind"
    if isinstance(exc, RecursionError):
        return "die Datei ist zu tief verschachtelt"
    if isinstance(exc, (ValueError, TypeError, IndexError, AttributeError)):
        return f"der Inhalt entspricht nicht dem erwarteten Aufbau einer Excel- oder CSV-Datei ({name})"
    return f"unerwarteter Fehler beim Lesen ({name})"


def _read(path: Path, ds: Dataset, max_bytes: int, max_rows: int, screen_only: bool = False) -> ReadResult:
    size = path.stat().st_size
    if size > max_bytes:
        groesse, hoechstens = _size_pair(size, max_bytes)
        return ReadResult(None, [make_finding("D001", groesse=groesse, hoechstens=hoechstens)], None, None)
    if size == 0:
        return ReadResult(None, [make_finding("D002")], None, None)
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:4] in ZIP_MAGIC:
        return ingest_xlsx._read_xlsx(path, ds, max_rows, screen_only)
    if head == OLE_MAGIC:
        data = path.read_bytes()
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            return ReadResult(None, [make_finding("D005")], None, None)
        return ReadResult(None, [make_finding("D006", format="Excel 97–2003 (.xls)")], None, None)
    if head.startswith(b"%PDF"):
        return ReadResult(None, [make_finding("D003", detail=", sondern ein PDF-Dokument")], None, None)
    return _read_csv(path.read_bytes(), ds, max_rows, screen_only)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".replace(".", ",")


def _bytes(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _size_pair(size: int, limit: int) -> tuple[str, str]:
    """Size and limit as German text, precise enough to differ: MB with one decimal, and the
    exact bytes when both would read the same (e.g. 50,0 MB against 50,0 MB)."""
    a, b = _mb(size), _mb(limit)
    if a == b:
        return f"{a} MB ({_bytes(size)} Bytes)", f"{b} MB ({_bytes(limit)} Bytes)"
    return f"{a} MB", f"{b} MB"


# --------------------------------------------------------------------------- CSV


def _decode(data: bytes) -> tuple[str | None, str | None, list[Finding]]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", []
        except UnicodeDecodeError:
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            return None, None, [make_finding("D009", detail="UTF-16 fehlerhaft")]
    sample = data[:65536]
    if b"\x00" in sample:
        return None, None, [make_finding("D003", detail=", sondern Binärdaten")]
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # local: only needed for non-UTF-8 files

    best = from_bytes(data[:200_000]).best()
    guess = best.encoding if best is not None else None
    if guess is None:
        return None, None, [make_finding("D003", detail=", sondern Binärdaten")]
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None, None, [make_finding("D009", detail=f"erkannt: {guess}")]
    if guess not in CP1252_LIKE and _WRONG_CP.search(text):
        return None, None, [make_finding("D009", detail=f"erkannt: {guess}; erlaubt sind UTF-8 und Windows-1252")]
    if _WRONG_CP.search(text):
        return None, None, [make_finding("D009", detail="Umlaute passen weder zu UTF-8 noch zu Windows-1252")]
    return text, "cp1252", []


def _sniff_delimiter(lines: list[str]) -> str | None:
    best, best_n = None, 0
    for d in (";", ",", "\t"):
        n = sum(_count_outside_quotes(line, d) for line in lines)
        if n > best_n:
            best, best_n = d, n
    return best


def _count_outside_quotes(line: str, d: str) -> int:
    if '"' not in line:
        return line.count(d)
    n, inq = 0, False
    for ch in line:
        if ch == '"':
            inq = not inq
        elif ch == d and not inq:
            n += 1
    return n


def _read_csv(data: bytes, ds: Dataset, max_rows: int, screen_only: bool = False) -> ReadResult:
    text, encoding, findings = _decode(data)
    if text is None:
        return ReadResult(None, findings, None, None, fmt="csv")
    m = _MOJIBAKE.search(text)
    if m:
        findings.append(make_finding("D010", wert=text[m.start(): m.end() + 1]))
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if not lines:
        return ReadResult(None, findings + [make_finding("D002")], encoding, None, fmt="csv")
    delim = _sniff_delimiter(lines)
    if delim is None:
        return ReadResult(None, findings + [make_finding("D011")], encoding, None, fmt="csv")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"')
    rows = _CsvRows(reader)
    before = list(findings)
    res = _build(rows, ds, max_rows, findings, fmt="csv", screen_only=screen_only)
    if rows.error is not None:  # the csv module stopped: the file cannot be read past this row
        # (findings about a missing header or columns would only be consequences of the break)
        res = ReadResult(None, before + [rows.error], None, None, fmt="csv")
    res.encoding, res.delimiter = encoding, delim
    return res


class _CsvRows:
    """(row, cells) of a CSV reader; a :class:`csv.Error` ends the rows and is kept as a
    finding (D029) naming the row and, in German, what is wrong."""

    def __init__(self, reader) -> None:
        self.reader, self.error = reader, None

    def __iter__(self):
        no = 0
        try:
            for no, cells in enumerate(self.reader, start=1):
                yield no, cells
        except csv.Error as exc:
            self.error = make_finding("D029", zeile=no + 1, detail=_csv_error_detail(exc, self.reader.line_num))


_FIELD_LIMIT = re.compile(r"field larger than field limit \(([0-9]+)\)")


def _csv_error_detail(exc: csv.Error, line_num: int) -> str:
    text = str(exc)
    m = _FIELD_LIMIT.search(text)
    if m:
        limit = f"{int(m[1]):,}".replace(",", ".")
        return (f"ein Feld ist länger als {limit} Zeichen (bis Textzeile {line_num} der Datei); meist fehlt ein "
                "schließendes Anführungszeichen, sodass der Rest der Datei als ein einziges Feld gelesen wird")
    if "NUL" in text:
        return f"die Zeile enthält ein Nullzeichen (Binärdaten, Textzeile {line_num})"
    if "new-line" in text or "newline" in text:
        return f"ein Zeilenumbruch steht mitten in einem Feld ohne Anführungszeichen (Textzeile {line_num})"
    return f"das CSV-Format ist ab Textzeile {line_num} fehlerhaft ({text})"


# --------------------------------------------------------------------------- common part


def _is_blank(cells: list) -> bool:
    try:  # all text (every CSV row): blank when the joined cells are only whitespace
        return not "".join(cells).strip()
    except TypeError:  # a number, date or empty cell of a workbook
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)


def _map_header(cells: list, hmap: dict[str, Column]) -> list[Column | None]:
    return [hmap.get(normalise_header(v)) if v is not None and str(v).strip() else None for v in cells]


def _build(rows: Iterable[tuple[int, list]], ds: Dataset, max_rows: int, findings: list[Finding], *,
           fmt: str, scan: ingest_xlsx._SheetScan | None = None, screen_only: bool = False) -> ReadResult:
    hmap = header_map(ds)
    required = [c for c in ds.columns if c.required]
    it = iter(rows)
    # --- header: first non-blank row; if it is not a header, look a few rows further.
    head_rows: list[tuple[int, list]] = []
    header_no, header = None, None
    for no, cells in it:
        if _is_blank(cells):
            if header_no is None and no > 30:
                break
            continue
        head_rows.append((no, cells))
        mapped = _map_header(cells, hmap)
        n_req = sum(1 for c in mapped if c is not None and c.required)
        if n_req >= max(1, len(required) // 2):
            header_no, header = no, cells
            break
        if len(head_rows) >= 10:
            break
    if header is None:
        if not head_rows:
            return ReadResult(None, findings + [make_finding("D002")], None, None, fmt=fmt)
        # no recognisable header: report the first row's missing required columns
        header_no, header = head_rows[0]
    elif header_no != 1:
        findings.append(make_finding("D017", zeile=header_no, kopfzeile=header_no))
    mapped = _map_header(header, hmap)
    ident, flagged = privacy.header_findings(header, mapped, header_no, normalise_header)
    findings.extend(ident)
    seen: dict[str, int] = {}
    for idx, (cell, col) in enumerate(zip(header, mapped)):
        if col is None:
            if cell is not None and str(cell).strip() and idx not in flagged:
                findings.append(make_finding("D014", zeile=header_no, wert=ingest_values._display(cell)))
            continue
        if col.name in seen:
            findings.append(make_finding("D015", zeile=header_no, spalte=col.header))
            mapped[idx] = None
        else:
            seen[col.name] = idx
    if scan is not None:
        _scan_findings(scan, header_no, header, mapped, findings)
    missing = [c for c in required if c.name not in seen]
    for c in missing:
        findings.append(make_finding("D013", zeile=header_no, spalte=c.header))
    if missing or any(f.rule_id == "D015" for f in findings):
        return ReadResult(None, findings, None, None, fmt=fmt)

    # --- data rows
    n_fields = len(header)
    positions = [(c, seen[c.name]) for c in ds.columns if c.name in seen]
    raw_cols: dict[str, list] = {c.name: [] for c in ds.columns}
    zeilen: list[int] = []
    others = [i for i, (cell, col) in enumerate(zip(header, mapped)) if col is None and i not in flagged and cell is not None and str(cell).strip()]
    other_cells: dict[int, list] = {i: [] for i in others}  # cells of extra columns, for the privacy check
    for no, cells in it:
        if _is_blank(cells):
            continue
        first = next((v for v in cells if v is not None and str(v).strip()), None)
        if isinstance(first, str) and TOTAL_ROW.match(first):
            findings.append(make_finding("D018", zeile=no, wert=first.strip()))
            continue
        if fmt == "csv" and len(cells) != n_fields:
            findings.append(make_finding("D012", zeile=no, anzahl=len(cells), erwartet=n_fields))
            continue
        if len(zeilen) >= max_rows:
            findings.append(make_finding("D016", max_zeilen=max_rows))
            return ReadResult(None, findings, None, None, fmt=fmt)
        zeilen.append(no)
        for c, pos in positions:
            raw_cols[c.name].append(cells[pos] if pos < len(cells) else None)
        if len(zeilen) <= privacy.CONTENT_SAMPLE:
            for i in others:
                if i < len(cells):
                    other_cells[i].append((no, cells[i]))
    n = len(zeilen)
    findings.extend(privacy.content_findings(
        [(ingest_values._display(header[i]), other_cells[i], True) for i in others]
        + [(c.header, list(zip(zeilen, raw_cols[c.name])), False) for c in ds.columns if c.kind == "text" and c.name in seen]))
    if "geburtsmonat" in seen:
        findings.extend(privacy.birth_month_findings(raw_cols["geburtsmonat"], zeilen))
    if screen_only:
        return ReadResult(None, findings, None, None, fmt=fmt, n_rows=n)
    for c in ds.columns:
        if c.name not in seen:
            raw_cols[c.name] = [None] * n
    frame, raw = ingest_values._parse(ds, raw_cols, zeilen, findings)
    return ReadResult(frame, findings, None, None, raw=raw, fmt=fmt, n_rows=n)


def _scan_findings(scan: ingest_xlsx._SheetScan, header_no: int, header: list, mapped: list, findings: list[Finding]) -> None:
    def header_of(col: int) -> str:
        if col - 1 < len(mapped) and mapped[col - 1] is not None:
            return mapped[col - 1].header
        if col - 1 < len(header) and header[col - 1] is not None:
            return ingest_values._display(header[col - 1])
        return _letters(col)

    merged_head = [ref for r1, _, _, _, ref in scan.merged if r1 <= header_no]
    if merged_head:
        findings.append(make_finding("D021", zeile=header_no, wert=", ".join(merged_head[:10])))
    if scan.hidden_cols:
        findings.append(make_finding("D022", was="Spalten", wert=", ".join(header_of(c) for c in scan.hidden_cols[:20])))
    if scan.hidden_rows:
        findings.append(make_finding("D022", was="Zeilen", wert=", ".join(str(r) for r in scan.hidden_rows[:20])))
    with_value = 0
    for row, col, formula, has_value in scan.formulas:
        if has_value:
            with_value += 1
        else:
            findings.append(make_finding("D019", zeile=row, spalte=header_of(col), wert=formula[:80]))
    if with_value:
        findings.append(make_finding("D020", anzahl=with_value))


def _letters(col: int) -> str:
    s = ""
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s
