"""The federal statistic of provisional protective measures (issue 9, section 1).

A generated year (three offices, two networks; about 6 s to build) gives the export of every
office, consistent with the Jahresbericht; each federal plausibility rule has a failing record;
the workbook is read back with openpyxl; two renders give the same bytes; the command line, the
optional delivery columns, the audit events, the index page and the Dagster asset are checked.
"""

from __future__ import annotations

import csv
import hashlib
import os
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from inobhut.meldungen import bund, bund_ausgabe
from inobhut.warehouse import Warehouse, replace_partition

OFFICES = ["01053", "01056", "08335043"]  # 01056 delivers Herkunft_Eltern/Familiensprache, 01053 not
YEAR = "2024"
KEY = b"bundesstatistik-test-schluessel"


@pytest.fixture(scope="module")
def year_wh(tmp_path_factory):
    """Generated deliveries of 2024 for three offices, read with the real ingest (massnahmen only)."""
    from inobhut.generate import generate
    from tests.helpers_fixtures import load_generated

    warnings.filterwarnings("ignore")
    old = os.environ.pop("INOBHUT_CONFIG", None)  # shipped member list
    tmp = tmp_path_factory.mktemp("bund")
    try:
        generate(tmp / "landing", "2024-01", "2024-12", seed=5, jugendaemter=OFFICES)
        wh = Warehouse(tmp / "warehouse.duckdb")
        load_generated(tmp / "landing", wh, ("massnahmen",), KEY)
        yield wh, tmp
    finally:
        if old is not None:
            os.environ["INOBHUT_CONFIG"] = old


def _csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def _sheet_rows(ws) -> list[list]:
    """Rows of the sheet's Excel table (header first)."""
    tab = next(iter(ws.tables.values()))
    return [[c.value for c in row] for row in ws[tab.ref]]


def test_generated_year_every_office_consistent_with_the_jahresbericht(year_wh, tmp_path):
    from inobhut.report_run import make_protect
    from inobhut.reports.network import build_jahresbericht
    from inobhut.statistics import compute_beendete

    wh, _ = year_wh
    out = tmp_path / "out"
    with wh.connect() as con:
        assert bund.offices_with_ended(con, YEAR) == sorted(OFFICES)
        results = bund_ausgabe.write_year(con, out, YEAR)
        beendete = compute_beendete(con, YEAR)
        raw_ids = {r[0] for r in con.execute("SELECT fall_id FROM massnahmen").fetchall()}
    assert sorted(results) == sorted(OFFICES)
    spec = bund.merkmale()
    for ags, (b, files) in results.items():
        assert [f.name for f in files] == [f"bundesstatistik_{ags}_{YEAR}.xlsx", f"bundesstatistik_{ags}_{YEAR}.csv",
                                           f"bundesstatistik_{ags}_{YEAR}_zurueckgewiesen.csv"]
        assert all(f.parent == out / "jugendaemter" / ags / "bundesstatistik" / YEAR for f in files)
        assert b.n_zurueckgewiesen == 0 and b.beendet == b.exportiert > 20
        # code level: exactly the Jahresbericht's table beendete of this office
        jb = beendete[beendete["jugendamt"] == ags][["merkmal", "auspraegung", "anzahl"]]
        mine = bund.counts(b)
        assert sorted(map(tuple, mine.astype(str).values)) == sorted(map(tuple, jb.astype(str).values)), ags
        # record file: one row per ended measure, pseudonym as Kenn-Nummer, never the raw case number
        rows = _csv_rows(files[1])
        assert len(rows) == int(jb[jb["merkmal"] == "insgesamt"]["anzahl"].iloc[0])
        assert {r["Kenn-Nummer"] for r in rows} <= raw_ids
        assert not any(r["Kenn-Nummer"].startswith("IO-") for r in rows)
        assert _csv_rows(files[2]) == []
        herkunft = {r[spec["herkunft_eltern"]["titel"]] for r in rows}
        if ags == "01053":
            assert herkunft == {"nicht erhoben"}
        elif ags == "01056":
            assert "nicht erhoben" not in herkunft and herkunft <= {"ja", "nein", "unbekannt"}
        # workbook summaries (read back): the "insgesamt" column per federal category = beendete mapped
        wb = openpyxl.load_workbook(files[0])
        for m, s in spec.items():
            jbname = s.get("jahresbericht")
            if not jbname:
                continue
            expected: dict[str, int] = {}
            for _, r in jb[jb["merkmal"] == jbname].iterrows():
                cat = bund.label(m, "m" if (m == "geschlecht" and r["auspraegung"] == "m") else r["auspraegung"], table=True)
                expected[cat] = expected.get(cat, 0) + int(r["anzahl"])
            table = _sheet_rows(wb[bund_ausgabe._sheet(s)])
            got = {row[0]: (0 if row[1] == "–" else row[1]) for row in table[1:] if row[0] != "insgesamt"}
            assert {k: v for k, v in got.items() if v} == expected, (ags, m)
            # the breakdown columns of the total row: § 42/§ 42a and männlich/weiblich as in beendete
            if not s.get("mehrfach"):
                total = dict(zip(table[0], table[-1]))
                assert total[s["titel"]] == "insgesamt"
                for col, (jm, code) in {"§ 42": ("massnahme", "1"), "§ 42a": ("massnahme", "2"),
                                        "männlich": ("geschlecht", "m"), "weiblich": ("geschlecht", "w")}.items():
                    want = jb[(jb["merkmal"] == jm) & (jb["auspraegung"] == code)]["anzahl"].sum()
                    assert (0 if total[col] == "–" else total[col]) == want, (ags, m, col)
    # the Jahresbericht itself (no disclosure): its table by office shows the same totals
    sh = [a for a in OFFICES if a.startswith("01")]
    with wh.connect() as con:
        model = build_jahresbericht(compute_beendete(con, YEAR), None, pd.DataFrame(
            columns=["jahr", "altersgruppe", "geschlecht", "anzahl"]), "SH-KOOP", YEAR, [], make_protect("keine"))
    by_office = next(t for t in model.tables if t.id == "nach_jugendamt").data
    from inobhut.reports.common import office_label

    for a in sh:
        row = by_office[by_office.iloc[:, 0] == office_label(a)].iloc[0]
        b = results[a][0]
        assert row["Beendete Maßnahmen"] == b.exportiert
        assert row["§42"] == int((b.codes["massnahme"] == "1").sum())


