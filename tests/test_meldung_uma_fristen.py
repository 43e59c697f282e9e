"""UMA-Werktagsmeldung and Fristenliste §42a (issue 9, sections 2 and 3) on hand-made deliveries.

The fixture ``tests/fixtures/meldungen`` (README there) has two SH-KOOP offices in January and
February 2025 with known dates; every expected number below is computed by hand in that README.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.helpers_fixtures import (
    FIXTURES,
    activate_test_settings,
    fixture_statistics,
    load_files,
)

D = dt.date
N, S = "01060063", "01062"  # Norderstedt, Stormarn (SH-KOOP)
MELDUNGEN = FIXTURES / "meldungen"
# delivery order: round 1 (January, February), then round 2 (the February correction of Norderstedt)
FILES = [*sorted((MELDUNGEN / "runde1").glob("*/*.csv")), *sorted((MELDUNGEN / "runde2").glob("*/*.csv"))]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("meldungen")
    old = os.environ.get("INOBHUT_CONFIG")
    activate_test_settings(tmp)
    try:
        yield load_files(tmp / "warehouse.duckdb", [(p, "angenommen") for p in FILES])
    finally:
        if old is None:
            os.environ.pop("INOBHUT_CONFIG", None)
        else:
            os.environ["INOBHUT_CONFIG"] = old


def _rows(df: pd.DataFrame) -> dict[str, dict]:
    return {r["jugendamt"]: r for r in df.to_dict("records")}


# ---------------------------------------------------------------- UMA-Werktagsmeldung


def test_uma_day_between_two_month_ends_hand_computed(wh):
    from inobhut.meldungen import uma_tag

    with wh.connect() as con:
        r = _rows(uma_tag.compute_day(con, D(2025, 2, 12), "SH-KOOP"))
    cols = ["vorlaeufig_42a", "gemeldet_ausstehend", "uma_inobhutnahme", "uma_anschluss", "junge_volljaehrige",
            "entscheidungen", "verteilung_angeordnet", "uma_ist"]
    expected = {N: [2, 1, 1, 2, 1, 1, 0, 3], S: [1, 1, 1, 1, 1, 1, 1, 2], "SH-KOOP": [3, 2, 2, 3, 2, 2, 1, 5]}
    for key, values in expected.items():
        assert [int(r[key][c]) for c in cols] == values, key
    # Soll = 5 × Einwohner ÷ 329.000, Quote = 100 × Ist ÷ Soll, Differenz = Ist − Soll
    assert r[N]["uma_soll"] == pytest.approx(405 / 329)
    assert r[S]["uma_soll"] == pytest.approx(1240 / 329)
    assert r[N]["differenz"] == pytest.approx(3 - 405 / 329)
    assert r[S]["erfuellungsquote_pct"] == pytest.approx(100 * 2 * 329 / 1240)
    assert r["SH-KOOP"]["uma_soll"] == 5 and r["SH-KOOP"]["erfuellungsquote_pct"] == 100
    # the network without deliveries is not covered
    with wh.connect() as con:
        assert not uma_tag.covered(con, "BW", D(2025, 2, 12))
        assert uma_tag.latest_workday(con, "SH-KOOP") == D(2025, 2, 28)


def test_uma_tidy_published_decimals_hand_computed(wh):
    from inobhut.meldungen import uma_tag

    with wh.connect() as con:
        t = uma_tag.tidy(uma_tag.compute_day(con, D(2025, 2, 12), "SH-KOOP"), "SH-KOOP")
    got = {r["jugendamt"]: (r["uma_soll"], r["differenz"], r["erfuellungsquote_pct"]) for r in t.to_dict("records")}
    assert got == {N: ("1.23", "1.77", "243.7"), S: ("3.77", "-1.77", "53.1"), "SH-KOOP": ("5.00", "0.00", "100.0")}


@pytest.mark.parametrize("fixture_set", ["meldungen", "lieferungen"])
def test_uma_at_month_end_agrees_with_uma_quote(wh, tmp_path, fixture_set):
    """At every month's last day the report equals ``uma_quote`` (both fixture sets: the
    2024 one has a missing UMA delivery and a Fehlanzeige)."""
    import contextlib

    from inobhut import statistics as st
    from inobhut import stat_store
    from inobhut.calendar import month_end
    from inobhut.meldungen import uma_tag

    ctx = contextlib.nullcontext(wh) if fixture_set == "meldungen" else fixture_statistics(tmp_path)
    months = ["2025-01", "2025-02"] if fixture_set == "meldungen" else ["2024-03", "2024-04", "2024-05"]
    checked = 0
    with ctx as w, w.connect() as con:
        for m in months:
            q = st.compute_uma_quote(con, m)
            for v in ("BW", "SH-KOOP"):
                if not uma_tag.covered(con, v, month_end(m)):
                    continue
                day = uma_tag.compute_day(con, month_end(m), v)
                t = uma_tag.tidy(day, v).set_index("jugendamt")
                qt = stat_store.format_tidy(q, "uma_quote").set_index("jugendamt")
                for c in ("einwohner", "uma_ist", "uma_soll", "erfuellungsquote_pct", "differenz", "junge_volljaehrige"):
                    assert list(t[c]) == list(qt.loc[t.index, c]), (m, v, c)
                # Inobhutnahme + Anschlussmaßnahmen = Ist (young adults do not count in the test settings)
                d = day.dropna(subset=["uma_ist"])
                assert list(d["uma_inobhutnahme"] + d["uma_anschluss"]) == list(d["uma_ist"])
                checked += 1
    assert checked >= 2


def test_uma_range_of_workdays_decisions_and_holidays(wh, tmp_path):
    from inobhut.meldungen import uma_tag

    with wh.connect() as con:
        days, missing = uma_tag.days_of(con, "SH-KOOP", D(2025, 2, 7), D(2025, 2, 12))
        assert days == [D(2025, 2, 7), D(2025, 2, 10), D(2025, 2, 11), D(2025, 2, 12)] and missing == []
        # 1 January is a holiday in SH; December 2024 is not delivered
        days, missing = uma_tag.days_of(con, "SH-KOOP", D(2024, 12, 31), D(2025, 1, 3))
        assert days == [D(2025, 1, 2), D(2025, 1, 3)] and missing == [D(2024, 12, 31)]
        df = uma_tag.compute_days(con, uma_tag.days_of(con, "SH-KOOP", D(2025, 2, 7), D(2025, 2, 12))[0], "SH-KOOP")
        net = df[df["jugendamt"] == "SH-KOOP"].set_index("tag")
        # Monday 10.02. covers Sat/Sun: N-A (Verteilung angeordnet); 12.02.: N-D (Ausschluss) and St-C (Verteilung)
        assert list(net["entscheidungen"]) == [0, 1, 0, 2]
        assert list(net["verteilung_angeordnet"]) == [0, 1, 0, 1]
        files = uma_tag.write(con, "SH-KOOP", list(net.index.date), tmp_path)
    assert [f.name for f in files] == [f"uma_tagesmeldung_SH-KOOP_2025-02-07_2025-02-12.{s}" for s in ("html", "xlsx", "csv")]
    assert files[0].parent == tmp_path / "berichte" / "uma_tagesmeldung" / "SH-KOOP"
    csv = pd.read_csv(files[2], dtype=str)
    assert len(csv) == 4 * 3 and set(csv["tag"]) == {"2025-02-07", "2025-02-10", "2025-02-11", "2025-02-12"}


def test_uma_report_reproducible_and_audited(wh, tmp_path):
    from inobhut import audit
    from inobhut.meldungen import fristen, uma_tag

    written = {}
    for run in ("a", "b"):
        with wh.connect() as con:
            files = uma_tag.write(con, "SH-KOOP", [D(2025, 2, 12)], tmp_path / run, archive=tmp_path / f"archiv_{run}")
            files += fristen.write(con, N, tmp_path / run, archive=tmp_path / f"archiv_{run}")
        written[run] = files
    for fa, fb in zip(written["a"], written["b"]):
        assert fa.read_bytes() == fb.read_bytes(), fa.name
    events = [e for e in audit.read(tmp_path / "archiv_a") if e["ereignis"] == "ausgabe"]
    assert len(events) == 6
    for e, f in zip(events, written["a"]):
        assert e["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
        assert e["datei"] == f.relative_to(tmp_path / "a").as_posix()


def test_index_page_lists_day_and_range_reports(wh, tmp_path):
    from inobhut.config import Paths
    from inobhut.meldungen import uma_tag
    from inobhut.report_run import render_index_page

    paths = Paths(tmp_path / "l", tmp_path / "a", tmp_path / "s", wh.path, tmp_path / "out")
    with wh.connect() as con:
        uma_tag.write(con, "SH-KOOP", [D(2025, 2, 15)], paths.out)  # a Saturday, asked for explicitly
        uma_tag.write(con, "SH-KOOP", uma_tag.days_of(con, "SH-KOOP", D(2025, 2, 7), D(2025, 2, 12))[0], paths.out)
    html = render_index_page(paths, wh).read_text(encoding="utf-8")
    assert "UMA-Werktagsmeldungen" in html
    assert 'href="uma_tagesmeldung/SH-KOOP/uma_tagesmeldung_SH-KOOP_2025-02-15.html"' in html
    assert "07.02.2025 bis 12.02.2025" in html and "15.02.2025" in html
    day = (paths.out / "berichte" / "uma_tagesmeldung" / "SH-KOOP" / "uma_tagesmeldung_SH-KOOP_2025-02-15.html")
    assert "15.02.2025 (kein Werktag)" in day.read_text(encoding="utf-8")


# ---------------------------------------------------------------- Fristenliste §42a


def _listed(con, ags, stichtag):
    from inobhut.meldungen import fristen

    df = fristen.cases(con, ags, stichtag)
    return {(r["status"], r["datei"], r["version"], r["zeile"], r["beginn"], r["werktage"]) for r in df.to_dict("records")}


def test_deadline_list_contains_exactly_the_late_and_overdue_cases(wh):
    from inobhut.meldungen.fristen import BEENDET_OHNE, UEBERFAELLIG, VERSPAETET

    feb_n, jan_n = "01060063_massnahmen_2025-02.csv", "01060063_massnahmen_2025-01.csv"
    with wh.connect() as con:
        # data state 28.02.: N-B reported after 9 Werktage (row 3 of the February correction, v2),
        # N-C open and unreported for 19 Werktage (row 4 of v2), N-F ended after 14 Werktage unreported
        assert _listed(con, N, D(2025, 2, 28)) == {
            (VERSPAETET, feb_n, 2, 3, D(2025, 1, 20), 9),
            (UEBERFAELLIG, feb_n, 2, 4, D(2025, 2, 3), 19),
            (BEENDET_OHNE, jan_n, 1, 5, D(2025, 1, 13), 14),
        }
        # St-B reported on the 7th Werktag (in time), St-C on the 8th (late), St-A after 2
        assert _listed(con, S, D(2025, 2, 28)) == {(VERSPAETET, "01062_massnahmen_2025-02.csv", 1, 3, D(2025, 1, 23), 8)}
        # as of 12.02.: N-C has used exactly 7 Werktage (not yet overdue)
        assert {x[0] for x in _listed(con, N, D(2025, 2, 12))} == {VERSPAETET, BEENDET_OHNE}
        # as of 28.01.: N-B not reported yet but within 6 Werktage; N-F still open and overdue (11)
        assert _listed(con, N, D(2025, 1, 28)) == {(UEBERFAELLIG, jan_n, 1, 5, D(2025, 1, 13), 11)}
        assert _listed(con, S, D(2025, 1, 31)) == set()


def test_deadline_list_agrees_with_fristen_42a(wh):
    """The late cases of the list are the ``verspaetet`` cases of the table ``fristen_42a``."""
    from inobhut import statistics as st
    from inobhut.meldungen import fristen

    with wh.connect() as con:
        table = st.compute_fristen_42a(con, "2025").set_index("jugendamt")
        for ags in (N, S):
            df = fristen.cases(con, ags, D(2025, 2, 28))
            assert (df["status"] == fristen.VERSPAETET).sum() == table.at[ags, "verspaetet"]


def test_nightly_write_all_equals_the_single_lists(wh, tmp_path):
    """The nightly run reads the cases once for all offices: same bytes as one office at a time."""
    from inobhut.meldungen import fristen

    with wh.connect() as con:
        lists = fristen.write_all(con, tmp_path / "alle")
        assert sorted(lists) == sorted([N, S])
        for ags, files in lists.items():
            single = fristen.write(con, ags, tmp_path / "einzeln")
            assert [f.read_bytes() for f in files] == [f.read_bytes() for f in single], ags


def test_many_lists_rendered_on_all_cores_like_one_at_a_time(wh, tmp_path, monkeypatch):
    """Enough outputs are rendered by forked workers (two even on a one-core machine here): the
    same bytes as one at a time, and the audit events -- recorded by the calling process, in the
    order of the outputs -- name exactly the new or changed files with their checksums."""
    from inobhut import audit, parallel
    from inobhut.meldungen import fristen
    from inobhut.meldungen.schreiben import write_outputs

    monkeypatch.setattr(parallel, "workers", lambda: 2)
    with wh.connect() as con:
        outputs = [fristen.output(con, a, tmp_path / "viele" / str(i)) for i in range(5) for a in (N, S)]
        single = {a: fristen.write(con, a, tmp_path / "einzeln") for a in (N, S)}
    archive = tmp_path / "archiv"
    written = write_outputs(outputs, archive=archive, lauf="lauf-1")
    assert len(written) == len(outputs) >= 8
    for o, files in zip(outputs, written):
        assert [f.read_bytes() for f in files] == [f.read_bytes() for f in single[o.ags]], o.base
    events = [e for e in audit.read(archive) if e["ereignis"] == "ausgabe"]
    assert [(e["ags"], e["datei"]) for e in events] == [
        (o.ags, f.relative_to(o.base.parents[3]).as_posix()) for o, files in zip(outputs, written) for f in files]
    assert all(e["sha256"] == hashlib.sha256((tmp_path / "viele" / str(i // 6) / e["datei"]).read_bytes()).hexdigest()
               and e["lauf"] == "lauf-1" for i, e in enumerate(events))
    write_outputs(outputs, archive=archive, lauf="lauf-2")  # the same bytes again: no new events
    assert [e for e in audit.read(archive) if e["ereignis"] == "ausgabe"] == events


@pytest.mark.slow
def test_fristen_never_in_land_outputs(wh, tmp_path):
    """Every output of a run for the Land level -- reports, index, tidy tables, UMA report,
    Landesexport -- is free of the deadline lists' rows; they exist only below jugendaemter/<ags>/."""
    from inobhut import landesexport
    from inobhut import stat_store
    from inobhut.config import Paths
    from inobhut.meldungen import fristen, uma_tag
    from inobhut.report_run import (
        render_all_other_reports,
        render_index_page,
        render_months,
    )

    paths = Paths(tmp_path / "l", tmp_path / "a", tmp_path / "s", wh.path, tmp_path / "out")
    with wh.connect() as con:
        for m in ("2025-01", "2025-02"):
            stat_store.write_month(con, m, stat_store.compute_month(con, m))
        stat_store.export_tidy(con, paths.out / "tabellen")
        lists = {a: fristen.write(con, a, paths.out) for a in (N, S)}
        uma_tag.write(con, "SH-KOOP", [D(2025, 2, 12)], paths.out)
        exported = []
        for z, verfahren in (("2025-02", "sperrung"), ("2025", "rundung3")):
            try:
                exported += landesexport.export_tables(con, z, "SH-KOOP", paths.out, verfahren=verfahren)
            except landesexport.ExportRefused:  # refused: nothing written
                pass
        assert exported
    render_months(paths, wh, ["2025-01", "2025-02"])
    render_all_other_reports(paths, wh)
    index = render_index_page(paths, wh)
    # the operator's index links the office folders (Jugendamtsberichte, Bundesstatistik), but
    # never a deadline list; the lists' rows are scanned for in every Land-level file below
    page = index.read_text(encoding="utf-8")
    assert "/fristen/" not in page and "fristenliste_" not in page
    # the rows of the lists: their fields as written in the CSV, their file names, their words
    rows = pd.concat([pd.read_csv(f[2], dtype=str) for f in lists.values()])
    assert len(rows) == 4
    markers = {"fristenliste", "Fristenliste", "Lieferdatei", fristen.UEBERFAELLIG, fristen.BEENDET_OHNE,
               *rows["datei"], *(",".join(r) for r in rows[["datei", "version", "zeile"]].itertuples(index=False))}
    for files in lists.values():  # the lists carry the markers ...
        assert all(any(m in _text_of(f) for m in markers) for f in files)
    land = [p for p in paths.out.rglob("*") if p.is_file() and "jugendaemter" not in p.relative_to(paths.out).parts]
    assert len(land) > 20
    for p in land:  # ... no output for the Land level does
        text = _text_of(p)
        hits = [m for m in markers if m in text]
        assert not hits, (p.relative_to(paths.out), hits)
    for ags, files in lists.items():
        assert all(f.parent == paths.out / "jugendaemter" / ags / "fristen" for f in files)


