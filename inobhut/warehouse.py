"""The embedded warehouse (DuckDB): schema, locking, atomic loads.

Belongs here: the table layout generated from :mod:`schemas.datasets`, opening the DuckDB
file under an inter-process lock (DuckDB allows one writer at a time), and replacing one
(office, dataset, month) by a version in one transaction. Statistics read these tables;
they never write data tables.

Tables
------
``deliveries``   every delivered version with its verdict (one row per ags/dataset/monat/version)
``findings``     every finding of every version (rule, severity, row, column, value, message)
``load_state``   per month the signature of the staging state last loaded (reruns skip a month
                 whose versions, verdicts and confirmations did not change)
``massnahmen``, ``uma``, ``plaetze``, ``personal``
                 rows of the version in force per (jugendamt, monat); columns = canonical
                 columns of the dataset, ``fallnummer`` replaced by ``fall_id``, plus
                 ``monat`` (YYYY-MM of the delivery), ``version`` and ``_zeile``.
``stat_<table>`` the statistics tables (see :mod:`inobhut.stat_store`).
``stat_eingaben`` per month the input signature its statistics tables were computed from
                 (:mod:`inobhut.stat_refresh`; a month whose signature changed is recomputed).
``schema_stand`` the sha256 of the tables above as this code creates them (:data:`SCHEMA_DIGEST`):
                 with it a connection skips creating them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
from filelock import FileLock

from schemas.datasets import DATASETS, Dataset

SQL_TYPES = {
    "text": "VARCHAR", "ags": "VARCHAR", "code": "VARCHAR", "codes": "VARCHAR", "iso3": "VARCHAR",
    "date": "DATE", "month": "DATE", "bool": "BOOLEAN", "int": "BIGINT", "decimal": "DOUBLE",
}

VERDICT_ACCEPTED = "angenommen"
VERDICT_WARNINGS = "angenommen mit Hinweisen"
VERDICT_REJECTED = "abgelehnt"
ACCEPTED_VERDICTS = (VERDICT_ACCEPTED, VERDICT_WARNINGS)


def data_columns(ds: Dataset) -> list[tuple[str, str]]:
    """(column, SQL type) of a warehouse data table, in order."""
    cols = [("jugendamt", "VARCHAR"), ("monat", "VARCHAR"), ("version", "INTEGER"), ("_zeile", "INTEGER")]
    for c in ds.columns:
        if c.name == "jugendamt":
            continue
        name = "fall_id" if c.name == "fallnummer" else c.name
        cols.append((name, SQL_TYPES[c.kind]))
    return cols


DDL = [
    """CREATE TABLE IF NOT EXISTS deliveries (
        ags VARCHAR NOT NULL, dataset VARCHAR NOT NULL, monat VARCHAR NOT NULL, version INTEGER NOT NULL,
        file_name VARCHAR, sha256 VARCHAR, size_bytes BIGINT, received_at TIMESTAMP, archive_path VARCHAR,
        verdict VARCHAR, n_rows INTEGER, n_fehler INTEGER, n_hinweise INTEGER, rules_version VARCHAR,
        in_force BOOLEAN DEFAULT FALSE,
        PRIMARY KEY (ags, dataset, monat, version))""",
    """CREATE TABLE IF NOT EXISTS load_state (monat VARCHAR PRIMARY KEY, signatur VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS findings (
        ags VARCHAR, dataset VARCHAR, monat VARCHAR, version INTEGER,
        rule_id VARCHAR, severity VARCHAR, zeile INTEGER, spalte VARCHAR, wert VARCHAR,
        meldung VARCHAR, hinweis VARCHAR, bestaetigt BOOLEAN)""",
]
for _ds in DATASETS.values():
    _cols = ", ".join(f"{n} {t}" for n, t in data_columns(_ds))
    DDL.append(f"CREATE TABLE IF NOT EXISTS {_ds.name} ({_cols})")


def _add_missing_columns(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse created before an optional column was added to the delivery format gets it
    (empty); one catalogue query, ALTER only where a column is missing."""
    have = set(con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = 'main'").fetchall())
    for ds in DATASETS.values():
        for n, t in data_columns(ds):
            if (ds.name, n) not in have:
                con.execute(f"ALTER TABLE {ds.name} ADD COLUMN {n} {t}")


# The schema this code creates, as one digest stored in the warehouse (``schema_stand``): a
# connection whose warehouse already carries it skips the DDL and the catalogue query of
# :func:`_add_missing_columns` (35 of the ~60 ms of every ``connect``; a nightly run connects a
# few dozen times, a backfill of ten years thousands). Any change of a table or column changes
# the digest, and the next connection brings the warehouse up to date and stores the new one.
SCHEMA_TABLE = "schema_stand"
SCHEMA_DIGEST = hashlib.sha256("\n".join(DDL).encode()).hexdigest()


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing of the schema unless the warehouse says it has this one."""
    try:
        row = con.execute(f"SELECT digest FROM {SCHEMA_TABLE}").fetchone()
    except duckdb.CatalogException:  # a new warehouse, or one from before the stamp
        row = None
    if row is not None and row[0] == SCHEMA_DIGEST:
        return
    for stmt in DDL:
        con.execute(stmt)
    _add_missing_columns(con)
    con.execute(f"CREATE OR REPLACE TABLE {SCHEMA_TABLE} AS SELECT ? AS digest", [SCHEMA_DIGEST])


class Warehouse:
    """The DuckDB file plus its lock file (``<file>.lock``)."""

    def __init__(self, path: Path, timeout: float = 600.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.path) + ".lock", timeout=timeout)

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive connection (readers too: DuckDB refuses a reader beside another
        process's writer). Creates the schema on first use."""
        with self._lock:
            con = duckdb.connect(str(self.path))
            try:
                _ensure_schema(con)
                yield con
            finally:
                con.close()

    def read_sql(self, sql: str, params: list | None = None) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, params or []).df()


def replace_partition(con: duckdb.DuckDBPyConnection, dataset: str, ags: str, monat: str, version: int, frame: pd.DataFrame) -> None:
    """Replace the rows of (dataset, ags, monat) by ``frame`` (pseudonymised canonical rows).

    Must run inside a transaction opened by the caller, so that the delete and the insert
    are seen together or not at all."""
    replace_partitions(con, dataset, monat, [(ags, version, frame)])


def _shaped(ds, ags: str, monat: str, version: int, frame: pd.DataFrame) -> pd.DataFrame:
    cols = data_columns(ds)
    df = pd.DataFrame(index=frame.index)
    for name, _ in cols:
        if name == "jugendamt":
            df[name] = ags
        elif name == "monat":
            df[name] = monat
        elif name == "version":
            df[name] = version
        else:
            df[name] = frame[name] if name in frame.columns else None
    return df


def replace_partitions(con: duckdb.DuckDBPyConnection, dataset: str, monat: str,
                       parts: list[tuple[str, int, pd.DataFrame]]) -> None:
    """Replace the rows of several offices of one dataset and month in two statements
    (one DELETE, one INSERT). ``parts``: (ags, version, frame). Inside the caller's transaction."""
    if not parts:
        return
    ds = DATASETS[dataset]
    cols = data_columns(ds)
    offices = [a for a, _, _ in parts]
    con.execute(f"DELETE FROM {dataset} WHERE monat = ? AND jugendamt IN (SELECT unnest(?))", [monat, offices])
    frames = [_shaped(ds, a, monat, v, f) for a, v, f in parts if len(f)]
    if not frames:
        return
    df = pd.concat(frames, ignore_index=True)
    con.register("_incoming", df)
    try:
        collist = ", ".join(n for n, _ in cols)
        select = ", ".join(f"CAST({n} AS {t})" for n, t in cols)
        con.execute(f"INSERT INTO {dataset} ({collist}) SELECT {select} FROM _incoming")
    finally:
        con.unregister("_incoming")


def replace_partitions_from_files(con: duckdb.DuckDBPyConnection, dataset: str, monat: str,
                                  parts: list[tuple[str, int, Path]]) -> None:
    """:func:`replace_partitions` with the staged Parquet files read by DuckDB itself (one
    ``read_parquet`` over all files of the dataset and month instead of a pandas frame per
    file; measured at 24 months × 50 offices: the month's load 2.2 s → see docs/leistung.md).
    ``parts``: (ags, version, parquet path). Same rows, same order, same casts."""
    if not parts:
        return
    ds = DATASETS[dataset]
    cols = data_columns(ds)
    con.execute(f"DELETE FROM {dataset} WHERE monat = ? AND jugendamt IN (SELECT unnest(?))", [monat, [a for a, _, _ in parts]])
    files = [str(p) for _, _, p in parts]
    have = {r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [files]).fetchall()}
    meta = pd.DataFrame({"_datei": files, "_ags": [a for a, _, _ in parts], "_version": [v for _, v, _ in parts],
                         "_ord": range(len(parts))})
    con.register("_teile", meta)
    try:
        select = []
        for n, t in cols:
            if n == "jugendamt":
                select.append(f"CAST(m._ags AS {t})")
            elif n == "monat":
                select.append(f"CAST(? AS {t})")
            elif n == "version":
                select.append(f"CAST(m._version AS {t})")
            else:
                select.append(f'CAST(f."{n}" AS {t})' if n in have else f"CAST(NULL AS {t})")
        con.execute(
            f"INSERT INTO {dataset} ({', '.join(n for n, _ in cols)}) SELECT {', '.join(select)} "
            "FROM read_parquet(?, filename = true, file_row_number = true, union_by_name = true) f "
            "JOIN _teile m ON f.filename = m._datei ORDER BY m._ord, f.file_row_number",
            [monat, files])
    finally:
        con.unregister("_teile")