def test_workbook_layout_and_reproducible_bytes(year_wh, tmp_path):
    wh, _ = year_wh
    with wh.connect() as con:
        _, files1 = bund_ausgabe.write_office_year(con, tmp_path / "a", "01056", YEAR)
        _, files2 = bund_ausgabe.write_office_year(con, tmp_path / "b", "01056", YEAR)
    for f1, f2 in zip(files1, files2):
        assert f1.read_bytes() == f2.read_bytes(), f1.name
    wb = openpyxl.load_workbook(files1[0])
    names = wb.sheetnames
    assert names[:3] == ["Deckblatt", "Inhalt", "Erläuterungen"]
    assert {"Abgleich", "Datensätze", "Art der Maßnahme", "Anlass", "Alter", "Aufenthalt vorher", "Zurückgewiesen",
            "Datenstand"} <= set(names)
    assert all(len(n) <= 31 and n == n.strip() for n in names)
    assert wb.properties.language == "de-DE"
    rec = _sheet_rows(wb["Datensätze"])
    assert rec[0][:3] == ["Kenn-Nummer", "Berichtsjahr", "Jugendamt"]
    assert len(rec) - 1 == len(_csv_rows(files1[1]))
    ab = _sheet_rows(wb["Abgleich"])
    assert ab[1][1] == len(rec) - 1 and ab[3][1] == "–"
    assert "Statistischen Landesamt" in " ".join(str(c.value) for row in wb["Erläuterungen"].iter_rows() for c in row)


def _row(**over):
    r = {"fall_id": "abc", "monat": "2024-05", "version": 1, "_zeile": 7, "massnahme": "1", "traeger": "1",
         "beginn": pd.Timestamp("2024-05-03"), "ende": pd.Timestamp("2024-05-20"),
         "geburtsmonat": pd.Timestamp("2012-04-01"), "geschlecht": "w", "staatsangehoerigkeit": "DEU",
         "unbegleitet": False, "anlaesse": "01,02", "angeregt_durch": "3", "aufenthalt_vorher": "01",
         "unterbringung": "2", "einrichtung": "E1", "gefaehrdungseinschaetzung": True, "wiederholt": False,
         "widerspruch": None, "familiengericht": None, "ende_grund": "1", "anschluss": "01",
         "meldung_landesstelle": None, "verteilentscheidung": None, "zuweisung_jugendamt": None,
         "herkunft_eltern": None, "familiensprache": None}
    r.update(over)
    return r


