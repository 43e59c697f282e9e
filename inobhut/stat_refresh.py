"""Which months' statistics tables a run recomputes: only those whose inputs changed.

Belongs here: the input signature of one month's tables and the refresh that recomputes
(``stat_store.compute_month`` + ``write_month``) exactly the months whose signature differs from
the one stored when they were last computed (table ``stat_eingaben``), plus the months a run asks
for. Does not belong here: the tables themselves (:mod:`inobhut.statistics`).

What a month's tables read (checked function by function in ``stat_store.MONTHLY``; a new table
function must keep to it or extend the signature):

* the warehouse rows of that month (``monat`` = the month) in every dataset and the month's
  deliveries -- all of it is loaded from the versions in ``load_state``'s signature of the month
  (every version with verdict and check summary), so that signature stands for it;
* ``fristen_42a``: every §42a case with ``Beginn`` in the month in its *latest known state*, which a
  delivery of any later month can change (a Meldung made after the month's end, a correction of
  Beginn or of the kind of measure, a case delivered late). The signature therefore also covers
  every row, of every month, of each case that has a row with ``Beginn`` in the month (so a case
  moved out of the month by a correction counts in the old month through its older rows);
* settings, member offices, holidays, the program and the schemas: a change there recomputes
  every month (``program_signature``).

The signature has two parts: the month's own data (program + load signature) and the later
rows of its cases (program + case digest). When only the second part changed -- the usual case
of a nightly run: the new month's delivery brings further rows of cases still open that began
in earlier months -- only the tables in ``stat_store.LATEST_STATE_TABLES`` are recomputed for
that month; the other tables read nothing but the month's own rows.

A month whose signature is missing (first run, rebuilt warehouse, older version) is recomputed.
The signature is written after the month's tables (a crash in between only recomputes again).
Tested against a full recomputation after late and corrected deliveries
(``tests/test_stat_refresh.py``).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import duckdb

from inobhut import config

TABLE = "stat_eingaben"
CASE_COLUMNS = ("jugendamt", "fall_id", "monat", "massnahme", "beginn", "ende", "meldung_landesstelle")


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The program's and schemas' sources (any change recomputes everything: conservative)."""
    import inobhut
    import schemas

    h = hashlib.sha256(inobhut.__version__.encode())
    for root in (Path(inobhut.__file__).parent, Path(schemas.__file__).parent):
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in (".py", ".yaml", ".yml", ".csv", ".toml", ".json"):
                h.update(p.relative_to(root.parent).as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def program_signature() -> str:
    """Program, schemas, settings, member offices and the holiday calendar's version."""
    from importlib.metadata import version

    h = hashlib.sha256(_code_digest().encode())
    h.update(json.dumps(config.settings(), sort_keys=True, default=str).encode())
    h.update(repr(config.offices()).encode())
    h.update(f"holidays {version('holidays')}|duckdb {duckdb.__version__}".encode())
    return h.hexdigest()


def _cases_by_month(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per month M: a digest of every massnahmen row (any month) of the cases that have a row
    with Beginn in M (order-independent sum of row hashes, with the count)."""
    cols = ", ".join(f"m.{c}" for c in CASE_COLUMNS)
    rows = con.execute(f"""
        WITH touched AS (
            SELECT DISTINCT jugendamt, fall_id, strftime(beginn, '%Y-%m') AS bm
            FROM massnahmen WHERE beginn IS NOT NULL)
        SELECT t.bm, count(*), sum(hash({cols})::HUGEINT)
        FROM touched t JOIN massnahmen m ON m.jugendamt = t.jugendamt AND m.fall_id = t.fall_id
        GROUP BY t.bm""").fetchall()
    return {bm: f"{n}:{s}" for bm, n, s in rows}


def input_signatures(con: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, str]:
    """The input signature of each of ``months``: ``<own data>.<later rows of its cases>``
    (see the module docstring)."""
    program = program_signature()
    loads = dict(con.execute("SELECT monat, signatur FROM load_state").fetchall())
    cases = _cases_by_month(con)
    out = {}
    for m in months:
        own = hashlib.sha256(f"{program}|{m}|{loads.get(m, '-')}".encode()).hexdigest()
        later = hashlib.sha256(f"{program}|{m}|{cases.get(m, '-')}".encode()).hexdigest()
        out[m] = f"{own}.{later}"
    return out


def _tables_to_recompute(have: str | None, wanted: str) -> tuple[str, ...] | None:
    """None: every table; ``()``: none; otherwise only the tables reading later rows."""
    from inobhut.stat_store import LATEST_STATE_TABLES

    if have == wanted:
        return ()
    if have is None or have.partition(".")[0] != wanted.partition(".")[0]:
        return None
    return LATEST_STATE_TABLES


def stored_signatures(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (monat VARCHAR PRIMARY KEY, signatur VARCHAR)")
    return dict(con.execute(f"SELECT monat, signatur FROM {TABLE}").fetchall())


def _store(con: duckdb.DuckDBPyConnection, month: str, signature: str) -> None:
    con.execute(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?)", [month, signature])


def months_with_data(con: duckdb.DuckDBPyConnection) -> list[str]:
    return sorted(m for (m,) in con.execute("SELECT DISTINCT monat FROM deliveries").fetchall())


def refresh(con: duckdb.DuckDBPyConnection, selected: list[str]) -> tuple[list[str], dict[str, dict]]:
    """Recompute the tables of every month with data whose inputs changed (only the tables that
    read later rows when nothing else changed), and every table of ``selected`` (always).
    Returns the recomputed months and the tables of the selected ones."""
    from inobhut.stat_store import compute_month, write_month

    months = sorted(set(months_with_data(con)) | set(selected))
    wanted = input_signatures(con, months)
    have = stored_signatures(con)
    names = {m: None if m in selected else _tables_to_recompute(have.get(m), wanted[m]) for m in months}
    todo = [m for m in months if names[m] != ()]
    tables_of: dict[str, dict] = {}
    for month in todo:
        tables = compute_month(con, month, names[month])
        write_month(con, month, tables, names[month])
        _store(con, month, wanted[month])  # after the tables: present = the tables are current
        if month in selected:
            tables_of[month] = tables
    return todo, tables_of
