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

Many reports are built from the same tables in one run: call :func:`prepare` once and pass
the returned :class:`StatsIndex` instead of the dict of DataFrames (a dict is accepted too;
the last one prepared is reused while the same DataFrame objects are passed).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

import inobhut
from inobhut import config
from inobhut.calendar import add_months, month_end
from schemas.datasets import codes, label

from . import registry as reg
from . import texts
from .common import dataset_label, network_label, office_label
from .fmt import fmt_date, fmt_month, fmt_month_short
from .model import ChartSpec, DeliveryStatus, ReportModel, ReportTable, in_force

Protect = Callable[[pd.DataFrame, list[str], "str | None"], tuple[pd.DataFrame, str]]

TABLE_COLUMNS = {name: [c.name for c in reg.tdef(name).columns]
                 for name in ("bewegung", "beendete", "uma_quote", "plaetze", "fristen_42a")}
MASSNAHMEN = (("1", "§42"), ("2", "§42a"))
DATASETS = ("massnahmen", "uma", "plaetze", "personal")
ACCEPTED = ("angenommen", "angenommen mit Hinweisen")
NOT_YET = "..."  # symbol for values of deliveries that are missing or were rejected
HISTORY_MONTHS = 24  # months of the time series
STATUS_MONTHS = 12  # months of own deliveries listed in the Jugendamtsbericht
NOT_YET_NOTE = "„...“: Die Lieferung für diesen Monat fehlt oder wurde abgelehnt."


# ---------------------------------------------------------------- small value helpers
def _num(v: object) -> float | None:
    if v is None or v is pd.NA or isinstance(v, str):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _count(v: object):
    """A count for display: 0 -> '–', missing -> '.', symbols unchanged, else int."""
    if isinstance(v, str):
        return v
    f = _num(v)
    if f is None:
        return "."
    return "–" if f == 0 else int(round(f))


def _dec(v: object, nd: int, missing: str = "x"):
    f = _num(v)
    return missing if f is None else round(f, nd)


