"""Report builders: statistics tables -> :class:`~inobhut.reports.model.ReportModel`.

Belongs here: what the Landesbericht and the Jugendamtsbericht contain (which tables, rows,
columns, German labels, symbols for missing values, notes) — read from the five fixed
statistics tables of statistics.md (``bewegung``, ``beendete``, ``uma_quote``, ``plaetze``,
``fristen_42a``) as DataFrames. Disclosure control is *called* (a ``protect`` callable for
counts by office), never implemented here. Does not belong here: computing statistics,
rendering.

``protect(df, value_cols, total_row_label) -> (display_df, footnote)``: ``df`` has the row
label in its first column and integer counts in ``value_cols``; the row whose label equals
``total_row_label`` is the total of the other rows. ``display_df`` has the same shape, with
suppressed cells replaced by ``"."``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

import inobhut
from inobhut import config
from inobhut.calendar import add_months, month_end
from schemas.datasets import codes, label

from . import texts
from .common import dataset_label, network_label, office_label
from .fmt import fmt_date, fmt_month, fmt_month_short
from .model import ChartSpec, DeliveryStatus, ReportModel, ReportTable, in_force, status_created_at

Protect = Callable[[pd.DataFrame, list[str], "str | None"], tuple[pd.DataFrame, str]]

TABLE_COLUMNS = {
    "bewegung": ["monat", "jugendamt", "massnahme", "zugaenge", "abgaenge", "bestand"],
    "beendete": ["zeitraum", "jugendamt", "merkmal", "auspraegung", "anzahl"],
    "uma_quote": ["stichtag", "jugendamt", "einwohner", "uma_ist", "uma_soll", "erfuellungsquote_pct", "differenz",
                  "junge_volljaehrige"],
    "plaetze": ["stichtag", "jugendamt", "angebot", "genehmigt", "belegt", "gesperrt", "frei", "auslastung_pct",
                "vzae_soll", "vzae_ist"],
    "fristen_42a": ["monat", "jugendamt", "begonnen", "fristgerecht", "verspaetet", "ohne_meldung",
                    "anteil_fristgerecht_pct", "median_werktage"],
}
MASSNAHMEN = (("1", "§42"), ("2", "§42a"))
ACCEPTED = ("angenommen", "angenommen mit Hinweisen")
NOT_YET = "..."  # symbol for values of deliveries that are missing or were rejected
HISTORY_MONTHS = 24
ANGEBOT_CODES = None  # resolved lazily from the code list


# ---------------------------------------------------------------- input normalisation
def _table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """The statistics table with its fixed columns, keys as text (``monat`` 'YYYY-MM')."""
    cols = TABLE_COLUMNS[name]
    df = tables.get(name)
    if df is None:
        return pd.DataFrame(columns=cols)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"Statistiktabelle „{name}“: Spalten fehlen: {missing}")
    df = df[cols].copy()
    df["jugendamt"] = df["jugendamt"].astype(str).str.strip()
    if "monat" in df:
        df["monat"] = df["monat"].map(_month_text)
    if "stichtag" in df:
        df["stichtag"] = pd.to_datetime(df["stichtag"]).dt.date
        df["monat"] = df["stichtag"].map(lambda d: f"{d.year:04d}-{d.month:02d}")
    if "massnahme" in df:
        df["massnahme"] = df["massnahme"].map(lambda v: str(v).strip().removesuffix(".0"))
    if "angebot" in df:
        df["angebot"] = df["angebot"].map(lambda v: str(v).strip().removesuffix(".0"))
    if "zeitraum" in df:
        df["zeitraum"] = df["zeitraum"].astype(str).str.strip()
    return df


def _month_text(v: object) -> str:
    if isinstance(v, (dt.date, pd.Timestamp)):
        return f"{v.year:04d}-{v.month:02d}"
    return str(v).strip()[:7]


def _num(v: object) -> float | None:
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _count(v: object):
    """A count for display: 0 -> '–', missing -> '.', else int."""
    f = _num(v)
    if f is None:
        return "."
    return "–" if f == 0 else int(round(f))


def _dec(v: object, nd: int, missing: str = "x"):
    f = _num(v)
    return missing if f is None else round(f, nd)


def _dash_counts(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Counts for display: 0 -> '–', numbers -> int, symbols unchanged, missing -> '.'."""
    out = df.copy()
    for c in cols:
        out[c] = pd.Series([v if isinstance(v, str) else _count(v) for v in out[c].tolist()], index=out.index,
                           dtype=object)
    return out


class _Status:
    """Delivery status lookup for one report month."""

    def __init__(self, statuses: Sequence[DeliveryStatus], month: str):
        self.all = in_force(statuses)
        self.month = month
        self.by_key = {(s.jugendamt, s.dataset, s.monat): s for s in self.all}
        self.known = any(s.monat == month for s in self.all)

    def verdict(self, ags: str, dataset: str, month: str | None = None) -> str:
        month = month or self.month
        s = self.by_key.get((ags, dataset, month))
        if s is None:
            return "fehlt" if self.known and month == self.month else "unbekannt"
        return s.verdict

    def has_data(self, ags: str, dataset: str, month: str | None = None) -> bool:
        """False only when the status says the delivery is missing or was rejected."""
        v = self.verdict(ags, dataset, month)
        return v in ACCEPTED or v == "unbekannt"


def _created_at(statuses: Sequence[DeliveryStatus], month: str) -> dt.datetime:
    fallback = dt.datetime.combine(month_end(month), dt.time(0, 0))
    return status_created_at(statuses, fallback)