RULE_CASES = [
    ("B001", dict(geburtsmonat=pd.Timestamp("2005-01-01"))),  # 19 at begin
    ("B001", dict(geburtsmonat=pd.Timestamp("2024-07-01"))),  # born after begin
    ("B002", dict(ende=pd.Timestamp("2024-05-01"))),
    ("B003", dict(anlaesse=None)),
    ("B004", dict(massnahme="2", anlaesse="08")),
    ("B005", dict(traeger=None)),
    ("B005", dict(anschluss=None)),
    ("B006", dict(aufenthalt_vorher="13")),
    ("B006", dict(anlaesse="01,99")),
    ("B007", dict(ende_grund="4")),
    ("B008", dict(unbegleitet=True, anlaesse="01", staatsangehoerigkeit="AFG")),
]


def test_valid_record_passes_all_rules():
    assert bund.check_measure(_row(), YEAR) == []
    assert bund.check_measure(_row(massnahme="2", unbegleitet=True, anlaesse="08", herkunft_eltern="1"), YEAR) == []


@pytest.mark.parametrize("rule,over", RULE_CASES)
def test_each_federal_rule_has_a_failing_record(rule, over):
    findings = bund.check_measure(_row(**over), YEAR)
    assert [f.rule_id for f in findings] == [rule]
    f = findings[0]
    assert f.severity == "Fehler" and f.zeile == 7 and f.meldung and f.hinweis and "{" not in f.meldung


def _measure_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([{k: v for k, v in r.items() if k not in ("monat", "version")} for r in rows])
    return df


def test_refused_records_are_listed_not_exported_and_cli_exit_codes(tmp_path, monkeypatch):
    """A warehouse with one good and two bad ended measures: the CLI writes the export of the good
    one, lists the bad ones with rule and fix (exit 1), records audit events with the sha256."""
    from inobhut import audit
    from pipelines.cli import main

    ags = "08335"
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    good, bad1, bad2 = _row(fall_id="gut"), _row(fall_id="alt", _zeile=9, geburtsmonat=pd.Timestamp("2005-01-01")), \
        _row(fall_id="ohne", _zeile=11, anlaesse=None)
    with wh.connect() as con:
        con.execute("BEGIN")
        replace_partition(con, "massnahmen", ags, "2024-05", 2, _measure_frame([good, bad1, bad2]))
        con.execute("COMMIT")
    for var, sub in (("INOBHUT_WAREHOUSE", "warehouse.duckdb"), ("INOBHUT_ARCHIVE", "archive"), ("INOBHUT_OUT", "out")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    res = CliRunner().invoke(main, ["meldung", "bund", "--jahr", YEAR, "--jugendamt", ags])
    assert res.exit_code == 1, res.output
    folder = tmp_path / "out" / "jugendaemter" / ags / "bundesstatistik" / YEAR
    rows = _csv_rows(folder / f"bundesstatistik_{ags}_{YEAR}.csv")
    assert [r["Kenn-Nummer"] for r in rows] == ["gut"]
    refused = _csv_rows(folder / f"bundesstatistik_{ags}_{YEAR}_zurueckgewiesen.csv")
    assert [(r["Kenn-Nummer"], r["Regel"], r["Zeile"], r["Lieferung"]) for r in refused] == [
        ("alt", "B001", "9", f"{ags}_massnahmen_2024-05"), ("ohne", "B003", "11", f"{ags}_massnahmen_2024-05")]
    assert all(r["Korrekturhinweis"] for r in refused)
    wb = openpyxl.load_workbook(folder / f"bundesstatistik_{ags}_{YEAR}.xlsx")
    assert [r[6] for r in _sheet_rows(wb["Zurückgewiesen"])[1:]] == ["B001", "B003"]
    assert [r[1] for r in _sheet_rows(wb["Abgleich"])[1:]] == [3, 1, 2]
    import json

    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert f"jugendaemter/{ags}/bundesstatistik/{YEAR}/bundesstatistik_{ags}_{YEAR}.xlsx" in {
        o["datei"] for o in manifest["ausgaben"]}
    assert f"bundesstatistik_{ags}_{YEAR}.xlsx" in (tmp_path / "out" / "berichte" / "index.html").read_text(encoding="utf-8")
    events = [e for e in audit.read(tmp_path / "archive") if e["ereignis"] == "ausgabe" and "/bundesstatistik/" in e["datei"]]
    assert len(events) == 3  # once per file, although the manifest was rewritten after them
    for e in events:
        assert e["sha256"] == hashlib.sha256((tmp_path / "out" / e["datei"]).read_bytes()).hexdigest()
        assert "gut" not in (e["detail"] or "") and e["ags"] == ags and e["monat"] == YEAR
    # unusable calls
    assert CliRunner().invoke(main, ["meldung", "bund", "--jahr", "24"]).exit_code == 2
    assert CliRunner().invoke(main, ["meldung", "bund", "--jahr", YEAR, "--jugendamt", "99999"]).exit_code == 2
    assert CliRunner().invoke(main, ["meldung", "bund"]).exit_code == 2
    monkeypatch.setenv("INOBHUT_WAREHOUSE", str(tmp_path / "fehlt.duckdb"))
    assert CliRunner().invoke(main, ["meldung", "bund", "--jahr", YEAR]).exit_code == 2
    assert "Bundesstatistik" in CliRunner().invoke(main, ["meldung", "bund", "--help"]).output


def test_optional_columns_old_files_valid_new_codes_checked_old_warehouse_migrated(tmp_path):
    import duckdb

    from tests.bad_input.builders import AGS, KEY as BKEY, MONTH, headers, massnahme, write_csv
    from inobhut.validation import validate_delivery

    old_header = [h for h in headers("massnahmen") if h not in ("Herkunft_Eltern", "Familiensprache")]
    p = write_csv(tmp_path / f"{AGS}_massnahmen_{MONTH}.csv", "massnahmen", [massnahme()], header=old_header)
    res = validate_delivery(p, ags=AGS, dataset="massnahmen", month=MONTH, key=BKEY)
    assert res.verdict == "angenommen" and res.frame["herkunft_eltern"].isna().all()
    p = write_csv(tmp_path / f"{AGS}_massnahmen_{MONTH}.csv", "massnahmen",
                  [massnahme(Herkunft_Eltern="1", Familiensprache="5")])
    res = validate_delivery(p, ags=AGS, dataset="massnahmen", month=MONTH, key=BKEY)
    assert [(f.rule_id, f.spalte, f.wert) for f in res.findings] == [("Z002", "Familiensprache", "5")]
    # a warehouse created before the columns existed gets them when opened
    db = tmp_path / "alt.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE massnahmen (jugendamt VARCHAR, monat VARCHAR, version INTEGER, _zeile INTEGER, fall_id VARCHAR)")
    con.close()
    with Warehouse(db).connect() as con:
        cols = [r[0] for r in con.execute("DESCRIBE massnahmen").fetchall()]
    assert {"herkunft_eltern", "familiensprache"} <= set(cols)


