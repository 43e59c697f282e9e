"""The tidy CSV exports ``<out>/tabellen/<name>.csv``, written from blocks that are reused while
their inputs are unchanged.

Belongs here: :func:`export_tidy` and its block cache. Does not belong here: the tables
themselves, their order and their text form (:mod:`inobhut.stat_store`: ``sort_tidy``,
``format_tidy``).

An export is sorted by period first (``stat_store.sort_tidy``), so the file is the header
followed by one block of lines per period, and each block depends only on that period's rows.
The blocks are kept in the warehouse table ``stat_export_bloecke`` (table, period, key, text):

* a period of the stored tables (a month, a Stichtag's month, a cumulated period): the key is a
  digest of the period's rows (every cell, in table order; computed in the warehouse, so only
  the rows of periods without a matching block are read) with the program
  signature (``stat_refresh.program_signature``: code, settings, member offices -- the order
  and the text form depend on them), so a block is reused only for exactly the same rows;
* the yearly rows of the flow tables, computed here and not stored: the key is the program
  signature with the input signatures of the year's months (``stat_refresh.input_signatures``:
  every row those rows are computed from -- the ended measures of the year come from the files
  of the months of their Ende), so a year is recomputed only when one of its months changed.

A nightly run on a long history then sorts, formats and computes only the new month's blocks
and the current year (on a 10-year history: 10 s -> see ``docs/leistung.md``). The files are
byte-identical to a full export (``tests/test_tidy_export.py`` compares them).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from inobhut import atomic

CACHE = "stat_export_bloecke"


def export_tidy(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<name>.csv`` for every table over all periods in ``stat_*`` (plus, for
    the flow tables, the yearly rows of every year with data); unsuppressed."""
    from inobhut import statistics as st
    from inobhut import stat_store
    from inobhut.stat_refresh import input_signatures, program_signature

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con.execute(f"CREATE TABLE IF NOT EXISTS {CACHE} (tabelle VARCHAR, periode VARCHAR, schluessel VARCHAR, "
                "text VARCHAR, PRIMARY KEY (tabelle, periode))")
    cached = {(t, p): (k, x) for t, p, k, x in con.execute(f"SELECT tabelle, periode, schluessel, text FROM {CACHE}").fetchall()}
    program = program_signature()
    years = stat_store._years_with_data(con)
    months = sorted(m for (m,) in con.execute("SELECT DISTINCT monat FROM deliveries").fetchall())
    signatures = input_signatures(con, months)
    year_keys = {y: _digest(program, "jahr", y, *(f"{m}={signatures[m]}" for m in months if m[:4] == y)) for y in years}
    fresh: list[tuple[str, str, str, str]] = []
    paths = []
    for name in st.TABLE_NAMES:
        blocks: dict[str, str] = {}
        missing: dict[str, tuple[str, pd.DataFrame]] = {}  # period -> (key, rows)
        if name in st.FLOW_TABLES:
            for y in years:
                hit = cached.get((name, y))
                if hit is not None and hit[0] == year_keys[y]:
                    blocks[y] = hit[1]
                else:
                    missing[y] = (year_keys[y], st._finish(stat_store.PERIOD_FUNCTIONS[name](con, y), name))
        # the stored periods: their rows are digested in the warehouse, and only the rows of the
        # periods without a matching block are read (reading and hashing every table in pandas:
        # an unchanged export on ten years 1.5-2.4 -> 0.34-0.47 s)
        stored, where = _stored_periods(con, name)
        head = _digest(program, name, *(f"{c}:{t}" for c, t in st.TABLES[name]))
        todo: dict[str, str] = {}
        for p, digest in stored.items():
            key = _digest(head, p, digest)
            hit = cached.get((name, p))
            if hit is not None and hit[0] == key:
                blocks[p] = hit[1]
            else:
                todo[p] = key
        missing.update(_rows_of(con, name, where, todo))
        for p, text in _blocks(missing, name).items():
            blocks[p] = text
            fresh.append((name, p, missing[p][0], text))
        header = pd.DataFrame(columns=st.COLUMNS[name]).to_csv(index=False, lineterminator="\n")
        target = out_dir / f"{name}.csv"
        with atomic.replacing(target, keep_unchanged=True) as tmp:  # an unchanged table keeps its file (and mtime)
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(header)
                for p in sorted(blocks):  # the periods in sort_tidy's order (plain text order)
                    fh.write(blocks[p])
        paths.append(target)
        _forget_others(con, name, blocks)
    _store(con, fresh)
    return paths