def _status_note(st: _Status, offices: Sequence[config.Office], month: str, prefix: str) -> str:
    counts = {"angenommen": 0, "angenommen mit Hinweisen": 0, "abgelehnt": 0, "fehlt": 0}
    times = []
    for o in offices:
        for ds in ("massnahmen", "uma", "plaetze", "personal"):
            v = st.verdict(o.ags, ds, month)
            if v in counts:
                counts[v] += 1
            s = st.by_key.get((o.ags, ds, month))
            if s is not None and s.eingegangen is not None:
                times.append(s.eingegangen)
    total = sum(counts.values())
    if total == 0:
        return f"{prefix}: für {fmt_month(month)} liegt kein Lieferstatus vor."
    last = f" Letzter Eingang: {fmt_date(max(times))}." if times else ""
    return (f"{prefix}: {counts['angenommen'] + counts['angenommen mit Hinweisen']} von {total} Lieferungen für "
            f"{fmt_month(month)} angenommen (davon {counts['angenommen mit Hinweisen']} mit Hinweisen), "
            f"{counts['abgelehnt']} abgelehnt, {counts['fehlt']} fehlen.{last}")


def _disclosure_setting(kind: str) -> str:
    return config.settings().get("geheimhaltung", {}).get(kind, "sperrung")


def _min_cases() -> int:
    return int(config.settings().get("geheimhaltung", {}).get("mindestfallzahl", 3))


def _contact(contact: str | None) -> str:
    return contact or config.settings().get("berichte", {}).get("kontakt") or texts.CONTACT_DEFAULT


def _placeholder(id_: str, title: str, columns: list[str], label_col: str, text: str, sheet: str) -> ReportTable:
    row = {c: NOT_YET for c in columns}
    row[label_col] = text
    return ReportTable(id=id_, title=title, data=pd.DataFrame([row]),
                       number_formats={c: "#,##0" for c in columns if c != label_col}, sheet=sheet,
                       notes=["„...“: Die Angaben liegen für diesen Berichtsmonat noch nicht vor."])


def _apply_protect(protect: Protect, df: pd.DataFrame, value_cols: list[str], total_label: str) -> tuple[pd.DataFrame, str]:
    shown, footnote = protect(df.copy(), list(value_cols), total_label)
    if list(shown.columns) != list(df.columns) or len(shown) != len(df):
        raise ValueError("Geheimhaltung: die geschützte Tabelle hat eine andere Form als die Eingabe")
    return shown.reset_index(drop=True), (footnote or "")


def _reinsert(shown: pd.DataFrame, order: list[str], missing_rows: dict[str, dict], label_col: str) -> pd.DataFrame:
    """Put rows of offices without data back in office order (after disclosure control)."""
    rows = {r[label_col]: r for r in shown.to_dict("records")}
    rows.update(missing_rows)
    return pd.DataFrame([rows[k] for k in order if k in rows], columns=shown.columns)


# ---------------------------------------------------------------- beendete helpers
def _ytd(beendete: pd.DataFrame, month: str) -> tuple[pd.DataFrame, str]:
    """Ended measures January..month of the month's year: (jugendamt, merkmal, auspraegung, anzahl), period text."""
    year = month[:4]
    monthly = beendete[(beendete["zeitraum"].str.len() == 7) & (beendete["zeitraum"].str[:4] == year)
                       & (beendete["zeitraum"] <= month)]
    if len(monthly):
        part = monthly
        first = f"{year}-01"
        period = fmt_month(month) if month == first else f"Januar bis {fmt_month(month)}"
    else:
        part = beendete[beendete["zeitraum"] == year]
        period = f"Jahr {year}"
    part = part.copy()
    part["auspraegung"] = [texts.normalise_code(m, a) for m, a in zip(part["merkmal"], part["auspraegung"])]
    g = part.groupby(["jugendamt", "merkmal", "auspraegung"], as_index=False)["anzahl"].sum()
    return g, period


