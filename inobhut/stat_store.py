"""The stored statistics tables ``stat_<name>``: which function computes each table, one month's
tables computed, written and read, and their text form for the tidy export.

Belongs here: the registry of monthly computations (:data:`MONTHLY`, :data:`PERIOD_FUNCTIONS`,
:data:`LATEST_STATE_TABLES`), :func:`compute_month`, :func:`write_month` / :func:`read_table`
(one transaction per month, canonical dtypes), the export text (:func:`format_tidy`,
:func:`sort_tidy`, :func:`period_labels`) and :func:`write_csv`. Not here: the computations
(:mod:`inobhut.statistics`, :mod:`inobhut.stat_further`), which months a run recomputes
(:mod:`inobhut.stat_refresh`), the export's block cache (:mod:`inobhut.tidy_export`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from inobhut import atomic, faultpoint
from inobhut.stat_further import (
    STATUS_ORDER, compute_dauer, compute_kapazitaet, compute_lieferstatus, compute_personal, compute_uma_struktur,
    compute_verteilung_42a, compute_zuweisungen_42a,
)
from inobhut.statistics import (
    COLUMNS, DECIMALS, MERKMALE, PERIOD_COL, TABLES, _add_auspraegung_rank, _finish, _sort, compute_beendete,
    compute_bewegung, compute_fristen_42a, compute_plaetze, compute_uma_quote,
)
from schemas.datasets import DATASET_NAMES, codes

# monthly computations, in TABLES order
MONTHLY: dict[str, object] = {
    "bewegung": compute_bewegung, "beendete": compute_beendete, "uma_quote": compute_uma_quote,
    "plaetze": compute_plaetze, "fristen_42a": compute_fristen_42a, "uma_struktur": compute_uma_struktur,
    "verteilung_42a": compute_verteilung_42a, "zuweisungen_42a": compute_zuweisungen_42a, "dauer": compute_dauer,
    "personal": compute_personal, "kapazitaet": compute_kapazitaet, "lieferstatus": compute_lieferstatus,
}
# the monthly tables that read rows beyond their month: each §42a case with Beginn in the month in
# its latest known state, which a delivery of a later month can change (inobhut.stat_refresh
# recomputes only these when nothing but such later rows changed)
LATEST_STATE_TABLES: tuple[str, ...] = ("fristen_42a",)
# flow tables that can be computed for any period directly
PERIOD_FUNCTIONS = {"beendete": compute_beendete, "verteilung_42a": compute_verteilung_42a,
                    "zuweisungen_42a": compute_zuweisungen_42a, "dauer": compute_dauer,
                    "fristen_42a": compute_fristen_42a}


def compute_month(con: duckdb.DuckDBPyConnection, month: str,
                  names: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """Every table of ``month`` (or only ``names``): the five fixed tables first (``beendete``
    with ``zeitraum`` = the month), then the further tables (see :data:`TABLE_NAMES`)."""
    return {name: fn(con, month) for name, fn in MONTHLY.items() if names is None or name in names}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, cols in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS stat_{name} ({', '.join(f'{c} {t}' for c, t in cols)})")


def period_sql(name: str) -> str:
    """The period of a row of ``stat_<name>`` in SQL, as :func:`period_labels` gives it
    (``YYYY-MM`` for a Stichtag, NULL where it is missing)."""
    col = PERIOD_COL[name]
    return f"strftime({col}, '%Y-%m')" if dict(TABLES[name])[col] == "DATE" else col


def _month_condition(name: str) -> str:
    return f"{period_sql(name)} = ?"


def write_month(con: duckdb.DuckDBPyConnection, month: str, tables: dict[str, pd.DataFrame],
                names: tuple[str, ...] | None = None) -> None:
    """Replace the month's rows of every ``stat_<name>`` table (or only of ``names``) by
    ``tables`` (idempotent, one transaction; do not call inside an open transaction)."""
    ensure_tables(con)
    con.execute("BEGIN")
    try:
        for name, cols in TABLES.items():
            if names is not None and name not in names:
                continue
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
    faultpoint.reached("statistics")


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


def period_labels(df: pd.DataFrame, name: str) -> np.ndarray:
    """The period of each row as text (``YYYY-MM`` for a Stichtag; the exports' first sort key)."""
    pcol = PERIOD_COL[name]
    if dict(TABLES[name])[pcol] != "DATE":
        return df[pcol].astype(str).to_numpy()
    days = df[pcol].to_numpy(dtype="datetime64[ns]")
    labels = days.astype("datetime64[M]").astype(str).astype(object)
    labels[np.isnat(days)] = np.nan  # as strftime: a missing Stichtag sorts last
    return labels


def sort_tidy(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Period, jugendamt (offices in reference order, then network totals), other keys."""
    df = df.copy()
    df["_periode"] = period_labels(df, name)
    keys = {"bewegung": ["massnahme"], "beendete": ["merkmal", "_ar", "auspraegung"], "uma_quote": [],
            "plaetze": ["angebot", "stichtag"], "fristen_42a": [], "uma_struktur": ["_pos"],
            "verteilung_42a": [], "zuweisungen_42a": ["aufnehmend"], "dauer": ["massnahme", "unbegleitet"],
            "personal": ["bereich"], "kapazitaet": ["angebot"], "lieferstatus": ["datensatz", "status"]}[name]
    orders = {"massnahme": {"insgesamt": 0, "1": 1, "2": 2}, "unbegleitet": {"insgesamt": 0, "1": 1, "0": 2},
              "bereich": {"insgesamt": 0, **{c: i + 1 for i, c in enumerate(codes("bereich"))}},
              "angebot": {"insgesamt": 0, **{c: i + 1 for i, c in enumerate(codes("angebot"))}},
              "datensatz": {d: i for i, d in enumerate(DATASET_NAMES)},
              "status": {k: i for i, k in enumerate(STATUS_ORDER)}}
    if name == "beendete":
        df = _add_auspraegung_rank(df)
        orders = {"merkmal": {k: i for i, k in enumerate(MERKMALE)}}
    if name == "uma_struktur":  # keep the computed order within a Stichtag and office
        df["_pos"] = np.arange(len(df))
    out = _sort(df, ["_periode", "jugendamt", *keys], orders)
    return out.drop(columns=[c for c in ("_periode", "_ar", "_pos") if c in out.columns])


def export_tidy(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<name>.csv`` for every table over all periods in ``stat_*`` (plus, for
    the flow tables, the yearly rows of every year with data); unsuppressed. Implemented in
    :mod:`inobhut.tidy_export` (blocks per period, reused while their inputs are unchanged)."""
    from inobhut import tidy_export

    return tidy_export.export_tidy(con, out_dir)


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as the exports do (UTF-8, ``,``, ``\\n``, no index), atomically."""
    with atomic.replacing(path, keep_unchanged=True) as tmp:  # an unchanged table keeps its file (and mtime)
        df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return path