def _blocks(missing: dict[str, tuple[str, pd.DataFrame]], name: str) -> dict[str, str]:
    """The CSV lines (no header) of each period in ``missing``, exactly as in a full export:
    sorted and formatted at once (per block it would cost a sort per period: a first export of
    ten years took twice as long), then cut into the periods' runs of lines."""
    from inobhut import stat_store

    out = {p: "" for p, (_, rows) in missing.items() if not len(rows)}
    frames = [rows for p, (_, rows) in missing.items() if len(rows)]
    if not frames:
        return out
    rows = stat_store.sort_tidy(pd.concat(frames, ignore_index=True), name)
    period = _periods(rows, name)
    text = stat_store.format_tidy(rows, name).to_csv(index=False, header=False, lineterminator="\n")
    lines = text.split("\n")[:-1]
    if len(lines) != len(rows):  # a cell with a line break (quoted): cut the frame instead
        for p in dict.fromkeys(period):
            part = rows[period == p]
            out[p] = stat_store.format_tidy(part.reset_index(drop=True), name).to_csv(index=False, header=False,
                                                                                     lineterminator="\n")
        return out
    starts = np.flatnonzero(np.r_[True, period[1:] != period[:-1]])
    for a, b in zip(starts, [*starts[1:], len(period)]):
        out[period[a]] = "\n".join(lines[a:b]) + "\n"
    return out


def _period_sql(name: str) -> tuple[str, str]:
    """The period of a stored row (``_periods`` in SQL) and the condition of the rows exported
    from the table (a flow table's yearly rows are computed, not read; ``_finish`` makes a
    missing zeitraum the text 'None', which is four characters long)."""
    from inobhut import statistics as st
    from inobhut import stat_store

    col = st.PERIOD_COL[name]
    # a missing Stichtag sorts last (``_periods``); a missing text period is 'None' (``_finish``)
    missing = "'\uffff'" if dict(st.TABLES[name])[col] == "DATE" else "'None'"
    period = f"coalesce({stat_store.period_sql(name)}::VARCHAR, {missing})"
    where = f"length(coalesce({col}::VARCHAR, 'None')) != 4" if name in st.FLOW_TABLES else "TRUE"
    return period, where


def _stored_periods(con: duckdb.DuckDBPyConnection, name: str) -> tuple[dict[str, str], str]:
    """Period -> digest of its exported rows (their count and the hash of the list of every
    row's cell hashes in table order: ``sort_tidy`` keeps the table order where its keys tie, as
    for ``uma_struktur``), and the condition of those rows."""
    from inobhut import statistics as st
    from inobhut import stat_store

    stat_store.ensure_tables(con)
    period, where = _period_sql(name)
    cols = ", ".join(st.COLUMNS[name])
    rows = con.execute(f"SELECT {period} AS p, count(*), hash(list(hash({cols}) ORDER BY rowid)) FROM stat_{name} "
                       f"WHERE {where} GROUP BY p").fetchall()
    return {p: f"{n}:{h}" for p, n, h in rows}, where


def _rows_of(con: duckdb.DuckDBPyConnection, name: str, where: str,
             keys: dict[str, str]) -> dict[str, tuple[str, pd.DataFrame]]:
    """Period -> (key, rows) for the periods in ``keys``, the rows in table order (as
    ``read_table`` gives them)."""
    from inobhut import statistics as st

    if not keys:
        return {}
    period, _ = _period_sql(name)
    df = st._finish(con.execute(f"SELECT * FROM stat_{name} WHERE {where} AND {period} IN "
                                "(SELECT unnest($1::VARCHAR[]))", [list(keys)]).df(), name)
    labels = _periods(df, name)
    groups = pd.Series(labels).groupby(labels, sort=False).indices
    return {p: (keys[p], df.iloc[np.sort(groups[p])] if p in groups else df.iloc[:0]) for p in keys}


def _periods(df: pd.DataFrame, name: str) -> np.ndarray:
    """``stat_store.period_labels`` with a missing period as a text that sorts last, as it does
    in ``sort_tidy``."""
    from inobhut import stat_store

    labels = stat_store.period_labels(df, name)
    return np.where(pd.isna(labels), "\uffff", labels).astype(object)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\x00")
    return h.hexdigest()


def _forget_others(con: duckdb.DuckDBPyConnection, name: str, blocks: dict[str, str]) -> None:
    """Drop the cached blocks of periods that no longer exist in the table."""
    stale = [p for (p,) in con.execute(f"SELECT periode FROM {CACHE} WHERE tabelle = ?", [name]).fetchall()
             if p not in blocks]
    if stale:
        con.executemany(f"DELETE FROM {CACHE} WHERE tabelle = ? AND periode = ?", [[name, p] for p in stale])


def _store(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str, str]]) -> None:
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["tabelle", "periode", "schluessel", "text"])
    con.register("_bloecke", frame)
    try:
        con.execute(f"INSERT OR REPLACE INTO {CACHE} SELECT tabelle, periode, schluessel, text FROM _bloecke")
    finally:
        con.unregister("_bloecke")
