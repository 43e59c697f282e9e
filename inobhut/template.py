"""The official Excel delivery template (``inobhut template DATASET --out FILE.xlsx``).

Belongs here: building the workbook from :mod:`schemas.datasets` and the code lists: an
instructions sheet (German), the data sheet named like the dataset with the header row,
drop-down lists (data validation) for every coded column, date/month/number formats, range
checks and an input message per column, and a sheet with all code lists. Not here: reading
a filled-in template (that is an ordinary XLSX delivery, :mod:`inobhut.ingest`).
"""

from __future__ import annotations

from pathlib import Path

from inobhut.xlsx_io import save_workbook
from schemas.datasets import DATASETS, Column, codelists

DATA_ROWS = 2000  # rows prepared with validations and formats below the header
CODES_SHEET = "Schluessel"
FORMATS = {"date": "DD.MM.YYYY", "month": "MM.YYYY", "int": "0", "decimal": "0.00"}
TEXT_KINDS = ("text", "ags", "code", "codes", "iso3")


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _prompt(c: Column) -> str:
    req = "Pflichtangabe. " if c.required else ""
    extra = {
        "date": " Datum TT.MM.JJJJ.",
        "month": " Monat MM.JJJJ (als Datum, Tag wird ignoriert).",
        "bool": " 1 = ja, 0 = nein.",
        "codes": " Mehrere Schlüssel durch Komma trennen, z. B. 01,08.",
        "ags": " 5- bzw. 8-stelliger Schlüssel, z. B. 08335.",
        "iso3": " Dreibuchstabiger Ländercode (ISO 3166-1 alpha-3), z. B. SYR; XXA staatenlos, XXX ungeklärt.",
    }.get(c.kind, "")
    text = f"{req}{c.description}.{extra}"
    return text[:250]


def build_template(dataset: str, out: Path) -> Path:
    """Write the template of ``dataset`` to ``out`` (.xlsx); returns the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    ds = DATASETS[dataset]
    lists = codelists()
    wb = Workbook()
    info = wb.active
    info.title = "Anleitung"
    bold = Font(bold=True)
    lines = [
        (f"Liefervorlage „{dataset}“ – {ds.title}", Font(bold=True, size=14)),
        ("", None),
        (f"Eine Zeile je {ds.row_unit}.", None),
        (f"Die Daten gehören auf das Blatt „{dataset}“, die Spaltenüberschriften stehen in Zeile 1 und dürfen nicht geändert werden.", None),
        (f"Dateiname: <Schlüssel>_{dataset}_<JJJJ-MM>.xlsx, z. B. 08335_{dataset}_2025-03.xlsx; ablegen im Eingangsordner des Jugendamts.", None),
        ("Spalten mit Auswahlliste: Schlüssel aus der Liste wählen (Bedeutungen auf dem Blatt „Schluessel“).", None),
        ("Datumsangaben als Datum (TT.MM.JJJJ), Monate als MM.JJJJ; Ja/Nein als 1/0. Leere Zelle = keine Angabe.", None),
        ("Keine Summenzeilen, keine verbundenen Zellen, keine Formeln; keine Zeilen oberhalb der Überschriften einfügen.", None),
        ("Gab es im Monat nichts zu melden, die Vorlage nur mit der Überschriftenzeile liefern (Fehlanzeige).", None),
        ("Vor dem Liefern prüfen: inobhut validate <Datei> – der Prüfbericht nennt Zeile, Spalte und Korrektur.", None),
        ("", None),
        ("Spalte", bold),
    ]
    for text, font in lines:
        info.append([text])
        if font is not None:
            info.cell(info.max_row, 1).font = font
    info.cell(info.max_row, 2, "Pflicht").font = bold
    info.cell(info.max_row, 3, "Beschreibung").font = bold
    for c in ds.columns:
        info.append([c.header, "ja" if c.required else "nein", _prompt(c)])
    info.column_dimensions["A"].width = 30
    info.column_dimensions["B"].width = 8
    info.column_dimensions["C"].width = 110

    ws = wb.create_sheet(dataset)
    codes_ws = wb.create_sheet(CODES_SHEET)
    codes_ws.append(["Spalte", "Schlüssel", "Bedeutung"])
    for cell in codes_ws[1]:
        cell.font = bold
    ranges: dict[str, str] = {}
    for c in ds.columns:
        if c.codelist or c.kind == "bool":
            items = list(lists[c.codelist].items()) if c.codelist else [("1", "ja"), ("0", "nein")]
            first = codes_ws.max_row + 1
            for code, label in items:
                codes_ws.append([c.header, code, label])
            ranges[c.name] = f"{CODES_SHEET}!$B${first}:$B${codes_ws.max_row}"
    codes_ws.column_dimensions["A"].width = 28
    codes_ws.column_dimensions["C"].width = 60

    head_fill = PatternFill("solid", fgColor="DDEBF7")
    ws.append([c.header for c in ds.columns])
    last = DATA_ROWS + 1
    for i, c in enumerate(ds.columns, start=1):
        col = _letter(i)
        cell = ws.cell(1, i)
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=False)
        ws.column_dimensions[col].width = max(12, len(c.header) + 3)
        ws.column_dimensions[col].number_format = "@" if c.kind in TEXT_KINDS else FORMATS.get(c.kind, "General")
        ref = f"{col}2:{col}{last}"
        if c.name in ranges:
            dv = DataValidation(type="list", formula1=f"={ranges[c.name]}", allow_blank=True)
            if c.kind == "codes":  # several codes in one cell: the list helps, but must not refuse "01,08"
                dv.errorStyle = "information"
            dv.error = "Bitte einen Schlüssel aus der Liste wählen (siehe Blatt „Schluessel“)."
            dv.errorTitle = "Unbekannter Schlüssel"
        elif c.kind in ("date", "month"):
            dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)  # after 01.01.2000 (1900 for months)
            if c.kind == "month":
                dv.formula1 = "1"
            dv.error = "Bitte ein Datum eintragen (TT.MM.JJJJ)." if c.kind == "date" else "Bitte einen Monat eintragen (MM.JJJJ)."
            dv.errorTitle = "Kein gültiges Datum"
        elif c.kind in ("int", "decimal"):
            lo = 0 if c.min_value is None else c.min_value
            if c.min_value is None and c.name == "plaetze_frei":
                lo = -10000  # over-occupation shows negative free places
            hi = 10**7 if c.max_value is None else c.max_value
            dv = DataValidation(type="whole" if c.kind == "int" else "decimal", operator="between",
                                formula1=str(int(lo) if c.kind == "int" else lo), formula2=str(int(hi) if c.kind == "int" else hi),
                                allow_blank=True)
            dv.error = f"Bitte eine {'ganze ' if c.kind == 'int' else ''}Zahl zwischen {lo:g} und {hi:g} eintragen."
            dv.errorTitle = "Zahl außerhalb des Bereichs"
        elif c.max_len:
            dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(c.max_len), allow_blank=True)
            dv.error = f"Höchstens {c.max_len} Zeichen."
            dv.errorTitle = "Text zu lang"
        else:
            dv = DataValidation(allow_blank=True)
        dv.prompt = _prompt(c)
        dv.promptTitle = c.header[:32]
        dv.showInputMessage = True
        dv.showErrorMessage = True
        dv.add(ref)
        ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    out = Path(out)
    return save_workbook(wb, out, None)  # byte-reproducible (inobhut.xlsx_io)
