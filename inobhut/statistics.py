"""The statistical tables of ``shared/spec/statistics.md``, computed from the warehouse.

Belongs here: the definitions of all twelve tables (:data:`TABLES`: columns and SQL types;
decimals, period columns, characteristics and classes), the helpers every table computation
shares (totals rows, sorting, rounding half up, canonical dtypes, periods) and the five fixed
tidy tables (``bewegung``, ``beendete``, ``uma_quote``, ``plaetze``, ``fristen_42a``) per month
and period. The seven further tables: :mod:`inobhut.stat_further`; which function computes
which table, a month's tables written into ``stat_<name>`` and read back, the tidy export's
text form: :mod:`inobhut.stat_store`. Counting rules and decisions are documented in
``docs/tabellen.md``.

Not here: reading or validating deliveries (the warehouse holds only in-force versions),
disclosure control (:mod:`inobhut.disclosure`), report layout (:mod:`inobhut.reports`).

All computations read the warehouse data tables of :mod:`inobhut.warehouse`. Returned frames
hold unrounded counts as ``Int64``, ratios already rounded (half up) to their published
decimals as ``Float64``, dates as ``datetime64[ns]``, codes and periods as ``str``. Totals rows
(``jugendamt`` = network id) are sums over the offices' unrounded values; ratios and medians
of totals rows are recomputed from the pooled cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import duckdb
import numpy as np
import pandas as pd

from inobhut import config
from inobhut.calendar import (as_dates, days_between, month_end, month_key, month_range, parse_month, workdays_between,
                              workdays_between_many)
from inobhut.naming import is_ascii_digits
from inobhut.warehouse import ACCEPTED_VERDICTS
from schemas.datasets import codes

TABLES: dict[str, list[tuple[str, str]]] = {
    "bewegung": [
        ("monat", "VARCHAR"), ("jugendamt", "VARCHAR"), ("massnahme", "VARCHAR"),
        ("zugaenge", "BIGINT"), ("abgaenge", "BIGINT"), ("bestand", "BIGINT"),
    ],
    "beendete": [
        ("zeitraum", "VARCHAR"), ("jugendamt", "VARCHAR"), ("merkmal", "VARCHAR"),
        ("auspraegung", "VARCHAR"), ("anzahl", "BIGINT"),
    ],
    "uma_quote": [
        ("stichtag", "DATE"), ("jugendamt", "VARCHAR"), ("einwohner", "BIGINT"), ("uma_ist", "BIGINT"),
        ("uma_soll", "DOUBLE"), ("erfuellungsquote_pct", "DOUBLE"), ("differenz", "DOUBLE"),
        ("junge_volljaehrige", "BIGINT"),
    ],
    "plaetze": [
        ("stichtag", "DATE"), ("jugendamt", "VARCHAR"), ("angebot", "VARCHAR"), ("genehmigt", "BIGINT"),
        ("belegt", "BIGINT"), ("gesperrt", "BIGINT"), ("frei", "BIGINT"), ("auslastung_pct", "DOUBLE"),
        ("vzae_soll", "DOUBLE"), ("vzae_ist", "DOUBLE"),
    ],
    "fristen_42a": [
        ("monat", "VARCHAR"), ("jugendamt", "VARCHAR"), ("begonnen", "BIGINT"), ("fristgerecht", "BIGINT"),
        ("verspaetet", "BIGINT"), ("ohne_meldung", "BIGINT"), ("anteil_fristgerecht_pct", "DOUBLE"),
        ("median_werktage", "DOUBLE"),
    ],
}
# The five tables whose columns are fixed by statistics.md (other tools read them).
FIXED_TABLES: tuple[str, ...] = tuple(TABLES)

# Further tables of statistics.md; columns are the project's choice (docs/tabellen.md).
TABLES.update({
    "uma_struktur": [
        ("stichtag", "DATE"), ("jugendamt", "VARCHAR"), ("merkmal", "VARCHAR"), ("auspraegung", "VARCHAR"),
        ("anzahl", "BIGINT"),
    ],
    "verteilung_42a": [
        ("zeitraum", "VARCHAR"), ("jugendamt", "VARCHAR"), ("beendet", "BIGINT"), ("entschieden", "BIGINT"),
        ("entscheidung_1", "BIGINT"), ("entscheidung_2", "BIGINT"), ("entscheidung_3", "BIGINT"),
        ("entscheidung_4", "BIGINT"), ("entscheidung_5", "BIGINT"), ("entscheidung_6", "BIGINT"),
        ("tage_mittel", "DOUBLE"), ("tage_median", "DOUBLE"),
    ],
    "zuweisungen_42a": [
        ("zeitraum", "VARCHAR"), ("jugendamt", "VARCHAR"), ("aufnehmend", "VARCHAR"), ("anzahl", "BIGINT"),
    ],
    "dauer": [
        ("zeitraum", "VARCHAR"), ("jugendamt", "VARCHAR"), ("massnahme", "VARCHAR"), ("unbegleitet", "VARCHAR"),
        ("anzahl", "BIGINT"), ("dauer_mittel", "DOUBLE"), ("dauer_median", "DOUBLE"),
    ],
    "personal": [
        ("stichtag", "DATE"), ("jugendamt", "VARCHAR"), ("bereich", "VARCHAR"), ("vzae_soll", "DOUBLE"),
        ("vzae_ist", "DOUBLE"), ("stellen_unbesetzt", "DOUBLE"), ("besetzungsquote_pct", "DOUBLE"),
        ("faelle", "BIGINT"),
    ],
    "kapazitaet": [
        ("stichtag", "DATE"), ("jugendamt", "VARCHAR"), ("angebot", "VARCHAR"), ("einrichtungen", "BIGINT"),
        ("genehmigt", "BIGINT"), ("gesperrt", "BIGINT"), ("nutzbar", "BIGINT"), ("belegt", "BIGINT"),
        ("auslastung_pct", "DOUBLE"), ("gesperrt_anteil_pct", "DOUBLE"), ("belegt_mit_tagessatz", "BIGINT"),
        ("kosten_je_belegtag", "DOUBLE"), ("kosten_monat", "DOUBLE"),
    ],
    "lieferstatus": [
        ("monat", "VARCHAR"), ("jugendamt", "VARCHAR"), ("datensatz", "VARCHAR"), ("status", "VARCHAR"),
        ("anzahl", "BIGINT"), ("version_in_kraft", "BIGINT"), ("tage_verspaetet", "BIGINT"),
    ],
})
TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
COLUMNS: dict[str, list[str]] = {t: [c for c, _ in cols] for t, cols in TABLES.items()}
# Tables of flows over a period (``zeitraum``): stored per month, yearly rows added on export.
FLOW_TABLES: tuple[str, ...] = ("beendete", "verteilung_42a", "zuweisungen_42a", "dauer")

# Published decimals of the non-integer columns (export and rounding).
DECIMALS: dict[str, int] = {
    "uma_soll": 2, "erfuellungsquote_pct": 1, "differenz": 2, "auslastung_pct": 1,
    "vzae_soll": 2, "vzae_ist": 2, "anteil_fristgerecht_pct": 1, "median_werktage": 1,
    "tage_mittel": 1, "tage_median": 1, "dauer_mittel": 1, "dauer_median": 1, "stellen_unbesetzt": 2,
    "besetzungsquote_pct": 1, "gesperrt_anteil_pct": 1, "kosten_je_belegtag": 2, "kosten_monat": 2,
}
# Column holding the period of each table (for write_month and sorting).
PERIOD_COL = {"bewegung": "monat", "beendete": "zeitraum", "uma_quote": "stichtag", "plaetze": "stichtag",
              "fristen_42a": "monat", "uma_struktur": "stichtag", "verteilung_42a": "zeitraum",
              "zuweisungen_42a": "zeitraum", "dauer": "zeitraum", "personal": "stichtag", "kapazitaet": "stichtag",
              "lieferstatus": "monat"}

MERKMALE: tuple[str, ...] = (
    "insgesamt", "massnahme", "unbegleitet", "geschlecht", "altersgruppe", "anlass", "angeregt_durch",
    "aufenthalt_vorher", "unterbringung", "dauerklasse", "ende_grund", "anschluss",
)
ALTERSGRUPPEN: tuple[tuple[str, int, int], ...] = (
    ("0-2", 0, 2), ("3-5", 3, 5), ("6-8", 6, 8), ("9-11", 9, 11), ("12-13", 12, 13), ("14-15", 14, 15),
    ("16-17", 16, 17),
)
DAUERKLASSEN: tuple[tuple[str, int, int], ...] = (
    ("0-1", 0, 1), ("2-7", 2, 7), ("8-14", 8, 14), ("15-30", 15, 30), ("31-90", 31, 90), ("91+", 91, 10**9),
)
_CODELIST_OF = {
    "massnahme": "massnahme", "anlass": "anlass", "angeregt_durch": "angeregt_durch",
    "aufenthalt_vorher": "aufenthalt_vorher", "unterbringung": "unterbringung",
    "ende_grund": "ende_grund_massnahme", "anschluss": "anschluss",
}


def auspraegungen(merkmal: str) -> list[str]:
    """The values of a ``beendete`` characteristic in publication order."""
    if merkmal == "insgesamt":
        return ["insgesamt"]
    if merkmal == "unbegleitet":
        return ["1", "0"]
    if merkmal == "geschlecht":
        return ["m", "w"]
    if merkmal == "altersgruppe":
        return [a for a, _, _ in ALTERSGRUPPEN]
    if merkmal == "dauerklasse":
        return [d for d, _, _ in DAUERKLASSEN]
    return codes(_CODELIST_OF[merkmal])


# ---------------------------------------------------------------------------------------------
# helpers


def _round_half_up(values: pd.Series, decimals: int) -> pd.Series:
    """Commercial rounding (half away from zero) on the shortest decimal representation."""
    q = Decimal(1).scaleb(-decimals)

    def one(x):
        if x is None or pd.isna(x):
            return pd.NA
        r = float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))
        return 0.0 if r == 0 else r

    # once per distinct value (a table's rates repeat a lot; reading ten years of tables back
    # rounded 535,000 cells one by one: 1.7 s)
    arr = pd.array(values, dtype="Float64").to_numpy(dtype="float64", na_value=np.nan)
    uniq, inverse = np.unique(arr, return_inverse=True)
    rounded = np.array([np.nan if pd.isna(x) else one(x) for x in uniq], dtype="float64")
    return pd.Series(pd.array(rounded[inverse.reshape(-1)], dtype="Float64"), index=values.index)


def _jugendamt_rank() -> dict[str, int]:
    """Sort rank: member offices in reference order, then the network totals."""
    keys = list(config.office_keys()) + list(config.networks())
    return {k: i for i, k in enumerate(keys)}


def _verbund_map() -> dict[str, str]:
    return {o.ags: o.verbund for o in config.offices()}


def _member_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Only rows of member offices (an office removed from the member list has no network)."""
    return df[df["jugendamt"].isin(config.office_keys())]


