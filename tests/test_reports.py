"""Tests of inobhut.reports: German formatting, the report model, Excel and HTML rendering,
the two report builders and the index page.

The statistics tables are small hand-made frames for the five SH-KOOP offices (three months);
the workbooks are read back with openpyxl, the HTML is parsed with html.parser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import re

import openpyxl
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import range_boundaries

from inobhut.reports import (
    DeliveryStatus,
    IndexMeta,
    ReportModelError,
    ReportTable,
    build_jugendamtsbericht,
    build_landesbericht,
    index_entry,
    render_index,
    render_report,
    report_path,
)
from inobhut import tables as tables_registry
from inobhut.reports import common
from inobhut.reports.common import network_label
from inobhut.reports.fmt import fmt_date, fmt_datetime, fmt_dec, fmt_int, fmt_month, fmt_pct, fmt_value

NET = "SH-KOOP"
OFFICES = ["01053", "01056", "01060", "01060063", "01062"]
EINW = {"01053": 202000, "01056": 320000, "01060": 205000, "01060063": 81000, "01062": 248000}
MONTHS = ["2025-01", "2025-02", "2025-03"]
MONTH = "2025-03"
NET_TOTAL = f"{network_label(NET)} insgesamt"
RECEIVED = dt.datetime(2025, 4, 9, 14, 30)


# ---------------------------------------------------------------- hand-made statistics
def _bewegung() -> pd.DataFrame:
    rows = []
    for mi, m in enumerate(MONTHS):
        for oi, ags in enumerate(OFFICES):
            # 01060063 (Norderstedt) has small counts: 1 and 2 -> primary suppression
            small = ags == "01060063"
            rows.append((m, ags, "1", 1 if small else 10 + oi + mi, 2 if small else 8 + oi, 5 if small else 30 + 3 * oi + mi))
            rows.append((m, ags, "2", 0 if small else 4 + oi, 0 if small else 3, 0 if small else 6 + oi))
    df = pd.DataFrame(rows, columns=["monat", "jugendamt", "massnahme", "zugaenge", "abgaenge", "bestand"])
    tot = df.groupby(["monat", "massnahme"], as_index=False)[["zugaenge", "abgaenge", "bestand"]].sum()
    tot["jugendamt"] = NET
    return pd.concat([df, tot[df.columns]], ignore_index=True)


def _beendete() -> pd.DataFrame:
    rows = []
    for m in MONTHS:
        for oi, ags in enumerate(OFFICES):
            n1, n2 = 6 + oi, 2 + oi
            rows += [
                (m, ags, "insgesamt", "insgesamt", n1 + n2),
                (m, ags, "massnahme", "1", n1), (m, ags, "massnahme", "2", n2),
                (m, ags, "unbegleitet", "1", n2), (m, ags, "unbegleitet", "0", n1),
                (m, ags, "geschlecht", "m", n1), (m, ags, "geschlecht", "w", n2),
                (m, ags, "anlass", "01", n1), (m, ags, "anlass", "08", n2), (m, ags, "anlass", "02", 1),
                (m, ags, "dauerklasse", "2-7", n1 + n2),
            ]
    df = pd.DataFrame(rows, columns=["zeitraum", "jugendamt", "merkmal", "auspraegung", "anzahl"])
    tot = df.groupby(["zeitraum", "merkmal", "auspraegung"], as_index=False)["anzahl"].sum()
    tot["jugendamt"] = NET
    return pd.concat([df, tot[df.columns]], ignore_index=True)


def _uma() -> pd.DataFrame:
    rows = []
    for m in MONTHS:
        stichtag = pd.Timestamp(m + "-01") + pd.offsets.MonthEnd(0)
        ist = {a: 20 + 5 * i for i, a in enumerate(OFFICES)}
        total_ist, total_einw = sum(ist.values()), sum(EINW.values())
        for a in OFFICES:
            soll = total_ist * EINW[a] / total_einw
            rows.append((stichtag, a, EINW[a], ist[a], round(soll, 2), round(100 * ist[a] / soll, 1),
                         round(ist[a] - soll, 2), 3))
        rows.append((stichtag, NET, total_einw, total_ist, float(total_ist), 100.0, 0.0, 15))
    return pd.DataFrame(rows, columns=["stichtag", "jugendamt", "einwohner", "uma_ist", "uma_soll",
                                       "erfuellungsquote_pct", "differenz", "junge_volljaehrige"])


def _plaetze() -> pd.DataFrame:
    rows = []
    for m in MONTHS:
        stichtag = pd.Timestamp(m + "-01") + pd.offsets.MonthEnd(0)
        for oi, a in enumerate(OFFICES):
            rows.append((stichtag, a, "1", 12, 9, 1, 2, round(100 * 9 / 11, 1), 8.5, 7.25))
            rows.append((stichtag, a, "3", 20 + oi, 15, 0, 5 + oi, round(100 * 15 / (20 + oi), 1), 14.0, 12.5))
    df = pd.DataFrame(rows, columns=["stichtag", "jugendamt", "angebot", "genehmigt", "belegt", "gesperrt", "frei",
                                     "auslastung_pct", "vzae_soll", "vzae_ist"])
    tot = df.groupby(["stichtag", "angebot"], as_index=False)[["genehmigt", "belegt", "gesperrt", "frei", "vzae_soll", "vzae_ist"]].sum()
    tot["jugendamt"] = NET
    tot["auslastung_pct"] = (100 * tot["belegt"] / (tot["genehmigt"] - tot["gesperrt"])).round(1)
    return pd.concat([df, tot[df.columns]], ignore_index=True)


def _personal() -> pd.DataFrame:
    """Staff, all Bereiche together, per office and month (no network rows: the report sums)."""
    rows = [(pd.Timestamp(m + "-01") + pd.offsets.MonthEnd(0), a, "insgesamt", 10.0 + oi, 9.5 + oi, 0.5,
             round(100 * (9.5 + oi) / (10.0 + oi), 1), 40 + oi) for m in MONTHS for oi, a in enumerate(OFFICES)]
    return pd.DataFrame(rows, columns=["stichtag", "jugendamt", "bereich", "vzae_soll", "vzae_ist", "stellen_unbesetzt",
                                       "besetzungsquote_pct", "faelle"])


def _fristen() -> pd.DataFrame:
    rows = []
    for m in MONTHS:
        for oi, a in enumerate(OFFICES):
            if a == "01060063":
                rows.append((m, a, 0, 0, 0, 0, float("nan"), float("nan")))
            else:
                rows.append((m, a, 4 + oi, 3 + oi, 1, 0, round(100 * (3 + oi) / (4 + oi), 1), 5.0))
        rows.append((m, NET, 22, 18, 4, 0, round(100 * 18 / 22, 1), 5.0))
    return pd.DataFrame(rows, columns=["monat", "jugendamt", "begonnen", "fristgerecht", "verspaetet", "ohne_meldung",
                                       "anteil_fristgerecht_pct", "median_werktage"])


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {"bewegung": _bewegung(), "beendete": _beendete(), "uma_quote": _uma(), "plaetze": _plaetze(),
            "fristen_42a": _fristen()}


def _status(missing: tuple[tuple[str, str], ...] = ()) -> list[DeliveryStatus]:
    out = []
    for m in MONTHS:
        for i, a in enumerate(OFFICES):
            for ds in ("massnahmen", "uma", "plaetze", "personal"):
                if m == MONTH and (a, ds) in missing:
                    out.append(DeliveryStatus(a, ds, m, "fehlt"))
                    continue
                rec = dt.datetime(int(m[:4]), int(m[5:]) + 1, 5 + i, 9, 0)
                out.append(DeliveryStatus(a, ds, m, "angenommen", 1, rec))
    # a correction: v1 accepted, v2 rejected -> v1 stays in force
    out.append(DeliveryStatus("01053", "plaetze", MONTH, "abgelehnt", 2, RECEIVED))
    return out


def stand_in_protect(df: pd.DataFrame, value_cols: list[str], total_row_label: str | None, groups=None, forced=None):
    """Simple `sperrung`: 1 and 2 -> '.', then per column with a total row: if exactly one cell
    is suppressed, also suppress the smallest non-zero shown cell; repeat until stable. Row sums
    (``groups``) and cells hidden elsewhere (``forced``) are ignored: layout tests only; the real
    method is ``make_protect``."""
    out = df.copy().astype(object)
    label = out.columns[0]
    body = out[label] != total_row_label
    for c in value_cols:
        out[c] = [("." if (not isinstance(v, str) and v in (1, 2)) else v) for v in out[c]]
    changed = True
    while changed:
        changed = False
        for c in value_cols:
            col = out.loc[body, c]
            if total_row_label is not None and (col == ".").sum() == 1:
                cand = col[[not isinstance(v, str) and v > 0 for v in col]]
                if len(cand):
                    out.at[cand.astype(float).idxmin(), c] = "."
                    changed = True
    return out, "Sperrung: Fallzahlen 1 und 2 sowie zur Rückrechnung geeignete Werte sind durch „.“ ersetzt."


# ---------------------------------------------------------------- helpers
def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict, tuple[str, ...]]] = []
        self.text: list[str] = []
        self.captions = 0
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a, tuple(self.stack)))
        if tag not in ("meta", "br", "img", "input", "link", "line", "circle", "rect", "polyline"):
            self.stack.append(tag)
        if tag == "table":
            self.tables += 1
        if tag == "caption":
            self.captions += 1

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs), tuple(self.stack)))

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Html:
    p = _Html()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _assert_accessible_html(path: Path, expect_tables: bool = True) -> _Html:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    p = _parse(path)
    html = [a for t, a, _ in p.tags if t == "html"][0]
    assert html.get("lang") == "de"
    assert (p.tables > 0) == expect_tables and p.captions == p.tables
    for tag, attrs, stack in p.tags:
        if tag == "th":
            assert attrs.get("scope") == ("col" if "thead" in stack else "row"), (attrs, stack)
        for key in ("src", "href", "action", "srcset"):
            v = attrs.get(key, "")
            assert not v.startswith(("http:", "https:", "//")), v
        assert tag not in ("link", "script", "img", "iframe")
        if tag == "div" and "tabelle" in attrs.get("class", ""):
            assert attrs.get("tabindex") == "0" and attrs.get("aria-label")
    assert "@media print" in text and "break-before: page" in text
    assert "@font-face" not in text and "url(" not in text
    return p


def _table_cells(ws, ref: str):
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return [[ws.cell(row=r, column=c) for c in range(min_col, max_col + 1)] for r in range(min_row, max_row + 1)]


def _chart_kinds(chart_xml: str) -> list[str]:
    """The plot kinds in a chart part (``lineChart``, ``barChart``), whatever namespace prefix."""
    import xml.etree.ElementTree as ET

    plot = next(e for e in ET.fromstring(chart_xml).iter() if e.tag.endswith("}plotArea"))
    return [e.tag.split("}")[1] for e in plot if e.tag.endswith("Chart")]


def _check_workbook(path: Path, created: dt.datetime) -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:3] == ["Deckblatt", "Inhalt", "Erläuterungen"]
    assert wb.sheetnames[-1] == "Datenstand"
    assert all(len(n) <= 31 for n in wb.sheetnames)
    p = wb.properties
    assert p.language == "de-DE" and p.creator == "inobhut" and p.title
    assert p.created == created and p.modified == created
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges
        if ws.title == "Deckblatt":
            continue
        assert ws.tables, ws.title
        for tab in ws.tables.values():
            rows = _table_cells(ws, tab.ref)
            assert len(rows) >= 2
            headers = [c.value for c in rows[0]]
            assert all(isinstance(h, str) and h for h in headers)
            for row in rows[1:]:
                for c in row:
                    assert c.value is not None and c.value != "", (ws.title, c.coordinate)
        if ws.title not in ("Inhalt", "Erläuterungen"):
            tab = list(ws.tables.values())[0]
            assert ws["A1"].value and ws["A1"].font.b
            assert tab.ref.startswith(("A3:", "A4:")), tab.ref
    # zip members all carry the reproducible timestamp
    with zipfile.ZipFile(path) as z:
        stamps = {i.date_time for i in z.infolist()}
    assert stamps == {(created.year, created.month, created.day, created.hour, created.minute, created.second)}
    return wb


# ---------------------------------------------------------------- fmt
@pytest.mark.parametrize("value, expected", [
    (0, "0"), (7, "7"), (999, "999"), (1000, "1.000"), (1234567, "1.234.567"), (-1234, "-1.234"),
    (2.5, "3"), (3.5, "4"), (-2.5, "-3"), (1234.4999, "1.234"),
])
def test_fmt_int(value, expected):
    assert fmt_int(value) == expected


@pytest.mark.parametrize("value, n, expected", [
    (12.5, 1, "12,5"), (2.25, 1, "2,3"), (2.35, 1, "2,4"), (0.125, 2, "0,13"), (1234.56, 1, "1.234,6"),
    (-0.04, 1, "0,0"), (-1.25, 1, "-1,3"), (1e6, 2, "1.000.000,00"), (3, 1, "3,0"),
])
def test_fmt_dec(value, n, expected):
    assert fmt_dec(value, n) == expected


@settings(max_examples=400, deadline=None)
@given(x=st.one_of(st.integers(-10**20, 10**20), st.floats(-1e20, 1e20),
                   st.integers(-2**62, 2**62).map(np.int64), st.floats(-1e18, 1e18).map(np.float64),
                   st.integers(-10**6, 10**6).map(float)),
       n=st.integers(0, 3), grouping=st.booleans())
def test_fmt_dec_whole_numbers_fast_path_equals_decimal_rounding(x, n, grouping):
    """fmt_dec formats whole numbers (ints, numpy integers, integral floats) without Decimal: the
    text is the one of the Decimal path for the same value (the same value given as Decimal)."""
    from decimal import Decimal

    assert fmt_dec(x, n, grouping) == fmt_dec(Decimal(str(x)), n, grouping)


def test_fmt_symbols_missing_and_others():
    for sym in ("–", ".", "x", "/", "..."):
        assert fmt_int(sym) == sym and fmt_dec(sym, 2) == sym and fmt_pct(sym) == sym
    assert fmt_int(float("nan")) == "." and fmt_dec(None, 1) == "." and fmt_int(pd.NA) == "."
    assert fmt_pct(12.5) == "12,5 %" and fmt_pct(100) == "100,0 %" and fmt_pct(99.95) == "100,0 %"
    assert fmt_date(dt.date(2025, 3, 1)) == "01.03.2025" and fmt_date("2025-12-31") == "31.12.2025"
    assert fmt_date(pd.Timestamp("2024-02-29 13:00")) == "29.02.2024"
    assert fmt_datetime(dt.datetime(2025, 4, 9, 7, 5)) == "09.04.2025, 07:05 Uhr"
    assert fmt_month("2025-03") == "März 2025" and fmt_month("2024-12") == "Dezember 2024"
    assert fmt_value(1234.5, "#,##0.0") == "1.234,5" and fmt_value(1234.5, "0.0") == "1234,5"
    with pytest.raises(TypeError):
        fmt_int(True)


# ---------------------------------------------------------------- model validation
def test_report_table_rejects_gaps_and_unknown_text():
    ok = pd.DataFrame({"Jugendamt": ["A", "B"], "Anzahl": [3, "."]})
    ReportTable("t1", "Titel", ok, number_formats={"Anzahl": "#,##0"})
    with pytest.raises(ReportModelError, match="leere Zelle"):
        ReportTable("t1", "Titel", pd.DataFrame({"Jugendamt": ["A"], "Anzahl": [float("nan")]}),
                    number_formats={"Anzahl": "#,##0"})
    with pytest.raises(ReportModelError, match="kein zulässiges Symbol"):
        ReportTable("t1", "Titel", pd.DataFrame({"Jugendamt": ["A"], "Anzahl": ["k.A."]}),
                    number_formats={"Anzahl": "#,##0"})
    with pytest.raises(ReportModelError, match="Zahlenformat"):
        ReportTable("t1", "Titel", ok, number_formats={"Anzahl": "0.000%"})
    with pytest.raises(ReportModelError, match="Summenzeile"):
        ReportTable("t1", "Titel", ok, number_formats={"Anzahl": "#,##0"}, total_rows=[2])
    with pytest.raises(ReportModelError, match="leere Zelle"):
        ReportTable("t1", "Titel", pd.DataFrame({"Jugendamt": [""], "Anzahl": [1]}), number_formats={"Anzahl": "#,##0"})


# ---------------------------------------------------------------- Landesbericht
@pytest.fixture(scope="module")
def landes(tables, tmp_path_factory):
    status = _status(missing=(("01062", "massnahmen"),))
    model = build_landesbericht(tables, NET, MONTH, status, stand_in_protect,
                                findings=pd.DataFrame({"rule_id": ["Z010", "D001", "Z010"],
                                                       "severity": ["Hinweis", "Fehler", "Hinweis"],
                                                       "anzahl": [3, 1, 2]}))
    out = tmp_path_factory.mktemp("landes")
    files = render_report(model, report_path(out, model.kind, model.scope_key, model.period_key))
    return model, files


def test_landesbericht_model_contents(landes):
    model, _ = landes
    assert model.created_at == RECEIVED  # newest receipt in the data status, not now()
    t = {x.id: x for x in model.tables}
    assert set(t) >= {"bewegung", "zeitreihe", "beendete_ja", "beendete_merkmal", "uma_quote", "fristen_42a",
                      "plaetze", "lieferstatus", "datenqualitaet"}
    bew = t["bewegung"].data.set_index("Jugendamt")
    # Norderstedt: 1 Zugang §42 -> primary suppression; secondary in the same column
    assert bew.at["Norderstedt", "Zugänge §42"] == "."
    assert (bew["Zugänge §42"] == ".").sum() == 2
    # Stormarn's Maßnahmen delivery is missing in March -> "..." (not zero)
    assert (bew.loc["Stormarn"] == "...").all()
    # network total is the unsuppressed sum from the statistics table (all five offices)
    assert bew.at[NET_TOTAL, "Zugänge §42"] == 12 + 13 + 14 + 1 + 16  # March: 10 + office index + 2
    # zeros are shown as "–"
    assert bew.at["Norderstedt", "Bestand am Monatsende §42a"] == "–"
    uma = t["uma_quote"].data.set_index("Jugendamt")
    assert uma.at["Pinneberg", "UMA-Ist"] == 25 and uma.at["Pinneberg", "Einwohner"] == 320000
    fr = t["fristen_42a"].data.set_index("Jugendamt")
    assert fr.at["Norderstedt", "Anteil fristgerecht in %"] == "x"  # no cases
    assert fr.at["Herzogtum Lauenburg", "Anteil fristgerecht in %"] == 75.0
    assert fr.at["Herzogtum Lauenburg", "verspätet gemeldet"] == "."  # 1 case: suppressed
    st = t["lieferstatus"].data.set_index("Jugendamt")
    assert st.at["Stormarn", "Maßnahmen"] == "fehlt"
    assert st.at["Herzogtum Lauenburg", "Plätze"] == "angenommen"  # rejected v2 does not replace v1
    dq = t["datenqualitaet"].data
    assert list(dq["Regel"]) == ["D001", "Z010", "Insgesamt"] and list(dq["Befunde"]) == [1, 5, 6]
    merk = t["beendete_merkmal"].data.set_index("Ausprägung")
    # year to date Jan-Mar, network: (6+7+8+9+10 + 2+3+4+5+6) per month * 3
    assert merk.at["Beendete Maßnahmen insgesamt", "Anzahl"] == 3 * (40 + 20)
    assert merk.at["Vernachlässigung", "Anzahl"] == 15
    assert merk.at["Schul-/Ausbildungsprobleme", "Anzahl"] == "–"


def test_landesbericht_excel(landes):
    model, files = landes
    html, xlsx = files
    assert xlsx.suffix == ".xlsx" and html.suffix == ".html"
    wb = _check_workbook(xlsx, model.created_at)
    assert {"Bewegung", "Zeitreihe", "UMA-Quote", "Fristen 42a", "Plätze", "Lieferstatus", "Datenqualität"} <= set(wb.sheetnames)
    ws = wb["Bewegung"]
    tab = ws.tables["T_bewegung"]
    rows = _table_cells(ws, tab.ref)
    header = [c.value for c in rows[0]]
    assert header[0] == "Jugendamt" and "Zugänge §42" in header
    last = rows[-1]
    assert last[0].value == NET_TOTAL
    assert all(c.font.b for c in last) and last[1].border.top.style == "medium"
    assert not rows[1][0].font.b
    numbers = [c for r in rows[1:] for c in r[1:] if isinstance(c.value, (int, float))]
    assert numbers and all(c.number_format == "#,##0" for c in numbers)
    symbols = [c for r in rows[1:] for c in r[1:] if isinstance(c.value, str)]
    assert {c.value for c in symbols} <= {"–", ".", "x", "/", "..."} and all(c.alignment.horizontal == "right" for c in symbols)
    uma = wb["UMA-Quote"]
    urows = _table_cells(uma, list(uma.tables.values())[0].ref)
    col = [c.value for c in urows[0]].index("Erfüllungsquote in %")
    assert all(r[col].number_format == "0.0" for r in urows[1:] if isinstance(r[col].value, float))
    # table of contents links to every sheet
    inhalt = wb["Inhalt"]
    links = [c.hyperlink.location for c in inhalt["A"] if c.hyperlink is not None]
    assert {loc.split("!")[0].strip("'") for loc in links} == set(wb.sheetnames) - {"Inhalt"}
    # explanations: all five symbols and numbered notes
    text = " ".join(str(c.value) for row in wb["Erläuterungen"].iter_rows() for c in row if c.value)
    for sym in ("nichts vorhanden", "geheim", "nicht sinnvoll", "nicht sicher genug", "noch nicht verfügbar"):
        assert sym in text
    assert "[Anmerkung 1]" in text and "Sperrung" in text
    assert "[Anmerkung" in wb["Bewegung"]["A2"].value
    cover = " ".join(str(c.value) for row in wb["Deckblatt"].iter_rows() for c in row if c.value)
    assert "März 2025" in cover and "09.04.2025, 14:30 Uhr" in cover and "Sperrung" in cover
    # native chart with title and alt text
    ts = wb["Zeitreihe"]
    assert len(ts._charts) == 1
    with zipfile.ZipFile(xlsx) as z:
        drawings = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/drawing")]
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(drawings) == 1 and 'descr="Liniendiagramm: Zugänge und Bestand' in drawings[0]
    assert len(charts) == 1 and "Zugänge und Bestand" in charts[0] and _chart_kinds(charts[0]) == ["lineChart"]


def test_landesbericht_html(landes):
    model, files = landes
    p = _assert_accessible_html(files[0])
    text = "".join(p.text)
    assert NET_TOTAL in text
    assert "320.000" in text  # Einwohner Pinneberg, German grouping
    assert "75,0" in text  # share, German decimal comma
    svgs = [(a, s) for t, a, s in p.tags if t == "svg" and a.get("role") == "img"]
    assert len(svgs) == 1
    assert any(t == "title" and "svg" in s for t, a, s in p.tags)
    assert any(t == "desc" and "svg" in s for t, a, s in p.tags)


def test_reports_are_byte_reproducible(tables, tmp_path):
    status = _status()
    files = []
    for sub in ("a", "b"):
        m1 = build_landesbericht(tables, NET, MONTH, status, stand_in_protect)
        m2 = build_jugendamtsbericht(tables, "01056", MONTH, status)
        files.append(render_report(m1, tmp_path / sub / "landes") + render_report(m2, tmp_path / sub / "ja"))
    for a, b in zip(*files):
        assert _sha(a) == _sha(b), a.name


# ---------------------------------------------------------------- Jugendamtsbericht
def test_jugendamtsbericht(tables, tmp_path):
    model = build_jugendamtsbericht(tables, "01056", MONTH, _status())
    assert model.disclosure_method == "keine" and model.scope == "Pinneberg"
    assert {s.jugendamt for s in model.data_status} == {"01056"}
    t = {x.id: x for x in model.tables}
    bew = t["bewegung"].data.set_index("Maßnahme")
    assert bew.at["Inobhutnahme §42", "Zugänge Jugendamt"] == 13
    assert bew.at["Zusammen", "Bestand am Monatsende Verbund"] == (32 + 35 + 38 + 5 + 44) + (6 + 7 + 8 + 0 + 10)
    uma = t["uma_quote"].data
    # quotas: office i has Ist 20+5i with population EINW -> Norderstedt highest, Pinneberg ...
    quotas = {a: (20 + 5 * i) / EINW[a] for i, a in enumerate(OFFICES)}
    expected_rank = sorted(quotas.values(), reverse=True).index(quotas["01056"]) + 1
    assert uma.at[0, "Platz im Verbund"] == expected_rank and uma.at[1, "Platz im Verbund"] == "x"
    assert "Platz" in t["uma_quote"].description
    ts = t["zeitreihe"].data
    assert list(ts["Monat"]) == ["01/2025", "02/2025", "03/2025"]
    assert list(ts["Zugänge"]) == [11 + 5, 12 + 5, 13 + 5]

    html, xlsx = render_report(model, tmp_path / "ja")
    wb = _check_workbook(xlsx, model.created_at)
    assert "Beendete" in wb.sheetnames and "Zeitreihe" in wb.sheetnames
    ws = wb["Zeitreihe"]
    assert len(ws._charts) == 1
    rows = _table_cells(ws, ws.tables["T_zeitreihe"].ref)
    assert [c.value for c in rows[0]] == ["Monat", "Zugänge", "Abgänge", "Bestand am Monatsende"]
    pl = wb["Plätze"]
    prow = _table_cells(pl, pl.tables["T_plaetze"].ref)
    assert [r[0].value for r in prow[1:]] == ["Inobhutnahmestelle/Kinderschutzstelle", "Clearingstelle/Erstaufnahme UMA",
                                             "Pinneberg zusammen", NET_TOTAL]
    assert all(c.font.b for c in prow[3]) and all(c.font.b for c in prow[4]) and not prow[1][0].font.b
    vz = [c.value for c in prow[0]].index("VZÄ Ist")
    assert prow[3][vz].value == 19.75 and prow[3][vz].number_format == "0.00"
    p = _assert_accessible_html(html)
    assert "Pinneberg" in "".join(p.text)


# ---------------------------------------------------------------- one definition: registry -> Excel and HTML
def _reg_labels(name: str, cols, qualifier: str = "") -> list[str]:
    labels = tables_registry.table(name).column_labels
    return [f"{labels[c]} {qualifier}".strip() for c in cols]


_BEW = ("zugaenge", "abgaenge", "bestand")
_UMA = ("einwohner", "uma_ist", "uma_soll", "erfuellungsquote_pct", "differenz", "junge_volljaehrige")
_FRI = ("begonnen", "fristgerecht", "verspaetet", "ohne_meldung", "anteil_fristgerecht_pct", "median_werktage")
_PLA = ("genehmigt", "belegt", "gesperrt", "frei", "auslastung_pct", "vzae_soll", "vzae_ist")


_DS = ("Maßnahmen", "UMA", "Plätze", "Personal")  # dataset labels (schemas.datasets), columns of Lieferstatus
_KAP = ("genehmigt", "gesperrt", "nutzbar", "belegt", "auslastung_pct", "gesperrt_anteil_pct", "kosten_je_belegtag",
        "kosten_monat")
_PER = ("vzae_soll", "vzae_ist", "stellen_unbesetzt", "besetzungsquote_pct")


def _registry_expectations(kind: str, years: tuple[str, ...] = ()) -> list[tuple[str, str, list[str] | None,
                                                                             list[tuple[str, str]]]]:
    """(sheet, registry table, expected header row or None, [(header, registry column)] for number
    formats) of every registry-backed table of a report, built from inobhut.tables alone;
    ``years``: the years a Jahres- or Strategiebericht shows in its column headers."""
    lab = lambda n, c, q="": _reg_labels(n, [c], q)[0]  # noqa: E731
    if kind == "lieferstatus":
        return [
            ("Status", "lieferstatus", [lab("lieferstatus", "jugendamt"), *_DS], []),
            ("Verspätung", "lieferstatus", [lab("lieferstatus", "jugendamt"), *_DS],
             [(d, "tage_verspaetet") for d in _DS]),
            ("Übersicht", "lieferstatus", [lab("lieferstatus", "status"), *_DS], [(d, "anzahl") for d in _DS]),
            ("Lieferungen", "lieferstatus",
             [*_reg_labels("lieferstatus", ("jugendamt", "datensatz", "status")), "Gelieferte Versionen",
              lab("lieferstatus", "version_in_kraft"), "Erste Lieferung", lab("lieferstatus", "tage_verspaetet"),
              "Fehler", "Hinweise"],
             [(lab("lieferstatus", c), c) for c in ("version_in_kraft", "tage_verspaetet")]),
        ]
    if kind == "platzuebersicht":
        pla = [(lab("plaetze", c), c) for c in ("genehmigt", "belegt", "gesperrt", "frei")]
        return [
            ("Nach Angebot", "plaetze", [lab("plaetze", "angebot"), "Einrichtungen", *(h for h, _ in pla),
                                         "Veränderung freie Plätze"], pla),
            ("Einrichtungen", "plaetze", [lab("plaetze", "angebot"), "Einrichtung", lab("plaetze", "jugendamt"),
                                          "Aufnahmealter", *(h for h, _ in pla), "Veränderung freie Plätze", "Stand"],
             pla),
        ]
    if kind == "jahresbericht":
        (year,) = years
        anz = [(lab("beendete", "anzahl", year), "anzahl")]
        two = [*_reg_labels("beendete", ("merkmal", "auspraegung")), anz[0][0]]  # several Merkmale
        return [
            ("Nach Jugendamt", "beendete", None, []),
            *((g, "beendete", two, anz) for g in ("Überblick", "Anlass", "Ende und Anschluss")),
            *((g, "beendete", [lab("beendete", "auspraegung"), anz[0][0]], anz)
              for g in ("Unterbringung", "Angeregt durch", "Aufenthalt vorher", "Dauer")),
            ("Alter und Geschlecht", "beendete", None, []),
        ]
    if kind == "strategiebericht":
        bew = [(lab("bewegung", c, q), c) for c, q in (("zugaenge", "§42"), ("zugaenge", "§42a"), ("bestand", "§42"),
                                                       ("bestand", "§42a"), ("bestand", "zusammen"))]
        zj = [(lab("bewegung", "zugaenge", y), "zugaenge") for y in years]
        uma = [(lab("uma_quote", c), c) for c in ("uma_ist", "junge_volljaehrige")]
        return [
            ("Zeitreihe", "bewegung", [lab("bewegung", "monat"), *(h for h, _ in bew)], bew),
            ("Zugänge nach Jahr", "bewegung", [lab("bewegung", "jugendamt"), *(h for h, _ in zj)], zj),
            ("UMA", "uma_quote", [lab("uma_quote", "stichtag"), *(h for h, _ in uma), "Jugendämter über dem Soll",
                                  "Jugendämter unter dem Soll"], uma),
            ("Kapazität", "kapazitaet", _reg_labels("kapazitaet", ("stichtag", *_KAP)),
             [(lab("kapazitaet", c), c) for c in _KAP]),
            ("Personal", "personal", _reg_labels("personal", ("stichtag", *_PER)), [(lab("personal", c), c) for c in _PER]),
        ]
    if kind == "landesbericht":
        bew = [(lab("bewegung", c, q), c) for q in ("§42", "§42a") for c in _BEW]
        return [
            ("Bewegung", "bewegung", [lab("bewegung", "jugendamt")] + [h for h, _ in bew], bew),
            ("Zeitreihe", "bewegung", _reg_labels("bewegung", ("monat", *_BEW)),
             [(lab("bewegung", c), c) for c in _BEW]),
            ("Beendete nach Merkmal", "beendete", _reg_labels("beendete", ("merkmal", "auspraegung", "anzahl")),
             [(lab("beendete", "anzahl"), "anzahl")]),
            ("Beendete nach Jugendamt", "beendete", None, []),
            ("UMA-Quote", "uma_quote", _reg_labels("uma_quote", ("jugendamt", *_UMA)),
             [(lab("uma_quote", c), c) for c in _UMA]),
            ("Fristen 42a", "fristen_42a", _reg_labels("fristen_42a", ("jugendamt", *_FRI)),
             [(lab("fristen_42a", c), c) for c in _FRI]),
            ("Plätze", "plaetze", _reg_labels("plaetze", ("jugendamt", *_PLA)), [(lab("plaetze", c), c) for c in _PLA]),
            ("Personal", "personal", _reg_labels("personal", ("jugendamt", *_PER)), [(lab("personal", c), c) for c in _PER]),
            ("Lieferstatus", "lieferstatus", None, []),
        ]
    bew = [(lab("bewegung", c, q), c) for q in ("Jugendamt", "Verbund") for c in _BEW]
    anz = [(lab("beendete", "anzahl", q), "anzahl") for q in ("Jugendamt", "Verbund")]
    return [
        ("Bewegung", "bewegung", [lab("bewegung", "massnahme")] + [h for h, _ in bew], bew),
        ("Zeitreihe", "bewegung", _reg_labels("bewegung", ("monat", *_BEW)), [(lab("bewegung", c), c) for c in _BEW]),
        ("Beendete", "beendete", _reg_labels("beendete", ("merkmal", "auspraegung")) + [h for h, _ in anz], anz),
        ("UMA-Quote", "uma_quote", ["Gebiet", *_reg_labels("uma_quote", _UMA), "Platz im Verbund"],
         [(lab("uma_quote", c), c) for c in _UMA]),
        ("Fristen 42a", "fristen_42a", ["Gebiet", *_reg_labels("fristen_42a", _FRI)],
         [(lab("fristen_42a", c), c) for c in _FRI]),
        ("Plätze", "plaetze", _reg_labels("plaetze", ("angebot", *_PLA)), [(lab("plaetze", c), c) for c in _PLA]),
        ("Personal", "personal", ["Gebiet", *_reg_labels("personal", _PER)], [(lab("personal", c), c) for c in _PER]),
    ]


def _html_tables(path: Path) -> tuple[dict[str, tuple[list[str], list[int]]], dict[int, str]]:
    """caption title -> (th scope=col texts, note numbers); note number -> note text."""
    p = _Html()
    out: dict[str, tuple[list[str], list[int]]] = {}
    cur: dict | None = None
    field_ = None
    notes: dict[int, str] = {}

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            nonlocal cur, field_
            a = dict(attrs)
            if tag == "table":
                cur = {"caption": "", "cols": []}
            elif tag == "caption" and cur is not None:
                field_ = "caption"
            elif tag == "th" and a.get("scope") == "col" and cur is not None:
                cur["cols"].append("")
                field_ = "th"
            elif tag == "li" and a.get("id", "").startswith("anm-"):
                field_ = ("li", int(a["id"][4:]))
                notes[field_[1]] = ""

        def handle_endtag(self, tag):
            nonlocal cur, field_
            if tag == "table" and cur is not None:
                cap = cur["caption"]
                nums = [int(x) for x in re.findall(r"\[Anmerkung (\d+)\]", cap)]
                out[re.sub(r"( \[Anmerkung \d+\])+$", "", cap)] = (cur["cols"], nums)
                cur = None
            if tag in ("caption", "th", "li"):
                field_ = None

        def handle_data(self, data):
            if field_ == "caption":
                cur["caption"] += data
            elif field_ == "th":
                cur["cols"][-1] += data
            elif isinstance(field_, tuple):
                notes[field_[1]] += data

    del p
    P(convert_charrefs=True).feed(path.read_text(encoding="utf-8"))
    notes = {k: re.sub(r"^\[Anmerkung \d+\] ", "", v) for k, v in notes.items()}
    return out, notes


def _assert_single_definition(model, files, years: tuple[str, ...] = ()) -> None:
    html, xlsx = files
    wb = openpyxl.load_workbook(xlsx)
    by_sheet = {}
    names = common.sheet_names(common.report_tables(model))
    for t, n in zip(common.report_tables(model), names):
        by_sheet[n] = t
    # notes of each sheet in the workbook (sheet Erläuterungen: Anmerkung, Text, Tabellenblätter)
    er = [[c.value for c in r] for r in wb["Erläuterungen"].iter_rows()]
    xl_notes: dict[str, list[str]] = {}
    for r in er:
        if r[0] and str(r[0]).startswith("[Anmerkung") and r[2]:
            for s in str(r[2]).split(", "):
                xl_notes.setdefault(s, []).append(str(r[1]))
    html_tabs, html_notes = _html_tables(html)
    expectations = _registry_expectations(model.kind, years)
    assert expectations
    for sheet, name, header, numeric in expectations:
        if sheet not in by_sheet:
            assert sheet == "Zeitreihe", sheet  # the time series needs two months of history
            continue
        tdef = tables_registry.table(name)
        t = by_sheet[sheet]
        ws = wb[sheet]
        rows = _table_cells(ws, ws.tables[f"T_{t.id}"].ref)
        # title stem from the registry, in the sheet and in the HTML caption
        assert t.title.startswith(tdef.title), (sheet, t.title)
        assert str(ws["A1"].value).startswith(tdef.title), (sheet, ws["A1"].value)
        assert t.title in html_tabs, (sheet, t.title)
        th, nums = html_tabs[t.title]
        xl_header = [c.value for c in rows[0]]
        if header is not None:
            assert xl_header == header, (sheet, xl_header, header)
            assert th == header, (sheet, th, header)
        else:
            assert xl_header == th
        # number formats from the registry
        checked = 0
        for h, col in numeric:
            j = xl_header.index(h)
            cells = [r[j] for r in rows[1:] if isinstance(r[j].value, (int, float))]
            assert all(c.number_format == tdef.number_formats[col] for c in cells), (sheet, h)
            checked += len(cells)
        assert checked or not numeric, (sheet, "no number to check the format of")
        # footnotes from the registry, attached to this table in both outputs
        fns = tdef.footnotes()
        assert fns, (sheet, name, "registry table without footnotes")
        for fn in fns:
            assert fn in t.notes, (sheet, fn)
            assert fn in xl_notes.get(sheet, []), (sheet, fn)
            assert fn in [html_notes[n] for n in nums], (sheet, fn)


def test_report_tables_come_from_the_registry(tables, tmp_path):
    # built here, not taken from the module fixture: footnotes follow the settings in force
    with_staff = {**tables, "personal": _personal()}
    model = build_landesbericht(with_staff, NET, MONTH, _status(missing=(("01062", "massnahmen"),)), stand_in_protect)
    _assert_single_definition(model, render_report(model, tmp_path / "landes"))
    ja = build_jugendamtsbericht(with_staff, "01056", MONTH, _status())
    _assert_single_definition(ja, render_report(ja, tmp_path / "ja"))
    # the UMA footnote follows the settings (generated by the registry, not by the builders)
    uma = {t.id: t for t in model.tables}["uma_quote"]
    assert tables_registry.uma_quote_footnotes()[0] in uma.notes
    assert not any(n.startswith("Ist ohne Hilfeart") for n in uma.notes)

def test_landesbericht_rundung3_derived_values_from_rounded_counts(tables, tmp_path):
    """Under rundung3, Soll, quota, difference and shares computed from the exact counts would undo
    the rounding (exact Ist = Soll + Differenz; the network's exact Ist from any Soll). They are
    computed from the rounded counts instead, and the report passes the release check."""
    from inobhut.report_run import make_protect
    from inobhut.reports.pieces import FRISTEN_SHARE, H_BEGONNEN, H_DIFF, H_EINWOHNER, H_FRISTGERECHT, H_QUOTE, H_SOLL, H_UMA_IST

    model = build_landesbericht(tables, NET, MONTH, _status(), make_protect("rundung3"))
    t = {x.id: x for x in model.tables}
    uma = t["uma_quote"].data
    ist = [float(v) for v in uma[H_UMA_IST]]
    assert all(v % 3 == 0 for v in ist)
    exact = [20 + 5 * i for i in range(len(OFFICES))]
    assert ist[:-1] != exact  # the fixture's values are not all multiples of 3
    total, ew = ist[-1], [float(v) for v in uma[H_EINWOHNER]]
    for i in range(len(uma)):
        soll = total * ew[i] / ew[-1]
        assert float(uma[H_SOLL].iloc[i]) == round(soll, 2)
        assert round(float(uma[H_SOLL].iloc[i]) + float(uma[H_DIFF].iloc[i]), 6) == ist[i]  # only the rounded Ist
        assert float(uma[H_QUOTE].iloc[i]) == round(100 * ist[i] / soll, 1)
    assert any("gerundeten Fallzahlen" in n for n in t["uma_quote"].notes)
    fr = t["fristen_42a"].data
    num = lambda v: 0.0 if v == "–" else float(v)  # noqa: E731
    shares = [(num(b), num(f), s) for b, f, s in zip(fr[H_BEGONNEN], fr[H_FRISTGERECHT], fr[FRISTEN_SHARE])
              if isinstance(s, float)]
    assert shares and all(s == round(100 * f / b, 1) for b, f, s in shares)
    render_report(model, tmp_path / "landes_r3")  # the release check passes


def test_created_at_ignores_later_months(tables):
    feb = build_jugendamtsbericht(tables, "01056", "2025-02", _status())
    assert feb.created_at == dt.datetime(2025, 3, 9, 9, 0)  # newest February delivery (all offices)
    assert [s.monat for s in feb.data_status] == ["2025-02"] * 4 + ["2025-01"] * 4


def test_jugendamtsbericht_missing_delivery_marks_values(tables, tmp_path):
    model = build_jugendamtsbericht(tables, "01062", MONTH, _status(missing=(("01062", "massnahmen"),)))
    t = {x.id: x for x in model.tables}
    bew = t["bewegung"].data
    assert (bew["Zugänge Jugendamt"] == "...").all() and (bew["Zugänge Verbund"] != "...").all()
    assert t["zeitreihe"].data["Zugänge"].iloc[-1] == "..."
    assert any(s.verdict == "fehlt" and s.dataset == "massnahmen" for s in model.data_status)
    render_report(model, tmp_path / "ja")  # renders without empty cells


# ---------------------------------------------------------------- index
def test_index_page_links_relative(tables, tmp_path):
    berichte = tmp_path / "berichte"
    status = _status()
    entries = []
    for model in (build_landesbericht(tables, NET, MONTH, status, stand_in_protect),
                  build_jugendamtsbericht(tables, "01056", MONTH, status),
                  build_jugendamtsbericht(tables, "01056", "2025-02", status)):
        files = render_report(model, report_path(berichte, model.kind, model.scope_key, model.period_key, model.network))
        entries.append(index_entry(model, files))
    idx = render_index(entries, berichte, IndexMeta(created_at=RECEIVED, product_version="0.1.0"))
    assert idx == berichte / "index.html"
    p = _assert_accessible_html(idx)  # the front page's grids are tables with captions
    hrefs = [a["href"] for t, a, _ in p.tags if t == "a" and not a["href"].startswith("#")]
    assert len(set(hrefs)) == 6  # every file once in the archive (newest reports link some again)
    for h in hrefs:
        assert not h.startswith(("/", "http")) and (berichte / h).is_file(), h
    text = "".join(p.text)
    assert text.index("Landesberichte") < text.index("Jugendamtsberichte")
    assert text.index("März 2025") < text.index("Februar 2025")  # newest month first


# ---------------------------------------------------------------- generic layer
def _generic_model(tables_: list[ReportTable]):
    from inobhut.reports import ReportModel
    return ReportModel(kind="test", title="Testbericht", period="März 2025", scope="Test", audience="Tests",
                       disclosure_method="keine", disclosure_note="", data_status=[], product_version="0.1.0",
                       created_at=dt.datetime(2025, 4, 1, 8, 0), source="Quelle", contact="Kontakt", tables=tables_)


def test_sheet_names_are_valid_and_unique_and_bar_chart(tmp_path):
    from inobhut.reports import ChartSpec
    df = pd.DataFrame({"Jahr": ["2023", "2024"], "Anzahl": [1234, 0], "Quote in %": [12.5, "x"]})
    long = "Eine sehr lange Tabellenbezeichnung: mit [verbotenen] Zeichen/und mehr"
    t1 = ReportTable("a", "Tabelle A", df, number_formats={"Anzahl": "#,##0", "Quote in %": "0.0"}, sheet=long,
                     chart=ChartSpec("bar", "Jahr", ["Anzahl"], "Anzahl je Jahr", "Säulendiagramm: Anzahl je Jahr."))
    t2 = ReportTable("b", "Tabelle B", df, number_formats={"Anzahl": "#,##0"}, sheet=long)
    t3 = ReportTable("c", "Tabelle C", df, sheet="Inhalt")
    html, xlsx = render_report(_generic_model([t1, t2, t3]), tmp_path / "g")
    wb = openpyxl.load_workbook(xlsx)
    names = wb.sheetnames[3:]
    assert len(set(n.casefold() for n in wb.sheetnames)) == len(wb.sheetnames) == 7
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    ws = wb[names[0]]
    rows = _table_cells(ws, list(ws.tables.values())[0].ref)
    assert rows[1][1].value == 1234 and rows[1][1].number_format == "#,##0"
    assert rows[2][1].value == 0 and rows[2][2].value == "x"  # the renderer keeps numbers; builders set "–"
    assert rows[2][2].value == "x" and rows[2][2].alignment.horizontal == "right"
    with zipfile.ZipFile(xlsx) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert _chart_kinds(chart) == ["barChart"] and 'barDir val="col"' in chart  # columns, not bars
    p = _assert_accessible_html(html)
    assert "1.234" in "".join(p.text) and "12,5" in "".join(p.text)
    assert any(t == "rect" and "svg" in s for t, a, s in p.tags)


def test_report_text_that_looks_like_a_formula_stays_text(tmp_path):
    """Report cells never hold formulas: a label taken from the data that starts with "=" is
    written as text (openpyxl would otherwise store it as a formula)."""
    df = pd.DataFrame({"Einrichtung": ['=HYPERLINK("http://example.invalid","x")', "Haus am See"], "Anzahl": [3, 4]})
    t = ReportTable("a", "=Titel", df, number_formats={"Anzahl": "#,##0"})
    _, xlsx = render_report(_generic_model([t]), tmp_path / "f")
    wb = openpyxl.load_workbook(xlsx)
    formulas = [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    ws = wb[wb.sheetnames[3]]
    rows = _table_cells(ws, list(ws.tables.values())[0].ref)
    assert rows[1][0].value == '=HYPERLINK("http://example.invalid","x")' and rows[1][0].data_type == "s"
    assert rows[1][1].value == 3


def test_model_rejects_duplicate_ids_and_protect_changing_shape(tables):
    t = ReportTable("a", "A", pd.DataFrame({"X": ["y"]}))
    with pytest.raises(ReportModelError, match="eindeutig"):
        _generic_model([t, t])
    with pytest.raises(ValueError, match="andere Form"):
        build_landesbericht(tables, NET, MONTH, _status(), lambda df, cols, total: (df.iloc[:-1], ""))


# ================================================================ reports from the fixture warehouse
# Lieferstatus, Platzübersicht, Jahresbericht, Strategiebericht and the Landesbericht's data
# quality / staff tables, built from the hand-made deliveries (tests/fixtures, README with the
# hand calculations) through statistics and report_run, read back with openpyxl.
from tests.helpers_fixtures import FIXTURE_MONTHS as FIX_MONTHS  # noqa: E402


def _sheet_table(wb, sheet: str) -> list[list]:
    ws = wb[sheet]
    tab = list(ws.tables.values())[0]
    return [[c.value for c in row] for row in _table_cells(ws, tab.ref)]


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    import warnings

    from inobhut.config import Paths
    from inobhut.report_run import render_all_other_reports, render_index_page, render_months
    from tests.helpers_fixtures import fixture_statistics

    warnings.filterwarnings("ignore")
    tmp = tmp_path_factory.mktemp("fixture_reports")
    with fixture_statistics(tmp) as wh:
        with wh.connect() as con:
            # findings of the in-force Stuttgart May delivery: two Hinweise K-101 (one confirmed), one E2 Hinweis
            con.execute("""INSERT INTO findings (ags, dataset, monat, version, rule_id, severity, zeile, bestaetigt) VALUES
                ('08111', 'massnahmen', '2024-05', 1, 'K-101', 'Hinweis', 2, TRUE),
                ('08111', 'massnahmen', '2024-05', 1, 'K-101', 'Hinweis', 3, FALSE),
                ('08335043', 'massnahmen', '2024-05', 1, 'E2', 'Hinweis', 2, NULL)""")
        paths = Paths(tmp / "l", tmp / "a", tmp / "s", wh.path, tmp / "out")
        monthly = render_months(paths, wh, ["2024-05"])
        other = render_all_other_reports(paths, wh)
        index = render_index_page(paths, wh)
        yield {"paths": paths, "wh": wh, "monthly": monthly, "other": other, "index": index}


def _file(run, name: str) -> Path:
    return next(p for p in run["other"] + run["monthly"] if p.name == name)


def test_all_other_reports_written(fixture_run):
    names = sorted(p.name for p in fixture_run["other"])
    expected = []
    for v in ("BW", "SH-KOOP"):
        expected += [f"lieferstatus_{v}_{m}.{s}" for m in FIX_MONTHS for s in ("html", "xlsx")]
        expected += [f"platzuebersicht_{v}.{s}" for s in ("html", "xlsx")]
        expected += [f"jahresbericht_{v}_2024.{s}" for s in ("html", "xlsx")]
        expected += [f"strategiebericht_{v}.{s}" for s in ("html", "xlsx")]
    assert names == sorted(expected)
    for p in fixture_run["other"]:
        if p.suffix == ".html":
            _assert_accessible_html(p)


def test_lieferstatus_matrix_from_fixture(fixture_run):
    wb = _check_workbook(_file(fixture_run, "lieferstatus_SH-KOOP_2024-05.xlsx"), dt.datetime(2024, 5, 31))
    assert _sheet_table(wb, "Status") == [
        ["Jugendamt", "Maßnahmen", "UMA", "Plätze", "Personal"],
        ["Norderstedt", "angenommen", "angenommen", "angenommen", "fehlt"],
        ["Stormarn", "angenommen", "angenommen", "fehlt", "fehlt"],
    ]
    rows = _sheet_table(wb, "Lieferungen")
    head = rows[0]
    norder = dict(zip(head, rows[1]))
    assert norder["Datensatz"] == "Maßnahmen" and norder["Gelieferte Versionen"] == 2 and norder["Version in Kraft"] == 2
    summary = {r[0]: r[1:] for r in _sheet_table(wb, "Übersicht")[1:]}
    assert summary["fehlt"] == ["–", "–", 1, 2] and summary["Jugendämter insgesamt"] == [2, 2, 2, 2]
    # March: Stormarn's rejected correction leaves v1 in force; the status is the newest version's
    wb3 = openpyxl.load_workbook(_file(fixture_run, "lieferstatus_SH-KOOP_2024-03.xlsx"))
    st = {r[0]: r for r in _sheet_table(wb3, "Status")}
    assert st["Stormarn"][1] == "abgelehnt"
    det = [r for r in _sheet_table(wb3, "Lieferungen") if r[0] == "Stormarn" and r[1] == "Maßnahmen"][0]
    assert det[3:5] == [2, 1]


def test_lieferstatus_lateness_in_days(fixture_run):
    from inobhut.reports.network import build_lieferstatus

    def row(ags, ds, status, first, late, version=1):
        return {"ags": ags, "dataset": ds, "monat": "2025-03", "status": status, "version": version, "in_kraft": version,
                "erste_lieferung": first, "letzte_lieferung": first, "n_fehler": 0, "n_hinweise": 1, "tage_verspaetet": late}

    df = pd.DataFrame([row("01060063", "massnahmen", "angenommen", pd.Timestamp("2025-04-15 09:00"), 5),
                       row("01060063", "uma", "angenommen mit Hinweisen", pd.Timestamp("2025-04-08 09:00"), 0)])
    m = build_lieferstatus(df, "SH-KOOP", "2025-03", dt.date(2025, 4, 10))
    late = m.tables[1].data.set_index("Jugendamt")
    own = "Norderstedt"
    assert late.loc[own, "Maßnahmen"] == 5 and late.loc[own, "UMA"] == "–" and late.loc[own, "Plätze"] == "..."
    assert late.loc["Stormarn", "Maßnahmen"] == "..."
    status = m.tables[0].data.set_index("Jugendamt")
    assert status.loc[own, "UMA"] == "angenommen mit Hinweisen" and status.loc["Stormarn", "Personal"] == "fehlt"
    assert m.created_at == dt.datetime(2025, 4, 15, 9, 0)  # newest receipt, not the clock


def test_network_report_tables_come_from_the_registry(fixture_run, tmp_path):
    """Lieferstatus, Platzübersicht, Jahres- and Strategiebericht: titles, column labels, number
    formats and footnotes of their statistics tables equal the registry in Excel and HTML."""
    from inobhut.report_run import other_report_models
    from inobhut.reports import render_report

    from inobhut.reports.network import build_lieferstatus

    seen = {}
    for model, base in other_report_models(fixture_run["paths"], fixture_run["wh"]):
        # built below with other data: the fixture deliveries carry no receipt times (no lateness),
        # and the fixture's four ended measures of 2024 are all suppressed in the Jahresbericht
        if model.network != "BW" or model.kind in seen or model.kind in ("lieferstatus", "jahresbericht"):
            continue
        seen[model.kind] = model
        _assert_single_definition(model, render_report(model, tmp_path / base.name), ("2024",))
    assert set(seen) == {"platzuebersicht", "strategiebericht"}

    from inobhut.report_run import make_protect
    from inobhut.reports.network import build_jahresbericht

    be = pd.read_csv(Path(__file__).parent / "fixtures" / "erwartet" / "beendete.csv", dtype=str)
    be = be[be["zeitraum"] == "2024"].assign(anzahl=lambda d: d["anzahl"].astype(int) * 10)
    ag_df = pd.DataFrame({"jahr": ["2024"] * 2, "altersgruppe": ["16-17"] * 2, "geschlecht": ["m", "w"],
                          "anzahl": [25, 15]})
    model = build_jahresbericht(be, None, ag_df, "BW", "2024", [], make_protect("sperrung"))
    _assert_single_definition(model, render_report(model, tmp_path / "jahresbericht"), ("2024",))

    def row(ds, status, first, late, version=1):
        return {"ags": "08111", "dataset": ds, "monat": "2024-05", "status": status, "version": version,
                "in_kraft": version, "erste_lieferung": first, "letzte_lieferung": first, "n_fehler": 0,
                "n_hinweise": 2, "tage_verspaetet": late}

    status = pd.DataFrame([row("massnahmen", "angenommen", pd.Timestamp("2024-06-14 09:00"), 4),
                           row("uma", "angenommen mit Hinweisen", pd.Timestamp("2024-06-21 09:00"), 11, 2)])
    model = build_lieferstatus(status, "BW", "2024-05", dt.date(2024, 6, 10))
    _assert_single_definition(model, render_report(model, tmp_path / "lieferstatus"))


def test_network_values_hidden_in_one_table_are_hidden_in_all(fixture_run):
    """Cross-table disclosure: a network value that the table by office hides in its total row is
    hidden wherever the same value (or a sum that gives it away) appears again in the report --
    read back from the written Excel files."""
    hidden_links = 0

    def dot(v) -> bool:
        return v == "."

    # Landesbericht: Bewegung total row -> Zeitreihe of the month; Beendete total row -> by Merkmal
    lb = openpyxl.load_workbook(_file(fixture_run, "landesbericht_BW_2024-05.xlsx"))
    bew = _sheet_table(lb, "Bewegung")
    tot = dict(zip(bew[0], bew[-1]))
    ts = _sheet_table(lb, "Zeitreihe")
    last = dict(zip(ts[0], ts[-1]))
    for head in ("Zugänge", "Abgänge", "Bestand am Monatsende"):
        if dot(tot[f"{head} §42"]) or dot(tot[f"{head} §42a"]):
            assert dot(last[head]), head
            hidden_links += 1
    be = _sheet_table(lb, "Beendete nach Jugendamt")
    tot = dict(zip(be[0], be[-1]))
    merk = _sheet_table(lb, "Beendete nach Merkmal")[1:]
    blocks = {"Beendete Maßnahmen": None, "§42": "Art der Maßnahme", "§42a": "Art der Maßnahme",
              "Unbegleitet eingereist": "Unbegleitete Einreise", "Männlich": "Geschlecht", "Weiblich": "Geschlecht"}
    for head, block in blocks.items():
        if dot(tot[head]):
            rows = merk if block is None else [r for r in merk if r[0] == block]
            assert rows and all(dot(r[2]) for r in rows), head
            hidden_links += 1

    # Jahresbericht: the same network values in the table by office, the overview and Alter × Geschlecht
    jb = openpyxl.load_workbook(_file(fixture_run, "jahresbericht_BW_2024.xlsx"))
    be = _sheet_table(jb, "Nach Jugendamt")
    tot = dict(zip(be[0], be[-1]))
    ov = {r[1]: r[2] for r in _sheet_table(jb, "Überblick")[1:]}
    ag = dict(zip(_sheet_table(jb, "Alter und Geschlecht")[0], _sheet_table(jb, "Alter und Geschlecht")[1]))
    same = [("Beendete Maßnahmen", ov["Beendete Maßnahmen insgesamt"]), ("§42", ov["Inobhutnahme §42"]),
            ("§42a", ov["vorläufige Inobhutnahme §42a"]), ("Unbegleitet eingereist", ov["unbegleitet eingereist"]),
            ("Männlich", ov["männlich"]), ("Weiblich", ov["weiblich"]), ("Männlich", ag["Männlich"]),
            ("Weiblich", ag["Weiblich"]), ("Beendete Maßnahmen", ag["Zusammen"])]
    for head, other in same:
        assert dot(tot[head]) == dot(other), (head, tot[head], other)
        if not dot(other):
            assert tot[head] == other
        hidden_links += dot(other)

    # Strategiebericht: a hidden yearly network total is not the sum of the months of the time series
    for net in ("BW", "SH-KOOP"):
        sb = openpyxl.load_workbook(_file(fixture_run, f"strategiebericht_{net}.xlsx"))
        by_year = _sheet_table(sb, "Zugänge nach Jahr")
        ts = _sheet_table(sb, "Zeitreihe")
        for head, v in zip(by_year[0][1:], by_year[-1][1:]):
            year = head.split()[-1]
            rows = [r for r in ts[1:] if str(r[0]).endswith(year[2:]) or str(r[0]).endswith(year)]
            assert rows
            if dot(v):
                assert all(dot(r[1]) and dot(r[2]) for r in rows)
                hidden_links += 1
    assert hidden_links  # the fixture does hide network values


def test_platzuebersicht_from_fixture(fixture_run):
    wb = _check_workbook(_file(fixture_run, "platzuebersicht_BW.xlsx"), dt.datetime(2024, 5, 31))
    rows = _sheet_table(wb, "Einrichtungen")
    assert rows[0] == ["Angebot", "Einrichtung", "Jugendamt", "Aufnahmealter", "Plätze genehmigt", "belegt",
                       "gesperrt", "frei", "Veränderung freie Plätze", "Stand"]
    # by Angebot, most free places first; changes against 30.04.2024 (E1: 3 -> -1, E3: 1 -> 0, E2: 0 -> 0)
    assert [r[1] for r in rows[1:]] == ["E3", "E1", "E2"]
    assert rows[1][4:9] == [6, "–", 6, "–", -1] and rows[2][4:9] == [10, 9, 2, -1, -4] and rows[3][4:9] == [12, 11, 1, "–", 0]
    blocked = _sheet_table(wb, "Gesperrte Plätze")
    assert [(r[0], r[4], r[5]) for r in blocked[1:]] == [("E3", 6, 6), ("E1", 2, 2), ("E2", 1, 1)]
    assert _sheet_table(wb, "Frei für 15-Jährige")[1][0] == "keine freien Plätze"
    sh = openpyxl.load_workbook(_file(fixture_run, "platzuebersicht_SH-KOOP.xlsx"))
    assert _sheet_table(sh, "Einrichtungen")[1][1:9] == ["F1", "Norderstedt", "0 bis 12 Jahre", 4, 3, "–", 1, 1]  # April: 4 gesperrt, 0 frei


def test_platzuebersicht_finds_free_place_for_15_year_old(fixture_run):
    from inobhut.reports.network import build_platzuebersicht

    def fac(name, von, bis, gen, bel, ges, angebot="1", vorher=None):
        return {"jugendamt": "01062", "einrichtung": name, "stichtag": pd.Timestamp("2025-03-31"), "angebot": angebot,
                "alter_von": von, "alter_bis": bis, "genehmigt": gen, "belegt": bel, "gesperrt": ges,
                "frei": gen - bel - ges, "vorher_stichtag": None, "vorher_frei": vorher, "vorher_gesperrt": None}

    f = pd.DataFrame([fac("A", 0, 12, 8, 3, 0), fac("B", 12, 17, 6, 4, 0, "4", vorher=0), fac("C", 14, 17, 9, 5, 0, "3"),
                      fac("D", 15, 17, 5, 5, 0), fac("E", 16, 17, 9, 0, 0)])
    m = build_platzuebersicht(f, "SH-KOOP", [])
    first = m.tables[0]
    assert first.title.startswith("Freie Plätze für 15-Jährige")
    assert first.data["Einrichtung"].tolist() == ["C", "B"]
    assert first.data["frei"].tolist() == [4, 2] and first.data["Veränderung freie Plätze"].tolist() == ["x", 2]
    by_angebot = m.tables[1].data
    assert by_angebot.iloc[-1]["frei"] == 5 + 2 + 4 + 0 + 9


def test_jahresbericht_from_fixture(fixture_run):
    from inobhut.disclosure import release_check

    wb = _check_workbook(_file(fixture_run, "jahresbericht_BW_2024.xlsx"), dt.datetime(2024, 12, 31))
    assert wb.sheetnames[3:-1] == ["Nach Jugendamt", "Überblick", "Anlass", "Alter und Geschlecht", "Unterbringung",
                                   "Angeregt durch", "Aufenthalt vorher", "Dauer", "Ende und Anschluss"]
    by_office = _sheet_table(wb, "Nach Jugendamt")
    # hand calculation (tests/fixtures/erwartet/beendete.csv): Stuttgart 3, Konstanz 1, BW 4 -> the 1 is
    # suppressed, so is Stuttgart's 3 (otherwise 4 - 3 = 1); §42 total 2 is a primary suppression
    assert by_office[1][:2] == ["Stuttgart", "."] and by_office[2][:2] == ["Konstanz", "."]
    assert by_office[3][:3] == ["Baden-Württemberg insgesamt", 4, "."]
    overview = {r[1]: r[2] for r in _sheet_table(wb, "Überblick")[1:]}
    assert overview["Beendete Maßnahmen insgesamt"] == 4 and overview["Inobhutnahme §42"] == "."
    ag = _sheet_table(wb, "Alter und Geschlecht")
    assert ag[1] == ["Insgesamt", 4, "–", 4]
    html = _file(fixture_run, "jahresbericht_BW_2024.html").read_text(encoding="utf-8")
    assert "Sperrung" in html
    # the model keeps the protected tables, and they pass the release check
    from inobhut.report_run import make_protect
    from inobhut.reports.network import build_jahresbericht

    be = pd.read_csv(Path(__file__).parent / "fixtures" / "erwartet" / "beendete.csv", dtype=str)
    be = be[be["zeitraum"] == "2024"].assign(anzahl=lambda d: d["anzahl"].astype(int))
    ag_df = pd.DataFrame({"jahr": ["2024"], "altersgruppe": ["16-17"], "geschlecht": ["m"], "anzahl": [4]})
    m = build_jahresbericht(be, be.assign(zeitraum="2023"), ag_df, "BW", "2024", [], make_protect("sperrung"))
    assert m.protected and release_check(m.protected) == []
    ue = m.tables[1].data
    assert "Anzahl 2023" in ue.columns and ue.iloc[0]["Veränderung in %"] == 0.0


def test_jahresbericht_rundung3_change_from_rounded_counts(tmp_path):
    """The change to the previous year under rundung3 comes from the shown (rounded) counts: from
    exact counts it would narrow them down (e.g. 3 → 6 shown with +150 % means 2 → 5)."""
    from inobhut.report_run import make_protect
    from inobhut.reports import render_report
    from inobhut.reports.network import build_jahresbericht

    be = pd.read_csv(Path(__file__).parent / "fixtures" / "erwartet" / "beendete.csv", dtype=str)
    be = be[be["zeitraum"] == "2024"]
    cur = be.assign(anzahl=be["anzahl"].astype(int) * 10)
    prev = be.assign(zeitraum="2023", anzahl=be["anzahl"].astype(int) * 7)
    ag_df = pd.DataFrame({"jahr": ["2024"], "altersgruppe": ["16-17"], "geschlecht": ["m"], "anzahl": [40]})
    m = build_jahresbericht(cur, prev, ag_df, "BW", "2024", [], make_protect("rundung3"))
    checked = 0
    for t in m.tables:
        if "Veränderung in %" not in t.data.columns:
            continue
        for r in t.data.to_dict("records"):
            c, p, ch = r["Anzahl 2024"], r["Anzahl 2023"], r["Veränderung in %"]
            if isinstance(ch, float) and p not in (".", "–"):
                assert float(c) % 3 == 0 and float(p) % 3 == 0
                assert ch == round(100 * (float(c) - float(p)) / float(p), 1), (t.id, r)
                checked += 1
        assert any("gerundeten Fallzahlen" in n for n in t.notes)
    assert checked >= 5
    render_report(m, tmp_path / "jahresbericht_r3")  # passes the release check


def test_row_sums_are_part_of_the_disclosure_control(tables):
    """Columns that add up within a row (Beendete: insgesamt = §42 + §42a = männlich + weiblich;
    Fristen: begonnen = fristgerecht + verspätet + ohne Meldung) go to `protect` and to the audit:
    no row shows all but one value of such a sum."""
    from inobhut.report_run import make_protect
    from inobhut.reports.pieces import BEENDETE_GROUPS, FRISTEN_GROUPS
    from inobhut.reports.network import build_jahresbericht

    be = pd.read_csv(Path(__file__).parent / "fixtures" / "erwartet" / "beendete.csv", dtype=str)
    be = be[be["zeitraum"] == "2024"].assign(anzahl=lambda d: d["anzahl"].astype(int))
    ag_df = pd.DataFrame({"jahr": ["2024"], "altersgruppe": ["16-17"], "geschlecht": ["m"], "anzahl": [4]})
    jb = build_jahresbericht(be, None, ag_df, "BW", "2024", [], make_protect("sperrung"))
    lb = build_landesbericht(tables, NET, MONTH, _status(), make_protect("sperrung"))
    lt = {t.id: t for t in lb.tables}
    cases = [(jb.protected["Beendete nach Jugendamt"], jb.tables[0].data, BEENDETE_GROUPS),
             (lb.protected["Beendete nach Jugendamt"], lt["beendete_ja"].data, BEENDETE_GROUPS),
             (lb.protected["Fristen §42a nach Jugendamt"], lt["fristen_42a"].data, FRISTEN_GROUPS)]
    suppressed = 0
    for pt, shown, groups in cases:
        assert len(pt.groups) == len(groups)
        for r in shown.to_dict("records"):
            for parts, total in groups:
                entries = [r[c] for c in [*parts, total]]
                assert entries.count(".") != 1, (parts, total, r)
                suppressed += entries.count(".")
    assert suppressed  # the fixtures do contain small values


def test_landesebene_report_refused_when_release_check_fails(tmp_path):
    from inobhut.report_run import make_protect
    from inobhut.reports import render_report
    from inobhut.reports.model import ReleaseRefused
    from inobhut.reports.network import build_jahresbericht

    be = pd.read_csv(Path(__file__).parent / "fixtures" / "erwartet" / "beendete.csv", dtype=str)
    be = be[be["zeitraum"] == "2024"].assign(anzahl=lambda d: d["anzahl"].astype(int))
    ag_df = pd.DataFrame(columns=["jahr", "altersgruppe", "geschlecht", "anzahl"])
    import os
    from tests.helpers_fixtures import activate_test_settings

    old = os.environ.get("INOBHUT_CONFIG")
    activate_test_settings(tmp_path)
    try:
        m = build_jahresbericht(be, None, ag_df, "BW", "2024", [], make_protect("keine"))
        with pytest.raises(ReleaseRefused, match="Freigabeprüfung der Geheimhaltung nicht bestanden"):
            render_report(m, tmp_path / "jahresbericht_BW_2024")
        assert not list(tmp_path.glob("jahresbericht_*"))
    finally:
        if old is None:
            os.environ.pop("INOBHUT_CONFIG", None)
        else:
            os.environ["INOBHUT_CONFIG"] = old


def test_strategiebericht_from_fixture(fixture_run):
    wb = _check_workbook(_file(fixture_run, "strategiebericht_SH-KOOP.xlsx"), dt.datetime(2024, 5, 31))
    assert wb.sheetnames[3:-1] == ["Kernaussagen", "Zeitreihe", "Zugänge nach Jahr", "UMA", "Kapazität", "Personal", "Ausblick"]
    ts = _sheet_table(wb, "Zeitreihe")
    # hand calculation (erwartet/bewegung.csv, SH-KOOP): §42 entries 2, 1, 2; stock 2, 2, 3; no §42a
    assert [r[1] for r in ts[1:]] == [2, 1, 2] and [r[5] for r in ts[1:]] == [2, 2, 3] and {r[2] for r in ts[1:]} == {"–"}
    charts = wb["Zeitreihe"]._charts
    assert len(charts) == 1
    sentences = [r[1] for r in _sheet_table(wb, "Kernaussagen")[1:]]
    assert "Die Zugänge nach §42 sind von März 2024 bis Mai 2024 gleich geblieben (2)." in sentences
    assert ("Der Bestand am Monatsende ist vom 31.03.2024 bis zum 31.05.2024 um 50,0 % gestiegen (von 2 auf 3)."
            in sentences)
    assert _sheet_table(wb, "Ausblick")[1][1:] == ["...", "...", "..."]
    by_year = _sheet_table(wb, "Zugänge nach Jahr")
    assert by_year[-1] == ["Kooperationsverbund Schleswig-Holstein (SH-KOOP) insgesamt", 5]
    html = _file(fixture_run, "strategiebericht_SH-KOOP.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 3 and "Fünfjahresvorausschau" in html


def test_key_findings_sentences():
    from inobhut.reports.strategie import key_findings

    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    zr = {m: {"z1": 10.0, "z2": (10.0 if m < "2024" else 11.23), "bestand": 50.0} for m in months}
    out = key_findings(zr, {}, None, None)
    assert out[0] == ("Die Zugänge nach §42a sind in den letzten zwölf Monaten gegenüber den zwölf Monaten davor "
                      "um 12,3 % gestiegen (von 120 auf 135).")
    assert out[1].endswith("gleich geblieben (120).")


def test_landesbericht_confirmed_hinweise_and_staff(fixture_run):
    wb = openpyxl.load_workbook(_file(fixture_run, "landesbericht_BW_2024-05.xlsx"))
    q = _sheet_table(wb, "Datenqualität")
    assert q[0] == ["Regel", "Schweregrad", "Befunde", "davon bestätigt"]
    assert q[1:] == [["E2", "Hinweis", 1, "–"], ["K-101", "Hinweis", 2, 1], ["Insgesamt", "alle", 3, 1]]
    assert _sheet_table(wb, "Bestätigte Hinweise")[1:] == [["Stuttgart", "K-101", 1], ["Insgesamt", "alle", 1]]
    staff = {r[0]: r[1:] for r in _sheet_table(wb, "Personal")[1:]}
    # fixture 08111_personal_2024-05: 42,5 + 12,0 planned, 40,0 + 11,5 filled, 2,5 + 0,5 vacant; Konstanz delivers none
    assert staff["Stuttgart"] == [54.5, 51.5, 3.0, 94.5]
    assert staff["Konstanz"] == ["...", "...", "...", "..."]
    # the Jugendamtsbericht shows the office's own staff beside the network (Konstanz: none delivered)
    ja = openpyxl.load_workbook(_file(fixture_run, "jugendamtsbericht_08111_2024-05.xlsx"))
    assert _sheet_table(ja, "Personal")[1:] == [["Stuttgart", 54.5, 51.5, 3.0, 94.5],
                                                 ["Baden-Württemberg insgesamt", 54.5, 51.5, 3.0, 94.5]]
    ko = openpyxl.load_workbook(_file(fixture_run, "jugendamtsbericht_08335043_2024-05.xlsx"))
    assert _sheet_table(ko, "Personal")[1] == ["Konstanz", "...", "...", "...", "..."]


def test_index_groups_new_kinds(fixture_run):
    text = fixture_run["index"].read_text(encoding="utf-8")
    newest = text[text.index('id="neueste"'):text.index('id="archiv"')]
    archive = text[text.index('id="archiv"'):]
    for label in ("Jahresberichte", "Strategieberichte", "Platzübersichten", "Lieferstatus"):
        assert f'<th scope="row">{label}</th>' in newest  # one row per kind and network
        assert f'<th scope="col">{label}</th>' in archive  # one grid column per kind
    plz = newest[newest.index('<th scope="row">Platzübersichten</th>'):]
    assert plz.index("Schleswig-Holstein") < plz.index("Baden-Württemberg")  # the coordinating network first
    assert "Jahr 2024" in text and "gesamter Zeitraum" in text and "neuester Stichtag" in text
    assert 'href="strategiebericht/BW/strategiebericht_BW.html"' in text


def test_other_reports_reproducible(fixture_run):
    from inobhut.report_run import render_all_other_reports

    before = {p: _sha(p) for p in fixture_run["other"]}
    again = render_all_other_reports(fixture_run["paths"], fixture_run["wh"])
    assert {p: _sha(p) for p in again} == before


def test_office_labels_follow_the_member_list_in_force(tmp_path, monkeypatch):
    """A name two member offices share carries their kind ("Konstanz (Stadt)"); with a member list
    where the name is unique it does not. A label looked up under one member list must not stay
    for the next (a cached label made the front page of a later test lose "Konstanz")."""
    from inobhut.reports.common import office_label
    from tests.helpers_fixtures import activate_test_settings

    monkeypatch.delenv("INOBHUT_CONFIG", raising=False)
    assert office_label("08335043") == "Konstanz (Stadt)"
    monkeypatch.setenv("INOBHUT_CONFIG", str(activate_test_settings(tmp_path)))
    assert office_label("08335043") == "Konstanz"
    assert office_label("08335") == "08335"  # not a member of the test list
    monkeypatch.delenv("INOBHUT_CONFIG")
    assert office_label("08335043") == "Konstanz (Stadt)" and office_label("08335") == "Konstanz (Kreis)"