def test_template_offers_the_optional_columns(tmp_path):
    from inobhut.template import build_template

    wb = openpyxl.load_workbook(build_template("massnahmen", tmp_path / "vorlage.xlsx"))
    header = [c.value for c in wb["massnahmen"][1]]
    assert {"Herkunft_Eltern", "Familiensprache"} <= set(header)


def test_mapping_covers_every_code_and_the_jahresbericht_classes():
    from inobhut.statistics import ALTERSGRUPPEN, DAUERKLASSEN
    from schemas.datasets import codes

    spec = bund.merkmale()
    for m, s in spec.items():
        assert s["titel"] and s["codes"]
        if s.get("spalte"):
            col = bund.MASSNAHMEN.column(s["spalte"])
            if col.codelist:
                assert set(s["codes"]) == set(codes(col.codelist)), m
            else:
                assert set(s["codes"]) == {"0", "1"}, m
    assert bund._classes("altersgruppe") == [tuple(x) for x in ALTERSGRUPPEN]
    assert [c for c, _, _ in bund._classes("dauerklasse")] == [c for c, _, _ in DAUERKLASSEN]


def test_dagster_asset_writes_files_index_and_manifest(year_wh, tmp_path):
    import dagster as dg

    from assets.statutory.bund import bundesstatistik, years_of_run
    from pipelines.jobs import range_tags
    from pipelines.resources import InobhutResource

    wh, base = year_wh
    out = tmp_path / "out"
    res = InobhutResource(landing=str(base / "landing"), archive=str(tmp_path / "archive"), staging=str(tmp_path / "st"),
                          warehouse=str(wh.path), out=str(out))
    with dg.instance_for_test() as instance:
        result = dg.materialize([bundesstatistik], partition_key=YEAR, resources={"inobhut": res}, instance=instance)
    assert result.success
    for a in OFFICES:
        assert (out / "jugendaemter" / a / "bundesstatistik" / YEAR / f"bundesstatistik_{a}_{YEAR}.xlsx").is_file()
    index = (out / "berichte" / "index.html").read_text(encoding="utf-8")
    assert f"../jugendaemter/01056/bundesstatistik/{YEAR}/bundesstatistik_01056_{YEAR}.xlsx" in index
    import json

    listed = {o["datei"] for o in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["ausgaben"]}
    assert f"jugendaemter/01056/bundesstatistik/{YEAR}/bundesstatistik_01056_{YEAR}.csv" in listed
    assert years_of_run(range_tags("2023-11", "2024-02")) == ["2023", "2024"]
    assert years_of_run({"dagster/partition": "2024-05"}) == ["2024"]
    assert years_of_run({}) == []


