"""The bad-input corpus: one builder per kind of broken or hostile delivery file.

Each :class:`Case` writes its file into a temporary directory (nothing binary is committed)
and states the expected verdict, the rule id that must be among the findings and, where
useful, a fragment of the German message. ``tests/bad_input/test_bad_input.py`` runs them all.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tests.bad_input.builders import (
    AGS, MONTH, as_list, csv_text, headers, massnahme, platz, uma, write_csv, write_xlsx,
)

ACC, WARN, REJ = "angenommen", "angenommen mit Hinweisen", "abgelehnt"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Case:
    name: str
    build: Callable[[Path], Path]  # writes the file into the directory, returns its path
    verdict: str
    rule: str | None
    fragment: str = ""
    dataset: str = "massnahmen"
    by_name: bool = False  # validate through the file name (validate_file)
    settings: dict = field(default_factory=dict)  # overrides of the [pruefung] section


def fname(dataset: str = "massnahmen", ext: str = "csv") -> str:
    return f"{AGS}_{dataset}_{MONTH}.{ext}"


def _csv(rows, dataset="massnahmen", **kw):
    def build(d: Path) -> Path:
        return write_csv(d / fname(dataset), dataset, rows, **kw)
    return build


def _text(text: str, dataset="massnahmen", encoding="utf-8", ext="csv"):
    def build(d: Path) -> Path:
        p = d / fname(dataset, ext)
        p.write_bytes(text.encode(encoding))
        return p
    return build


def _bytes(data: bytes, name: str):
    def build(d: Path) -> Path:
        p = d / name
        p.write_bytes(data)
        return p
    return build


def _xlsx(rows, dataset="massnahmen", **kw):
    def build(d: Path) -> Path:
        return write_xlsx(d / fname(dataset, "xlsx"), dataset, rows, **kw)
    return build


def _patch_zip(src: Path, dst: Path, *, replace: dict[str, Callable[[bytes], bytes]] | None = None,
               add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if replace and info.filename in replace:
                data = replace[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def _valid_xlsx(d: Path, name: str = "tmp.xlsx", **kw) -> Path:
    return write_xlsx(d / name, "massnahmen", [as_list("massnahmen", massnahme())], **kw)


# --------------------------------------------------------------------------- hostile containers


def ole_file(stream_names: list[str]) -> bytes:
    """A minimal Compound File Binary container (header + one directory sector) naming streams."""
    header = bytearray(512)
    header[0:8] = OLE_MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 48, 0)  # first directory sector
    directory = bytearray(512)
    for i, name in enumerate(["Root Entry", *stream_names][:4]):
        enc = name.encode("utf-16-le") + b"\x00\x00"
        off = i * 128
        directory[off:off + len(enc)] = enc
        struct.pack_into("<H", directory, off + 64, len(enc))
        directory[off + 66] = 5 if i == 0 else 2
    return bytes(header) + bytes(directory) + os.urandom(1024)


def build_encrypted(d: Path) -> Path:
    p = d / fname(ext="xlsx")
    p.write_bytes(ole_file(["EncryptionInfo", "EncryptedPackage"]))
    return p


def build_legacy_xls(d: Path) -> Path:
    p = d / fname(ext="xlsx")
    p.write_bytes(ole_file(["Workbook", "\x05SummaryInformation"]))
    return p


def build_ods(d: Path) -> Path:
    p = d / fname(ext="xlsx")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return p


def build_xlsm(d: Path) -> Path:
    src = _valid_xlsx(d)
    return _patch_zip(src, d / fname(ext="xlsx"),
                      replace={"[Content_Types].xml": lambda b: b.replace(
                          b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                          b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")},
                      add={"xl/vbaProject.bin": OLE_MAGIC + b"\x00" * 600})


def build_truncated(d: Path) -> Path:
    src = _valid_xlsx(d)
    data = src.read_bytes()
    p = d / fname(ext="xlsx")
    p.write_bytes(data[: len(data) // 2])
    return p


def build_zip_bomb(d: Path, declared: int = 3 * 1024**3) -> Path:
    """An .xlsx whose sheet XML would expand to ~3 GB: the deflate stream is one compressed
    1 MiB block repeated (full flushes make the pieces independent), so only a few MB are
    written. The CRC is not computed (the zip directory is refused before anything is read)."""
    chunk = b"<row>" + b" " * (1024 * 1024 - 11) + b"</row>"
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    n = declared // len(chunk)
    tail = comp.flush(zlib.Z_FINISH)
    size = n * len(chunk)
    csize = n * len(piece) + len(tail)
    small = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": b"<workbook/>",
    }
    p = d / fname(ext="xlsx")
    entries = []
    with open(p, "wb") as fh:
        for name, data in small.items():
            off = fh.tell()
            crc = zlib.crc32(data)
            nb = name.encode()
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(data), len(data), len(nb), 0) + nb + data)
            entries.append((nb, 0, crc, len(data), len(data), off))
        off = fh.tell()
        nb = b"xl/worksheets/sheet1.xml"
        fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, csize, size, len(nb), 0) + nb)
        for _ in range(n):
            fh.write(piece)
        fh.write(tail)
        entries.append((nb, 8, 0, csize, size, off))
        cd_start = fh.tell()
        for nb, method, crc, cs, us, o in entries:
            fh.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, cs, us, len(nb), 0, 0, 0, 0, 0, o) + nb)
        cd_size = fh.tell() - cd_start
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), cd_size, cd_start, 0))
    return p


def build_formula(cached: bool):
    def build(d: Path) -> Path:
        def edit(wb, ws):
            ws["H2"] = "=2*1"  # Plaetze_genehmigt
        src = write_xlsx(d / "tmp.xlsx", "plaetze", [as_list("plaetze", platz(Plaetze_genehmigt="", Plaetze_frei=""))], edit=edit)
        if not cached:
            return src.rename(d / fname("plaetze", "xlsx"))
        return _patch_zip(src, d / fname("plaetze", "xlsx"), replace={
            "xl/worksheets/sheet1.xml": lambda b: re.sub(rb"<f>2\*1</f>(?:<v\s*/>|<v></v>)?", b"<f>2*1</f><v>10</v>", b)})
    return build


def build_merged_header(d: Path) -> Path:
    def edit(wb, ws):
        ws.insert_rows(1)
        ws["A1"] = "Inobhutnahmen März 2025"
        ws.merge_cells("A1:F1")
    return _valid_xlsx(d, fname(ext="xlsx"), edit=edit)


def build_merged_in_header_row(d: Path) -> Path:
    def edit(wb, ws):
        ws.merge_cells("A1:B1")
    return _valid_xlsx(d, fname(ext="xlsx"), edit=edit)


def build_hidden_columns(d: Path) -> Path:
    def edit(wb, ws):
        ws.column_dimensions["X"].hidden = True
    return _valid_xlsx(d, fname(ext="xlsx"), edit=edit)


def build_stray_far_cell(d: Path) -> Path:
    def edit(wb, ws):
        ws["A1048576"] = "x"
    return _valid_xlsx(d, fname(ext="xlsx"), edit=edit)


def build_xlsx_serial(d: Path) -> Path:
    row = as_list("massnahmen", massnahme())
    row[headers("massnahmen").index("Beginn")] = 45719  # 2025-03-03 as a plain number
    return write_xlsx(d / fname(ext="xlsx"), "massnahmen", [row])


def build_xlsx_typed(d: Path) -> Path:
    row = as_list("massnahmen", massnahme())
    h = headers("massnahmen")
    row[h.index("Beginn")] = dt.datetime(2025, 3, 3)
    row[h.index("Jugendamt")] = 8335
    row[h.index("Aufenthalt_vorher")] = 1
    return write_xlsx(d / fname(ext="xlsx"), "massnahmen", [row])


def build_summe_xlsx(d: Path) -> Path:
    rows = [as_list("plaetze", platz()), as_list("plaetze", platz(Einrichtung="E2")), ["Summe", None, None, None, None, None, None, 20]]
    return write_xlsx(d / fname("plaetze", "xlsx"), "plaetze", rows)


def build_title_row_xlsx(d: Path) -> Path:
    return _valid_xlsx(d, fname(ext="xlsx"), before=[["Meldung Inobhutnahmen"], []])


def build_wrong_sheet(d: Path) -> Path:
    return _valid_xlsx(d, fname(ext="xlsx"), sheet="Tabelle1", extra_sheets=("Anleitung",))


def build_random_small(d: Path) -> Path:
    p = d / fname()
    p.write_bytes(os.urandom(64 * 1024))
    return p


def build_docx(d: Path) -> Path:
    p = d / fname(ext="xlsx")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return p


def _mixed_delimiters() -> str:
    text = csv_text("massnahmen", [massnahme()])
    bad = csv_text("massnahmen", [massnahme(Fallnummer="IO-2")], delimiter=",").splitlines()[1]
    return text + bad + "\r\n"


def _title_csv() -> str:
    return "Inobhutnahmen Landkreis Konstanz März 2025\r\n" + csv_text("massnahmen", [massnahme()])


def _summe_csv() -> str:
    text = csv_text("plaetze", [platz(), platz(Einrichtung="E2")])
    return text + "Summe;;;;;;;20;14;2;4;17;14,5;\r\n"


def _mojibake_uma() -> str:
    text = csv_text("uma", [uma()]).replace("Staatsangehoerigkeit", "Staatsangehörigkeit")
    return text.encode("utf-8").decode("cp1252")  # written again as UTF-8 below: double encoded


def _cp850_text() -> str:
    return csv_text("uma", [uma(Fallnummer="Ü-1")]).replace("Staatsangehoerigkeit", "Staatsangehörigkeit").replace(
        "Unterbringung_ausserhalb", "Unterbringung_außerhalb")


def cases() -> list[Case]:
    m = massnahme
    return [
        Case("0 Byte", _bytes(b"", fname()), REJ, "D002", "leer"),
        Case("nur Leerzeilen", _text("\r\n\r\n  \r\n"), REJ, "D002"),
        Case("nur Kopfzeile (Fehlanzeige)", _text(csv_text("massnahmen", [])), ACC, None),
        Case("Zufallsbytes 64 KB", build_random_small, REJ, "D003"),
        Case("PDF als .csv", _bytes(b"%PDF-1.7\n" + os.urandom(2000), fname()), REJ, "D003", "PDF"),
        Case("Word-Dokument als .xlsx", build_docx, REJ, "D003", "Word"),
        Case("falscher Zeichensatz (DOS cp850) mit Umlauten", _text(_cp850_text(), "uma", encoding="cp850"), REJ, "D009", dataset="uma"),
        Case("Windows-1252 mit Umlauten in der Kopfzeile", _text(_cp850_text(), "uma", encoding="cp1252"), ACC, None, dataset="uma"),
        Case("doppelt kodierte Umlaute", _text(_mojibake_uma(), "uma"), REJ, "D010", dataset="uma"),
        Case("UTF-16 (Unicode-Text aus Excel)", _text(csv_text("massnahmen", [m()], delimiter="\t"), encoding="utf-16"), ACC, None),
        Case("gemischte Trennzeichen", _text(_mixed_delimiters()), REJ, "D012", "Felder"),
        Case("kein Trennzeichen", _text("Fallnummer Jugendamt Beginn\r\n1 08335 x\r\n"), REJ, "D011"),
        Case("Dezimalkomma in Anzahl", _csv([platz(Plaetze_belegt="7,5", Plaetze_frei="")], "plaetze"), REJ, "Z003", "ganze Zahl", dataset="plaetze"),
        Case("Excel-Seriennummer als Text", _csv([m(Beginn="45719")]), WARN, "D023", "Seriennummer"),
        Case("Excel-Seriennummer als Zahl (xlsx)", build_xlsx_serial, WARN, "D023"),
        Case("Summenzeile (csv)", _text(_summe_csv(), "plaetze"), REJ, "D018", "Summe", dataset="plaetze"),
        Case("Summenzeile (xlsx)", build_summe_xlsx, REJ, "D018", dataset="plaetze"),
        Case("Kopfzeile nicht in Zeile 1 (csv)", _text(_title_csv()), REJ, "D017", "Zeile 2"),
        Case("Kopfzeile nicht in Zeile 1 (xlsx)", build_title_row_xlsx, REJ, "D017", "Zeile 3"),
        Case("verbundene Titelzellen über der Kopfzeile", build_merged_header, REJ, "D021"),
        Case("verbundene Zellen in der Kopfzeile", build_merged_in_header_row, REJ, "D021"),
        Case("ausgeblendete Spalten", build_hidden_columns, WARN, "D022", "Spalten"),
        Case("Formel ohne gespeichertes Ergebnis", build_formula(cached=False), REJ, "D019", "=2*1", dataset="plaetze"),
        Case("Formel mit gespeichertem Ergebnis", build_formula(cached=True), WARN, "D020", dataset="plaetze"),
        Case("kennwortgeschützte xlsx (OLE/CFB)", build_encrypted, REJ, "D005", "Kennwort"),
        Case("umbenannte .xls", build_legacy_xls, REJ, "D006", ".xls"),
        Case("umbenannte .ods", build_ods, REJ, "D006", "OpenDocument"),
        Case("xlsm mit Makros", build_xlsm, REJ, "D004", "Makros"),
        Case("abgeschnittene Zip-Datei", build_truncated, REJ, "D007"),
        Case("Zip-Bombe (3 GB entpackt)", build_zip_bomb, REJ, "D008", "entpackt"),
        Case("einzelne Zelle am Blattende", build_stray_far_cell, WARN, "D028"),
        Case("Datenblatt nicht nach dem Datensatz benannt", build_wrong_sheet, WARN, "D027", "„Tabelle1“"),
        Case("typisierte Excel-Werte (Datum, Schlüssel ohne Null)", build_xlsx_typed, ACC, None),
        Case("Pflichtspalte fehlt", _text(csv_text("massnahmen", [m()], header=[h for h in headers("massnahmen") if h != "Beginn"])), REJ, "D013", "Beginn"),
        Case("Spalte doppelt", _text(csv_text("massnahmen", [m()], header=headers("massnahmen") + ["Beginn"])), REJ, "D015"),
        Case("unbekannter Schlüssel", _csv([m(Geschlecht="x")]), REJ, "Z002", "Geschlecht"),
        Case("Text im Datumsfeld", _csv([m(Beginn="März 2025")]), REJ, "Z004", "März 2025"),
        Case("doppelte Fallnummer", _csv([m(), m()]), REJ, "S001", "Zeile 2"),
        Case("Lieferung eines anderen Jugendamts", _csv([m(Jugendamt="08336"), m(Fallnummer="X2", Jugendamt="08336")]), REJ, "S002", "08336"),
        Case("zu viele Zeilen", _csv([m(Fallnummer=f"F{i}") for i in range(8)]), REJ, "D016", settings={"max_zeilen": 5}),
        Case("Pfadangabe im Dateinamen", _bytes(csv_text("massnahmen", [m()]).encode(), "..\\" + fname()), REJ, "D025", "Pfad", by_name=True),
        Case("versteckte Datei", _bytes(csv_text("massnahmen", [m()]).encode(), "." + fname()), REJ, "D025", by_name=True),
        Case("Dateiname ohne Muster", _bytes(csv_text("massnahmen", [m()]).encode(), "massnahmen maerz.csv"), REJ, "D025", "Muster", by_name=True),
        Case("kein Mitglieds-Jugendamt", _bytes(csv_text("massnahmen", [m(Jugendamt="09162")]).encode(), "09162_massnahmen_2025-03.csv"), REJ, "D026", "09162", by_name=True),
        Case("Dateityp .txt", _bytes(csv_text("massnahmen", [m()]).encode(), f"{AGS}_massnahmen_{MONTH}.txt"), REJ, "D025", ".txt", by_name=True),
    ]
