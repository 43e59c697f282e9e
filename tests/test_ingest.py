"""Reading deliveries: encodings, dialects, header mapping, row numbers, value parsing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from inobhut.ingest import normalise_header, read_delivery
from tests.bad_input.builders import as_list, csv_text, headers, massnahme, personal, platz, write_csv, write_xlsx

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_rows": 1000}


def read(path, dataset="massnahmen"):
    return read_delivery(path, dataset, **LIMITS)


def cells(res):
    return [(f.rule_id, f.zeile, f.spalte, f.wert) for f in res.findings]


@pytest.mark.parametrize("encoding,delimiter", [("utf-8", ";"), ("utf-8-sig", ";"), ("cp1252", ";"), ("utf-8", ","), ("cp1252", ",")])
def test_csv_encodings_and_dialects(tmp_path, encoding, delimiter):
    rows = [massnahme(Fallnummer="Ä-1", Anlaesse="8|1|08"), massnahme(Fallnummer="Ö-2", Einrichtung="Haus Süd")]
    text = csv_text("massnahmen", rows, delimiter=delimiter).replace("Staatsangehoerigkeit", "Staatsangehörigkeit")
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode(encoding))
    res = read(path)
    assert res.findings == []
    assert res.encoding == encoding
    assert res.delimiter == delimiter
    assert list(res.frame["fallnummer"]) == ["Ä-1", "Ö-2"]
    assert res.frame.loc[1, "einrichtung"] == "Haus Süd"
    assert res.frame.loc[0, "anlaesse"] == "01,08"  # split on | and ",", padded, sorted, unique
    assert res.frame.loc[1, "staatsangehoerigkeit"] == "DEU"


def test_canonical_dtypes_and_values(tmp_path):
    path = write_csv(tmp_path / "d.csv", "massnahmen", [massnahme(
        Jugendamt="8335", Massnahme="02", Aufenthalt_vorher="1", Beginn="2025-03-03", Geburtsmonat="2012-05",
        Unbegleitet="ja", Gefaehrdungseinschaetzung="j", Wiederholt="nein", Geschlecht="W", Staatsangehoerigkeit="afg",
        Ende="7.3.2025", Ende_Grund="1", Anschluss="3")])
    res = read(path)
    assert res.findings == []
    df = res.frame
    row = df.iloc[0]
    assert row["jugendamt"] == "08335"
    assert row["massnahme"] == "2" and row["aufenthalt_vorher"] == "01" and row["anschluss"] == "03"
    assert row["beginn"] == pd.Timestamp(2025, 3, 3) and row["ende"] == pd.Timestamp(2025, 3, 7)
    assert row["geburtsmonat"] == pd.Timestamp(2012, 5, 1)
    assert bool(row["unbegleitet"]) is True and bool(row["wiederholt"]) is False
    assert row["geschlecht"] == "w" and row["staatsangehoerigkeit"] == "AFG"
    assert str(df["beginn"].dtype) == "datetime64[ns]"
    assert str(df["unbegleitet"].dtype) == "boolean"
    assert str(df["fallnummer"].dtype) == "string"
    assert df["widerspruch"].isna().all()
    assert list(df["_zeile"]) == [2]


def test_months_in_all_spellings(tmp_path):
    rows = [massnahme(Fallnummer=str(i), Geburtsmonat=g) for i, g in enumerate(["05.2012", "5.2012", "2012-05", "05/2012"])]
    res = read(write_csv(tmp_path / "d.csv", "massnahmen", rows))
    assert res.findings == []
    assert set(res.frame["geburtsmonat"]) == {pd.Timestamp(2012, 5, 1)}


def test_numbers_with_decimal_comma_point_and_thousands(tmp_path):
    rows = [platz(Einrichtung="A", Tagessatz="1.234,50", VZAE_Soll="2.5", VZAE_Ist="1,25", Plaetze_genehmigt="1.200", Plaetze_belegt="7", Plaetze_gesperrt="0", Plaetze_frei=""),
            platz(Einrichtung="B", Tagessatz="1,234.50", VZAE_Soll="3", Plaetze_genehmigt="12,0")]
    res = read(write_csv(tmp_path / "p.csv", "plaetze", rows), "plaetze")
    assert res.findings == []
    df = res.frame
    assert list(df["tagessatz"]) == [1234.5, 1234.5]
    assert list(df["vzae_soll"]) == [2.5, 3.0]
    assert df.loc[0, "vzae_ist"] == 1.25
    assert list(df["plaetze_genehmigt"]) == [1200, 12]
    assert str(df["plaetze_genehmigt"].dtype) == "Int64"


def test_blank_lines_are_skipped_but_row_numbers_stay(tmp_path):
    text = csv_text("personal", [personal(Bereich="1"), personal(Bereich="2")])
    lines = text.split("\r\n")
    text = "\r\n".join([lines[0], lines[1], "", ";;;;;;", lines[2]]) + "\r\n\r\n"
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    res = read(path, "personal")
    assert res.findings == []
    assert list(res.frame["_zeile"]) == [2, 5]


def test_header_spelling_case_spaces_umlauts_and_aliases(tmp_path):
    hdr = [f"  {h.upper()} " for h in headers("plaetze")]
    hdr[headers("plaetze").index("Plaetze_belegt")] = "Plätze belegt"
    hdr[headers("plaetze").index("VZAE_Soll")] = "VZÄ_Soll"
    hdr[headers("plaetze").index("Traeger_Art")] = "Träger_Art"
    path = tmp_path / "p.csv"
    values = list(platz().values())  # in header order
    path.write_text(";".join(hdr) + "\n" + ";".join(values) + "\n", encoding="utf-8")
    res = read(path, "plaetze")
    assert res.findings == []
    assert res.frame.loc[0, "plaetze_belegt"] == 7 and res.frame.loc[0, "vzae_soll"] == 8.5
    assert normalise_header(" Staatsangehörigkeit ") == normalise_header("STAATSANGEHOERIGKEIT")


def test_missing_required_column_and_extra_column(tmp_path):
    hdr = [h for h in headers("personal") if h != "Bereich"] + ["Bemerkung"]
    path = tmp_path / "p.csv"
    path.write_text(csv_text("personal", [personal()], header=hdr), encoding="utf-8")
    res = read(path, "personal")
    assert res.frame is None
    assert ("D013", 1, "Bereich", None) in cells(res)
    assert ("D014", 1, None, "Bemerkung") in cells(res)


def test_extra_column_only_is_a_warning(tmp_path):
    hdr = headers("personal") + ["Bemerkung"]
    path = tmp_path / "p.csv"
    path.write_text(csv_text("personal", [personal(Bemerkung="egal")], header=hdr), encoding="utf-8")
    res = read(path, "personal")
    assert cells(res) == [("D014", 1, None, "Bemerkung")]
    assert len(res.frame) == 1 and "bemerkung" not in res.frame.columns


def test_unparseable_values_keep_the_delivered_text(tmp_path):
    rows = [massnahme(Beginn="31.02.2025", Unbegleitet="vielleicht"), massnahme(Fallnummer="2", Geburtsmonat="13.2012", Jugendamt="833")]
    res = read(write_csv(tmp_path / "d.csv", "massnahmen", rows))
    assert sorted(cells(res)) == [
        ("Z003", 2, "Unbegleitet", "vielleicht"),
        ("Z003", 3, "Jugendamt", "833"),
        ("Z004", 2, "Beginn", "31.02.2025"),
        ("Z004", 3, "Geburtsmonat", "13.2012"),
    ]
    assert pd.isna(res.frame.loc[0, "beginn"])
    assert res.raw.loc[0, "beginn"] == "31.02.2025"


def test_serial_date_as_text_is_converted_with_a_hint(tmp_path):
    res = read(write_csv(tmp_path / "d.csv", "massnahmen", [massnahme(Beginn="45719"), massnahme(Fallnummer="2", Beginn="45720")]))
    assert cells(res) == [("D023", 2, "Beginn", "45719")]
    assert "2 Werte" in res.findings[0].meldung
    assert list(res.frame["beginn"]) == [pd.Timestamp(2025, 3, 3), pd.Timestamp(2025, 3, 4)]


def test_tick_box_booleans(tmp_path):
    rows = [massnahme(Widerspruch="x"), massnahme(Fallnummer="2", Widerspruch="")]
    res = read(write_csv(tmp_path / "d.csv", "massnahmen", rows))
    assert res.findings == []
    assert list(res.frame["widerspruch"]) == [True, False]


def test_xlsx_typed_cells_and_worksheet_row_numbers(tmp_path):
    h = headers("massnahmen")
    r1 = as_list("massnahmen", massnahme())
    r1[h.index("Beginn")] = dt.datetime(2025, 3, 3)
    r1[h.index("Geburtsmonat")] = dt.datetime(2012, 5, 1)
    r1[h.index("Jugendamt")] = 8335
    r1[h.index("Aufenthalt_vorher")] = 1
    r1[h.index("Massnahme")] = 1.0
    r2 = as_list("massnahmen", massnahme(Fallnummer="2"))
    path = write_xlsx(tmp_path / "d.xlsx", "massnahmen", [r1, [None] * len(h), r2])
    res = read(path)
    assert res.findings == []
    assert res.fmt == "xlsx"
    df = res.frame
    assert list(df["_zeile"]) == [2, 4]
    assert df.loc[0, "jugendamt"] == "08335" and df.loc[0, "aufenthalt_vorher"] == "01" and df.loc[0, "massnahme"] == "1"
    assert df.loc[0, "beginn"] == pd.Timestamp(2025, 3, 3) and df.loc[0, "geburtsmonat"] == pd.Timestamp(2012, 5, 1)


def test_xlsx_sheet_named_like_the_dataset_is_used(tmp_path):
    def edit(wb, ws):
        other = wb.create_sheet("Anleitung", 0)
        other["A1"] = "Bitte ausfüllen"
    path = write_xlsx(tmp_path / "d.xlsx", "personal", [as_list("personal", personal())], edit=edit)
    res = read(path, "personal")
    assert res.findings == []
    assert len(res.frame) == 1


def test_xlsx_formula_without_cached_value_is_reported_with_cell(tmp_path):
    def edit(wb, ws):
        ws["D2"] = "=VZAE_Soll*2"
    path = write_xlsx(tmp_path / "p.xlsx", "personal", [as_list("personal", personal())], edit=edit)
    res = read(path, "personal")
    assert ("D019", 2, "VZAE_Soll", "=VZAE_Soll*2") in cells(res)


def test_total_row_is_reported_and_not_read_as_data(tmp_path):
    text = csv_text("personal", [personal(), personal(Bereich="2")]) + "Gesamt;;;40;37;3;620\r\n"
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    res = read(path, "personal")
    assert cells(res) == [("D018", 4, None, "Gesamt")]
    assert len(res.frame) == 2
