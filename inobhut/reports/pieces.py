"""Table pieces the report builders share: disclosure settings and plumbing, the notes that go
with them, and the tables that Landesbericht, Jugendamtsbericht and the network reports show
alike (movements, ended measures, deadlines, places, UMA quota, staff, data quality).

Column headers, number formats, title stems and footnotes come from the table registry
(:mod:`inobhut.reports.registry`); only the layout is decided here. Disclosure control is
*called* through a ``protect`` callable, never implemented here (:mod:`inobhut.disclosure`).
Not here: the statistics index and delivery status (:mod:`inobhut.reports.stats_index`), which
report contains which piece (:mod:`inobhut.reports.builders`, :mod:`inobhut.reports.network`).
"""

from __future__ import annotations

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import pandas as pd

from inobhut import config
from inobhut.calendar import add_months

from . import registry as reg
from . import texts
from . import stats_index
from .common import office_label
from .fmt import fmt_month, fmt_month_short
from .model import ChartSpec, ReportTable
from .stats_index import (
    MASSNAHMEN, NOT_YET, NOT_YET_NOTE, StatsIndex, _Status, _count, _dec, _num,
)

Protect = Callable[[pd.DataFrame, list[str], "str | None"], tuple[pd.DataFrame, str]]


# ---------------------------------------------------------------- settings
def _disclosure_setting(kind: str) -> str:
    return config.settings().get("geheimhaltung", {}).get(kind, "sperrung")


MIRROR_NOTE = ("„.“: Der Wert ist in der Tabelle nach Jugendamt gesperrt und bleibt es hier, ebenso Werte, aus "
               "denen er sich zurückrechnen ließe (Geheimhaltung über Tabellen hinweg).")
ROUNDED_DERIVED_NOTE = ("Anteile, Aufnahmesoll, Erfüllungsquote und Differenz sind aus den gerundeten Fallzahlen "
                        "berechnet, damit sie die Rundung nicht aufheben.")


def _method_of(released: dict, name: str, kind: str) -> str:
    """The disclosure method the table ``name`` was protected with (from its ProtectedTable;
    the configured method of the report ``kind`` if the protect callable returns none)."""
    pt = released.get(name)
    return getattr(pt, "method", None) or _disclosure_setting(kind)


def _rounded(released: dict, name: str) -> bool:
    """Whether the table ``name`` was protected by rounding (``rundung3``): then derived values
    must be computed from the rounded counts, else they would reveal the exact ones."""
    pt = released.get(name)
    return getattr(pt, "method", None) == "rundung3"


def _num_shown(v: object) -> float:
    """A shown count as a number ("–" is 0)."""
    return 0.0 if v == "–" else (_num(v) or 0.0)


