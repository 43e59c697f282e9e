"""The Excel delivery template: structure read back with openpyxl, and a template filled in by
hand (openpyxl) and saved is accepted by ``inobhut validate``."""

from __future__ import annotations

import datetime as dt

import openpyxl
from click.testing import CliRunner

from pipelines.cli import main
from schemas.datasets import DATASETS, codes


def test_template_structure(tmp_path):
    out = tmp_path / "vorlage.xlsx"
    res = CliRunner().invoke(main, ["template", "massnahmen", "--out", str(out)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Anleitung", "massnahmen", "Schluessel"]
    assert "Liefervorlage" in wb["Anleitung"]["A1"].value
    ws = wb["massnahmen"]
    ds = DATASETS["massnahmen"]
    assert [c.value for c in ws[1]] == [c.header for c in ds.columns]
    by_col = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            by_col[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    header = [c.header for c in ds.columns]
    geschlecht = by_col[openpyxl.utils.get_column_letter(header.index("Geschlecht") + 1)]
    assert geschlecht.type == "list" and geschlecht.showInputMessage and "Geschlecht" in geschlecht.prompt
    ref = geschlecht.formula1.lstrip("=").split("!")[1].replace("$", "")
    listed = [c.value for row in wb["Schluessel"][ref] for c in row]
    assert listed == codes("geschlecht")
    # every coded column has a drop-down; dates have a date check and format
    for c in ds.columns:
        dv = by_col[openpyxl.utils.get_column_letter(header.index(c.header) + 1)]
        if c.codelist or c.kind == "bool":
            assert dv.type == "list", c.header
        if c.kind == "date":
            assert dv.type == "date"
            assert ws.column_dimensions[openpyxl.utils.get_column_letter(header.index(c.header) + 1)].number_format == "DD.MM.YYYY"
    assert CliRunner().invoke(main, ["template", "gibtsnicht", "--out", str(out)]).exit_code == 2


def test_filled_template_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", "test")
    out = tmp_path / "08335_massnahmen_2025-03.xlsx"
    assert CliRunner().invoke(main, ["template", "massnahmen", "--out", str(out)]).exit_code == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["massnahmen"]
    header = [c.value for c in ws[1]]
    rows = [
        {"Fallnummer": "A-1", "Jugendamt": "08335", "Massnahme": "1", "Traeger": "2", "Beginn": dt.datetime(2025, 3, 3),
         "Geburtsmonat": dt.datetime(2012, 4, 1), "Geschlecht": "w", "Unbegleitet": 0, "Anlaesse": "01,02",
         "Angeregt_durch": "3", "Aufenthalt_vorher": "01", "Unterbringung": "1", "Gefaehrdungseinschaetzung": 1, "Wiederholt": 0},
        {"Fallnummer": "A-2", "Jugendamt": "08335", "Massnahme": "2", "Traeger": "1", "Beginn": dt.datetime(2025, 3, 10),
         "Ende": dt.datetime(2025, 3, 20), "Geburtsmonat": dt.datetime(2009, 1, 1), "Geschlecht": "m",
         "Staatsangehoerigkeit": "SYR", "Unbegleitet": 1, "Anlaesse": "08", "Angeregt_durch": "4", "Aufenthalt_vorher": "10",
         "Unterbringung": "3", "Gefaehrdungseinschaetzung": 0, "Wiederholt": 0, "Ende_Grund": "4", "Anschluss": "08",
         "Meldung_Landesstelle": dt.datetime(2025, 3, 11), "Verteilentscheidung": "1", "Zuweisung_Jugendamt": "08111"},
    ]
    for i, r in enumerate(rows, start=2):
        for k, v in r.items():
            ws.cell(i, header.index(k) + 1).value = v
    wb.save(out)
    res = CliRunner().invoke(main, ["validate", str(out), "--bericht", str(tmp_path / "pb")])
    assert res.exit_code == 0, res.output
    assert "angenommen – 2 Zeilen, 0 Fehler, 0 Hinweise" in res.output
    assert (tmp_path / "pb" / "08335" / "massnahmen_2025-03_vorpruefung.json").exists()
    # the same file with an unknown code is rejected (exit 1)
    ws.cell(2, header.index("Geschlecht") + 1).value = "q"
    wb.save(out)
    assert CliRunner().invoke(main, ["validate", str(out), "--bericht", str(tmp_path / "pb")]).exit_code == 1