def _with_totals(office_rows: pd.DataFrame, keys: list[str], sum_cols: list[str]) -> pd.DataFrame:
    """Append network totals rows (sums over offices) to per-office rows."""
    if office_rows.empty:
        return office_rows
    net = office_rows.assign(jugendamt=office_rows["jugendamt"].map(_verbund_map()))
    net = net.groupby(["jugendamt", *keys], as_index=False, dropna=False)[sum_cols].sum(min_count=1)
    return pd.concat([office_rows, net], ignore_index=True)


def _sort(df: pd.DataFrame, by: list[str], orders: dict[str, dict[str, int]] | None = None) -> pd.DataFrame:
    """Deterministic order: each column in ``by`` ranked by ``orders`` if given (unknown values
    after the known ones, alphabetically), else in natural order."""
    orders = dict(orders or {})
    orders.setdefault("jugendamt", _jugendamt_rank())
    tmp = df.copy()
    sort_cols = []
    for i, col in enumerate(by):
        if col in orders:
            rank = orders[col]
            tmp[f"_k{i}a"] = tmp[col].map(rank).fillna(len(rank)).astype("int64")
            tmp[f"_k{i}b"] = tmp[col].astype(str)
            sort_cols += [f"_k{i}a", f"_k{i}b"]
        else:
            sort_cols.append(col)
    if not len(tmp):
        return df.reset_index(drop=True)
    tmp = tmp.sort_values(sort_cols, kind="mergesort")
    return tmp[df.columns].reset_index(drop=True)


