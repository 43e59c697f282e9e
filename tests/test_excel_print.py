"""Workbooks print as documents: every workbook kind, converted to PDF by LibreOffice (headless).

One workbook of each kind -- the six reports, the statutory outputs (UMA-Werktagsmeldung,
Fristenliste, Bundesstatistik), the Protokoll, a Prüfbericht and the delivery template -- goes
through ``soffice --convert-to pdf`` in one run; ``pdftotext``/``pdfinfo`` (poppler-utils, installed
by scripts/test.sh) read the pages back. Every page is A4 in the orientation the sheet asks for
and carries the footer (document title, sheet, "Seite x von y"); every sheet is printed; the
cover prints its labels and values together on one page; and every page of a table sheet holds
the whole header row (repeated print titles, all columns on the page width: no page holds only
a part of the columns). Fails, not skips, without LibreOffice or poppler-utils.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from tests.helpers_outputs import kind_of, render_every_kind

KINDS = {"landesbericht", "jugendamtsbericht", "lieferstatus", "platzuebersicht", "jahresbericht",
         "strategiebericht", "pruefbericht", "uma_tagesmeldung", "fristenliste", "protokoll", "bundesstatistik", "vorlage"}
FOOTER = re.compile(r"Blatt „(?P<sheet>[^“]+)“, Seite (?P<page>\d+) von (?P<pages>\d+)")


def _tool(name: str, package: str) -> str:
    exe = shutil.which(name)
    assert exe, f"{name} fehlt: scripts/test.sh installiert es (apt-get install {package})"
    return exe


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    from inobhut.template import build_template

    tmp = tmp_path_factory.mktemp("druck")
    books: dict[str, Path] = {}
    for f in render_every_kind(tmp / "render"):
        if f.suffix == ".xlsx":
            books.setdefault(kind_of(f), f)
    books["vorlage"] = build_template("massnahmen", tmp / "vorlage" / "vorlage_massnahmen.xlsx")
    assert set(books) == KINDS
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice fehlt: scripts/test.sh installiert es (apt-get install libreoffice-calc-nogui)"
    out = tmp / "pdf"
    res = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'profil').as_uri()}",
                          "--convert-to", "pdf", "--outdir", str(out), *map(str, books.values())],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return books, out


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run([_tool("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1]


def _sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run([_tool("pdfinfo", "poppler-utils"), "-f", "1", "-l", "9999", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_workbook_prints_as_a_document(printed, kind):
    books, out = printed
    book = books[kind]
    pdf = out / f"{book.stem}.pdf"
    assert pdf.is_file(), f"LibreOffice hat {book.name} nicht als PDF ausgegeben"
    wb = openpyxl.load_workbook(book)
    pages, sizes = _pages(pdf), _sizes(pdf)
    assert len(pages) == len(sizes) > 0
    by_sheet: dict[str, list[tuple[str, tuple[float, float]]]] = {}
    for i, (text, size) in enumerate(zip(pages, sizes), 1):
        m = FOOTER.search(text)
        assert m, f"{book.name}, Seite {i}: keine Fußzeile mit Blatt und Seitenzahl"
        assert (int(m["page"]), int(m["pages"])) == (i, len(pages))
        by_sheet.setdefault(m["sheet"], []).append((text, size))
    assert list(by_sheet) == wb.sheetnames, "jedes Blatt wird gedruckt, in der Reihenfolge der Mappe"
    for ws in wb.worksheets:
        landscape = ws.page_setup.orientation == "landscape"
        title = ws.oddFooter.left.text.replace("&&", "&")
        for text, (w, h) in by_sheet[ws.title]:
            assert {round(w), round(h)} == {595, 842}, (ws.title, w, h)  # A4
            assert (w > h) == landscape, ws.title
            assert _words(title) in _words(text), (ws.title, title)
        if ws.print_title_rows:  # a table sheet: every page holds the complete header row
            row = int(ws.print_title_rows.split(":")[0].strip("$"))
            headers = [str(c.value) for c in ws[row] if c.value is not None]
            assert len(headers) >= 2, ws.title
            for n, (text, _) in enumerate(by_sheet[ws.title], 1):
                flat = _words(text)
                # the longest word of each header (a wrapped header may break at a hyphen)
                missing = [h for h in headers if max(re.split(r"[\s\-/]+", h), key=len) not in flat]
                assert not missing, f"{book.name}, Blatt „{ws.title}“, Seite {n}: Spalten fehlen: {missing}"
    cover = wb.worksheets[0]
    if cover.title in ("Deckblatt", "Übersicht", "Anleitung"):
        labels = [str(c.value) for c in cover["A"][2:] if c.value]
        values = [str(c.value) for c in cover["B"][2:] if c.value is not None]
        first_page = _words(by_sheet[cover.title][0][0])
        for label, value in zip(labels, values):  # labels and values together on the first page
            assert label in first_page and _words(value)[:20] in first_page, (cover.title, label, value)
    if cover.title == "Deckblatt":
        assert len(by_sheet["Deckblatt"]) == 1