def test_pruefbericht_tells_whether_the_optional_columns_came(tmp_path):
    from inobhut.pruefbericht import write_pruefbericht
    from inobhut.validation import validate_delivery
    from tests.bad_input.builders import AGS, KEY as BKEY, MONTH, headers, massnahme, write_csv
    from tests.test_pruefbericht import META, parse

    rows = [massnahme(Fallnummer="A-1", Herkunft_Eltern="1", Familiensprache="2"), massnahme(Fallnummer="A-2")]
    p = write_csv(tmp_path / META["file_name"], "massnahmen", rows)
    res = validate_delivery(p, ags=AGS, dataset="massnahmen", month=MONTH, key=BKEY)
    assert res.verdict == "angenommen"
    html, xlsx, _ = write_pruefbericht(res, META, tmp_path / "mit")
    text = " ".join(parse(html).text)
    assert "Herkunft_Eltern: in 1 von 2 Zeilen angegeben; Familiensprache: in 1 von 2 Zeilen angegeben." in text
    ov = {r[0]: r[1] for r in openpyxl.load_workbook(xlsx)["Übersicht"].iter_rows(values_only=True) if r and r[0]}
    assert ov["Merkmale der Bundesstatistik"].startswith("Herkunft_Eltern: in 1 von 2")
    old_header = [h for h in headers("massnahmen") if h not in ("Herkunft_Eltern", "Familiensprache")]
    p = write_csv(tmp_path / META["file_name"], "massnahmen", rows, header=old_header)
    res = validate_delivery(p, ags=AGS, dataset="massnahmen", month=MONTH, key=BKEY)
    html, _, _ = write_pruefbericht(res, META, tmp_path / "ohne")
    assert "„nicht erhoben“" in " ".join(parse(html).text)


def test_office_without_ended_measures_gets_a_fehlanzeige(tmp_path):
    """An office that delivered in the year but whose measures are all still open: the export
    exists, says so and stays valid (no empty cells, empty record file with its header)."""
    ags = "08335"
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    with wh.connect() as con:
        con.execute("BEGIN")
        replace_partition(con, "massnahmen", ags, "2024-05", 1, _measure_frame([_row(ende=None, ende_grund=None,
                                                                                     anschluss=None)]))
        con.execute("COMMIT")
        assert bund.offices_with_ended(con, YEAR) == [ags]
        b, files = bund_ausgabe.write_office_year(con, tmp_path / "out", ags, YEAR)
    assert (b.beendet, b.exportiert, b.n_zurueckgewiesen) == (0, 0, 0)
    assert _csv_rows(files[1]) == [] and files[1].read_text(encoding="utf-8-sig").startswith("Kenn-Nummer;")
    wb = openpyxl.load_workbook(files[0])
    assert _sheet_rows(wb["Datensätze"])[1][0] == "keine"
    assert [r[1] for r in _sheet_rows(wb["Abgleich"])[1:]] == ["–", "–", "–"]
    assert _sheet_rows(wb["Art der Maßnahme"])[-1] == ["insgesamt", "–", "–", "–", "–", "–"]


def test_summary_sheet_names_fit_excel():
    names = [bund_ausgabe._sheet(s) for s in bund.merkmale().values()]
    assert len(set(names)) == len(names) and all(len(n) <= 31 for n in names)
    assert all(len(s["titel"]) <= 31 or "blatt" in s for s in bund.merkmale().values())  # never cut mid-word


def test_sensor_requests_the_years_of_a_finished_run():
    """The run-status sensor (daemon) turns a finished range run into one request per touched year."""
    import dagster as dg

    from assets.statutory.bund import bundesstatistik_nach_lauf
    from pipelines.jobs import range_tags

    @dg.op
    def nichts():
        return 1

    @dg.job
    def kurz():
        nichts()

    instance = dg.DagsterInstance.ephemeral()
    result = kurz.execute_in_process(instance=instance, tags=range_tags("2023-12", "2024-02"))
    ctx = dg.build_run_status_sensor_context(sensor_name="bundesstatistik_nach_lauf", dagster_instance=instance,
                                             dagster_run=result.dagster_run,
                                             dagster_event=result.get_run_success_event())
    requests = bundesstatistik_nach_lauf(ctx)
    assert [r.partition_key for r in requests] == ["2023", "2024"]
    assert len({r.run_key for r in requests}) == 2
