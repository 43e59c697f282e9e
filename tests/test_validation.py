"""Validation: exact findings for hand-made rows, dataset-level rules, context, pseudonymisation."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from inobhut.pseudonym import pseudonymise
from inobhut.validation import (
    RULES_VERSION, ValidationContext, catalogue_markdown, rules, validate_delivery,
)
from inobhut.warehouse import DATASETS, data_columns
from schemas.pandera_schemas import schema_for
from tests.bad_input.builders import AGS, KEY, MONTH, ROW, massnahme, personal, platz, uma, write_csv

REPO = Path(__file__).resolve().parents[1]


def run(tmp_path, dataset, rows, month=MONTH, context=None, name=None):
    path = write_csv(tmp_path / (name or f"{AGS}_{dataset}_{month}.csv"), dataset, rows)
    return validate_delivery(path, ags=AGS, dataset=dataset, month=month, key=KEY, context=context)


def found(result):
    return sorted((f.rule_id, f.zeile, f.spalte) for f in result.findings)


M2 = dict(Massnahme="2", Unbegleitet="1", Anlaesse="08", Staatsangehoerigkeit="AFG", Meldung_Landesstelle="05.03.2025")
ENDED = dict(Ende="10.03.2025", Ende_Grund="1", Anschluss="01")

ROW_CASES = [
    # (id, dataset, overrides, expected (rule, row, column) list)
    ("Z001 Pflichtangabe", "massnahmen", dict(Beginn=""), [("Z001", 2, "Beginn")]),
    ("Z002 Anlass unbekannt", "massnahmen", dict(Anlaesse="01,15"), [("Z002", 2, "Anlaesse")]),
    ("Z002 Land unbekannt", "uma", dict(Staatsangehoerigkeit="ABC"), [("Z002", 2, "Staatsangehoerigkeit")]),
    ("Z003 Fallnummer zu lang", "massnahmen", dict(Fallnummer="X" * 41), [("Z003", 2, "Fallnummer")]),
    ("Z005 negativ", "plaetze", dict(VZAE_Ist="-1"), [("Z005", 2, "VZAE_Ist")]),
    ("Z005 Alter über 27", "plaetze", dict(Alter_bis="30"), [("Z005", 2, "Alter_bis")]),
    ("Z006 Ende vor Beginn", "massnahmen", dict(Beginn="10.03.2025", Ende="05.03.2025", Ende_Grund="1", Anschluss="01"), [("Z006", 2, "Ende")]),
    ("Z006 uma", "uma", dict(Zustaendig_seit="10.03.2025", Zustaendig_bis="05.03.2025", Ende_Grund="1"), [("Z006", 2, "Zustaendig_bis")]),
    ("Z007 Beginn nach Monat", "massnahmen", dict(Beginn="01.04.2025"), [("Z007", 2, "Beginn")]),
    ("Z007 Stichtag nach Monat", "plaetze", dict(Stichtag="01.04.2025"), [("Z007", 2, "Stichtag")]),
    ("Z008 Ende vor Monat", "massnahmen", dict(Beginn="01.02.2025", Ende="28.02.2025", Ende_Grund="1", Anschluss="01"), [("Z008", 2, "Ende")]),
    ("Z008 uma", "uma", dict(Zustaendig_bis="31.01.2025", Ende_Grund="3"), [("Z008", 2, "Zustaendig_bis")]),
    ("Z010 Geburtsmonat nach Beginn", "massnahmen", dict(Geburtsmonat="04.2025"), [("Z010", 2, "Geburtsmonat")]),
    ("Z011 18 Jahre", "massnahmen", dict(Geburtsmonat="03.2007"), [("Z011", 2, "Geburtsmonat")]),
    ("Z011 17 Jahre: kein Befund", "massnahmen", dict(Geburtsmonat="04.2007"), []),
    ("Z012 §42a ohne Unbegleitet", "massnahmen", dict(M2, Unbegleitet="0", Anlaesse="01"), [("Z012", 2, "Unbegleitet")]),
    ("Z013 Ende_Grund 4 bei §42", "massnahmen", dict(Ende="10.03.2025", Ende_Grund="4", Anschluss="08"), [("Z013", 2, "Ende_Grund")]),
    ("Z014 Verteilentscheidung bei §42", "massnahmen", dict(Verteilentscheidung="1", Zuweisung_Jugendamt="08111"), [("Z014", 2, "Verteilentscheidung")]),
    ("Z014 Meldung bei §42", "massnahmen", dict(Meldung_Landesstelle="04.03.2025"), [("Z014", 2, "Meldung_Landesstelle")]),
    ("Z015 Plaetze_frei", "plaetze", dict(Plaetze_frei="3"), [("Z015", 2, "Plaetze_frei")]),
    ("Z016 Alter vertauscht", "plaetze", dict(Alter_von="18", Alter_bis="17"), [("Z016", 2, "Alter_von")]),
    ("Z017 Staatsangehörigkeit", "massnahmen", dict(Unbegleitet="1", Anlaesse="08", Staatsangehoerigkeit=""), [("Z017", 2, "Staatsangehoerigkeit")]),
    ("Z017 Ende ohne Grund und Anschluss", "massnahmen", dict(Ende="10.03.2025"), [("Z017", 2, "Anschluss"), ("Z017", 2, "Ende_Grund")]),
    ("Z017 Einrichtung", "massnahmen", dict(Einrichtung=""), [("Z017", 2, "Einrichtung")]),
    ("Z017 Zuweisung", "massnahmen", dict(M2, Verteilentscheidung="1"), [("Z017", 2, "Zuweisung_Jugendamt")]),
    ("Z017 uma Ende_Grund", "uma", dict(Zustaendig_bis="20.03.2025"), [("Z017", 2, "Ende_Grund")]),
    ("Z018 Stichtag vor Monat", "plaetze", dict(Stichtag="28.02.2025"), [("Z018", 2, "Stichtag")]),
    ("Z101 Dauer", "massnahmen", dict(Beginn="01.02.2024"), [("Z101", 2, "Beginn")]),
    ("Z102 Beginn lange zurück", "massnahmen", dict(Beginn="01.01.2022", Geburtsmonat="05.2012"), [("Z101", 2, "Beginn"), ("Z102", 2, "Beginn")]),
    ("Z103 Säugling selbst", "massnahmen", dict(Geburtsmonat="01.2025", Angeregt_durch="1"), [("Z103", 2, "Angeregt_durch")]),
    ("Z104 Überbelegung", "plaetze", dict(Plaetze_belegt="12", Plaetze_frei=""), [("Z104", 2, "Plaetze_belegt")]),
    ("Z105 Meldung nach 8 Werktagen", "massnahmen", dict(M2, Meldung_Landesstelle="13.03.2025"), [("Z105", 2, "Meldung_Landesstelle")]),
    ("Z105 7 Werktage: kein Befund", "massnahmen", dict(M2, Meldung_Landesstelle="12.03.2025"), []),
    ("Z106 Meldung fehlt", "massnahmen", dict(M2, Meldung_Landesstelle=""), [("Z106", 2, "Meldung_Landesstelle")]),
    ("Z106 kurz vor Monatsende: kein Befund", "massnahmen", dict(M2, Beginn="27.03.2025", Meldung_Landesstelle=""), []),
    ("Z107 Anlass 08 ohne Unbegleitet", "massnahmen", dict(Anlaesse="08"), [("Z107", 2, "Anlaesse")]),
]


@pytest.mark.parametrize("dataset,overrides,expected", [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES])
def test_row_rules_exact_findings(tmp_path, dataset, overrides, expected):
    res = run(tmp_path, dataset, [ROW[dataset](**overrides)])
    assert found(res) == sorted(expected)
    severities = {rules()[r].schwere for r, _, _ in expected}
    if "Fehler" in severities:
        assert res.verdict == "abgelehnt" and res.frame is None
    elif expected:
        assert res.verdict == "angenommen mit Hinweisen" and len(res.frame) == 1
    else:
        assert res.verdict == "angenommen"


def test_messages_carry_details(tmp_path):
    res = run(tmp_path, "massnahmen", [massnahme(**dict(M2, Meldung_Landesstelle="13.03.2025"))])
    assert res.findings[0].meldung == ("Die Meldung an die Landesstelle erfolgte 8 Werktage nach Beginn (Frist: 7 Werktage).")
    res = run(tmp_path, "plaetze", [platz(Plaetze_frei="3")])
    f = res.findings[0]
    assert (f.wert, f.meldung) == ("3", "Plaetze_frei (3) ist nicht genehmigt − belegt − gesperrt (2).")
    res = run(tmp_path, "massnahmen", [massnahme(Unbegleitet="1", Staatsangehoerigkeit="", Anlaesse="08")])
    assert "weil Unbegleitet = 1 ist" in res.findings[0].meldung


def test_parse_error_is_not_reported_twice(tmp_path):
    res = run(tmp_path, "massnahmen", [massnahme(Beginn="gestern")])
    assert found(res) == [("Z004", 2, "Beginn")]


def test_all_datasets_valid_and_frame_ready_for_warehouse(tmp_path):
    for dataset, rows in {"massnahmen": [massnahme()], "uma": [uma()], "plaetze": [platz()], "personal": [personal()]}.items():
        res = run(tmp_path, dataset, rows)
        assert res.verdict == "angenommen", (dataset, found(res))
        assert res.findings == [] and res.n_rows == 1 and not res.fehlanzeige
        target = {n for n, _ in data_columns(DATASETS[dataset])} - {"monat", "version"}
        assert target <= set(res.frame.columns), target - set(res.frame.columns)
        assert "fallnummer" not in res.frame.columns
        assert res.rules_version == RULES_VERSION


def test_pseudonymisation_and_no_raw_case_number_anywhere(tmp_path):
    rows = [massnahme(Fallnummer="AZ-4711-GEHEIM"), massnahme(Fallnummer="AZ-4711-GEHEIM", Anlaesse="08")]
    res = run(tmp_path, "massnahmen", rows)
    assert ("S001", 3, "Fallnummer") in found(res)
    dup = next(f for f in res.findings if f.rule_id == "S001")
    assert dup.wert == "***IM" and "Zeile 2" in dup.meldung
    for f in res.findings:
        assert "AZ-4711" not in f"{f.wert} {f.meldung} {f.hinweis}"
    ok = run(tmp_path, "massnahmen", [massnahme(Fallnummer="AZ-4711-GEHEIM")])
    assert list(ok.frame["fall_id"]) == [pseudonymise(AGS, "AZ-4711-GEHEIM", KEY)]
    assert not ok.frame.astype(str).apply(lambda c: c.str.contains("AZ-4711")).any().any()


def test_plaetze_duplicate_facility_and_day(tmp_path):
    res = run(tmp_path, "plaetze", [platz(), platz(Stichtag="15.03.2025"), platz()])
    assert found(res) == [("S001", 4, "Einrichtung")]
    assert res.findings[0].wert == "E1 / 31.03.2025"


def test_all_rows_of_another_office(tmp_path):
    res = run(tmp_path, "personal", [personal(Jugendamt="08336"), personal(Jugendamt="08336", Bereich="2")])
    assert found(res) == [("S002", None, "Jugendamt")]
    res = run(tmp_path, "personal", [personal(), personal(Jugendamt="08336", Bereich="2")])
    assert found(res) == [("Z009", 3, "Jugendamt")]


def test_header_only_is_fehlanzeige(tmp_path):
    res = run(tmp_path, "uma", [])
    assert (res.verdict, res.n_rows, res.fehlanzeige, res.findings) == ("angenommen", 0, True, [])


def test_shares_of_geschlecht_o_and_anlass_14(tmp_path):
    rows = [massnahme(Fallnummer=str(i), Geschlecht="o" if i < 2 else "w", Anlaesse="14" if i < 4 else "01") for i in range(10)]
    res = run(tmp_path, "massnahmen", rows)
    assert found(res) == [("S105", None, "Geschlecht"), ("S106", None, "Anlaesse")]
    assert "20,0 %" in res.findings[0].meldung and "40,0 %" in res.findings[1].meldung
    rows = [massnahme(Fallnummer=str(i), Geschlecht="o" if i < 1 else "w", Anlaesse="14" if i < 3 else "01") for i in range(10)]
    assert found(run(tmp_path, "massnahmen", rows)) == []


def _previous(tmp_path):
    prev_rows = [
        massnahme(Fallnummer="A", Beginn="03.02.2025"),
        massnahme(Fallnummer="B", Beginn="03.02.2025", Ende="20.02.2025", Ende_Grund="1", Anschluss="01"),
        massnahme(Fallnummer="C", Beginn="05.02.2025"),
    ]
    d = tmp_path / "prev"
    d.mkdir()
    prev = run(d, "massnahmen", prev_rows, month="2025-02")
    assert prev.verdict == "angenommen"
    return prev.frame


def test_continuation_rowcount_and_facilities(tmp_path):
    ctx = ValidationContext(previous=_previous(tmp_path), previous_rows=30, plaetze_ids={"E1"})
    res = run(tmp_path, "massnahmen", [massnahme(Fallnummer="A", Beginn="03.02.2025"), massnahme(Fallnummer="D", Einrichtung="E9")], context=ctx)
    assert found(res) == [("S101", None, None), ("S102", None, "Fallnummer"), ("S104", 3, "Einrichtung")]
    s102 = next(f for f in res.findings if f.rule_id == "S102")
    assert "Vormonat Zeile 4" in s102.meldung  # case C was row 4 of February's file
    assert res.verdict == "angenommen mit Hinweisen"


def test_confirmed_hint_does_not_count(tmp_path):
    fid = pseudonymise(AGS, "D", KEY)
    ctx = ValidationContext(plaetze_ids={"E1"}, confirmations={("S104", fid)})
    res = run(tmp_path, "massnahmen", [massnahme(Fallnummer="D", Einrichtung="E9")], context=ctx)
    assert [(f.rule_id, f.bestaetigt) for f in res.findings] == [("S104", True)]
    assert res.verdict == "angenommen"


def test_facility_missing_against_previous_month(tmp_path):
    d = tmp_path / "prev"
    d.mkdir()
    prev = run(d, "plaetze", [platz(Stichtag="28.02.2025"), platz(Einrichtung="E2", Stichtag="28.02.2025")], month="2025-02")
    res = run(tmp_path, "plaetze", [platz()], context=ValidationContext(previous=prev.frame))
    assert found(res) == [("S103", None, "Einrichtung")]
    assert res.findings[0].wert == "E2"


def test_rules_catalogue_is_complete_and_versioned():
    text = (REPO / "schemas" / "rules.yaml").read_text(encoding="utf-8")
    assert RULES_VERSION == hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    for ds in DATASETS:
        schema = schema_for(ds)
        names = [c.name for c in schema.checks] + [c.name for col in schema.columns.values() for c in col.checks]
        for n in names:
            assert n.split(":")[0] in rules(), n
    code = "\n".join(p.read_text(encoding="utf-8") for p in [REPO / "inobhut" / "ingest.py", *sorted((REPO / "inobhut" / "validation").glob("*.py"))])
    used = set(re.findall(r'"([DZS]\d{3})"', code)) | {n.split(":")[0] for ds in DATASETS for n in [c.name for c in schema_for(ds).checks]}
    assert used <= set(rules())
    for rid, r in rules().items():
        assert r.meldung and r.hinweis and re.fullmatch(r"[DZSB]\d{3}", rid)


def test_rule_catalogue_doc_is_up_to_date():
    assert (REPO / "docs" / "pruefregeln.md").read_text(encoding="utf-8") == catalogue_markdown()


def test_typical_file_through_the_pipeline_path(tmp_path):
    """300 rows through prepare + finish (timing: bench/bench_components.py)."""
    rows = [massnahme(Fallnummer=f"F{i}", Beginn=f"{1 + i % 28:02d}.03.2025", Anlaesse="01|02") for i in range(300)]
    path = write_csv(tmp_path / "m.csv", "massnahmen", rows)
    # The per-file part of the pipeline path: file and row level, then verdict. Great Expectations
    # runs once per batch of files (its cost per batch is measured in tests/test_gx.py).
    from inobhut.validation import finish, prepare

    res = finish(prepare(path, ags=AGS, dataset="massnahmen", month=MONTH, key=KEY))
    assert res.verdict == "angenommen" and res.n_rows == 300
    assert "fallnummer" not in res.frame.columns and res.frame["fall_id"].notna().all()