def _uma_from_rounded(shown: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """Aufnahmesoll, Erfüllungsquote and Differenz from the rounded Ist (``rundung3``): the Soll
    uses the rounded network total, so neither the total nor an office's exact Ist can be
    recomputed from Soll and Differenz. Quota and difference stay hidden below the minimum
    number of cases (counted on the exact values) or where they were not computed."""
    out = shown.copy()
    total = _num_shown(out[H_UMA_IST].iloc[-1])
    ew_sum = _num(out[H_EINWOHNER].iloc[-1]) or 0.0
    for i in range(len(out)):
        if out.at[i, H_SOLL] in (NOT_YET, ".") or not ew_sum:
            continue
        soll = total * (_num(out.at[i, H_EINWOHNER]) or 0.0) / ew_sum
        ist = _num_shown(out.at[i, H_UMA_IST])
        out.at[i, H_SOLL] = round(soll, 2)
        if (_num(raw.at[i, H_UMA_IST]) or 0.0) < _min_cases() or out.at[i, H_QUOTE] in (".", NOT_YET):
            continue
        out.at[i, H_QUOTE] = round(100 * ist / soll, 1) if soll > 0 else "x"
        out.at[i, H_DIFF] = round(ist - soll, 2)
    return out


def _min_cases() -> int:
    return int(config.settings().get("geheimhaltung", {}).get("mindestfallzahl", 3))


def _contact(contact: str | None) -> str:
    return contact or config.settings().get("berichte", {}).get("kontakt") or texts.CONTACT_DEFAULT


def _uma_missing_note(st: _Status, offices: Sequence[config.Office]) -> str:
    base = ("Aufnahmesoll, Erfüllungsquote und Differenz werden erst berechnet, wenn alle Jugendämter des "
            "Verbunds die UMA-Lieferung für den Monat abgegeben haben („...“).")
    miss = [office_label(o.ags) for o in offices if not st.has_data(o.ags, "uma")]
    return f"{base} Es fehlen: {', '.join(miss)}." if miss else base


# ---------------------------------------------------------------- disclosure plumbing
def _apply_protect(protect: Protect, df: pd.DataFrame, value_cols: list[str], total_label: str,
                   sink: dict | None = None, name: str = "",
                   groups: list[tuple[list[str], str]] | None = None,
                   forced: set[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, str]:
    """Call ``protect``; a third element of its result (the
    :class:`~inobhut.disclosure.ProtectedTable`) is kept in ``sink[name]`` for the release check.
    ``groups``: columns that add up within every row (``[(parts, total)]``, see
    :func:`inobhut.disclosure.protect`), so that a suppressed part is not the total minus the rest;
    ``forced``: (row label, column) of cells that another table of the report hides."""
    extra = {k: v for k, v in (("groups", groups), ("forced", forced)) if v}
    res = protect(df.copy(), list(value_cols), total_label, **extra)
    shown, footnote = res[0], res[1]
    if sink is not None and len(res) > 2 and res[2] is not None:
        sink[name or f"Tabelle {len(sink) + 1}"] = res[2]
    if list(shown.columns) != list(df.columns) or len(shown) != len(df):
        raise ValueError("Geheimhaltung: die geschützte Tabelle hat eine andere Form als die Eingabe")
    return shown.reset_index(drop=True).astype(object), (footnote or "")


def _reinsert(shown: pd.DataFrame, order: list[str], missing_rows: dict[str, dict], label_col: str) -> pd.DataFrame:
    """Put rows of offices without data back in office order (after disclosure control)."""
    rows = {r[label_col]: r for r in shown.to_dict("records")}
    rows.update(missing_rows)
    return pd.DataFrame([rows[k] for k in order if k in rows], columns=shown.columns)


# ---------------------------------------------------------------- shared table pieces
# Column headers, number formats, title stems and footnotes of tables that show a statistics
# table come from its registry definition (inobhut.tables via .registry); only the layout
# (rows by office, period text, symbols, disclosure) is decided here.
BEWEGUNG_VALUES = ("zugaenge", "abgaenge", "bestand")
#: (header, Maßnahme code, position in [zugaenge, abgaenge, bestand]) of the Bewegung by office
BEWEGUNG_HEADERS = [(reg.label("bewegung", c, short), code, i) for code, short in MASSNAHMEN
                    for i, c in enumerate(BEWEGUNG_VALUES)]
FRISTEN_COUNTS = ("begonnen", "fristgerecht", "verspaetet", "ohne_meldung")
FRISTEN_COLS = [(reg.label("fristen_42a", c), c) for c in FRISTEN_COUNTS]
FRISTEN_SHARE = reg.label("fristen_42a", "anteil_fristgerecht_pct")
FRISTEN_MEDIAN = reg.label("fristen_42a", "median_werktage")
FRISTEN_FORMATS = reg.columns("fristen_42a", [*FRISTEN_COUNTS, "anteil_fristgerecht_pct", "median_werktage"])
H_BEGONNEN, H_FRISTGERECHT, H_VERSPAETET = (reg.label("fristen_42a", c) for c in FRISTEN_COUNTS[:3])
#: begonnen = fristgerecht + verspätet + ohne Meldung in every row (for disclosure control)
FRISTEN_GROUPS = [([reg.label("fristen_42a", c) for c in FRISTEN_COUNTS[1:]], H_BEGONNEN)]
#: (header, merkmal, code) of the Beendete by office (Landes- and Jahresbericht) and the sums
#: within every row: insgesamt = §42 + §42a = männlich + weiblich (divers and ohne Angabe are
#: counted as männlich, as in the federal statistic)
BEENDETE_BY_OFFICE = [("Beendete Maßnahmen", "insgesamt", "insgesamt"), ("§42", "massnahme", "1"),
                      ("§42a", "massnahme", "2"), ("Unbegleitet eingereist", "unbegleitet", "1"),
                      ("Männlich", "geschlecht", "m"), ("Weiblich", "geschlecht", "w")]
BEENDETE_GROUPS = [(["§42", "§42a"], "Beendete Maßnahmen"), (["Männlich", "Weiblich"], "Beendete Maßnahmen")]
PLAETZE_COLS = [(reg.label("plaetze", c), c) for c in ("genehmigt", "belegt", "gesperrt", "frei")]
PLAETZE_FORMATS = reg.columns("plaetze", ["genehmigt", "belegt", "gesperrt", "frei", "auslastung_pct", "vzae_soll",
                                          "vzae_ist"])
H_GENEHMIGT, H_BELEGT, H_GESPERRT, H_FREI = (h for h, _ in PLAETZE_COLS)
UMA_VALUES = ("einwohner", "uma_ist", "uma_soll", "erfuellungsquote_pct", "differenz", "junge_volljaehrige")
UMA_FORMATS = reg.columns("uma_quote", UMA_VALUES)
(H_EINWOHNER, H_UMA_IST, H_SOLL, H_QUOTE, H_DIFF, H_JV) = (reg.label("uma_quote", c) for c in UMA_VALUES)
FRISTEN_DESC = "Maßnahmen nach §42a mit Beginn im Berichtsmonat."
JA = reg.label("bewegung", "jugendamt")  # row-label column of tables by office
ALL_DEFINITIONS = ("Stichtag", "Zugang", "Abgang", "Bestand", "Beendete Maßnahmen", "Anlass", "Geschlecht", "Alter",
                   "Dauer", "Werktage", "Fristgerecht gemeldet", "UMA-Ist", "Junge Volljährige", "Aufnahmesoll",
                   "Erfüllungsquote", "Differenz", "Auslastung", "Freie Plätze", "VZÄ")


def _bewegung_row(ix: StatsIndex, ags: str, month: str) -> dict[str, float]:
    return {h: ix.bewegung(ags, month, code)[i] for h, code, i in BEWEGUNG_HEADERS}


def _plaetze_sum(rows: list[dict]) -> dict:
    out = {h: sum(_num(r[c]) or 0.0 for r in rows) for h, c in PLAETZE_COLS}
    usable = out[H_GENEHMIGT] - out[H_GESPERRT]
    out[reg.label("plaetze", "auslastung_pct")] = round(100 * out[H_BELEGT] / usable, 1) if usable > 0 else "x"
    for c in ("vzae_soll", "vzae_ist"):
        out[reg.label("plaetze", c)] = round(sum(_num(r[c]) or 0.0 for r in rows), 2)
    return out


def _network_plaetze(ix: StatsIndex, verbund: str, offices, month: str) -> list[dict]:
    rows = ix.plaetze.get((verbund, month))
    if rows:
        return rows
    return [r for o in offices for r in ix.plaetze.get((o.ags, month), [])]


def _uma_values(r: dict | None) -> dict | None:
    if r is None:
        return None
    soll = _num(r["uma_soll"])
    return {
        H_EINWOHNER: _count(r["einwohner"]),
        H_UMA_IST: _num(r["uma_ist"]) or 0.0,
        H_SOLL: NOT_YET if soll is None else round(soll, 2),
        H_QUOTE: NOT_YET if soll is None else _dec(r["erfuellungsquote_pct"], 1),
        H_DIFF: NOT_YET if soll is None else _dec(r["differenz"], 2),
        H_JV: _num(r["junge_volljaehrige"]) or 0.0,
    }


def _merkmal_rows(*dicts: dict[tuple[str, str], float]) -> list[tuple[str, str, str, str]]:
    """(merkmal, code, merkmal label, value label) in table order, plus unknown codes found in the data."""
    present = {k for d in dicts for k in d}
    out = []
    for m, (mlabel, _) in texts.MERKMALE.items():
        vals = texts.merkmal_values(m)
        known = {c for c, _ in vals}
        extra = sorted({c for mm, c in present if mm == m} - known)
        for c, lbl in vals + [(e, e) for e in extra]:
            out.append((m, c, mlabel, lbl))
    return out


def _network_ytd(ix: StatsIndex, verbund: str, offices, month: str) -> tuple[dict, str]:
    if verbund in ix.beendete_agss:
        return ix.ytd(verbund, month)
    acc: dict[tuple[str, str], float] = defaultdict(float)
    period = ""
    for o in offices:
        d, period = ix.ytd(o.ags, month)
        for k, v in d.items():
            acc[k] += v
    return dict(acc), period or ix.ytd(verbund, month)[1]


def _time_series(ix: StatsIndex, who: str, month: str, st: _Status | None, title: str, subject: str,
                 hide_below: int | None = None) -> ReportTable | None:
    """Monthly Zugänge/Abgänge/Bestand of one office or network (up to 24 months), with a line chart.

    ``hide_below`` (reports with ``sperrung``): a month's network value is shown as „.“ when
    one of its Maßnahme parts is 1 .. ``hide_below`` − 1 -- exactly the network values that the
    table by office of that month's report hides in its total row (otherwise the series would
    give them away, and with them the office that has the cases)."""
    first = add_months(month, -(stats_index.HISTORY_MONTHS - 1))  # looked up now: a test shortens it
    months = [m for m in ix.bew_months if first <= m <= month]
    if len(months) < 2:
        return None
    rows = []
    h_monat = reg.label("bewegung", "monat")
    heads = [reg.label("bewegung", c) for c in BEWEGUNG_VALUES]
    for m in months:
        if st is not None and not st.has_data(who, "massnahmen", m):
            vals = [NOT_YET] * 3
        else:
            vals = [_count(v) for v in ix.bewegung(who, m)]
            if hide_below:
                parts = [ix.bewegung(who, m, code) for code, _ in MASSNAHMEN]
                vals = ["." if any(1 <= p[i] < hide_below for p in parts) else v for i, v in enumerate(vals)]
        rows.append({h_monat: fmt_month_short(m), **dict(zip(heads, vals))})
    df = pd.DataFrame(rows)
    z = [0 if v == "–" else v for v in df[heads[0]] if v not in (NOT_YET, ".")]
    alt = (f"Liniendiagramm: Zugänge und Bestand von {subject}, {fmt_month(months[0])} bis {fmt_month(months[-1])}. "
           f"Zugänge je Monat zwischen {min(z, default=0)} und {max(z, default=0)}. Alle Werte stehen in der Tabelle.")
    return ReportTable(
        id="zeitreihe", title=title, data=df,
        number_formats=reg.columns("bewegung", BEWEGUNG_VALUES),
        chart=ChartSpec("line", h_monat, [heads[0], heads[2]],
                        f"Zugänge und Bestand, {subject}", alt, y_title="Maßnahmen", x_title="Monat"),
        sheet="Zeitreihe", description="Maßnahmen nach §42 und §42a zusammen.",
        notes=reg.footnotes("bewegung") + ([NOT_YET_NOTE] if any(NOT_YET in r.values() for r in rows) else [])
              + ([MIRROR_NOTE] if any("." in r.values() for r in rows) else []),
    )


def _quality_table(findings: pd.DataFrame | None) -> ReportTable:
    """Findings per rule; with a ``bestaetigt`` column (number of confirmed findings) the
    confirmed Hinweise are shown in their own column."""
    confirmed = findings is not None and "bestaetigt" in findings.columns
    cols = ["Regel", "Schweregrad", "Befunde"] + (["davon bestätigt"] if confirmed else [])
    fmts = {"Befunde": "#,##0", **({"davon bestätigt": "#,##0"} if confirmed else {})}
    total = None
    if findings is None:
        df = pd.DataFrame([{"Regel": "Zusammenfassung folgt", "Schweregrad": "...", "Befunde": "..."}])
        notes = ["Die Zusammenfassung der Prüfergebnisse liegt für diesen Bericht noch nicht vor („...“)."]
    elif len(findings) == 0:
        df = pd.DataFrame([{c: ("keine Befunde" if c == "Regel" else "–") for c in cols}])
        notes = []
    else:
        sums = ["anzahl"] + (["bestaetigt"] if confirmed else [])
        f = findings.groupby(["rule_id", "severity"], as_index=False)[sums].sum()
        f["_o"] = f["severity"].map({"Fehler": 0, "Hinweis": 1}).fillna(2)
        f = f.sort_values(["_o", "rule_id"])
        rows = []
        for r in f.itertuples():
            row = {"Regel": str(r.rule_id), "Schweregrad": str(r.severity), "Befunde": _count(r.anzahl)}
            if confirmed:
                row["davon bestätigt"] = _count(r.bestaetigt) if r.severity == "Hinweis" else "x"
            rows.append(row)
        tot = {"Regel": "Insgesamt", "Schweregrad": "alle", "Befunde": _count(f["anzahl"].sum())}
        if confirmed:
            tot["davon bestätigt"] = _count(f.loc[f["severity"] == "Hinweis", "bestaetigt"].sum())
        rows.append(tot)
        df = pd.DataFrame(rows, columns=cols)
        notes = ["Befunde aller geprüften Lieferversionen des Monats; die Regeln erklärt der Regelkatalog der Prüfberichte."]
        if confirmed:
            notes.append("„davon bestätigt“: Hinweise, die das Jugendamt als fachlich zutreffend bestätigt hat; "
                         "„x“: Fehler können nicht bestätigt werden.")
        total = [len(df) - 1]
    return ReportTable(id="datenqualitaet", title="Datenqualität: Befunde nach Prüfregel", data=df,
                       number_formats=fmts, total_rows=total, sheet="Datenqualität", notes=notes)


def _confirmed_table(findings: pd.DataFrame | None) -> ReportTable | None:
    """Confirmed Hinweise by office and rule (needs columns ags, rule_id, severity, bestaetigt)."""
    if findings is None or not {"ags", "bestaetigt"} <= set(findings.columns):
        return None
    f = findings[(findings["severity"] == "Hinweis") & (findings["bestaetigt"] > 0)]
    f = f.groupby(["ags", "rule_id"], as_index=False)["bestaetigt"].sum()
    if f.empty:
        df = pd.DataFrame([{"Jugendamt": "keine bestätigten Hinweise", "Regel": "–", "Bestätigte Hinweise": "–"}])
        total = None
    else:
        order = {o.ags: i for i, o in enumerate(config.offices())}
        f = f.assign(_o=f["ags"].map(order).fillna(len(order))).sort_values(["_o", "ags", "rule_id"])
        rows = [{"Jugendamt": office_label(str(r.ags)), "Regel": str(r.rule_id), "Bestätigte Hinweise": _count(r.bestaetigt)}
                for r in f.itertuples()]
        rows.append({"Jugendamt": "Insgesamt", "Regel": "alle", "Bestätigte Hinweise": _count(f["bestaetigt"].sum())})
        df = pd.DataFrame(rows)
        total = [len(df) - 1]
    return ReportTable(
        id="bestaetigte_hinweise", title="Bestätigte Hinweise nach Jugendamt und Prüfregel", data=df,
        number_formats={"Bestätigte Hinweise": "#,##0"}, total_rows=total, sheet="Bestätigte Hinweise",
        notes=["Ein bestätigter Hinweis ist eine Auffälligkeit, die das Jugendamt geprüft und als zutreffend "
               "bestätigt hat (z. B. eine tatsächliche Überbelegung); er wird in Folgelieferungen nicht erneut gemeldet."],
    )


PERSONAL_VALUES = ("vzae_soll", "vzae_ist", "stellen_unbesetzt", "besetzungsquote_pct")
PERSONAL_FORMATS = reg.columns("personal", PERSONAL_VALUES)


def _personal_values(r: dict | None) -> dict:
    r = r or {}
    soll, ist = _num(r.get("vzae_soll")) or 0.0, _num(r.get("vzae_ist")) or 0.0
    h_soll, h_ist, h_unb, h_quote = (reg.label("personal", c) for c in PERSONAL_VALUES)
    return {h_soll: round(soll, 2), h_ist: round(ist, 2),
            h_unb: round(_num(r.get("stellen_unbesetzt")) or 0.0, 2),
            h_quote: round(100 * ist / soll, 1) if soll > 0 else "x"}


def _network_personal(ix: StatsIndex, verbund: str, offices, month: str) -> dict:
    """The network's staff row (all Bereiche): its own statistics row, else the sum of its offices."""
    tot = ix.personal.get((verbund, month))
    if tot is None:
        parts = [ix.personal[(o.ags, month)] for o in offices if (o.ags, month) in ix.personal]
        tot = {c: sum(_num(p.get(c)) or 0.0 for p in parts) for c in ("vzae_soll", "vzae_ist", "stellen_unbesetzt")}
    return tot


def _personal_table(ix: StatsIndex, st: _Status, verbund: str, offices, month: str, total_label: str) -> ReportTable:
    """Staff by office (all Bereiche together); FTE are not case data and are not suppressed."""
    rows = []
    for o in offices:
        r = ix.personal.get((o.ags, month))
        if r is None and not st.has_data(o.ags, "personal"):
            rows.append({JA: office_label(o.ags), **{h: NOT_YET for h in PERSONAL_FORMATS}})
        else:
            rows.append({JA: office_label(o.ags), **_personal_values(r)})
    rows.append({JA: total_label, **_personal_values(_network_personal(ix, verbund, offices, month))})
    df = pd.DataFrame(rows)
    return ReportTable(
        id="personal", title=reg.title("personal", f", {fmt_month(month)}"), data=df,
        number_formats=PERSONAL_FORMATS,
        total_rows=[len(df) - 1], sheet="Personal",
        description="Alle Bereiche zusammen (ASD, UMA-Fachdienst, Pflegekinderdienst, Wirtschaftliche Jugendhilfe, Sonstige).",
        notes=["Stellen sind keine Fallzahlen und werden nicht gesperrt."]
              + reg.footnotes("personal")
              + ([NOT_YET_NOTE] if (df[reg.label("personal", "vzae_soll")] == NOT_YET).any() else []),
    )
