"""Builders for delivery files in tests: valid rows per dataset and writers for CSV and XLSX.

Every row builder returns a dict header -> delivered text that is valid for office 08335
(Konstanz, BW) and reporting month 2025-03; tests override single values.
"""

from __future__ import annotations

from pathlib import Path

from schemas.datasets import DATASETS

AGS = "08335"
MONTH = "2025-03"
KEY = b"test-schluessel"


def headers(dataset: str) -> list[str]:
    return [c.header for c in DATASETS[dataset].columns]


def massnahme(**over: str) -> dict[str, str]:
    row = {
        "Fallnummer": "IO-2025-001", "Jugendamt": AGS, "Massnahme": "1", "Traeger": "1",
        "Beginn": "03.03.2025", "Ende": "", "Geburtsmonat": "05.2012", "Geschlecht": "w",
        "Staatsangehoerigkeit": "DEU", "Unbegleitet": "0", "Anlaesse": "01,02", "Angeregt_durch": "3",
        "Aufenthalt_vorher": "01", "Unterbringung": "2", "Einrichtung": "E1", "Gefaehrdungseinschaetzung": "1",
        "Wiederholt": "0", "Widerspruch": "", "Familiengericht": "", "Ende_Grund": "", "Anschluss": "",
        "Meldung_Landesstelle": "", "Verteilentscheidung": "", "Zuweisung_Jugendamt": "",
    }
    row.update(over)
    return row


def uma(**over: str) -> dict[str, str]:
    row = {
        "Fallnummer": "U-1", "Jugendamt": AGS, "Zustaendig_seit": "01.02.2024", "Zustaendig_bis": "",
        "Geburtsmonat": "07.2008", "Geschlecht": "m", "Staatsangehoerigkeit": "AFG", "Hilfeart": "3",
        "Unterbringung_ausserhalb": "0", "Ende_Grund": "",
    }
    row.update(over)
    return row


def platz(**over: str) -> dict[str, str]:
    row = {
        "Einrichtung": "E1", "Jugendamt": AGS, "Stichtag": "31.03.2025", "Angebot": "1", "Traeger_Art": "05",
        "Alter_von": "0", "Alter_bis": "17", "Plaetze_genehmigt": "10", "Plaetze_belegt": "7",
        "Plaetze_gesperrt": "1", "Plaetze_frei": "2", "VZAE_Soll": "8,5", "VZAE_Ist": "7,25", "Tagessatz": "245,50",
    }
    row.update(over)
    return row


def personal(**over: str) -> dict[str, str]:
    row = {
        "Jugendamt": AGS, "Stichtag": "31.03.2025", "Bereich": "1", "VZAE_Soll": "20", "VZAE_Ist": "18,5",
        "Stellen_unbesetzt": "1,5", "Faelle": "310",
    }
    row.update(over)
    return row


ROW = {"massnahmen": massnahme, "uma": uma, "plaetze": platz, "personal": personal}


def csv_text(dataset: str, rows: list[dict], *, delimiter: str = ";", header: list[str] | None = None) -> str:
    cols = header or headers(dataset)
    lines = [delimiter.join(cols)]
    for r in rows:
        lines.append(delimiter.join(_quote(r.get(c, ""), delimiter) for c in cols))
    return "\r\n".join(lines) + "\r\n"


def _quote(v: str, d: str) -> str:
    v = str(v)
    return f'"{v}"' if (d in v or '"' in v) else v


def write_csv(path: Path, dataset: str, rows: list[dict], *, delimiter: str = ";", encoding: str = "utf-8",
              header: list[str] | None = None) -> Path:
    path.write_bytes(csv_text(dataset, rows, delimiter=delimiter, header=header).encode(encoding))
    return path


def write_xlsx(path: Path, dataset: str, rows: list[list], *, header: list | None = None, sheet: str | None = None,
               before: list[list] | None = None, extra_sheets: tuple[str, ...] = (), edit=None) -> Path:
    """Rows are lists of cell values (typed: int, datetime, str ...) in header order."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet or dataset
    for name in extra_sheets:
        wb.create_sheet(name, 0)
    for r in before or []:
        ws.append(r)
    ws.append(header or headers(dataset))
    for r in rows:
        ws.append(r)
    if edit:
        edit(wb, ws)
    wb.save(path)
    return path


def as_list(dataset: str, row: dict) -> list:
    return [row.get(h, "") or None for h in headers(dataset)]
