"""Loading the warehouse from staging: the newest accepted version of every office-month.

Belongs here: syncing the version registry (``deliveries``) and the findings into DuckDB and
replacing (office, dataset, month) data by its version in force — all of one month in one
transaction, so a reader sees the month before or after, never half of it.
A rejected version never touches the data tables; the previously accepted one stays in force.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from inobhut import archive as arc
from inobhut import audit, faultpoint
from inobhut import staging as stg
from inobhut.config import Paths, office_keys
from inobhut.processing import confirmed_rows
from inobhut.warehouse import Warehouse, replace_partitions_from_files

from schemas.datasets import DATASET_NAMES


@dataclass
class LoadSummary:
    month: str
    replaced: int = 0
    unchanged: int = 0
    versions: int = 0


def load_months(paths: Paths, wh: Warehouse, months: list[str]) -> list[LoadSummary]:
    """:func:`load_month` for each of ``months`` in order, on ONE connection: opening the
    warehouse and closing it (DuckDB writes its checkpoint when the last connection closes) cost
    about 0.1 s per month, 12 s of a ten-year backfill's 36 s of loading. Each month is still its
    own transaction: a failure keeps the months loaded before it. The warehouse stays locked for
    the whole loop (a step of the pool ``warehouse`` anyway)."""
    with wh.connect() as con:
        return [load_month(paths, wh, m, con=con) for m in months]


@contextlib.contextmanager
def _connection(wh: Warehouse, con: duckdb.DuckDBPyConnection | None) -> Iterator[duckdb.DuckDBPyConnection]:
    if con is not None:
        yield con
    else:
        with wh.connect() as own:
            yield own


def load_month(paths: Paths, wh: Warehouse, month: str, *, con: duckdb.DuckDBPyConnection | None = None) -> LoadSummary:
    """Sync the month's versions, findings and data in force. Without ``con``, files are read
    before the warehouse is locked; all writes of the month are one transaction of a few
    statements."""
    summary = LoadSummary(month)
    members = set(office_keys())
    versions = [v for v in arc.list_versions(paths.archive, month=month) if v.ags in members]
    signature = _signature(paths, versions)
    by_key: dict[tuple[str, str], list[tuple[arc.ArchivedVersion, stg.Verdict | None]]] = {}
    for v in versions:
        by_key.setdefault((v.ags, v.dataset), []).append((v, stg.read_verdict(paths.staging, v)))
    with _connection(wh, con) as db:
        row = db.execute("SELECT signatur FROM load_state WHERE monat = ?", [month]).fetchone()
        if row is not None and row[0] == signature:
            summary.versions = len(versions)
            summary.unchanged = len(by_key)
            return summary  # nothing changed since the last load of this month
        loaded = {
            (a, d): ver
            for a, d, ver in db.execute("SELECT ags, dataset, version FROM deliveries WHERE monat = ? AND in_force", [month]).fetchall()
        }
    delivery_rows: list[list] = []
    finding_files: list[tuple[str, str, str, str, int, list[int]]] = []  # path, ags, dataset, month, version, confirmed rows
    replace: dict[str, list[tuple[str, int, Path]]] = {}
    sha_of: dict[tuple[str, str], str] = {}
    for (ags, dataset), items in sorted(by_key.items()):
        force = None
        for v, verdict in items:
            if verdict is not None and verdict.accepted:
                force = v
        for v, verdict in items:
            summary.versions += 1
            delivery_rows.append(
                [v.ags, v.dataset, v.month, v.version, v.file_name, v.sha256, v.size_bytes,
                 dt.datetime.fromisoformat(v.received_at).replace(tzinfo=None), v.archive_file,
                 verdict.verdict if verdict else None, verdict.n_rows if verdict else None,
                 verdict.n_fehler if verdict else None, verdict.n_hinweise if verdict else None,
                 verdict.rules_version if verdict else None, force is not None and v.version == force.version])
            if verdict is not None:
                fp = stg.findings_path(paths.staging, v)
                if fp.exists():
                    finding_files.append((str(fp), v.ags, v.dataset, v.month, v.version, confirmed_rows(paths.staging, v)))
        if force is None:
            continue  # nothing accepted yet: no data (a rejected version never enters)
        if loaded.get((ags, dataset)) == force.version:
            summary.unchanged += 1
            continue
        replace.setdefault(dataset, []).append((ags, force.version, stg.frame_path(paths.staging, force)))
        sha_of[(ags, dataset)] = force.sha256
        summary.replaced += 1
    deliveries = pd.DataFrame(delivery_rows, columns=DELIVERY_COLUMNS)
    with _connection(wh, con) as db:
        db.execute("BEGIN TRANSACTION")
        try:
            db.execute("DELETE FROM deliveries WHERE monat = ?", [month])
            db.execute("DELETE FROM findings WHERE monat = ?", [month])
            if len(deliveries):
                db.register("_d", deliveries)
                db.execute(f"INSERT INTO deliveries ({', '.join(DELIVERY_COLUMNS)}) SELECT * FROM _d")
                db.unregister("_d")
            if finding_files:
                _insert_findings(db, finding_files)
            for dataset, parts in sorted(replace.items()):
                replace_partitions_from_files(db, dataset, month, parts)
            db.execute("DELETE FROM load_state WHERE monat = ?", [month])
            db.execute("INSERT INTO load_state VALUES (?, ?)", [month, signature])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        # the audit trail: versions put in force by this load, then mirror the journal (insert-only)
        audit.record_many(paths.archive, [
            dict(ereignis="in_kraft", ags=ags, dataset=dataset, monat=month, version=version, sha256=sha_of[(ags, dataset)],
                 detail={"vorher": loaded.get((ags, dataset))})
            for dataset, parts in sorted(replace.items()) for ags, version, _ in parts])
        audit.sync_to_warehouse(db, paths.archive)
    faultpoint.reached("warehouse")
    return summary


def _insert_findings(con, files: list[tuple[str, str, str, str, int, list[int]]]) -> None:
    """The findings of the month's versions, read by DuckDB from their Parquet files in one
    statement (in file order, rows in file order); ``bestaetigt`` from the confirmed row
    positions of each version's check summary."""
    meta = pd.DataFrame({"_datei": [f[0] for f in files], "_ags": [f[1] for f in files], "_dataset": [f[2] for f in files],
                         "_monat": [f[3] for f in files], "_version": [f[4] for f in files], "_ord": range(len(files))})
    conf = pd.DataFrame({"_datei": [f[0] for f in files for _ in f[5]], "_pos": [i for f in files for i in f[5]]},
                        columns=["_datei", "_pos"]).astype({"_pos": "int64"})
    con.register("_fdateien", meta)
    con.register("_fbestaetigt", conf)
    try:
        con.execute(
            "INSERT INTO findings SELECT m._ags, m._dataset, m._monat, m._version, f.rule_id, f.severity, "
            "CAST(f.zeile AS INTEGER), f.spalte, f.wert, f.meldung, f.hinweis, b._pos IS NOT NULL "
            "FROM read_parquet(?, filename = true, file_row_number = true, union_by_name = true) f "
            "JOIN _fdateien m ON f.filename = m._datei "
            "LEFT JOIN _fbestaetigt b ON b._datei = f.filename AND b._pos = f.file_row_number "
            "ORDER BY m._ord, f.file_row_number", [[f[0] for f in files]])
    finally:
        con.unregister("_fdateien")
        con.unregister("_fbestaetigt")


def _signature(paths: Paths, versions: list[arc.ArchivedVersion]) -> str:
    """What a load of the month depends on: every version with its verdict and check summary
    (the latter changes with the rule catalogue and with confirmations)."""
    h = hashlib.sha256()
    for v in versions:
        h.update(f"{v.ags}|{v.dataset}|{v.version}|{v.sha256}|".encode())
        d = stg.version_dir(paths.staging, v)
        for name in (f"v{v.version:04d}.json", f"v{v.version:04d}.pruefung.json"):
            p = d / name
            h.update(p.read_bytes() if p.exists() else b"-")
    return h.hexdigest()


DELIVERY_COLUMNS = ["ags", "dataset", "monat", "version", "file_name", "sha256", "size_bytes", "received_at",
                    "archive_path", "verdict", "n_rows", "n_fehler", "n_hinweise", "rules_version", "in_force"]


__all__ = ["load_month", "load_months", "LoadSummary", "DATASET_NAMES"]