def _merkmal_rows(ytd: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """(merkmal, code, merkmal label, value label) in table order, plus unknown codes found in the data."""
    out = []
    for m, (mlabel, _) in texts.MERKMALE.items():
        vals = texts.merkmal_values(m)
        known = {c for c, _ in vals}
        extra = sorted(set(ytd.loc[ytd["merkmal"] == m, "auspraegung"]) - known)
        for c, lbl in vals + [(e, e) for e in extra]:
            out.append((m, c, mlabel, lbl))
    return out


# ---------------------------------------------------------------- shared table pieces
BEWEGUNG_HEADERS = [(f"{q} {lbl}", code, col) for code, lbl in MASSNAHMEN
                    for q, col in (("Zugänge", "zugaenge"), ("Abgänge", "abgaenge"), ("Bestand", "bestand"))]
FRISTEN_COLS = [("Begonnene §42a-Maßnahmen", "begonnen"), ("Fristgerecht gemeldet", "fristgerecht"),
                ("Verspätet gemeldet", "verspaetet"), ("Ohne Meldung", "ohne_meldung")]
PLAETZE_COLS = [("Genehmigte Plätze", "genehmigt"), ("Belegte Plätze", "belegt"), ("Gesperrte Plätze", "gesperrt"),
                ("Freie Plätze", "frei")]
UMA_FORMATS = {"Einwohner": "#,##0", "UMA Ist": "#,##0", "Aufnahmesoll": "#,##0.00", "Erfüllungsquote in %": "0.0",
               "Differenz": "#,##0.00", "Junge Volljährige": "#,##0"}


def _bewegung_row(b: pd.DataFrame, ags: str, month: str) -> dict[str, float]:
    part = b[(b["jugendamt"] == ags) & (b["monat"] == month)]
    out = {}
    for head, code, col in BEWEGUNG_HEADERS:
        out[head] = float(part.loc[part["massnahme"] == code, col].sum())
    return out


def _plaetze_sum(p: pd.DataFrame) -> dict:
    out = {h: float(p[c].sum()) for h, c in PLAETZE_COLS}
    usable = out["Genehmigte Plätze"] - out["Gesperrte Plätze"]
    out["Auslastung in %"] = round(100 * out["Belegte Plätze"] / usable, 1) if usable > 0 else "x"
    out["VZÄ Soll"] = round(float(p["vzae_soll"].sum()), 2)
    out["VZÄ Ist"] = round(float(p["vzae_ist"].sum()), 2)
    return out


PLAETZE_FORMATS = {"Genehmigte Plätze": "#,##0", "Belegte Plätze": "#,##0", "Gesperrte Plätze": "#,##0",
                   "Freie Plätze": "#,##0", "Auslastung in %": "0.0", "VZÄ Soll": "#,##0.0", "VZÄ Ist": "#,##0.0"}


def _time_series(b: pd.DataFrame, who: str, month: str, st: _Status | None, id_: str, title: str,
                 subject: str) -> ReportTable | None:
    """Monthly Zugänge/Abgänge/Bestand of one office or network (up to 24 months), with a line chart."""
    months_all = sorted(m for m in b["monat"].unique() if m <= month)
    first = add_months(month, -(HISTORY_MONTHS - 1))
    months = [m for m in months_all if m >= first]
    if len(months) < 2:
        return None
    part = b[b["jugendamt"] == who].groupby("monat")[["zugaenge", "abgaenge", "bestand"]].sum()
    rows = []
    for m in months:
        if st is not None and not st.has_data(who, "massnahmen", m):
            vals = [NOT_YET] * 3
        elif m in part.index:
            vals = [_count(part.at[m, c]) for c in ("zugaenge", "abgaenge", "bestand")]
        else:
            vals = ["–"] * 3
        rows.append({"Monat": fmt_month_short(m), "Zugänge": vals[0], "Abgänge": vals[1], "Bestand am Monatsende": vals[2]})
    df = pd.DataFrame(rows)
    z = [v for v in df["Zugänge"] if not isinstance(v, str)]
    alt = (f"Liniendiagramm: Zugänge und Bestand von {subject}, {fmt_month(months[0])} bis {fmt_month(months[-1])}. "
           f"Zugänge je Monat zwischen {min(z, default=0)} und {max(z, default=0)}. Alle Werte in der Tabelle.")
    return ReportTable(
        id=id_, title=title, data=df,
        number_formats={"Zugänge": "#,##0", "Abgänge": "#,##0", "Bestand am Monatsende": "#,##0"},
        chart=ChartSpec("line", "Monat", ["Zugänge", "Bestand am Monatsende"],
                        f"Zugänge und Bestand, {subject}", alt, y_title="Maßnahmen", x_title="Monat"),
        sheet="Zeitreihe",
        description="Maßnahmen nach §42 und §42a zusammen.",
        notes=["„...“: Lieferung für diesen Monat fehlt oder wurde abgelehnt."] if any(
            NOT_YET in r.values() for r in rows) else [],
    )


# ---------------------------------------------------------------- Landesbericht
def build_landesbericht(tables: Mapping[str, pd.DataFrame], verbund: str, month: str,
                        data_status: Sequence[DeliveryStatus], protect: Protect, *,
                        findings: pd.DataFrame | None = None, contact: str | None = None) -> ReportModel:
    """The Landesbericht of a network for a month: tables by office and network total, with
    disclosure control (``protect``) on counts by office; delivery status matrix; data-quality
    summary (``findings``: rule_id, severity, anzahl; ``None`` = not yet available)."""
    offices = config.network_offices(verbund)
    if not offices:
        raise ValueError(f"Unbekannter Verbund „{verbund}“")
    st = _Status(data_status, month)
    net = network_label(verbund)
    total_label = f"{net} insgesamt"
    order = [office_label(o.ags) for o in offices] + [total_label]
    method = _disclosure_setting("landesbericht")
    footnotes: list[str] = []
    out_tables: list[ReportTable] = []

    def protected(df: pd.DataFrame, value_cols: list[str], missing: dict[str, dict]) -> pd.DataFrame:
        shown, fn = _apply_protect(protect, df, value_cols, total_label)
        if fn and fn not in footnotes:
            footnotes.append(fn)
        shown = _reinsert(shown, order, missing, "Jugendamt")
        return _dash_counts(shown, value_cols), fn

    # Bewegung
    b = _table(tables, "bewegung")
    heads = [h for h, _, _ in BEWEGUNG_HEADERS]
    rows, missing = [], {}
    for o in offices:
        if st.has_data(o.ags, "massnahmen"):
            rows.append({"Jugendamt": office_label(o.ags), **_bewegung_row(b, o.ags, month)})
        else:
            missing[office_label(o.ags)] = {"Jugendamt": office_label(o.ags), **{h: NOT_YET for h in heads}}
    tot = _bewegung_row(b, verbund, month) if (b["jugendamt"] == verbund).any() else \
        {h: sum(r[h] for r in rows) for h in heads}
    rows.append({"Jugendamt": total_label, **tot})
    df, fn = protected(pd.DataFrame(rows), heads, missing)
    out_tables.append(ReportTable(
        id="bewegung", title=f"Zugänge, Abgänge und Bestand nach Jugendamt und Art der Maßnahme, {fmt_month(month)}",
        data=df, number_formats={h: "#,##0" for h in heads}, total_rows=[len(df) - 1], sheet="Bewegung",
        description=f"Bestand am {fmt_date(month_end(month))}.",
        notes=[n for n in (fn, "„...“: Lieferung Maßnahmen fehlt oder wurde abgelehnt." if missing else "") if n],
    ))

    # Zeitreihe (network total)
    ts = _time_series(b, verbund, month, None, "zeitreihe", f"Zugänge und Bestand im Zeitverlauf, {net}", net)
    if ts is not None:
        out_tables.append(ts)

    # Beendete (year to date) by office and by characteristic
    be = _table(tables, "beendete")
    ytd, period = _ytd(be, month)
    by_office_cols = [("Beendete Maßnahmen", "insgesamt", "insgesamt"), ("§42", "massnahme", "1"),
                      ("§42a", "massnahme", "2"), ("Unbegleitet eingereist", "unbegleitet", "1"),
                      ("Männlich", "geschlecht", "m"), ("Weiblich", "geschlecht", "w")]
    idx = ytd.set_index(["jugendamt", "merkmal", "auspraegung"])["anzahl"]

    def get(ags: str, m: str, c: str) -> float:
        return float(idx.get((ags, m, c), 0))

    rows, missing = [], {}
    heads_b = [h for h, _, _ in by_office_cols]
    for o in offices:
        if st.has_data(o.ags, "massnahmen"):
            rows.append({"Jugendamt": office_label(o.ags), **{h: get(o.ags, m, c) for h, m, c in by_office_cols}})
        else:
            missing[office_label(o.ags)] = {"Jugendamt": office_label(o.ags), **{h: NOT_YET for h in heads_b}}
    has_total = (ytd["jugendamt"] == verbund).any()
    rows.append({"Jugendamt": total_label, **{h: (get(verbund, m, c) if has_total else sum(r[h] for r in rows))
                                              for h, m, c in by_office_cols}})
    df, fn = protected(pd.DataFrame(rows), heads_b, missing)
    out_tables.append(ReportTable(
        id="beendete_ja", title=f"Beendete Maßnahmen nach Jugendamt, {period}", data=df,
        number_formats={h: "#,##0" for h in heads_b}, total_rows=[len(df) - 1], sheet="Beendete nach Jugendamt",
        notes=[n for n in (fn, texts.DEFINITIONS["Geschlecht"],
                           "„...“: Lieferung Maßnahmen des Berichtsmonats fehlt oder wurde abgelehnt; frühere "
                           "Monate sind in den Verbundwerten enthalten." if missing else "") if n],
    ))
    mrows = []
    for m, c, mlabel, vlabel in _merkmal_rows(ytd):
        v = get(verbund, m, c) if has_total else float(ytd[(ytd["merkmal"] == m) & (ytd["auspraegung"] == c)]["anzahl"].sum())
        mrows.append({"Merkmal": mlabel, "Ausprägung": vlabel, "Anzahl": _count(v)})
    out_tables.append(ReportTable(
        id="beendete_merkmal", title=f"Beendete Maßnahmen nach Merkmalen, {net}, {period}",
        data=pd.DataFrame(mrows), number_formats={"Anzahl": "#,##0"}, total_rows=[0], sheet="Beendete nach Merkmal",
        row_header="Ausprägung", notes=[texts.DEFINITIONS["Anlass"], texts.DEFINITIONS["Geschlecht"]],
    ))

    # UMA quota
    out_tables.append(_uma_landes(tables, verbund, month, st, offices, total_label, order, protect, footnotes))

    # §42a deadlines
    fr = _table(tables, "fristen_42a")
    frm = fr[fr["monat"] == month].set_index("jugendamt")
    heads_f = [h for h, _ in FRISTEN_COLS]
    rows, missing = [], {}
    for o in offices:
        lab = office_label(o.ags)
        if st.has_data(o.ags, "massnahmen"):
            rows.append({"Jugendamt": lab, **{h: float(frm.at[o.ags, c]) if o.ags in frm.index else 0.0
                                              for h, c in FRISTEN_COLS}})
        else:
            missing[lab] = {"Jugendamt": lab, **{h: NOT_YET for h in heads_f}}
    if verbund in frm.index:
        rows.append({"Jugendamt": total_label, **{h: float(frm.at[verbund, c]) for h, c in FRISTEN_COLS}})
    else:
        rows.append({"Jugendamt": total_label, **{h: sum(r[h] for r in rows) for h in heads_f}})
    raw = {r["Jugendamt"]: r for r in rows}
    df, fn = protected(pd.DataFrame(rows), heads_f, missing)
    share, median = [], []
    key_of = {office_label(o.ags): o.ags for o in offices} | {total_label: verbund}
    for lab, beg in zip(df["Jugendamt"], df["Begonnene §42a-Maßnahmen"]):
        if lab in missing:
            share.append(NOT_YET)
            median.append(NOT_YET)
            continue
        r = raw[lab]
        ags = key_of[lab]
        reported = r["Fristgerecht gemeldet"] + r["Verspätet gemeldet"]
        shown_row = df.loc[df["Jugendamt"] == lab].iloc[0]
        share_hidden = shown_row["Begonnene §42a-Maßnahmen"] == "." or shown_row["Fristgerecht gemeldet"] == "."
        if r["Begonnene §42a-Maßnahmen"] == 0:
            share.append("x")
        elif share_hidden or r["Begonnene §42a-Maßnahmen"] < _min_cases():
            share.append(".")
        else:
            share.append(_dec(frm.at[ags, "anteil_fristgerecht_pct"], 1) if ags in frm.index else
                         round(100 * r["Fristgerecht gemeldet"] / r["Begonnene §42a-Maßnahmen"], 1))
        if reported == 0:
            median.append("x")
        elif reported < _min_cases():
            median.append(".")
        else:
            median.append(_dec(frm.at[ags, "median_werktage"], 1, ".") if ags in frm.index else ".")
    df["Anteil fristgerecht in %"] = share
    df["Median Werktage bis Meldung"] = median
    out_tables.append(ReportTable(
        id="fristen_42a", title=f"Meldefrist bei vorläufigen Inobhutnahmen (§42a) nach Jugendamt, {fmt_month(month)}",
        data=df, number_formats={**{h: "#,##0" for h in heads_f}, "Anteil fristgerecht in %": "0.0",
                                 "Median Werktage bis Meldung": "0.0"},
        total_rows=[len(df) - 1], sheet="Fristen 42a",
        description="Maßnahmen nach §42a mit Beginn im Berichtsmonat; Frist: 7 Werktage bis zur Meldung an die Landesverteilstelle.",
        notes=[n for n in (fn, f"Anteile und Mediane aus weniger als {_min_cases()} Fällen sind durch „.“ ersetzt; "
                               "„x“: keine Fälle, Aussage nicht sinnvoll.") if n],
    ))

    # Places by office (capacity, not case data: no suppression)
    pl = _table(tables, "plaetze")
    plm = pl[pl["monat"] == month]
    rows = []
    for o in offices:
        lab = office_label(o.ags)
        part = plm[plm["jugendamt"] == o.ags]
        if not st.has_data(o.ags, "plaetze") and part.empty:
            rows.append({"Jugendamt": lab, **{h: NOT_YET for h in PLAETZE_FORMATS}})
        else:
            rows.append({"Jugendamt": lab, **_plaetze_sum(part)})
    totp = plm[plm["jugendamt"] == verbund]
    if totp.empty:
        totp = plm[plm["jugendamt"].isin([o.ags for o in offices])]
    rows.append({"Jugendamt": total_label, **_plaetze_sum(totp)})
    df = _dash_counts(pd.DataFrame(rows), [h for h, _ in PLAETZE_COLS])
    out_tables.append(ReportTable(
        id="plaetze", title=f"Plätze nach Jugendamt, {fmt_month(month)}", data=df, number_formats=PLAETZE_FORMATS,
        total_rows=[len(df) - 1], sheet="Plätze",
        description="Letzter gelieferter Stichtag des Monats je Einrichtung; alle Angebote zusammen.",
        notes=["Platzzahlen beschreiben Einrichtungen, nicht Kinder; sie werden deshalb nicht gesperrt.",
               "„x“: keine belegbaren Plätze, Auslastung nicht sinnvoll."],
    ))

    # Delivery status matrix
    dsets = ("massnahmen", "uma", "plaetze", "personal")
    mrows = [{"Jugendamt": office_label(o.ags), **{dataset_label(d): _verdict_text(st.verdict(o.ags, d)) for d in dsets}}
             for o in offices]
    out_tables.append(ReportTable(
        id="lieferstatus", title=f"Lieferstatus nach Jugendamt und Datensatz, {fmt_month(month)}",
        data=pd.DataFrame(mrows), sheet="Lieferstatus",
        notes=["Maßgeblich ist je Datensatz die neueste angenommene Version; „fehlt“: bis zum Datenstand nicht geliefert."],
    ))

    out_tables.append(_quality_table(findings))

    note = footnotes[0] if footnotes else ""
    return ReportModel(
        kind="landesbericht", title=f"Landesbericht Inobhutnahmen – {net}", period=fmt_month(month),
        scope=net, audience="Landesebene (Verbund, Ministerium, kommunale Landesverbände)",
        disclosure_method=method,
        disclosure_note=(note or "Fallzahlen nach Jugendämtern sind nach § 103 SGB VIII geheim gehalten: "
                         "kleine Fallzahlen und Werte, aus denen sie sich errechnen ließen, sind durch „.“ ersetzt."),
        data_status=list(st.all), product_version=inobhut.__version__,
        created_at=_created_at(data_status, month), source=texts.SOURCE, contact=_contact(contact),
        tables=out_tables, data_status_note=_status_note(st, offices, month, "Datenstand"),
        definitions=texts.definitions("Stichtag", "Zugang", "Abgang", "Bestand", "Beendete Maßnahmen", "Anlass",
                                      "Geschlecht", "Alter", "Dauer", "Werktage", "Fristgerecht gemeldet", "UMA Ist",
                                      "Junge Volljährige", "Aufnahmesoll", "Erfüllungsquote", "Differenz",
                                      "Auslastung", "Freie Plätze", "VZÄ"),
        period_key=month, scope_key=verbund, network=verbund,
    )


def _verdict_text(v: str) -> str:
    return "fehlt" if v == "unbekannt" else v


def _quality_table(findings: pd.DataFrame | None) -> ReportTable:
    cols = ["Regel", "Schweregrad", "Befunde"]
    if findings is None:
        df = pd.DataFrame([{"Regel": "Zusammenfassung folgt", "Schweregrad": "...", "Befunde": "..."}])
        notes = ["Die Zusammenfassung der Prüfergebnisse liegt für diesen Bericht noch nicht vor („...“)."]
        total = None
    elif len(findings) == 0:
        df = pd.DataFrame([{"Regel": "keine Befunde", "Schweregrad": "–", "Befunde": "–"}])
        notes, total = [], None
    else:
        f = findings.groupby(["rule_id", "severity"], as_index=False)["anzahl"].sum()
        f["_o"] = f["severity"].map({"Fehler": 0, "Hinweis": 1}).fillna(2)
        f = f.sort_values(["_o", "rule_id"])
        rows = [{"Regel": str(r.rule_id), "Schweregrad": str(r.severity), "Befunde": _count(r.anzahl)}
                for r in f.itertuples()]
        rows.append({"Regel": "Insgesamt", "Schweregrad": "alle", "Befunde": _count(f["anzahl"].sum())})
        df = pd.DataFrame(rows, columns=cols)
        notes = ["Befunde aller geprüften Lieferversionen des Monats; Regeln siehe Regelkatalog der Prüfberichte."]
        total = [len(df) - 1]
    return ReportTable(id="datenqualitaet", title="Datenqualität: Befunde nach Prüfregel", data=df,
                       number_formats={"Befunde": "#,##0"}, total_rows=total, sheet="Datenqualität", notes=notes)


def _uma_missing_note(st: _Status, offices: Sequence[config.Office]) -> str:
    miss = [office_label(o.ags) for o in offices if not st.has_data(o.ags, "uma")]
    if miss:
        return ("Aufnahmesoll, Erfüllungsquote und Differenz werden erst berechnet, wenn alle Jugendämter des "
                f"Verbunds die UMA-Lieferung für den Monat abgegeben haben („...“). Es fehlen: {', '.join(miss)}.")
    return ("Aufnahmesoll, Erfüllungsquote und Differenz werden erst berechnet, wenn alle Jugendämter des "
            "Verbunds die UMA-Lieferung für den Monat abgegeben haben („...“).")


def _uma_config_note() -> str:
    q = config.settings().get("uma_quote", {})
    excl = ", ".join(q.get("hilfearten_ausgenommen", ["1"]))
    jv = "zählen zum Ist" if q.get("junge_volljaehrige_im_ist") else "zählen nicht zum Ist und sind gesondert ausgewiesen"
    stand = config.settings().get("stammdaten", {}).get("einwohner_stand", "")
    return (f"Ist ohne Hilfeart {excl} (vorläufige Inobhutnahme); junge Volljährige {jv}. "
            f"Soll nach Einwohneranteil ({stand}).")


def _uma_rows(u: pd.DataFrame, ags: str) -> dict | None:
    part = u[u["jugendamt"] == ags]
    if part.empty:
        return None
    r = part.iloc[0]
    soll = _num(r["uma_soll"])
    return {
        "Einwohner": _count(r["einwohner"]),
        "UMA Ist": _num(r["uma_ist"]) or 0.0,
        "Aufnahmesoll": NOT_YET if soll is None else round(soll, 2),
        "Erfüllungsquote in %": NOT_YET if soll is None else _dec(r["erfuellungsquote_pct"], 1),
        "Differenz": NOT_YET if soll is None else _dec(r["differenz"], 2),
        "Junge Volljährige": _num(r["junge_volljaehrige"]) or 0.0,
    }


def _uma_landes(tables, verbund, month, st, offices, total_label, order, protect, footnotes) -> ReportTable:
    u = _table(tables, "uma_quote")
    um = u[u["monat"] == month]
    rows, missing = [], {}
    empty = {h: NOT_YET for h in UMA_FORMATS}
    for o in offices:
        lab = office_label(o.ags)
        r = _uma_rows(um, o.ags) if st.has_data(o.ags, "uma") else None
        if r is None:
            missing[lab] = {"Jugendamt": lab, **empty, "Einwohner": o.einwohner}
        else:
            rows.append({"Jugendamt": lab, **r})
    tot = _uma_rows(um, verbund)
    if tot is None:
        tot = {"Einwohner": sum(o.einwohner for o in offices), "UMA Ist": sum(r["UMA Ist"] for r in rows),
               "Aufnahmesoll": NOT_YET, "Erfüllungsquote in %": NOT_YET, "Differenz": NOT_YET,
               "Junge Volljährige": sum(r["Junge Volljährige"] for r in rows)}
    rows.append({"Jugendamt": total_label, **tot})
    counts = ["UMA Ist", "Junge Volljährige"]
    df = pd.DataFrame(rows)
    shown, fn = _apply_protect(protect, df, counts, total_label)
    if fn and fn not in footnotes:
        footnotes.append(fn)
    # a suppressed Ist must not be recomputable from quota or difference
    for i in range(len(shown)):
        if shown.at[i, "UMA Ist"] == ".":
            shown.at[i, "Erfüllungsquote in %"] = "."
            shown.at[i, "Differenz"] = "."
    shown = _dash_counts(_reinsert(shown, order, missing, "Jugendamt"), counts)
    any_soll_missing = any(v == NOT_YET for v in shown["Aufnahmesoll"])
    return ReportTable(
        id="uma_quote", title=f"UMA: Aufnahmesoll und Erfüllungsquote nach Jugendamt, Stichtag {fmt_date(month_end(month))}",
        data=shown, number_formats=UMA_FORMATS, total_rows=[len(shown) - 1], sheet="UMA-Quote",
        notes=[n for n in (fn, _uma_config_note(), _uma_missing_note(st, offices) if any_soll_missing else "") if n],
    )


# ---------------------------------------------------------------- Jugendamtsbericht
def build_jugendamtsbericht(tables: Mapping[str, pd.DataFrame], ags: str, month: str,
                            data_status: Sequence[DeliveryStatus], *, contact: str | None = None) -> ReportModel:
    """The report for one office and month about its own data (no disclosure control), with
    the network totals for comparison, its place in the UMA quota, its own delivery status and
    a time series of up to 24 months when the history is in the tables."""
    off = config.office(ags)
    verbund = off.verbund
    offices = config.network_offices(verbund)
    st = _Status(data_status, month)
    name = office_label(ags)
    net = network_label(verbund)
    own = st.has_data(ags, "massnahmen")
    out_tables: list[ReportTable] = []
    not_yet_note = "„...“: Die Lieferung des Jugendamts für diesen Monat fehlt oder wurde abgelehnt."

    # Bewegung: office and network by Maßnahme
    b = _table(tables, "bewegung")
    bm = b[b["monat"] == month]
    cols = [("Zugänge", "zugaenge"), ("Abgänge", "abgaenge"), ("Bestand", "bestand")]
    rows = []
    for code, lbl in [*MASSNAHMEN, (None, "Zusammen")]:
        row = {"Art der Maßnahme": lbl if code is None else f"{'Inobhutnahme' if code == '1' else 'vorläufige Inobhutnahme'} {lbl}"}
        for who, suffix in ((ags, "Jugendamt"), (verbund, "Verbund")):
            part = bm[bm["jugendamt"] == who]
            if code is not None:
                part = part[part["massnahme"] == code]
            for h, c in cols:
                row[f"{h} {suffix}"] = (_count(part[c].sum()) if (own or who == verbund) else NOT_YET)
        rows.append(row)
    df = pd.DataFrame(rows)
    out_tables.append(ReportTable(
        id="bewegung", title=f"Zugänge, Abgänge und Bestand, {name} und {net}, {fmt_month(month)}", data=df,
        number_formats={c: "#,##0" for c in df.columns if c != "Art der Maßnahme"}, total_rows=[2], sheet="Bewegung",
        description=f"Bestand am {fmt_date(month_end(month))}. Spalten „Verbund“: alle Jugendämter von {net} zusammen.",
        notes=[] if own else [not_yet_note],
    ))

    ts = _time_series(b, ags, month, st, "zeitreihe", f"Zugänge und Bestand im Zeitverlauf, {name}", name)
    if ts is not None:
        out_tables.append(ts)

    # Beendete year to date by characteristic
    be = _table(tables, "beendete")
    ytd, period = _ytd(be, month)
    idx = ytd.set_index(["jugendamt", "merkmal", "auspraegung"])["anzahl"]
    has_total = (ytd["jugendamt"] == verbund).any()
    mrows = []
    for m, c, mlabel, vlabel in _merkmal_rows(ytd):
        v_own = float(idx.get((ags, m, c), 0))
        v_net = (float(idx.get((verbund, m, c), 0)) if has_total else
                 float(ytd[(ytd["merkmal"] == m) & (ytd["auspraegung"] == c) & (ytd["jugendamt"] != verbund)]["anzahl"].sum()))
        mrows.append({"Merkmal": mlabel, "Ausprägung": vlabel, "Jugendamt": _count(v_own), "Verbund": _count(v_net)})
    out_tables.append(ReportTable(
        id="beendete", title=f"Beendete Maßnahmen nach Merkmalen, {name} und {net}, {period}",
        data=pd.DataFrame(mrows), number_formats={"Jugendamt": "#,##0", "Verbund": "#,##0"}, total_rows=[0],
        sheet="Beendete", row_header="Ausprägung",
        notes=[texts.DEFINITIONS["Anlass"], texts.DEFINITIONS["Geschlecht"]],
    ))

    # UMA quota with place in the network
    u = _table(tables, "uma_quote")
    um = u[u["monat"] == month]
    r_own = _uma_rows(um, ags) if st.has_data(ags, "uma") else None
    r_net = _uma_rows(um, verbund)
    empty = {h: NOT_YET for h in UMA_FORMATS}
    quotas = {}
    for o in offices:
        q = um.loc[um["jugendamt"] == o.ags, "erfuellungsquote_pct"]
        quotas[o.ags] = _num(q.iloc[0]) if len(q) else None
    rank: object = NOT_YET
    desc = ""
    if all(v is not None for v in quotas.values()) and quotas:
        ordered = sorted(quotas.values(), reverse=True)
        rank = ordered.index(quotas[ags]) + 1
        desc = (f"{name} steht mit seiner Erfüllungsquote auf Platz {rank} von {len(ordered)} Jugendämtern "
                f"des Verbunds (Platz 1 = höchste Quote).")
    rows = [
        {"Gebiet": name, **(r_own or {**empty, "Einwohner": off.einwohner}), "Platz im Verbund": rank},
        {"Gebiet": f"{net} insgesamt", **(r_net or {**empty, "Einwohner": sum(o.einwohner for o in offices)}),
         "Platz im Verbund": "x"},
    ]
    df = _dash_counts(pd.DataFrame(rows), ["UMA Ist", "Junge Volljährige"])
    any_missing = any(v == NOT_YET for v in df["Aufnahmesoll"])
    out_tables.append(ReportTable(
        id="uma_quote", title=f"UMA: Aufnahmesoll und Erfüllungsquote, Stichtag {fmt_date(month_end(month))}",
        data=df, number_formats={**UMA_FORMATS, "Platz im Verbund": "0"}, total_rows=[1], sheet="UMA-Quote",
        description=desc,
        notes=[n for n in (_uma_config_note(), _uma_missing_note(st, offices) if any_missing else "") if n],
    ))

    # §42a deadlines
    fr = _table(tables, "fristen_42a")
    frm = fr[fr["monat"] == month].set_index("jugendamt")
    rows = []
    for who, lab in ((ags, name), (verbund, f"{net} insgesamt")):
        if who == ags and not own:
            rows.append({"Gebiet": lab, **{h: NOT_YET for h, _ in FRISTEN_COLS},
                         "Anteil fristgerecht in %": NOT_YET, "Median Werktage bis Meldung": NOT_YET})
            continue
        r = frm.loc[who] if who in frm.index else None
        vals = {h: (_count(r[c]) if r is not None else "–") for h, c in FRISTEN_COLS}
        beg = _num(r["begonnen"]) if r is not None else 0
        vals["Anteil fristgerecht in %"] = _dec(r["anteil_fristgerecht_pct"], 1) if r is not None and beg else "x"
        vals["Median Werktage bis Meldung"] = _dec(r["median_werktage"], 1) if r is not None else "x"
        rows.append({"Gebiet": lab, **vals})
    df = pd.DataFrame(rows)
    out_tables.append(ReportTable(
        id="fristen_42a", title=f"Meldefrist bei vorläufigen Inobhutnahmen (§42a), {fmt_month(month)}", data=df,
        number_formats={**{h: "#,##0" for h, _ in FRISTEN_COLS}, "Anteil fristgerecht in %": "0.0",
                        "Median Werktage bis Meldung": "0.0"},
        total_rows=[1], sheet="Fristen 42a",
        description="Maßnahmen nach §42a mit Beginn im Berichtsmonat; Frist: 7 Werktage bis zur Meldung an die Landesverteilstelle.",
        notes=["„x“: keine Fälle, Aussage nicht sinnvoll."] + ([] if own else [not_yet_note]),
    ))

    # Places by Angebot
    pl = _table(tables, "plaetze")
    plm = pl[pl["monat"] == month]
    mine = plm[plm["jugendamt"] == ags]
    rows = []
    for code in codes("angebot"):
        part = mine[mine["angebot"] == code]
        if part.empty:
            continue
        rows.append({"Angebot": label("angebot", code), **_plaetze_sum(part)})
    own_pl = st.has_data(ags, "plaetze")
    if not rows:
        rows.append({"Angebot": "keine Plätze gemeldet" if own_pl else "Lieferung fehlt",
                     **{h: ("–" if own_pl and h in dict(PLAETZE_COLS) else (NOT_YET if not own_pl else "x"))
                        for h in PLAETZE_FORMATS}})
        totals = []
    else:
        rows.append({"Angebot": f"{name} zusammen", **_plaetze_sum(mine)})
        totals = [len(rows) - 1]
    netp = plm[plm["jugendamt"] == verbund]
    if netp.empty:
        netp = plm[plm["jugendamt"].isin([o.ags for o in offices])]
    rows.append({"Angebot": f"{net} insgesamt", **_plaetze_sum(netp)})
    totals.append(len(rows) - 1)
    df = _dash_counts(pd.DataFrame(rows), [h for h, _ in PLAETZE_COLS])
    out_tables.append(ReportTable(
        id="plaetze", title=f"Plätze nach Angebot, {name}, {fmt_month(month)}", data=df,
        number_formats=PLAETZE_FORMATS, total_rows=totals, sheet="Plätze",
        description="Letzter gelieferter Stichtag des Monats je Einrichtung.",
        notes=["„x“: keine belegbaren Plätze, Auslastung nicht sinnvoll."] + ([] if own_pl else [not_yet_note]),
    ))

    own_status = [s for s in st.all if s.jugendamt == ags]
    for ds in ("massnahmen", "uma", "plaetze", "personal"):
        if st.known and (ags, ds, month) not in st.by_key:
            own_status.append(DeliveryStatus(ags, ds, month, "fehlt"))
    order = {d: i for i, d in enumerate(("massnahmen", "uma", "plaetze", "personal"))}
    own_status.sort(key=lambda s: (s.monat, -order.get(s.dataset, 9)), reverse=True)
    return ReportModel(
        kind="jugendamtsbericht", title=f"Jugendamtsbericht Inobhutnahmen – {name}", period=fmt_month(month),
        scope=name, audience=f"Jugendamt {name} (eigene Daten)", disclosure_method="keine",
        disclosure_note=("Der Bericht zeigt die eigenen Daten des Jugendamts ungesperrt; er ist nur für das "
                         "Jugendamt selbst bestimmt. Verbundwerte sind Summen über alle Jugendämter."),
        data_status=own_status, product_version=inobhut.__version__,
        created_at=_created_at(data_status, month), source=texts.SOURCE, contact=_contact(contact),
        tables=out_tables,
        data_status_note=_status_note(st, [off], month, "Eigene Lieferungen") + " "
                         + _status_note(st, offices, month, f"Verbund {net}"),
        definitions=texts.definitions("Stichtag", "Zugang", "Abgang", "Bestand", "Beendete Maßnahmen", "Anlass",
                                      "Geschlecht", "Alter", "Dauer", "Werktage", "Fristgerecht gemeldet", "UMA Ist",
                                      "Junge Volljährige", "Aufnahmesoll", "Erfüllungsquote", "Differenz",
                                      "Auslastung", "Freie Plätze", "VZÄ"),
        period_key=month, scope_key=ags, network=verbund,
    )
