"""The statistical tables of ``shared/spec/statistics.md``, computed from the warehouse.

Belongs here: the five fixed tidy tables (``bewegung``, ``beendete``, ``uma_quote``,
``plaetze``, ``fristen_42a``) per month, the yearly ``beendete`` table, writing them into the
``stat_<name>`` tables and the tidy CSV export. Counting rules and decisions are documented
in ``docs/tabellen.md``.

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
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from inobhut import config
from inobhut.calendar import month_end, parse_month, workdays_between
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
TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
COLUMNS: dict[str, list[str]] = {t: [c for c, _ in cols] for t, cols in TABLES.items()}

# Published decimals of the non-integer columns (export and rounding).
DECIMALS: dict[str, int] = {
    "uma_soll": 2, "erfuellungsquote_pct": 1, "differenz": 2, "auslastung_pct": 1,
    "vzae_soll": 2, "vzae_ist": 2, "anteil_fristgerecht_pct": 1, "median_werktage": 1,
}
# Column holding the period of each table (for write_month and sorting).
PERIOD_COL = {"bewegung": "monat", "beendete": "zeitraum", "uma_quote": "stichtag", "plaetze": "stichtag",
              "fristen_42a": "monat"}

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

    return pd.Series([one(x) for x in values], index=values.index, dtype="Float64")


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
    b = pd.to_datetime(birth_month)
    d = pd.to_datetime(day) if not isinstance(day, dt.date) else pd.Timestamp(day)
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
            df[col] = pd.to_datetime(df[col])
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


def _period_filter(zeitraum: str) -> tuple[str, str]:
    if len(zeitraum) == 4 and zeitraum.isdigit():
        return "strftime(ende, '%Y') = $1", zeitraum
    parse_month(zeitraum)  # validates YYYY-MM
    return "strftime(ende, '%Y-%m') = $1", zeitraum


def compute_beendete(con: duckdb.DuckDBPyConnection, zeitraum: str) -> pd.DataFrame:
    """Ended measures of a period (``YYYY`` or ``YYYY-MM``) by characteristic.

    A measure counts when its ``Ende`` lies in the period, taken from the file of the month
    of its Ende, once per (jugendamt, fall_id) -- the row of the latest ``monat`` wins."""
    cond, param = _period_filter(zeitraum)
    m = con.execute(
        f"""SELECT jugendamt, massnahme, beginn, ende, geburtsmonat, geschlecht, unbegleitet, anlaesse,
                   angeregt_durch, aufenthalt_vorher, unterbringung, ende_grund, anschluss
            FROM massnahmen
            WHERE ende IS NOT NULL AND strftime(ende, '%Y-%m') = monat AND {cond}
            QUALIFY row_number() OVER (PARTITION BY jugendamt, fall_id ORDER BY monat DESC) = 1""",
        [param],
    ).df()
    m = _member_rows(m)
    parts = []
    if len(m):
        ja = m["jugendamt"]
        age = _age_years(m["geburtsmonat"], m["beginn"])
        days = (pd.to_datetime(m["ende"]) - pd.to_datetime(m["beginn"])).dt.days
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
    counts = counts[counts["anzahl"] > 0].assign(zeitraum=zeitraum)
    counts = _add_auspraegung_rank(counts)
    orders = {"merkmal": {k: i for i, k in enumerate(MERKMALE)}}
    return _finish(_sort(counts, ["jugendamt", "merkmal", "_ar", "auspraegung"], orders), "beendete")


def _responsible_persons(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    s = month_end(month)
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


def compute_uma_quote(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """UMA Ist, Aufnahmesoll, Erfüllungsquote and young adults at the month's Stichtag."""
    st = config.settings()
    excluded = {str(h) for h in st["uma_quote"]["hilfearten_ausgenommen"]}
    adults_in_ist = bool(st["uma_quote"].get("junge_volljaehrige_im_ist", False))
    s = month_end(month)
    p = _responsible_persons(con, month)
    p = p[~p["hilfeart"].isin(excluded)]
    minors = p[p["alter"] < 18].groupby("jugendamt").size()
    adults = p[p["alter"] >= 18].groupby("jugendamt").size()
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
    df["stichtag"] = pd.Timestamp(s)
    df = df.astype({"uma_soll": "float64", "erfuellungsquote_pct": "float64", "differenz": "float64"})
    return _finish(_sort(df, ["jugendamt"]), "uma_quote")


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


def compute_fristen_42a(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """§42a reporting deadline per office: measures (Massnahme 2) with Beginn in the month,
    each in its latest known state (row of the newest monat of that fall_id)."""
    first, last = parse_month(month), month_end(month)
    frist = int(config.settings()["fristen"]["meldefrist_werktage"])
    df = con.execute(
        """WITH latest AS (
               SELECT jugendamt, fall_id, massnahme, beginn, meldung_landesstelle FROM massnahmen
               QUALIFY row_number() OVER (PARTITION BY jugendamt, fall_id ORDER BY monat DESC) = 1)
           SELECT * FROM latest WHERE massnahme = '2' AND beginn BETWEEN $1 AND $2""",
        [first, last],
    ).df()
    df = _member_rows(df)
    if df.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["fristen_42a"]), "fristen_42a")
    land = {o.ags: o.land for o in config.offices()}
    reported = df["meldung_landesstelle"].notna()
    wt = pd.Series(np.nan, index=df.index)
    for i in df.index[reported]:
        wt[i] = _werktage(pd.Timestamp(df.at[i, "beginn"]).date(),
                          pd.Timestamp(df.at[i, "meldung_landesstelle"]).date(), land[df.at[i, "jugendamt"]])
    df = df.assign(werktage=wt, verbund=df["jugendamt"].map(_verbund_map()))
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