def _add_auspraegung_rank(df: pd.DataFrame) -> pd.DataFrame:
    """``_ar``: position of ``auspraegung`` in the publication order of its ``merkmal``."""
    ranks = {m: {a: i for i, a in enumerate(auspraegungen(m))} for m in MERKMALE}
    ar = [ranks.get(m, {}).get(a, 10**6) for m, a in zip(df["merkmal"], df["auspraegung"])]
    return df.assign(_ar=pd.array(ar, dtype="int64"))


def _age_years(birth_month: pd.Series, day: pd.Series | dt.date) -> pd.Series:
    """Completed years at ``day``, birthday = 1st of the birth month."""
    b = as_dates(birth_month)
    d = as_dates(day) if not isinstance(day, dt.date) else pd.Timestamp(day)
    dy = d.year if isinstance(d, pd.Timestamp) else d.dt.year
    dm = d.month if isinstance(d, pd.Timestamp) else d.dt.month
    return (dy - b.dt.year) - (dm < b.dt.month).astype(int)


def _classify(values: pd.Series, classes: tuple[tuple[str, int, int], ...]) -> pd.Series:
    out = pd.Series(pd.NA, index=values.index, dtype="object")
    for label, lo, hi in classes:
        out[(values >= lo) & (values <= hi)] = label
    return out


