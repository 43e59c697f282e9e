"""Bilder für die Dokumentation: ein Bildschirmfoto je HTML-Berichtsart und die erste
Tabellenseite jeder Excel-Mappe (bei der Liefervorlage die Anleitung), nach ``docs/bilder/``.

Aufruf (aus dem Repository-Verzeichnis, nach der Einrichtung laut README)::

    .venv/bin/python scripts/screenshots.py                 # kleine Demo erzeugen, dann fotografieren
    .venv/bin/python scripts/screenshots.py --ausgabe out   # vorhandene Ausgaben einer Demo verwenden

Nicht fotografiert wird das Protokoll (es zeigt echte Laufzeiten, jedes Bild wäre anders).
Ohne ``--ausgabe`` läuft zuerst eine kleine Demo (3 Jugendämter, 3 Monate) in ein temporäres
Verzeichnis. HTML-Seiten fotografiert Chromium headless (Playwright, wie die Browser-Tests),
390 px und 1280 px breit; Excel-Mappen wandelt LibreOffice headless in PDF, ``pdftoppm``
(poppler-utils) macht aus der ersten Seite des ersten Tabellenblatts ein PNG. Alle Bilder werden
auf höchstens 1.600 px Höhe zugeschnitten und als 8-Bit-Palette gespeichert (wenige 10 KB).
Braucht: Chromium, LibreOffice Calc, poppler-utils (``scripts/test.sh`` installiert alle drei)
und Pillow (kommt mit den Python-Abhängigkeiten).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: the demo offices (two networks, a Stadtkreis, a Landkreis, a Stadt) and months
DEMO_OFFICES = ("08111", "08115", "01060063")
DEMO_MONTHS = 3
#: (output name, file name pattern below <out>, viewport width) of the HTML pictures
HTML_SHOTS = (
    ("startseite", "berichte/index.html", 1280),
    ("startseite_telefon", "berichte/index.html", 390),
    ("landesbericht", "berichte/landesbericht/**/landesbericht_BW_*.html", 1280),
    ("jugendamtsbericht", "**/jugendamtsbericht_08111_*.html", 1280),
    ("lieferstatus", "berichte/lieferstatus/**/lieferstatus_BW_*.html", 1280),
    ("platzuebersicht", "berichte/platzuebersicht/**/platzuebersicht_BW.html", 1280),
    ("jahresbericht", "berichte/jahresbericht/**/jahresbericht_BW_*.html", 1280),
    ("strategiebericht", "berichte/strategiebericht/**/strategiebericht_BW.html", 1280),
    ("pruefbericht", "pruefberichte/**/*.html", 1280),
    ("uma_tagesmeldung", "berichte/uma_tagesmeldung/**/uma_tagesmeldung_BW_*.html", 1280),
    ("fristenliste", "jugendaemter/08111/fristen/fristenliste_08111_*.html", 1280),
)
#: (output name, file name pattern) of the workbooks; the first sheet after the cover pages is shown
XLSX_SHOTS = (
    ("landesbericht_excel", "berichte/landesbericht/**/landesbericht_BW_*.xlsx"),
    ("jugendamtsbericht_excel", "**/jugendamtsbericht_08111_*.xlsx"),
    ("lieferstatus_excel", "berichte/lieferstatus/**/lieferstatus_BW_*.xlsx"),
    ("platzuebersicht_excel", "berichte/platzuebersicht/**/platzuebersicht_BW.xlsx"),
    ("jahresbericht_excel", "berichte/jahresbericht/**/jahresbericht_BW_*.xlsx"),
    ("strategiebericht_excel", "berichte/strategiebericht/**/strategiebericht_BW.xlsx"),
    ("pruefbericht_excel", "pruefberichte/**/*.xlsx"),
    ("uma_tagesmeldung_excel", "berichte/uma_tagesmeldung/**/uma_tagesmeldung_BW_*.xlsx"),
    ("fristenliste_excel", "jugendaemter/08111/fristen/fristenliste_08111_*.xlsx"),
    ("bundesstatistik_excel", "jugendaemter/08111/bundesstatistik/**/bundesstatistik_08111_*.xlsx"),
)
MAX_HEIGHT = 1600
#: sheets before the tables of a report workbook
FRONT_SHEETS = ("Deckblatt", "Inhalt", "Erläuterungen")


def _newest(out: Path, pattern: str) -> Path:
    hits = sorted(out.glob(pattern))
    if pattern.startswith("pruefberichte/"):  # the interesting one: a rejected delivery, if any
        rejected = [h for h in hits if '"abgelehnt"' in h.with_suffix(".json").read_text(encoding="utf-8")]
        hits = rejected or hits
    if not hits:
        raise SystemExit(f"Keine Datei {pattern} unter {out}: ist das die Ausgabe einer Demo?")
    return hits[-1]  # names end in the period: the newest last


def run_demo(tmp: Path) -> Path:
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "demo", "--out", str(tmp / "out"),
           "--daten", str(tmp / "demo"), "--monate", str(DEMO_MONTHS)]
    for ags in DEMO_OFFICES:
        cmd += ["--jugendamt", ags]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GX_ANALYTICS_ENABLED": "false"}
    print("Kleine Demo läuft …", flush=True)
    subprocess.run(cmd, cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
    return tmp / "out"


def _save_small(png: Path, target: Path) -> None:
    """Crop to MAX_HEIGHT and store as an 8-bit palette PNG."""
    from PIL import Image

    with Image.open(png) as im:
        im = im.convert("RGB")
        if im.height > MAX_HEIGHT:
            im = im.crop((0, 0, im.width, MAX_HEIGHT))
        im.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def html_shots(out: Path, target: Path, tmp: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.helpers_browser import CHROMIUM_ARGS, chromium

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        for name, pattern, width in HTML_SHOTS:
            page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
            page.goto(_newest(out, pattern).as_uri())
            page.wait_for_load_state("load")
            raw = tmp / f"{name}.raw.png"
            page.screenshot(path=str(raw), full_page=True)
            page.close()
            _save_small(raw, target / f"{name}.png")
            written.append(target / f"{name}.png")
        browser.close()
    return written


def xlsx_shots(out: Path, target: Path, tmp: Path) -> list[Path]:
    import openpyxl

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        raise SystemExit("LibreOffice (soffice) und pdftoppm (poppler-utils) werden gebraucht.")
    from inobhut.template import build_template

    books = {name: _newest(out, pattern) for name, pattern in XLSX_SHOTS}
    books["liefervorlage_excel"] = build_template("massnahmen", tmp / "vorlage" / "vorlage_massnahmen.xlsx")
    # only the first table sheet: a copy of each workbook with that sheet alone
    single = tmp / "einzeln"
    single.mkdir()
    for name, book in books.items():
        wb = openpyxl.load_workbook(book)
        first = next((ws.title for ws in wb.worksheets if ws.print_title_rows and ws.title not in FRONT_SHEETS),
                     wb.sheetnames[-1])
        if name == "liefervorlage_excel":
            first = wb.sheetnames[0]  # the instructions: the data sheet is empty
        for title in list(wb.sheetnames):
            if title != first:
                del wb[title]
        wb.save(single / f"{name}.xlsx")
    pdfs = tmp / "pdf"
    subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'profil').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(pdfs), *map(str, sorted(single.glob("*.xlsx")))],
                   check=True, stdout=subprocess.DEVNULL)
    written = []
    for name in books:
        stem = tmp / f"{name}.raw"
        subprocess.run([pdftoppm, "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile", str(pdfs / f"{name}.pdf"),
                        str(stem)], check=True)
        _save_small(Path(f"{stem}.png"), target / f"{name}.png")
        written.append(target / f"{name}.png")
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ausgabe", type=Path, help="Ausgabeverzeichnis einer Demo (Vorgabe: eine kleine Demo erzeugen)")
    ap.add_argument("--ziel", type=Path, default=ROOT / "docs" / "bilder", help="Zielverzeichnis der PNG-Dateien")
    args = ap.parse_args(argv)
    args.ziel.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="inobhut-bilder-") as t:
        tmp = Path(t)
        out = args.ausgabe.resolve() if args.ausgabe else run_demo(tmp)
        written = html_shots(out, args.ziel, tmp) + xlsx_shots(out, args.ziel, tmp)
    for p in written:
        print(f"{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}  {p.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