def compute_month(con: duckdb.DuckDBPyConnection, month: str) -> dict[str, pd.DataFrame]:
    """The five fixed tables of ``month`` (``beendete`` with ``zeitraum`` = the month)."""
    return {
        "bewegung": compute_bewegung(con, month),
        "beendete": compute_beendete(con, month),
        "uma_quote": compute_uma_quote(con, month),
        "plaetze": compute_plaetze(con, month),
        "fristen_42a": compute_fristen_42a(con, month),
    }


# ---------------------------------------------------------------------------------------------
# storage and export


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, cols in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS stat_{name} ({', '.join(f'{c} {t}' for c, t in cols)})")


def _month_condition(name: str) -> str:
    col = PERIOD_COL[name]
    return f"strftime({col}, '%Y-%m') = ?" if dict(TABLES[name])[col] == "DATE" else f"{col} = ?"


def write_month(con: duckdb.DuckDBPyConnection, month: str, tables: dict[str, pd.DataFrame]) -> None:
    """Replace the month's rows of every ``stat_<name>`` table by ``tables`` (idempotent, one
    transaction; do not call inside an open transaction)."""
    ensure_tables(con)
    con.execute("BEGIN")
    try:
        for name, cols in TABLES.items():
            con.execute(f"DELETE FROM stat_{name} WHERE {_month_condition(name)}", [month])
            df = tables.get(name)
            if df is None or df.empty:
                continue
            con.register("_stat_incoming", df[COLUMNS[name]])
            try:
                select = ", ".join(f"CAST({c} AS {t})" for c, t in cols)
                con.execute(f"INSERT INTO stat_{name} SELECT {select} FROM _stat_incoming")
            finally:
                con.unregister("_stat_incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def read_table(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """All rows of ``stat_<name>`` with the canonical dtypes (unsorted)."""
    ensure_tables(con)
    return _finish(con.execute(f"SELECT * FROM stat_{name}").df(), name)


def _years_with_data(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT substr(monat, 1, 4) FROM massnahmen UNION SELECT DISTINCT substr(zeitraum, 1, 4) FROM stat_beendete"
    ).fetchall()
    return sorted(r[0] for r in rows if r[0])


def format_tidy(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """All cells as export text: ISO dates, ``.`` decimals with the published decimals,
    integers without ``.0``, empty string for missing values."""
    out = pd.DataFrame(index=df.index)
    for col, sqltype in TABLES[name]:
        s = df[col]
        if sqltype == "BIGINT":
            out[col] = [("" if pd.isna(v) else str(int(v))) for v in s]
        elif sqltype == "DOUBLE":
            d = DECIMALS[col]
            txt = [("" if pd.isna(v) else f"{float(v):.{d}f}") for v in s]
            out[col] = [("0." + "0" * d) if t == "-0." + "0" * d else t for t in txt]
        elif sqltype == "DATE":
            out[col] = [("" if pd.isna(v) else pd.Timestamp(v).date().isoformat()) for v in s]
        else:
            out[col] = ["" if (v is None or (not isinstance(v, str) and pd.isna(v))) else str(v) for v in s]
    return out


def sort_tidy(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Period, jugendamt (offices in reference order, then network totals), other keys."""
    df = df.copy()
    pcol = PERIOD_COL[name]
    df["_periode"] = (df[pcol].dt.strftime("%Y-%m") if dict(TABLES[name])[pcol] == "DATE" else df[pcol])
    keys = {"bewegung": ["massnahme"], "beendete": ["merkmal", "_ar", "auspraegung"], "uma_quote": [],
            "plaetze": ["angebot", "stichtag"], "fristen_42a": []}[name]
    orders = {}
    if name == "beendete":
        df = _add_auspraegung_rank(df)
        orders = {"merkmal": {k: i for i, k in enumerate(MERKMALE)}}
    out = _sort(df, ["_periode", "jugendamt", *keys], orders)
    return out.drop(columns=[c for c in ("_periode", "_ar") if c in out.columns])


def export_tidy(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<name>.csv`` for the five tables over all periods in ``stat_*``
    (plus yearly ``beendete`` for every year with data); unsuppressed."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in TABLE_NAMES:
        df = read_table(con, name)
        if name == "beendete":
            years = [compute_beendete(con, y) for y in _years_with_data(con)]
            df = pd.concat([df[df["zeitraum"].str.len() != 4], *years], ignore_index=True)
            df = _finish(df, name)
        text = format_tidy(sort_tidy(df, name), name)
        path = out_dir / f"{name}.csv"
        tmp = path.with_suffix(".csv.tmp")
        text.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        tmp.replace(path)
        paths.append(path)
    return paths