def _finish(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Exactly the fixed columns in order, with the canonical dtypes."""
    df = df.reindex(columns=COLUMNS[name])
    for col, sqltype in TABLES[name]:
        if sqltype == "BIGINT":
            df[col] = pd.array(df[col], dtype="Int64") if len(df) else pd.array([], dtype="Int64")
        elif sqltype == "DOUBLE":
            df[col] = _round_half_up(df[col], DECIMALS[col]) if len(df) else pd.array([], dtype="Float64")
        elif sqltype == "DATE":
            df[col] = as_dates(df[col])
        else:
            df[col] = df[col].astype(str) if len(df) else df[col].astype(object)
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# the five tables


def compute_bewegung(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """Zugänge, Abgänge and Bestand per office and Massnahme from the office's delivery of
    ``month``; rows with all three 0 are left out."""
    first, last = parse_month(month), month_end(month)
    df = con.execute(
        """SELECT jugendamt, massnahme,
                  count_if(coalesce(beginn BETWEEN $1 AND $2, FALSE)) AS zugaenge,
                  count_if(coalesce(ende BETWEEN $1 AND $2, FALSE)) AS abgaenge,
                  count_if(coalesce(beginn <= $2 AND (ende IS NULL OR ende > $2), FALSE)) AS bestand
           FROM massnahmen WHERE monat = $3 AND massnahme IS NOT NULL
           GROUP BY jugendamt, massnahme""",
        [first, last, month],
    ).df()
    df = _with_totals(_member_rows(df), ["massnahme"], ["zugaenge", "abgaenge", "bestand"])
    if len(df):
        df = df[(df[["zugaenge", "abgaenge", "bestand"]] != 0).any(axis=1)]
    df = df.assign(monat=month)
    return _finish(_sort(df, ["jugendamt", "massnahme"]), "bewegung")


@dataclass(frozen=True)
class Zeitraum:
    """A reporting period: a month (``YYYY-MM``), a year (``YYYY``) or a run of months of
    one year, e.g. year to date (``YYYY-MM..YYYY-MM``)."""

    label: str
    kind: str  # "monat" | "jahr" | "kumuliert"
    first: dt.date
    last: dt.date

    @property
    def months(self) -> list[str]:
        return month_range(month_key(self.first), month_key(self.last))

    @property
    def last_month(self) -> str:
        return month_key(self.last)


def _strict_month(text: str) -> dt.date:
    if len(text) != 7 or text[4] != "-" or not is_ascii_digits(text[:4] + text[5:]) or not 1 <= int(text[5:]) <= 12:
        raise ValueError(f"Ungültiger Monat „{text}“; erwartet wird JJJJ-MM.")
    return parse_month(text)


def zeitraum(label: str) -> Zeitraum:
    """Parse a period label: ``YYYY-MM``, ``YYYY`` or ``YYYY-MM..YYYY-MM`` (same year)."""
    label = str(label).strip()
    if len(label) == 4 and is_ascii_digits(label):
        y = int(label)
        return Zeitraum(label, "jahr", dt.date(y, 1, 1), dt.date(y, 12, 31))
    if ".." in label:
        a, b = label.split("..", 1)
        fa, fb = _strict_month(a), _strict_month(b)
        if fa.year != fb.year or fa > fb:
            raise ValueError(f"Ungültiger Zeitraum „{label}“; erwartet wird JJJJ-MM..JJJJ-MM innerhalb eines Jahres.")
        if a == b:
            return Zeitraum(a, "monat", fa, month_end(fa))
        return Zeitraum(label, "kumuliert", fa, month_end(fb))
    first = _strict_month(label)
    return Zeitraum(label, "monat", first, month_end(first))


def bis_monat(month: str) -> Zeitraum:
    """Year to date up to and including ``month`` (January alone is just the month)."""
    first = f"{month[:4]}-01"
    return zeitraum(month if month == first else f"{first}..{month}")


def _ended_measures(con: duckdb.DuckDBPyConnection, zr: Zeitraum, columns: str) -> pd.DataFrame:
    """Measures whose ``Ende`` lies in the period, from the file of the month of their Ende,
    once per (jugendamt, fall_id) -- the row of the latest ``monat`` wins; members only."""
    m = con.execute(
        f"""SELECT jugendamt, {columns}
            FROM massnahmen
            WHERE ende IS NOT NULL AND strftime(ende, '%Y-%m') = monat AND ende BETWEEN $1 AND $2
            QUALIFY row_number() OVER (PARTITION BY jugendamt, fall_id ORDER BY monat DESC) = 1""",
        [zr.first, zr.last],
    ).df()
    return _member_rows(m)


def ended_measures(con: duckdb.DuckDBPyConnection, zr: Zeitraum, columns: str) -> pd.DataFrame:
    """Public name of the counting rule of ``beendete`` (the federal statistic counts exactly these)."""
    return _ended_measures(con, zr, columns)


def compute_beendete(con: duckdb.DuckDBPyConnection, zeitraum_: str) -> pd.DataFrame:
    """Ended measures of a period (``YYYY``, ``YYYY-MM`` or ``YYYY-MM..YYYY-MM``) by characteristic.

    A measure counts when its ``Ende`` lies in the period, taken from the file of the month
    of its Ende, once per (jugendamt, fall_id) -- the row of the latest ``monat`` wins."""
    zr = zeitraum(zeitraum_)
    zeitraum_ = zr.label
    m = _ended_measures(con, zr, "massnahme, beginn, ende, geburtsmonat, geschlecht, unbegleitet, anlaesse, "
                                 "angeregt_durch, aufenthalt_vorher, unterbringung, ende_grund, anschluss")
    parts = []
    if len(m):
        ja = m["jugendamt"]
        age = _age_years(m["geburtsmonat"], m["beginn"])
        days = days_between(m["beginn"], m["ende"])
        derived = {
            "insgesamt": pd.Series("insgesamt", index=m.index),
            "massnahme": m["massnahme"],
            "unbegleitet": m["unbegleitet"].map({True: "1", False: "0"}),
            "geschlecht": m["geschlecht"].map({"m": "m", "d": "m", "o": "m", "w": "w"}),
            "altersgruppe": _classify(age, ALTERSGRUPPEN),
            "angeregt_durch": m["angeregt_durch"],
            "aufenthalt_vorher": m["aufenthalt_vorher"],
            "unterbringung": m["unterbringung"],
            "dauerklasse": _classify(days, DAUERKLASSEN),
            "ende_grund": m["ende_grund"],
            "anschluss": m["anschluss"],
        }
        for merkmal, values in derived.items():
            parts.append(pd.DataFrame({"jugendamt": ja, "merkmal": merkmal, "auspraegung": values}))
        anl = m[["jugendamt", "anlaesse"]].dropna()
        anl = anl.assign(auspraegung=anl["anlaesse"].str.split(",")).explode("auspraegung")
        parts.append(anl.assign(merkmal="anlass")[["jugendamt", "merkmal", "auspraegung"]])
    if not parts:
        return _finish(pd.DataFrame(columns=COLUMNS["beendete"]), "beendete")
    long = pd.concat(parts, ignore_index=True).dropna(subset=["auspraegung"])
    long["auspraegung"] = long["auspraegung"].astype(str).str.strip()
    counts = long.groupby(["jugendamt", "merkmal", "auspraegung"], as_index=False).size()
    counts = counts.rename(columns={"size": "anzahl"})
    counts = _with_totals(counts, ["merkmal", "auspraegung"], ["anzahl"])
    counts = counts[counts["anzahl"] > 0].assign(zeitraum=zeitraum_)
    counts = _add_auspraegung_rank(counts)
    orders = {"merkmal": {k: i for i, k in enumerate(MERKMALE)}}
    return _finish(_sort(counts, ["jugendamt", "merkmal", "_ar", "auspraegung"], orders), "beendete")


def _responsible_persons(con: duckdb.DuckDBPyConnection, month: str, day: dt.date | None = None) -> pd.DataFrame:
    """Persons of the office's ``uma`` delivery of ``month`` responsible on ``day`` (default: the
    month's Stichtag) -- ``Zustaendig_seit`` <= day and (``Zustaendig_bis`` empty or > day) --
    with their age in completed years on that day."""
    s = day or month_end(month)
    df = con.execute(
        """SELECT jugendamt, geburtsmonat, hilfeart FROM uma
           WHERE monat = $1 AND zustaendig_seit <= $2 AND (zustaendig_bis IS NULL OR zustaendig_bis > $2)""",
        [month, s],
    ).df()
    df["alter"] = _age_years(df["geburtsmonat"], s) if len(df) else pd.Series(dtype=int)
    return df


def _offices_with_delivery(con: duckdb.DuckDBPyConnection, dataset: str, month: str) -> set[str]:
    marks = ", ".join("?" for _ in ACCEPTED_VERDICTS)
    acc = con.execute(
        f"SELECT DISTINCT ags FROM deliveries WHERE dataset = ? AND monat = ? AND verdict IN ({marks})",
        [dataset, month, *ACCEPTED_VERDICTS],
    ).fetchall()
    rows = con.execute(f"SELECT DISTINCT jugendamt FROM {dataset} WHERE monat = $1", [month]).fetchall()
    return {r[0] for r in acc} | {r[0] for r in rows}


def uma_quote_settings() -> tuple[set[str], bool]:
    """(Hilfearten that do not count, whether young adults count) from settings ``[uma_quote]``."""
    st = config.settings()
    excluded = {str(h) for h in st["uma_quote"]["hilfearten_ausgenommen"]}
    return excluded, bool(st["uma_quote"].get("junge_volljaehrige_im_ist", False))


def uma_counted_persons(con: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    """The persons of the quota rules on ``day``: responsible that day (``uma`` delivery of the
    day's month), ``Hilfeart`` not excluded by the settings; column ``minderjaehrig`` (under 18
    on that day)."""
    excluded, _ = uma_quote_settings()
    p = _responsible_persons(con, month_key(day), day)
    p = p[~p["hilfeart"].isin(excluded)]
    return p.assign(minderjaehrig=p["alter"] < 18)


def uma_quote_at(con: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    """UMA Ist, Aufnahmesoll, Erfüllungsquote and young adults on any ``day`` (unrounded; one
    row per member office and per network; Soll only when every office of the network has an
    accepted ``uma`` delivery for the day's month). The single definition behind the monthly
    table ``uma_quote`` (``day`` = Stichtag) and the working-day UMA report."""
    _, adults_in_ist = uma_quote_settings()
    month = month_key(day)
    p = uma_counted_persons(con, day)
    minors = p[p["minderjaehrig"]].groupby("jugendamt").size()
    adults = p[~p["minderjaehrig"]].groupby("jugendamt").size()
    delivered = _offices_with_delivery(con, "uma", month)
    rows = []
    for net in config.networks():
        members = config.network_offices(net)
        total_e = sum(o.einwohner for o in members)
        complete = all(o.ags in delivered for o in members)
        ist = {o.ags: (int(minors.get(o.ags, 0)) + (int(adults.get(o.ags, 0)) if adults_in_ist else 0))
               for o in members if o.ags in delivered}
        jv = {o.ags: int(adults.get(o.ags, 0)) for o in members if o.ags in delivered}
        total_ist = sum(ist.values())
        for o in members:
            row = {"jugendamt": o.ags, "einwohner": o.einwohner, "uma_ist": ist.get(o.ags), "junge_volljaehrige": jv.get(o.ags)}
            if complete and total_e > 0:
                soll = total_ist * o.einwohner / total_e
                row["uma_soll"] = soll
                row["differenz"] = ist[o.ags] - soll
                row["erfuellungsquote_pct"] = 100.0 * ist[o.ags] / soll if soll > 0 else None
            rows.append(row)
        tot = {"jugendamt": net, "einwohner": total_e,
               "uma_ist": total_ist if ist else None, "junge_volljaehrige": sum(jv.values()) if jv else None}
        if complete and total_e > 0:
            tot.update(uma_soll=float(total_ist), differenz=0.0,
                       erfuellungsquote_pct=100.0 if total_ist > 0 else None)
        rows.append(tot)
    df = pd.DataFrame(rows, columns=["jugendamt", "einwohner", "uma_ist", "uma_soll", "erfuellungsquote_pct",
                                     "differenz", "junge_volljaehrige"])
    df["stichtag"] = pd.Timestamp(day)
    return df.astype({"uma_soll": "float64", "erfuellungsquote_pct": "float64", "differenz": "float64"})


def compute_uma_quote(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """UMA Ist, Aufnahmesoll, Erfüllungsquote and young adults at the month's Stichtag."""
    return _finish(_sort(uma_quote_at(con, month_end(month)), ["jugendamt"]), "uma_quote")


def compute_plaetze(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """Places per office and Angebot, each facility at its last Stichtag within the month."""
    first, last = parse_month(month), month_end(month)
    df = con.execute(
        """WITH latest AS (
               SELECT * FROM plaetze WHERE monat = $3 AND stichtag BETWEEN $1 AND $2
               QUALIFY row_number() OVER (PARTITION BY jugendamt, einrichtung ORDER BY stichtag DESC) = 1)
           SELECT jugendamt, angebot, max(stichtag) AS stichtag, sum(plaetze_genehmigt) AS genehmigt,
                  sum(plaetze_belegt) AS belegt, sum(plaetze_gesperrt) AS gesperrt,
                  sum(vzae_soll) AS vzae_soll, sum(vzae_ist) AS vzae_ist
           FROM latest GROUP BY jugendamt, angebot""",
        [first, last, month],
    ).df()
    df = _member_rows(df)
    if len(df):
        net = df.assign(jugendamt=df["jugendamt"].map(_verbund_map()))
        net = net.groupby(["jugendamt", "angebot"], as_index=False).agg(
            stichtag=("stichtag", "max"), genehmigt=("genehmigt", "sum"), belegt=("belegt", "sum"),
            gesperrt=("gesperrt", "sum"), vzae_soll=("vzae_soll", "sum"), vzae_ist=("vzae_ist", "sum"))
        df = pd.concat([df, net], ignore_index=True)
        df["frei"] = df["genehmigt"] - df["belegt"] - df["gesperrt"]
        usable = (df["genehmigt"] - df["gesperrt"]).astype("float64")
        df["auslastung_pct"] = np.where(usable > 0, 100.0 * df["belegt"].astype("float64") / usable.where(usable > 0, 1.0), np.nan)
    return _finish(_sort(df, ["jugendamt", "angebot"]), "plaetze")


@lru_cache(maxsize=65536)
def _werktage(beginn: dt.date, meldung: dt.date, land: str) -> int:
    return workdays_between(beginn, meldung, land)


def meldefrist_werktage() -> int:
    """The §42a reporting deadline in Werktage (settings ``[fristen] meldefrist_werktage``)."""
    return int(config.settings()["fristen"]["meldefrist_werktage"])


def werktage(beginn: dt.date, bis: dt.date, ags: str) -> int:
    """Werktage after ``beginn`` up to and including ``bis`` in the Land of office ``ags``."""
    return _werktage(pd.Timestamp(beginn).date(), pd.Timestamp(bis).date(), config.office(ags).land)


def faelle_42a(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date,
               extra_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """§42a measures (Massnahme 2) of member offices with Beginn in [first, last], each in its
    latest known state (the row of the newest ``monat`` of its fall_id), with ``werktage`` =
    Werktage after Beginn up to and including ``Meldung_Landesstelle`` (NaN while not reported).
    The single definition behind ``fristen_42a`` and the office's deadline list."""
    cols = ", ".join(dict.fromkeys(("jugendamt", "fall_id", "massnahme", "beginn", "meldung_landesstelle",
                                    *extra_columns)))
    # only cases with some row in the window can have their latest row in it: the window over
    # those alone instead of over the whole history (0.1 -> 0.015 s per call on ten years)
    df = con.execute(
        f"""WITH candidates AS (
               SELECT DISTINCT jugendamt, fall_id FROM massnahmen
               WHERE massnahme = '2' AND beginn BETWEEN $1 AND $2),
           latest AS (
               SELECT {cols} FROM massnahmen SEMI JOIN candidates USING (jugendamt, fall_id)
               QUALIFY row_number() OVER (PARTITION BY jugendamt, fall_id ORDER BY monat DESC) = 1)
           SELECT * FROM latest WHERE massnahme = '2' AND beginn BETWEEN $1 AND $2""",
        [first, last],
    ).df()
    df = _member_rows(df).reset_index(drop=True)
    wt = np.full(len(df), np.nan)
    reported = df["meldung_landesstelle"].notna().to_numpy()
    lands = df["jugendamt"].map({a: config.office(a).land for a in df["jugendamt"].unique()}).to_numpy()
    beginn = as_dates(df["beginn"]).to_numpy(dtype="datetime64[D]")
    meldung = as_dates(df["meldung_landesstelle"]).to_numpy(dtype="datetime64[D]")
    for land in set(lands[reported]):
        rows = reported & (lands == land)
        wt[rows] = workdays_between_many(beginn[rows], meldung[rows], land)
    return df.assign(werktage=pd.Series(wt, index=df.index, dtype="float64"))


def compute_fristen_42a(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """§42a reporting deadline per office: measures (Massnahme 2) with Beginn in the month
    (or in the period ``YYYY``/``YYYY-MM..YYYY-MM``, shown in ``monat``), each in its latest
    known state (row of the newest monat of that fall_id)."""
    zr = zeitraum(month)
    month = zr.label
    frist = meldefrist_werktage()
    df = faelle_42a(con, zr.first, zr.last)
    if df.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["fristen_42a"]), "fristen_42a")
    df = df.assign(verbund=df["jugendamt"].map(_verbund_map()))
    rows = []
    for key, grp in list(df.groupby("jugendamt")) + list(df.groupby("verbund")):
        w = grp["werktage"].dropna()
        n = len(grp)
        fg = int((w <= frist).sum())
        rows.append({
            "jugendamt": key, "begonnen": n, "fristgerecht": fg, "verspaetet": int((w > frist).sum()),
            "ohne_meldung": int(grp["werktage"].isna().sum()),
            "anteil_fristgerecht_pct": 100.0 * fg / n, "median_werktage": float(w.median()) if len(w) else np.nan,
        })
    out = pd.DataFrame(rows).assign(monat=month)
    return _finish(_sort(out, ["jugendamt"]), "fristen_42a")