def _text_of(p: Path) -> str:
    if p.suffix == ".xlsx":
        with zipfile.ZipFile(p) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return p.read_bytes().decode("utf-8", "replace")


# ---------------------------------------------------------------- command line


def test_cli_meldung_uma_and_fristen_exit_codes(wh, tmp_path, monkeypatch):
    from pipelines.cli import main

    monkeypatch.setenv("INOBHUT_WAREHOUSE", str(wh.path))
    monkeypatch.setenv("INOBHUT_ARCHIVE", str(tmp_path / "archiv"))
    out = tmp_path / "out"
    run = CliRunner().invoke
    r = run(main, ["meldung", "uma", "--tag", "2025-02-12", "--verbund", "SH-KOOP", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "berichte" / "uma_tagesmeldung" / "SH-KOOP" / "uma_tagesmeldung_SH-KOOP_2025-02-12.html").is_file()
    r = run(main, ["meldung", "uma", "--von", "2025-02-01", "--bis", "2025-03-05", "--out", str(out)])
    assert r.exit_code == 0, r.output  # SH-KOOP written for its covered Werktage; BW has no deliveries
    assert (out / "berichte" / "uma_tagesmeldung" / "SH-KOOP" / "uma_tagesmeldung_SH-KOOP_2025-02-03_2025-02-28.csv").is_file()
    # refused: no delivery covers the day
    r = run(main, ["meldung", "uma", "--tag", "2024-06-03", "--verbund", "SH-KOOP", "--out", str(out)])
    assert r.exit_code == 1 and "keine angenommenen Lieferungen" in " ".join(r.output.split())
    # unusable calls
    for args in (["--tag", "12.02.2025"], ["--tag", "2025-02-12", "--von", "2025-02-01"], ["--von", "2025-02-01"],
                 ["--von", "2025-02-10", "--bis", "2025-02-01"], ["--tag", "2025-02-12", "--verbund", "XX"]):
        r = run(main, ["meldung", "uma", *args, "--out", str(out)])
        assert r.exit_code == 2, (args, r.output)
    r = run(main, ["meldung", "fristen", "--jugendamt", N, "--out", str(out)])
    assert r.exit_code == 0, r.output
    lst = pd.read_csv(out / "jugendaemter" / N / "fristen" / f"fristenliste_{N}_2025-02-28.csv", dtype=str)
    assert len(lst) == 3 and "fall_id" not in lst.columns
    r = run(main, ["meldung", "fristen", "--jugendamt", S, "--stichtag", "2025-01-31", "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = run(main, ["meldung", "fristen", "--jugendamt", S, "--stichtag", "2025-03-31", "--out", str(out)])
    assert r.exit_code == 1 and "nach dem Datenstand" in " ".join(r.output.split())
    for args in (["--jugendamt", "99999"], ["--stichtag", "31.01.2025"]):
        r = run(main, ["meldung", "fristen", *args, "--out", str(out)])
        assert r.exit_code == 2, (args, r.output)
    events = [json.loads(x) for x in (tmp_path / "archiv" / "_audit" / "audit.jsonl").read_text().splitlines()]
    assert {e["ereignis"] for e in events} == {"ausgabe"} and len(events) == 3 * 4
    monkeypatch.setenv("INOBHUT_WAREHOUSE", str(tmp_path / "fehlt.duckdb"))
    assert run(main, ["meldung", "fristen", "--out", str(out)]).exit_code == 2


# ---------------------------------------------------------------- accessibility (real browser)


@pytest.mark.browser
def test_uma_report_and_deadline_list_accessible_in_browser(wh, tmp_path, browser):
    """axe-core (WCAG 2.1 A/AA), self-contained, phone-sized viewport: a range report (three
    tables) and a deadline list with all three statuses."""
    from inobhut.meldungen import fristen, uma_tag
    from tests.helpers_browser import axe_violations, open_page, page_overflow

    with wh.connect() as con:
        days, _ = uma_tag.days_of(con, "SH-KOOP", D(2025, 2, 7), D(2025, 2, 12))
        pages = [uma_tag.write(con, "SH-KOOP", days, tmp_path)[0], fristen.write(con, N, tmp_path)[0]]
    for path in pages:
        page, foreign, errors = open_page(browser, path.as_uri())
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.locator("table caption").count() >= 3  # report tables + data status
        assert foreign == [] and errors == [], (foreign, errors)
        assert axe_violations(page) == [], path.name
        page.close()
        phone, _, _ = open_page(browser, path.as_uri(), viewport={"width": 390, "height": 844})
        assert page_overflow(phone) <= 1, path.name
        phone.close()