def _dash_counts(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = pd.Series([_count(v) for v in out[c].tolist()], index=out.index, dtype=object)
    return out


def _month_text(v: object) -> str:
    if isinstance(v, (dt.date, pd.Timestamp)):
        return f"{v.year:04d}-{v.month:02d}"
    return str(v).strip()[:7]


def _code(v: object) -> str:
    s = str(v).strip()
    return s[:-2] if s.endswith(".0") else s


# ---------------------------------------------------------------- statistics index
def _frame(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    cols = TABLE_COLUMNS[name]
    df = tables.get(name)
    if df is None:
        return pd.DataFrame(columns=cols)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"Statistiktabelle „{name}“: Spalten fehlen: {missing}")
    return df[cols]


class StatsIndex:
    """The five statistics tables as dictionaries for fast look-ups by office and month."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], present: Mapping[str, set[str]] | None = None):
        """``present``: for tables holding only the rows of some months (``report_run``'s
        window), the offices and networks with rows in the whole ``bewegung`` and
        ``beendete`` (whether a network's own rows exist decides how its totals are formed)."""
        self.bew: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(dict)
        for r in _frame(tables, "bewegung").itertuples(index=False):
            k = (str(r.jugendamt).strip(), _month_text(r.monat))
            cur = self.bew[k].setdefault(_code(r.massnahme), [0.0, 0.0, 0.0])
            for i, v in enumerate((r.zugaenge, r.abgaenge, r.bestand)):
                cur[i] += _num(v) or 0.0
        self.bew_months = sorted({m for _, m in self.bew})
        self.bew_agss = {a for a, _ in self.bew} if present is None else set(present["bewegung"])

        be = _frame(tables, "beendete")
        self.beendete: dict[tuple[str, str], dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
        # the longest table (312,000 rows on ten years): columns as lists, and each distinct office,
        # period and code converted once instead of once per row
        norm: dict[tuple[object, object], tuple[str, str]] = {}
        where: dict[tuple[object, object], tuple[str, str]] = {}
        for ja, zr, mk, au, n in zip(*(be[c].tolist() for c in ("jugendamt", "zeitraum", "merkmal", "auspraegung", "anzahl"))):
            code = norm.get((mk, au))
            if code is None:
                m = str(mk).strip()
                code = norm[(mk, au)] = (m, texts.normalise_code(m, au))
            k = where.get((ja, zr))
            if k is None:
                k = where[(ja, zr)] = (str(ja).strip(), str(zr).strip())
            self.beendete[k][code] += float(n) if type(n) is int else (_num(n) or 0.0)
        self.beendete_periods = {z for _, z in self.beendete}
        self.beendete_agss = {a for a, _ in self.beendete} if present is None else set(present["beendete"])
        self._ytd: dict[tuple[str, str], tuple[dict, str]] = {}

        self.uma: dict[tuple[str, str], dict] = {}
        for r in _frame(tables, "uma_quote").to_dict("records"):
            self.uma[(str(r["jugendamt"]).strip(), _month_text(pd.Timestamp(r["stichtag"])))] = r

        self.plaetze: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in _frame(tables, "plaetze").to_dict("records"):
            r["angebot"] = _code(r["angebot"])
            self.plaetze[(str(r["jugendamt"]).strip(), _month_text(pd.Timestamp(r["stichtag"])))].append(r)

        self.fristen: dict[tuple[str, str], dict] = {}
        for r in _frame(tables, "fristen_42a").to_dict("records"):
            self.fristen[(str(r["jugendamt"]).strip(), _month_text(r["monat"]))] = r

        # optional further table: staff (statistics ``personal``), bereich "insgesamt" rows
        self.has_personal = tables.get("personal") is not None
        self.personal: dict[tuple[str, str], dict] = {}
        if self.has_personal:
            for r in tables["personal"].to_dict("records"):
                if _code(r["bereich"]) == "insgesamt":
                    self.personal[(str(r["jugendamt"]).strip(), _month_text(pd.Timestamp(r["stichtag"])))] = r

    def bewegung(self, ags: str, month: str, massnahme: str | None = None) -> list[float]:
        """[zugaenge, abgaenge, bestand] of an office (or network) in a month; 0 if no row."""
        rows = self.bew.get((ags, month), {})
        if massnahme is not None:
            return list(rows.get(massnahme, [0.0, 0.0, 0.0]))
        return [sum(v[i] for v in rows.values()) for i in range(3)]

    def ytd(self, ags: str, month: str) -> tuple[dict[tuple[str, str], float], str]:
        """Ended measures January..month of the month's year (monthly rows), else the year row."""
        key = (ags, month)
        if key not in self._ytd:
            year = month[:4]
            months = [p for p in self.beendete_periods if len(p) == 7 and p[:4] == year and p <= month]
            acc: dict[tuple[str, str], float] = defaultdict(float)
            if months:
                for p in months:
                    for k, v in self.beendete.get((ags, p), {}).items():
                        acc[k] += v
                period = fmt_month(month) if month == f"{year}-01" else f"Januar bis {fmt_month(month)}"
            else:
                acc.update(self.beendete.get((ags, year), {}))
                period = f"Jahr {year}"
            self._ytd[key] = (dict(acc), period)
        return self._ytd[key]


_LAST: tuple[tuple, StatsIndex] | None = None


def prepare(tables: Mapping[str, pd.DataFrame] | StatsIndex,
            present: Mapping[str, set[str]] | None = None) -> StatsIndex:
    """Index the statistics tables once for many reports (``present``: see :class:`StatsIndex`)."""
    global _LAST
    if isinstance(tables, StatsIndex):
        return tables
    ident = (tuple((k, id(v)) for k, v in sorted(tables.items())), id(present))
    if _LAST is not None and _LAST[0] == ident:
        return _LAST[1]
    idx = StatsIndex(tables, present)
    _LAST = (ident, idx)
    return idx


# ---------------------------------------------------------------- delivery status
class _Status:
    """Delivery status look-up for one report month."""

    #: last (statuses, len, in force, by key, months): the look-ups of a run's statuses are built
    #: once, not once per report (they grow with the history: quadratic over a backfill otherwise)
    _cache: tuple[object, int, list[DeliveryStatus], dict, set, dict] | None = None

    def __init__(self, statuses: Sequence[DeliveryStatus], month: str):
        c = _Status._cache
        if c is None or c[0] is not statuses or c[1] != len(statuses):
            in_force_ = in_force(statuses)
            by_office: dict[str, list[DeliveryStatus]] = defaultdict(list)
            for s in in_force_:
                by_office[s.jugendamt].append(s)
            c = _Status._cache = (statuses, len(statuses), in_force_,
                                  {(s.jugendamt, s.dataset, s.monat): s for s in in_force_}, {s.monat for s in in_force_},
                                  dict(by_office))
        self.all, self.by_key, self.by_office = c[2], c[3], c[5]
        self.month = month
        self.known = month in c[4]

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


def _month_status(st: _Status, offices: Sequence[config.Office], month: str) -> list[DeliveryStatus]:
    """Status in force of every office and dataset for the month; "fehlt" where nothing arrived."""
    out = []
    for o in offices:
        for ds in DATASETS:
            s = st.by_key.get((o.ags, ds, month))
            if s is not None:
                out.append(s)
            elif st.known:
                out.append(DeliveryStatus(o.ags, ds, month, "fehlt"))
    return out


_NEWEST: tuple[object, int, dict] | None = None  # (statuses, len, network -> (months, newest receipt up to each))


def _created_at(statuses: Sequence[DeliveryStatus], month: str, verbund: str | None = None) -> dt.datetime:
    """Newest receipt among the deliveries up to the report month (later months do not change
    an earlier report, so backfills reproduce it byte for byte) of the report's network (a
    delivery in another network does not change the report, so it is not rewritten); month end
    if none. The running maximum per month is built once per run's statuses, not per report."""
    global _NEWEST
    fallback = dt.datetime.combine(month_end(month), dt.time(0, 0))
    if _NEWEST is None or _NEWEST[0] is not statuses or _NEWEST[1] != len(statuses):
        _NEWEST = (statuses, len(statuses), {})
    per_network = _NEWEST[2]
    if verbund not in per_network:
        keys = None if verbund is None else {o.ags for o in config.network_offices(verbund)}
        newest: dict[str, dt.datetime] = {}
        for s in statuses:
            if s.eingegangen is not None and (keys is None or s.jugendamt in keys):
                t = newest.get(s.monat)
                newest[s.monat] = s.eingegangen if t is None else max(t, s.eingegangen)
        months = sorted(newest)
        running: list[dt.datetime] = []
        for m in months:
            running.append(newest[m] if not running else max(running[-1], newest[m]))
        per_network[verbund] = (months, running)
    months, running = per_network[verbund]
    i = bisect.bisect_right(months, month) - 1
    return running[i] if i >= 0 else fallback


def _status_note(st: _Status, offices: Sequence[config.Office], month: str, prefix: str) -> str:
    counts = {"angenommen": 0, "angenommen mit Hinweisen": 0, "abgelehnt": 0, "fehlt": 0}
    times = []
    for o in offices:
        for ds in DATASETS:
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
    first = add_months(month, -(HISTORY_MONTHS - 1))
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


# ---------------------------------------------------------------- Landesbericht
def build_landesbericht(tables: Mapping[str, pd.DataFrame] | StatsIndex, verbund: str, month: str,
                        data_status: Sequence[DeliveryStatus], protect: Protect, *,
                        findings: pd.DataFrame | None = None, contact: str | None = None) -> ReportModel:
    """The Landesbericht of a network for a month: tables by office and network total, with
    disclosure control (``protect``) on counts of cases by office; delivery status matrix;
    data-quality summary (``findings``: rule_id, severity, anzahl; ``None`` = not yet available)."""
    ix = prepare(tables)
    offices = config.network_offices(verbund)
    if not offices:
        raise ValueError(f"Unbekannter Verbund „{verbund}“")
    st = _Status(data_status, month)
    net = network_label(verbund)
    total_label = f"{net} insgesamt"
    labels = {o.ags: office_label(o.ags) for o in offices}
    order = [labels[o.ags] for o in offices] + [total_label]
    footnotes: list[str] = []
    out: list[ReportTable] = []
    released: dict = {}

    def protected(rows: list[dict], value_cols: list[str], missing: dict[str, dict], name: str,
                  groups: list[tuple[list[str], str]] | None = None) -> tuple[pd.DataFrame, str]:
        shown, fn = _apply_protect(protect, pd.DataFrame(rows), value_cols, total_label, released, name, groups)
        if fn and fn not in footnotes:
            footnotes.append(fn)
        return _dash_counts(_reinsert(shown, order, missing, JA), value_cols), fn

    def by_office(dataset: str, values, heads: list[str]) -> tuple[list[dict], dict[str, dict]]:
        rows, missing = [], {}
        for o in offices:
            lab = labels[o.ags]
            if st.has_data(o.ags, dataset):
                rows.append({JA: lab, **values(o.ags)})
            else:
                missing[lab] = {JA: lab, **{h: NOT_YET for h in heads}}
        return rows, missing

    def total_row(rows: list[dict], heads: list[str], has_total: bool, values) -> dict:
        if has_total:
            return {JA: total_label, **values(verbund)}
        return {JA: total_label, **{h: sum(r[h] for r in rows) for h in heads}}

    # Bewegung by office and Maßnahme
    heads = [h for h, _, _ in BEWEGUNG_HEADERS]
    vals = lambda a: _bewegung_row(ix, a, month)  # noqa: E731
    rows, missing = by_office("massnahmen", vals, heads)
    rows.append(total_row(rows, heads, verbund in ix.bew_agss, vals))
    df, fn = protected(rows, heads, missing, "Bewegung nach Jugendamt")
    out.append(ReportTable(
        id="bewegung", title=reg.title("bewegung", f" nach Jugendamt und Maßnahme, {fmt_month(month)}"),
        data=df, number_formats={h: reg.number_format("bewegung", BEWEGUNG_VALUES[i]) for h, _, i in BEWEGUNG_HEADERS},
        total_rows=[len(df) - 1], sheet="Bewegung",
        description=f"Bestand am {fmt_date(month_end(month))}.",
        notes=[n for n in (fn, *reg.footnotes("bewegung"), NOT_YET_NOTE if missing else "") if n],
    ))

    suppressing = _method_of(released, "Bewegung nach Jugendamt", "landesbericht") == "sperrung"
    ts = _time_series(ix, verbund, month, None, reg.title("bewegung", f" im Zeitverlauf, {net}"), net,
                      hide_below=_min_cases() if suppressing else None)
    if ts is not None:
        out.append(ts)

    # Beendete (year to date) by office, and by characteristic for the network
    heads_b = [h for h, _, _ in BEENDETE_BY_OFFICE]
    vals = lambda a: {h: ix.ytd(a, month)[0].get((m, c), 0.0) for h, m, c in BEENDETE_BY_OFFICE}  # noqa: E731
    rows, missing = by_office("massnahmen", vals, heads_b)
    rows.append(total_row(rows, heads_b, verbund in ix.beendete_agss, vals))
    df, fn = protected(rows, heads_b, missing, "Beendete nach Jugendamt", BEENDETE_GROUPS)
    net_ytd, period = _network_ytd(ix, verbund, offices, month)
    out.append(ReportTable(
        id="beendete_ja", title=reg.title("beendete", f" und Jugendamt, {period}"), data=df,
        number_formats={h: reg.number_format("beendete", "anzahl") for h in heads_b}, total_rows=[len(df) - 1],
        sheet="Beendete nach Jugendamt",
        notes=[n for n in (fn, *reg.footnotes("beendete"),
                           "„...“: Lieferung Maßnahmen des Berichtsmonats fehlt oder wurde abgelehnt; frühere Monate "
                           "sind in der Verbundsumme enthalten." if missing else "") if n],
    ))
    h_m, h_a, h_n = (reg.label("beendete", c) for c in ("merkmal", "auspraegung", "anzahl"))
    # the network values hidden in the total row of the table by office stay hidden here, with
    # the other values of the same Merkmal (their sum is the shown total); all if the total is hidden
    net_row = df[df[JA] == total_label].iloc[0]
    hidden = {m for h, m, _ in BEENDETE_BY_OFFICE if net_row[h] == "."}
    hide_all = "insgesamt" in hidden
    mrows = [{h_m: ml, h_a: vl, h_n: "." if hide_all or m in hidden else _count(net_ytd.get((m, c), 0.0))}
             for m, c, ml, vl in _merkmal_rows(net_ytd)]
    out.append(ReportTable(
        id="beendete_merkmal", title=reg.title("beendete", f", {net}, {period}"),
        data=pd.DataFrame(mrows), number_formats=reg.columns("beendete", ["anzahl"]), total_rows=[0],
        sheet="Beendete nach Merkmal", row_header=h_a,
        notes=reg.footnotes("beendete") + ([MIRROR_NOTE] if hidden else []),
    ))

    # UMA quota by office
    counts = [H_UMA_IST, H_JV]
    rows, missing = [], {}
    for o in offices:
        lab = labels[o.ags]
        r = _uma_values(ix.uma.get((o.ags, month))) if st.has_data(o.ags, "uma") else None
        if r is None:
            missing[lab] = {JA: lab, **{h: NOT_YET for h in UMA_FORMATS}, H_EINWOHNER: o.einwohner}
        else:
            rows.append({JA: lab, **r})
    tot = _uma_values(ix.uma.get((verbund, month))) or {
        H_EINWOHNER: sum(o.einwohner for o in offices), H_UMA_IST: sum(r[H_UMA_IST] for r in rows),
        H_SOLL: NOT_YET, H_QUOTE: NOT_YET, H_DIFF: NOT_YET, H_JV: sum(r[H_JV] for r in rows)}
    rows.append({JA: total_label, **tot})
    raw_uma = pd.DataFrame(rows)
    shown, fn = _apply_protect(protect, raw_uma, counts, total_label, released, "UMA-Quote nach Jugendamt")
    if fn and fn not in footnotes:
        footnotes.append(fn)
    for i in range(len(shown)):  # a suppressed Ist must not be recomputable from quota or difference
        if shown.at[i, H_UMA_IST] == ".":
            shown.at[i, H_QUOTE] = "."
            shown.at[i, H_DIFF] = "."
    rounded = _rounded(released, "UMA-Quote nach Jugendamt")
    if rounded:
        shown = _uma_from_rounded(shown, raw_uma)
    df = _dash_counts(_reinsert(shown, order, missing, JA), counts)
    out.append(ReportTable(
        id="uma_quote", title=reg.title("uma_quote", f" nach Jugendamt, Stichtag {fmt_date(month_end(month))}"),
        data=df, number_formats=UMA_FORMATS, total_rows=[len(df) - 1], sheet="UMA-Quote",
        notes=[n for n in (fn, *reg.footnotes("uma_quote"), ROUNDED_DERIVED_NOTE if rounded else "",
                           _uma_missing_note(st, offices) if (df[H_SOLL] == NOT_YET).any() else "") if n],
    ))

    # §42a deadlines by office
    heads_f = [h for h, _ in FRISTEN_COLS]
    vals = lambda a: {h: _num((ix.fristen.get((a, month)) or {}).get(c)) or 0.0 for h, c in FRISTEN_COLS}  # noqa: E731
    rows, missing = by_office("massnahmen", vals, heads_f)
    rows.append(total_row(rows, heads_f, (verbund, month) in ix.fristen, vals))
    raw = {r[JA]: r for r in rows}
    df, fn = protected(rows, heads_f, missing, "Fristen §42a nach Jugendamt", FRISTEN_GROUPS)
    f_rounded = _rounded(released, "Fristen §42a nach Jugendamt")
    key_of = {labels[o.ags]: o.ags for o in offices} | {total_label: verbund}
    share, median = [], []
    for rec in df.to_dict("records"):
        lab = rec[JA]
        if lab in missing:
            share.append(NOT_YET)
            median.append(NOT_YET)
            continue
        r, src = raw[lab], ix.fristen.get((key_of[lab], month)) or {}
        beg, reported = r[H_BEGONNEN], r[H_FRISTGERECHT] + r[H_VERSPAETET]
        hidden = rec[H_BEGONNEN] == "." or rec[H_FRISTGERECHT] == "."
        if beg == 0:
            share.append("x")
        elif hidden or beg < _min_cases():
            share.append(".")
        elif f_rounded:  # from the shown (rounded) counts: the exact share would undo the rounding
            beg_r, ok_r = _num_shown(rec[H_BEGONNEN]), _num_shown(rec[H_FRISTGERECHT])
            share.append(round(100 * ok_r / beg_r, 1) if beg_r else ".")
        else:
            share.append(_dec(src.get("anteil_fristgerecht_pct"), 1, ".") if src else
                         round(100 * r[H_FRISTGERECHT] / beg, 1))
        if reported == 0:
            median.append("x")
        elif reported < _min_cases():
            median.append(".")
        else:
            median.append(_dec(src.get("median_werktage"), 1, "."))
    df[FRISTEN_SHARE] = share
    df[FRISTEN_MEDIAN] = median
    out.append(ReportTable(
        id="fristen_42a", title=reg.title("fristen_42a", f" nach Jugendamt, {fmt_month(month)}"),
        data=df, number_formats=FRISTEN_FORMATS, total_rows=[len(df) - 1], sheet="Fristen 42a", description=FRISTEN_DESC,
        notes=[n for n in (fn, *reg.footnotes("fristen_42a"), f"Anteile und Mediane aus weniger als {_min_cases()} Fällen sind durch „.“ ersetzt; "
                               "„x“: keine Fälle, Aussage nicht sinnvoll.", ROUNDED_DERIVED_NOTE if f_rounded else "",
                           NOT_YET_NOTE if missing else "") if n],
    ))

    # Places by office (capacity of facilities, not case data: not suppressed)
    rows = []
    for o in offices:
        part = ix.plaetze.get((o.ags, month), [])
        if not part and not st.has_data(o.ags, "plaetze"):
            rows.append({JA: labels[o.ags], **{h: NOT_YET for h in PLAETZE_FORMATS}})
        else:
            rows.append({JA: labels[o.ags], **_plaetze_sum(part)})
    rows.append({JA: total_label, **_plaetze_sum(_network_plaetze(ix, verbund, offices, month))})
    df = _dash_counts(pd.DataFrame(rows), [h for h, _ in PLAETZE_COLS])
    out.append(ReportTable(
        id="plaetze", title=reg.title("plaetze", f": alle Angebote zusammen, nach Jugendamt, {fmt_month(month)}"), data=df,
        number_formats=PLAETZE_FORMATS, total_rows=[len(df) - 1], sheet="Plätze",
        description="Letzter gelieferter Stichtag des Monats je Einrichtung; alle Angebote zusammen.",
        notes=[*reg.footnotes("plaetze"),
               "Platzzahlen beschreiben Einrichtungen, nicht Kinder; sie werden deshalb nicht gesperrt.",
               "„x“: keine belegbaren Plätze, Auslastung nicht sinnvoll."],
    ))

    # Delivery status matrix
    mrows = [{JA: labels[o.ags],
              **{dataset_label(d): ("fehlt" if (v := st.verdict(o.ags, d)) == "unbekannt" else v) for d in DATASETS}}
             for o in offices]
    out.append(ReportTable(
        id="lieferstatus", title=reg.title("lieferstatus", f" nach Jugendamt und Datensatz, {fmt_month(month)}"),
        data=pd.DataFrame(mrows), sheet="Lieferstatus",
        notes=[*reg.footnotes("lieferstatus"), "Maßgeblich ist je Datensatz die neueste angenommene Version; „fehlt“: bis zum Datenstand nicht geliefert."],
    ))
    if ix.has_personal:
        out.append(_personal_table(ix, st, verbund, offices, month, total_label))
    out.append(_quality_table(findings))
    conf = _confirmed_table(findings)
    if conf is not None:
        out.append(conf)

    return ReportModel(
        kind="landesbericht", title=f"Landesbericht Inobhutnahmen – {net}", period=fmt_month(month),
        scope=net, audience="Landesebene (Verbund, Ministerium, kommunale Landesverbände)",
        disclosure_method=_disclosure_setting("landesbericht"),
        disclosure_note=(footnotes[0] if footnotes else
                         "Fallzahlen nach Jugendämtern sind nach § 103 SGB VIII geheim gehalten: kleine Fallzahlen "
                         "und Werte, aus denen sie sich errechnen ließen, sind durch „.“ ersetzt."),
        data_status=_month_status(st, offices, month), product_version=inobhut.__version__,
        created_at=_created_at(data_status, month, verbund), source=texts.SOURCE, contact=_contact(contact),
        tables=out, data_status_note=_status_note(st, offices, month, "Datenstand"),
        definitions=texts.definitions(*ALL_DEFINITIONS), period_key=month, scope_key=verbund, network=verbund,
        protected=released,
    )


# ---------------------------------------------------------------- Jugendamtsbericht
def build_jugendamtsbericht(tables: Mapping[str, pd.DataFrame] | StatsIndex, ags: str, month: str,
                            data_status: Sequence[DeliveryStatus], *, contact: str | None = None) -> ReportModel:
    """The report for one office and month about its own data (no disclosure control), with
    the network totals for comparison, its place in the UMA quota, its own delivery status and
    a time series of up to 24 months when the history is in the tables."""
    ix = prepare(tables)
    off = config.office(ags)
    verbund = off.verbund
    offices = config.network_offices(verbund)
    st = _Status(data_status, month)
    name = office_label(ags)
    net = network_label(verbund)
    net_total = f"{net} insgesamt"
    own = st.has_data(ags, "massnahmen")
    out: list[ReportTable] = []

    def net_bewegung(code: str | None) -> list[float]:
        if verbund in ix.bew_agss:
            return ix.bewegung(verbund, month, code)
        parts = [ix.bewegung(o.ags, month, code) for o in offices]
        return [sum(p[i] for p in parts) for i in range(3)]

    # Bewegung: office and network by Maßnahme
    rows = []
    h_mn = reg.label("bewegung", "massnahme")
    bew_fmts = {reg.label("bewegung", c, who): reg.number_format("bewegung", c)
                for who in ("Jugendamt", "Verbund") for c in BEWEGUNG_VALUES}
    for code, lbl in [("1", "Inobhutnahme §42"), ("2", "vorläufige Inobhutnahme §42a"), (None, "Zusammen")]:
        mine = ix.bewegung(ags, month, code) if own else [NOT_YET] * 3
        theirs = net_bewegung(code)
        row = {h_mn: lbl}
        for who, vals in (("Jugendamt", mine), ("Verbund", theirs)):
            for i, c in enumerate(BEWEGUNG_VALUES):
                row[reg.label("bewegung", c, who)] = _count(vals[i])
        rows.append(row)
    df = pd.DataFrame(rows)
    out.append(ReportTable(
        id="bewegung", title=reg.title("bewegung", f", {name} und {net}, {fmt_month(month)}"), data=df,
        number_formats=bew_fmts, total_rows=[2], sheet="Bewegung",
        description=f"Bestand am {fmt_date(month_end(month))}. Spalten „Verbund“: alle Jugendämter des Verbunds zusammen ({net}).",
        notes=reg.footnotes("bewegung") + ([] if own else [NOT_YET_NOTE]),
    ))

    ts = _time_series(ix, ags, month, st, reg.title("bewegung", f" im Zeitverlauf, {name}"), name)
    if ts is not None:
        out.append(ts)

    # Beendete (year to date) by characteristic
    mine, period = ix.ytd(ags, month)
    theirs, _ = _network_ytd(ix, verbund, offices, month)
    h_m, h_a = reg.label("beendete", "merkmal"), reg.label("beendete", "auspraegung")
    h_own, h_net = reg.label("beendete", "anzahl", "Jugendamt"), reg.label("beendete", "anzahl", "Verbund")
    mrows = [{h_m: ml, h_a: vl, h_own: _count(mine.get((m, c), 0.0)), h_net: _count(theirs.get((m, c), 0.0))}
             for m, c, ml, vl in _merkmal_rows(mine, theirs)]
    out.append(ReportTable(
        id="beendete", title=reg.title("beendete", f", {name} und {net}, {period}"),
        data=pd.DataFrame(mrows), number_formats={**reg.columns("beendete", ["anzahl"], "Jugendamt"),
                                                  **reg.columns("beendete", ["anzahl"], "Verbund")},
        total_rows=[0], sheet="Beendete", row_header=h_a, notes=reg.footnotes("beendete"),
    ))

    # UMA quota with the office's place in the network
    empty = {h: NOT_YET for h in UMA_FORMATS}
    quotas = {o.ags: _num((ix.uma.get((o.ags, month)) or {}).get("erfuellungsquote_pct")) for o in offices}
    rank: object = NOT_YET
    desc = ""
    if quotas and all(v is not None for v in quotas.values()):
        ordered = sorted(quotas.values(), reverse=True)
        rank = ordered.index(quotas[ags]) + 1
        desc = (f"{name} steht mit seiner Erfüllungsquote auf Platz {rank} von {len(ordered)} Jugendämtern "
                "des Verbunds (Platz 1 = höchste Quote).")
    r_own = _uma_values(ix.uma.get((ags, month))) if st.has_data(ags, "uma") else None
    r_net = _uma_values(ix.uma.get((verbund, month)))
    rows = [
        {"Gebiet": name, **(r_own or {**empty, H_EINWOHNER: off.einwohner}), "Platz im Verbund": rank},
        {"Gebiet": net_total, **(r_net or {**empty, H_EINWOHNER: sum(o.einwohner for o in offices)}),
         "Platz im Verbund": "x"},
    ]
    df = _dash_counts(pd.DataFrame(rows), [H_UMA_IST, H_JV])
    out.append(ReportTable(
        id="uma_quote", title=reg.title("uma_quote", f", Stichtag {fmt_date(month_end(month))}"),
        data=df, number_formats={**UMA_FORMATS, "Platz im Verbund": "0"}, total_rows=[1], sheet="UMA-Quote",
        description=desc,
        notes=[n for n in (*reg.footnotes("uma_quote"),
                           _uma_missing_note(st, offices) if (df[H_SOLL] == NOT_YET).any() else "") if n],
    ))

    # §42a deadlines
    rows = []
    for who, lab in ((ags, name), (verbund, net_total)):
        if who == ags and not own:
            rows.append({"Gebiet": lab, **{h: NOT_YET for h in FRISTEN_FORMATS}})
            continue
        r = ix.fristen.get((who, month))
        if r is None and who == verbund:
            parts = [ix.fristen.get((o.ags, month)) or {} for o in offices]
            r = {c: sum(_num(p.get(c)) or 0.0 for p in parts) for _, c in FRISTEN_COLS}
            r["anteil_fristgerecht_pct"] = 100 * r["fristgerecht"] / r["begonnen"] if r["begonnen"] else None
            r["median_werktage"] = None  # a median cannot be combined from medians
        r = r or {}
        vals = {h: _count(r.get(c, 0)) for h, c in FRISTEN_COLS}
        beg = _num(r.get("begonnen")) or 0
        vals[FRISTEN_SHARE] = _dec(r.get("anteil_fristgerecht_pct"), 1, ".") if beg else "x"
        reported = (_num(r.get("fristgerecht")) or 0) + (_num(r.get("verspaetet")) or 0)
        vals[FRISTEN_MEDIAN] = _dec(r.get("median_werktage"), 1, ".") if reported else "x"
        rows.append({"Gebiet": lab, **vals})
    out.append(ReportTable(
        id="fristen_42a", title=reg.title("fristen_42a", f", {fmt_month(month)}"),
        data=pd.DataFrame(rows), number_formats=FRISTEN_FORMATS, total_rows=[1], sheet="Fristen 42a",
        description=FRISTEN_DESC,
        notes=[*reg.footnotes("fristen_42a"), "„x“: keine Fälle, Aussage nicht sinnvoll."]
              + ([] if own else [NOT_YET_NOTE]),
    ))

    # Places by Angebot
    mine_pl = ix.plaetze.get((ags, month), [])
    own_pl = st.has_data(ags, "plaetze")
    rows, totals = [], []
    h_ang = reg.label("plaetze", "angebot")
    for code in codes("angebot"):
        part = [r for r in mine_pl if r["angebot"] == code]
        if part:
            rows.append({h_ang: label("angebot", code), **_plaetze_sum(part)})
    if rows:
        rows.append({h_ang: f"{name} zusammen", **_plaetze_sum(mine_pl)})
        totals.append(len(rows) - 1)
    elif own_pl:
        rows.append({h_ang: f"{name}: keine Plätze gemeldet", **_plaetze_sum([])})
    else:
        rows.append({h_ang: f"{name}: Lieferung fehlt", **{h: NOT_YET for h in PLAETZE_FORMATS}})
    rows.append({h_ang: net_total, **_plaetze_sum(_network_plaetze(ix, verbund, offices, month))})
    totals.append(len(rows) - 1)
    df = _dash_counts(pd.DataFrame(rows), [h for h, _ in PLAETZE_COLS])
    out.append(ReportTable(
        id="plaetze", title=reg.title("plaetze", f", {name}, {fmt_month(month)}"), data=df,
        number_formats=PLAETZE_FORMATS, total_rows=totals, sheet="Plätze",
        description="Letzter gelieferter Stichtag des Monats je Einrichtung.",
        notes=[*reg.footnotes("plaetze"), "„x“: keine belegbaren Plätze, Auslastung nicht sinnvoll."]
              + ([] if own_pl else [NOT_YET_NOTE]),
    ))

    # Staff, all Bereiche together: the office and the network
    if ix.has_personal:
        mine = ix.personal.get((ags, month))
        if mine is None and not st.has_data(ags, "personal"):
            own_row = {"Gebiet": name, **{h: NOT_YET for h in PERSONAL_FORMATS}}
        else:
            own_row = {"Gebiet": name, **_personal_values(mine)}
        df = pd.DataFrame([own_row, {"Gebiet": net_total,
                                     **_personal_values(_network_personal(ix, verbund, offices, month))}])
        out.append(ReportTable(
            id="personal", title=reg.title("personal", f", {name} und {net}, {fmt_month(month)}"), data=df,
            number_formats=PERSONAL_FORMATS, total_rows=[1], sheet="Personal",
            description="Alle Bereiche zusammen (ASD, UMA-Fachdienst, Pflegekinderdienst, Wirtschaftliche "
                        "Jugendhilfe, Sonstige); letzter gelieferter Stichtag des Monats.",
            notes=reg.footnotes("personal") + ([NOT_YET_NOTE] if own_row[reg.label("personal", "vzae_soll")] == NOT_YET
                                               else []),
        ))

    first = add_months(month, -(STATUS_MONTHS - 1))
    own_status = ([s for s in st.by_office.get(ags, []) if first <= s.monat < month]
                  + _month_status(st, [off], month))
    rank_ds = {d: i for i, d in enumerate(DATASETS)}
    own_status.sort(key=lambda s: (s.monat, -rank_ds.get(s.dataset, 9)), reverse=True)
    return ReportModel(
        kind="jugendamtsbericht", title=f"Jugendamtsbericht Inobhutnahmen – {name}", period=fmt_month(month),
        scope=name, audience=f"Jugendamt {name} (eigene Daten)", disclosure_method="keine",
        disclosure_note=("Der Bericht zeigt die eigenen Daten des Jugendamts ungesperrt; er ist nur für das "
                         "Jugendamt selbst bestimmt. Verbundwerte sind Summen über alle Jugendämter."),
        data_status=own_status, product_version=inobhut.__version__,
        created_at=_created_at(data_status, month, verbund), source=texts.SOURCE, contact=_contact(contact),
        tables=out,
        data_status_note=(_status_note(st, [off], month, "Eigene Lieferungen") + " "
                          + _status_note(st, offices, month, f"Verbund {net}")),
        definitions=texts.definitions(*ALL_DEFINITIONS), period_key=month, scope_key=ags, network=verbund,
    )
