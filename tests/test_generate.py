"""Tests of the synthetic delivery generator (inobhut.generate).

Files are read back with plain pandas/openpyxl (not with the project's ingest module), so these
tests check the delivery format itself: naming, encodings, delimiters, Excel cells, consistency
across months, the validation rules of validation.md and the calibration to published figures.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from inobhut.calendar import month_end
from inobhut.config import offices
from inobhut.generate import BW_2023, delivery_style, generate
from inobhut.generate_mistakes import ERROR_KINDS
from inobhut.naming import parse_name
from schemas.datasets import DATASETS, codelists

ALL = [o.ags for o in offices()]


def read_back(path: Path) -> pd.DataFrame:
    """A delivery file as a frame of strings (dates as ISO text, empty cell = "")."""
    dn = parse_name(path.name)
    ds = DATASETS[dn.dataset]
    if dn.ext == "xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        ws = wb[dn.dataset]
        rows = list(ws.iter_rows(values_only=True))
        wb.close()
        header, data = list(rows[0]), rows[1:]
        out = []
        for r in data:
            r = list(r) + [None] * (len(header) - len(r))  # read-only mode may drop trailing empty cells
            vals = []
            for c, v in zip(ds.columns, r):
                if v is None:
                    vals.append("")
                elif isinstance(v, dt.datetime):
                    assert c.kind == "date", (path, c.name)
                    vals.append(v.date().isoformat())
                else:
                    assert c.kind != "date" or not re.match(r"^\d{2}\.\d{2}\.\d{4}$", str(v)), "dates are real Excel dates"
                    vals.append(str(v))
            out.append(vals)
        df = pd.DataFrame(out, columns=header, dtype=object)
    else:
        st = delivery_style(dn.ags, 42)
        df = pd.read_csv(path, sep=st.delimiter, encoding=st.encoding, dtype=str, keep_default_na=False)
    assert list(df.columns) == [c.header for c in ds.columns]
    # normalise dates/months to ISO so tests do not care about the style
    for c in ds.columns:
        col = df[c.header].astype(str)
        if c.kind == "date":
            df[c.header] = col.str.replace(r"^(\d{2})\.(\d{2})\.(\d{4})$", r"\3-\2-\1", regex=True)
        elif c.kind == "month":
            df[c.header] = col.str.replace(r"^(\d{2})\.(\d{4})$", r"\2-\1", regex=True)
    return df


@pytest.fixture(scope="module")
def year2023(tmp_path_factory) -> tuple[Path, dict]:
    """All 50 offices, the whole year 2023, no injected errors (shared by several tests)."""
    landing = tmp_path_factory.mktemp("landing2023")
    summary = generate(landing, "2023-01", "2023-12", seed=42)
    return landing, summary


def _pick_offices(kinds: list[str]) -> list[str]:
    out = []
    for k in kinds:
        out.append(next(a for a in ALL if f"{delivery_style(a).kind}/{delivery_style(a).encoding}" == k
                        or (k == "xlsx" and delivery_style(a).kind == "xlsx")))
    return out


def test_determinism_same_bytes_and_mtime(tmp_path):
    csv_office, xlsx_office = _pick_offices(["csv_de/cp1252", "xlsx"])
    a = generate(tmp_path / "a", "2024-02", "2024-03", seed=42, jugendaemter=[csv_office, xlsx_office], workers=1)
    b = generate(tmp_path / "b", "2024-02", "2024-03", seed=42, jugendaemter=[csv_office, xlsx_office], workers=1)
    assert a["paths"] == b["paths"] and len(a["paths"]) == 16
    assert {Path(f).suffix for f in a["paths"]} == {".csv", ".xlsx"}
    for f in a["paths"]:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
        month = parse_name(Path(f).name).month
        expected = dt.datetime(2024, int(month[5:]) + 1, 5, 8, tzinfo=dt.timezone.utc).timestamp()
        assert os.stat(tmp_path / "a" / f).st_mtime == expected
    # an office's files do not depend on the other offices requested, nor on the process count
    c = generate(tmp_path / "c", "2024-02", "2024-03", seed=42, jugendaemter=[xlsx_office])
    for f in c["paths"]:
        assert (tmp_path / "c" / f).read_bytes() == (tmp_path / "a" / f).read_bytes(), f
    # another seed gives other data
    d = generate(tmp_path / "d", "2024-02", "2024-03", seed=8, jugendaemter=[csv_office, xlsx_office], workers=1)
    assert any((tmp_path / "d" / f).read_bytes() != (tmp_path / "a" / f).read_bytes() for f in d["paths"] if f in a["paths"])


def test_naming_and_placement(year2023):
    landing, summary = year2023
    files = sorted(p for p in landing.rglob("*") if p.is_file())
    assert len(files) == summary["files"] == 50 * 12 * 4
    seen = set()
    for p in files:
        dn = parse_name(p.name)
        assert p.parent == landing / dn.ags
        assert p.name == f"{dn.ags}_{dn.dataset}_{dn.month}.{delivery_style(dn.ags).ext}"
        seen.add((dn.ags, dn.dataset, dn.month))
    assert seen == {(a, d, f"2023-{m:02d}") for a in ALL for d in DATASETS for m in range(1, 13)}
    assert summary["errors"] == []


def test_styles_vary_and_read_back(year2023):
    landing, _ = year2023
    styles = {a: delivery_style(a) for a in ALL}
    assert {s.kind for s in styles.values()} == {"csv_de", "csv_iso", "xlsx"}
    assert {s.encoding for s in styles.values() if s.kind != "xlsx"} == {"utf-8", "utf-8-sig", "cp1252"}
    assert {s.anlass_sep for s in styles.values()} == {",", "|"}
    for ags, st in styles.items():
        path = landing / ags / f"{ags}_plaetze_2023-06.{st.ext}"
        raw = path.read_bytes()
        if st.kind == "xlsx":
            wb = openpyxl.load_workbook(path)
            assert wb.sheetnames == ["plaetze"]
            ws = wb["plaetze"]
            assert isinstance(ws["C2"].value, dt.datetime) and ws["C2"].value.date() == dt.date(2023, 6, 30)
            mws = openpyxl.load_workbook(landing / ags / f"{ags}_massnahmen_2023-06.xlsx")["massnahmen"]
            assert re.fullmatch(r"\d{2}\.\d{4}", mws["G2"].value)  # Geburtsmonat as text MM.JJJJ
            continue
        assert raw.startswith(b"\xef\xbb\xbf") == (st.encoding == "utf-8-sig")
        text = raw.decode(st.encoding)
        first = text.splitlines()[0].lstrip("\ufeff")
        assert first.split(st.delimiter)[0] == "Einrichtung"
        if st.kind == "csv_de":
            assert ";30.06.2023;" in text
        else:
            assert ",2023-06-30," in text
        if any(ch in text for ch in "äöüÄÖÜß"):  # facility names with umlauts
            if st.encoding == "cp1252":
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")
            else:
                raw.decode("utf-8")
        df = read_back(path)
        assert len(df) >= 3
    # decimal comma vs. point
    de = next(a for a, s in styles.items() if s.kind == "csv_de")
    iso = next(a for a, s in styles.items() if s.kind == "csv_iso")
    vz_de = read_back(landing / de / f"{de}_personal_2023-06.csv")["VZAE_Ist"]
    vz_iso = read_back(landing / iso / f"{iso}_personal_2023-06.csv")["VZAE_Ist"]
    assert vz_de.str.contains(",").any() and not vz_de.str.contains(r"\.").any()
    assert vz_iso.str.contains(r"\.").any() and not vz_iso.str.contains(",").any()
    # codes keep their leading zero; Anlässe joined by the office's separator
    pipe = next(a for a, s in styles.items() if s.anlass_sep == "|" and s.kind != "xlsx")
    m = read_back(landing / pipe / f"{pipe}_massnahmen_2023-06.{styles[pipe].ext}")
    assert m["Anlaesse"].str.contains(r"\|").any()
    assert set(m["Aufenthalt_vorher"]) <= set(codelists()["aufenthalt_vorher"])


def _frame(landing: Path, ags: str, ds: str, month: str) -> pd.DataFrame:
    return read_back(landing / ags / f"{ags}_{ds}_{month}.{delivery_style(ags).ext}")


def test_consistency_across_months(year2023):
    landing, _ = year2023
    for ags in ["08111", "01056", _pick_offices(["xlsx"])[0]]:
        for ds, begin, end in (("massnahmen", "Beginn", "Ende"), ("uma", "Zustaendig_seit", "Zustaendig_bis")):
            mar, apr = _frame(landing, ags, ds, "2023-03"), _frame(landing, ags, ds, "2023-04")
            open_end_march = set(mar.loc[mar[end] == "", "Fallnummer"])
            ended_march = set(mar.loc[mar[end] != "", "Fallnummer"])
            assert open_end_march and ended_march
            assert open_end_march <= set(apr["Fallnummer"])
            assert not (ended_march & set(apr["Fallnummer"]))
            assert (mar.loc[mar[end] != "", end] <= "2023-03-31").all()
            assert (mar.loc[mar[end] != "", end] >= "2023-03-01").all()
            # every April row that began before April was already in March's file
            old = apr.loc[apr[begin] < "2023-04-01", "Fallnummer"]
            assert set(old) <= set(mar["Fallnummer"])
            # Fortschreibung: stock(March) + entries(April) - exits(April) = stock(April)
            entries = (apr[begin] >= "2023-04-01").sum()
            exits = (apr[end] != "").sum()
            assert len(open_end_march) + entries - exits == (apr[end] == "").sum()
    # facilities are stable with the same ids
    a, b = _frame(landing, "08111", "plaetze", "2023-01"), _frame(landing, "08111", "plaetze", "2023-12")
    assert list(a["Einrichtung"]) == list(b["Einrichtung"])


def _age_years(geburtsmonat: pd.Series, day: pd.Series) -> pd.Series:
    g = pd.to_datetime(geburtsmonat + "-01")
    d = pd.to_datetime(day)
    months = (d.dt.year - g.dt.year) * 12 + (d.dt.month - g.dt.month) - (d.dt.day < g.dt.day)
    return months // 12


def test_validation_rules_hold_without_errors(year2023):
    """The row- and dataset-level Fehler rules of validation.md, checked on all files of some offices."""
    landing, _ = year2023
    cl = codelists()
    for ags in ["08111", "08215", "01060", "08335043", _pick_offices(["xlsx"])[0]]:
        st = delivery_style(ags)
        for month in ["2023-01", "2023-07", "2023-12"]:
            first, last = f"{month}-01", month_end(month).isoformat()
            m = _frame(landing, ags, "massnahmen", month)
            p = _frame(landing, ags, "plaetze", month)
            u = _frame(landing, ags, "uma", month)
            assert m["Fallnummer"].is_unique and u["Fallnummer"].is_unique
            assert m["Fallnummer"].str.fullmatch(r"IO-\d{4}-\d{6}").all()
            assert (m["Jugendamt"] == ags).all() and (u["Jugendamt"] == ags).all() and (p["Jugendamt"] == ags).all()
            for col, lst in [("Massnahme", "massnahme"), ("Traeger", "traeger"), ("Geschlecht", "geschlecht"),
                             ("Angeregt_durch", "angeregt_durch"), ("Aufenthalt_vorher", "aufenthalt_vorher"),
                             ("Unterbringung", "unterbringung")]:
                assert set(m[col]) <= set(cl[lst]), col
            anl = m["Anlaesse"].str.split("|" if st.anlass_sep == "|" else ",")
            assert all(set(a) <= set(cl["anlass"]) for a in anl)
            assert (m["Beginn"] <= last).all()
            ended = m["Ende"] != ""
            assert (m.loc[ended, "Ende"] >= m.loc[ended, "Beginn"]).all()
            assert (m.loc[ended, "Ende"] >= first).all()
            assert (m.loc[ended, "Ende_Grund"] != "").all() and (m.loc[ended, "Anschluss"] != "").all()
            assert (m.loc[~ended, "Ende_Grund"] == "").all()
            assert (m["Geburtsmonat"] <= m["Beginn"].str[:7]).all()
            assert (_age_years(m["Geburtsmonat"], m["Beginn"]) < 18).all()
            m2 = m["Massnahme"] == "2"
            assert (m.loc[m2, "Unbegleitet"] == "1").all()
            assert (m.loc[m["Ende_Grund"] == "4", "Massnahme"] == "2").all()
            assert (m.loc[~m2, ["Meldung_Landesstelle", "Verteilentscheidung", "Zuweisung_Jugendamt"]] == "").all().all()
            unb = m["Unbegleitet"] == "1"
            assert (m.loc[unb, "Staatsangehoerigkeit"] != "").all()
            assert m.loc[unb, "Anlaesse"].str.contains("08").all()
            assert not m.loc[~unb, "Anlaesse"].str.contains("08").any()
            v1 = m["Verteilentscheidung"] == "1"
            assert (m.loc[v1, "Zuweisung_Jugendamt"].str.fullmatch(r"\d{5}|\d{8}")).all()
            assert (m.loc[m["Unterbringung"] == "2", "Einrichtung"].isin(p["Einrichtung"])).all()
            melde = m.loc[m2 & (m["Meldung_Landesstelle"] != ""), ["Beginn", "Meldung_Landesstelle"]]
            assert (melde["Meldung_Landesstelle"] >= melde["Beginn"]).all()
            assert (melde["Meldung_Landesstelle"] <= last).all()
            # plaetze
            g, b, s = (p[c].astype(int) for c in ("Plaetze_genehmigt", "Plaetze_belegt", "Plaetze_gesperrt"))
            if (p["Plaetze_frei"] != "").any():
                assert (p["Plaetze_frei"].astype(int) == g - b - s).all()
            assert (p["Alter_von"].astype(int) <= p["Alter_bis"].astype(int)).all()
            assert (s >= 0).all() and (b >= 0).all() and (p["Stichtag"] == last).all()
            assert set(p["Angebot"]) <= set(cl["angebot"]) and set(p["Traeger_Art"]) <= set(cl["traeger_art"])
            assert p["Einrichtung"].is_unique
            # uma
            assert set(u["Hilfeart"]) <= set(cl["hilfeart"])
            assert ((u["Zustaendig_bis"] != "") == (u["Ende_Grund"] != "")).all()
            assert (u["Zustaendig_seit"] <= last).all()
            assert (u.loc[u["Zustaendig_bis"] != "", "Zustaendig_bis"] >= first).all()
            assert (u["Staatsangehoerigkeit"] != "").all()
            # personal
            pe = _frame(landing, ags, "personal", month)
            assert list(pe["Bereich"]) == ["1", "2", "3", "4", "5"] and (pe["Stichtag"] == last).all()
            soll, ist, unb_ = (pe[c].str.replace(",", ".").astype(float) for c in ("VZAE_Soll", "VZAE_Ist", "Stellen_unbesetzt"))
            assert (unb_ >= 0).all() and (ist <= soll).all()


def test_calibration_2023(year2023):
    """Ended-in-2023 totals against the published BW figures; SH-KOOP at about 800."""
    landing, _ = year2023
    ended: dict[str, pd.DataFrame] = {}
    uma_dec: list[pd.DataFrame] = []
    for o in offices():
        frames = []
        for mnum in range(1, 13):
            df = _frame(landing, o.ags, "massnahmen", f"2023-{mnum:02d}")
            frames.append(df.loc[df["Ende"] != ""])
        e = pd.concat(frames)
        assert e["Fallnummer"].is_unique  # an ended measure appears in one month only
        ended[o.ags] = e.assign(verbund=o.verbund)
        if o.verbund == "BW":
            uma_dec.append(_frame(landing, o.ags, "uma", "2023-12"))
    allm = pd.concat(ended.values())
    bw = allm[allm["verbund"] == "BW"]
    total = len(bw)
    assert abs(total / BW_2023["insgesamt"] - 1) < 0.05, total
    share_42a = (bw["Massnahme"] == "2").mean()
    assert abs(share_42a / (BW_2023["massnahme_2"] / BW_2023["insgesamt"]) - 1) < 0.05, share_42a
    share_unb = (bw["Unbegleitet"] == "1").mean()
    assert abs(share_unb / (BW_2023["unbegleitet"] / BW_2023["insgesamt"]) - 1) < 0.05, share_unb
    sh = (allm["verbund"] == "SH-KOOP").sum()
    assert abs(sh / 800 - 1) < 0.15, sh
    # skewed durations with a mean of about 50 days
    dauer = (pd.to_datetime(bw["Ende"]) - pd.to_datetime(bw["Beginn"])).dt.days
    assert 40 <= dauer.mean() <= 60 and dauer.median() < 0.7 * dauer.mean() and (dauer <= 7).mean() > 0.2
    # Anlass "Überforderung" (01) close to its published count, Anlass 08 exactly the unaccompanied
    sep = bw["Anlaesse"].str.replace("|", ",", regex=False).str.split(",")
    n01 = sum("01" in a for a in sep)
    assert abs(n01 / 1_774 - 1) < 0.15, n01
    assert sum("08" in a for a in sep) == (bw["Unbegleitet"] == "1").sum()
    # UMA stock at the end of the year (minors, not in §42a), BW target ≈ 3,770 (±15 %)
    u = pd.concat(uma_dec)
    stock = u[(u["Zustaendig_bis"] == "") & (u["Hilfeart"] != "1")]
    minors = (_age_years(stock["Geburtsmonat"], pd.Series("2023-12-31", index=stock.index)) < 18).sum()
    assert abs(minors / 3_770 - 1) < 0.15, minors
    assert abs((len(stock) - minors) / 2_015 - 1) < 0.20, len(stock) - minors


def test_fehlerquote_injects_recorded_mistakes(tmp_path):
    offices_ = ["08111", "08121", "01062"] + _pick_offices(["xlsx"])
    s = generate(tmp_path, "2024-01", "2024-03", seed=42, fehlerquote=0.5, jugendaemter=offices_, workers=1)
    errors = s["errors"]
    files_with = {e["file"] for e in errors}
    share = len(files_with) / s["files"]
    assert 0.3 <= share <= 0.7, share
    assert {e["kind"] for e in errors} <= set(ERROR_KINDS)
    assert sum(e["severity"] == "Fehler" for e in errors) / len(errors) > 0.7
    for e in errors:
        path = tmp_path / e["file"]
        df = read_back(path)
        assert e["column"] in df.columns and 2 <= e["row"] <= len(df) + 1
        cell = str(df.iloc[e["row"] - 2][e["column"]])
        if e["kind"] == "summenzeile":
            assert e["row"] == len(df) + 1 and cell == "Summe"
        elif e["kind"] == "ungueltiges_datum":
            assert cell.endswith("-02-31") or cell.startswith("31.02.") or cell == f"{cell[:4]}-02-31"
        elif e["kind"] in ("geschlecht_leer", "pflichtwert_fehlt"):
            assert cell == ""
        elif e["kind"] == "jugendamt_ohne_fuehrende_null":
            assert not df["Jugendamt"].str.startswith("0").any()
        elif e["kind"] == "fallnummer_doppelt":
            assert not df["Fallnummer"].is_unique
        elif e["kind"] == "dezimalkomma_in_ganzzahl":
            assert cell.endswith(",5")
    # deterministic including the mistakes
    s2 = generate(tmp_path / "again", "2024-01", "2024-03", seed=42, fehlerquote=0.5, jugendaemter=offices_, workers=1)
    assert s2["errors"] == errors


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Zeitraum"):
        generate(tmp_path, "2024-05", "2024-01")
    with pytest.raises(ValueError, match="Unbekannte"):
        generate(tmp_path, "2024-01", "2024-01", jugendaemter=["99999"])
    with pytest.raises(ValueError, match="Fehlerquote"):
        generate(tmp_path, "2024-01", "2024-01", fehlerquote=1.5)


def test_never_dated_in_the_future(tmp_path):
    """A delivery of the latest month is not dated after the run (its reports say 'Erstellt am')."""
    office = _pick_offices(["xlsx"])[0]
    s = generate(tmp_path / "a", "2024-02", "2024-03", seed=42, jugendaemter=[office], workers=1,
                 heute=dt.date(2024, 4, 2))
    times = {parse_name(Path(f).name).month: os.stat(tmp_path / "a" / f).st_mtime for f in s["paths"]}
    assert times["2024-02"] == dt.datetime(2024, 3, 5, 8, tzinfo=dt.timezone.utc).timestamp()  # usual receipt
    assert times["2024-03"] == dt.datetime(2024, 4, 2, tzinfo=dt.timezone.utc).timestamp()  # not the 5th: later than heute
    # the default is today: the last complete month, as the demo generates it, is never in the future
    now = dt.datetime.now(dt.timezone.utc)
    last = f"{(now.replace(day=1) - dt.timedelta(days=1)):%Y-%m}"
    s = generate(tmp_path / "b", last, last, seed=42, jugendaemter=[office], workers=1)
    for f in s["paths"]:
        assert os.stat(tmp_path / "b" / f).st_mtime <= now.timestamp(), f
        assert os.stat(tmp_path / "b" / f).st_mtime >= dt.datetime.fromisoformat(f"{last}-01T00:00+00:00").timestamp()


def test_injected_mistakes_that_compute_from_a_cell_skip_blank_or_already_changed_cells():
    """XL (560 offices, seed 20240101) stopped the generator: 'plaetze_frei_inkonsistent' did
    int('') on a blank Plaetze_gesperrt. A mistake that computes from cells must not fit a row
    whose cells are blank or were changed by an earlier mistake (e.g. "3,5"): None, no crash."""
    import numpy as np

    from inobhut.config import office
    from inobhut.generate import DeliveryStyle
    from inobhut.generate_mistakes import _col, _inject
    from schemas.datasets import DATASETS

    ncols = len(DATASETS["plaetze"].column_names)
    for kind, blank in (("csv_de", ""), ("xlsx", None)):
        style = DeliveryStyle(kind=kind, encoding="utf-8", anlass_sep=",", lineterminator="\n",
                              frei_leer=False, tagessatz_leer=False)
        rng = np.random.default_rng(1)
        rows = [[blank] * ncols]
        for k in ("plaetze_frei_inkonsistent", "dezimalkomma_in_ganzzahl"):
            assert _inject(k, "plaetze", rows, style, "2024-01", rng, office("08111")) is None
        full = [[blank] * ncols]
        for c, v in (("plaetze_genehmigt", 10), ("plaetze_belegt", 7), ("plaetze_gesperrt", 1)):
            full[0][_col("plaetze", c)] = v if kind == "xlsx" else str(v)
        assert _inject("dezimalkomma_in_ganzzahl", "plaetze", full, style, "2024-01", rng, office("08111"))
        assert full[0][_col("plaetze", "plaetze_belegt")] == "7,5"
        assert _inject("plaetze_frei_inkonsistent", "plaetze", full, style, "2024-01", rng, office("08111")) is None


def test_any_two_injected_mistakes_on_the_same_row_never_crash_the_generator(tmp_path):
    """The class behind the XL stop: with two mistakes per file, the second one may meet a cell
    the first one changed ("3,5", a swapped age, a blank). Every ordered pair of mistakes that
    the generator can combine is applied to the same row of real generated rows: each returns
    its hits, or None ("does not fit") and leaves the rows as they were; none raises."""
    import copy

    import numpy as np

    from inobhut.config import office
    from inobhut.generate import DeliveryStyle
    from inobhut.generate_mistakes import inject_if_fits

    generate(tmp_path, "2024-03", "2024-03", seed=42, fehlerquote=0.0, jugendaemter=["08111"], workers=1)  # read_back: seed 42
    style = DeliveryStyle(kind="csv_iso", encoding="utf-8", anlass_sep=",", lineterminator="\n",
                          frei_leer=False, tagessatz_leer=False)
    tried = 0
    for path in sorted(tmp_path.rglob("08111_*")):
        ds = parse_name(path.name).dataset
        base = read_back(path).fillna("").astype(str).values.tolist()
        kinds = [k for k, (dss, _, _) in ERROR_KINDS.items() if ds in dss]
        for first in kinds:
            if first == "summenzeile":  # the generator applies nothing after a total row
                continue
            for second in kinds:
                if second == first:
                    continue
                rows = copy.deepcopy(base)
                for kind in (first, second):  # the same seed picks the same row for both
                    before = copy.deepcopy(rows)
                    hits = inject_if_fits(kind, ds, rows, style, "2024-03", np.random.default_rng(11), office("08111"))
                    assert hits or rows == before or kind == "alter_von_groesser_bis", (first, second)
                tried += 1
    assert tried > 100
