"""Every kind of Excel workbook inobhut writes, opened by a real spreadsheet program.

LibreOffice Calc (headless, Debian's ``libreoffice-calc-nogui``, installed by
``scripts/test.sh``) converts one workbook of each kind -- the six reports, a Prüfbericht and a
Bundesstatistik --
sheet by sheet to CSV, in one run. Each workbook must open, every sheet must come out, and in
every sheet with a data table the title (A1), the header row and the number of data rows that
Calc reads must equal what openpyxl reads from the same file. Fails, not skips, without
LibreOffice.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from tests.helpers_outputs import kind_of, render_every_kind

KINDS = {"landesbericht", "jugendamtsbericht", "lieferstatus", "platzuebersicht", "jahresbericht",
         "strategiebericht", "pruefbericht", "uma_tagesmeldung", "fristenliste", "protokoll", "bundesstatistik"}
# CSV filter: comma, double quote, UTF-8, from line 1, text as shown, every sheet (-1) in its own file
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("libreoffice")
    books: dict[str, Path] = {}
    for f in render_every_kind(tmp / "render"):
        if f.suffix == ".xlsx":
            books.setdefault(kind_of(f), f)
    assert set(books) == KINDS
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice fehlt: scripts/test.sh installiert es (apt-get install libreoffice-calc-nogui)"
    out = tmp / "csv"
    res = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'profil').as_uri()}",
                          "--convert-to", CSV_FILTER, "--outdir", str(out), *map(str, books.values())],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return books, out


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_workbook_opens_in_libreoffice_with_the_same_tables(converted, kind):
    books, out = converted
    book = books[kind]
    wb = openpyxl.load_workbook(book)
    tables_checked = 0
    for ws in wb.worksheets:
        lo = out / f"{book.stem}-{ws.title}.csv"
        assert lo.is_file(), f"Calc hat das Blatt „{ws.title}“ von {book.name} nicht ausgegeben"
        rows = _csv(lo)
        assert rows and rows[0][0] == str(ws["A1"].value), (ws.title, rows[:1], ws["A1"].value)
        for tab in ws.tables.values():
            c0, r0, c1, r1 = range_boundaries(tab.ref)
            header = [str(ws.cell(r0, c).value) for c in range(c0, c1 + 1)]
            assert rows[r0 - 1][c0 - 1:c1] == header, (ws.title, rows[r0 - 1], header)
            body = [r for r in rows[r0:r1] if any(v.strip() for v in r[c0 - 1:c1])]
            assert len(body) == r1 - r0, (ws.title, len(body), r1 - r0)
            tables_checked += 1
    assert tables_checked >= 1
