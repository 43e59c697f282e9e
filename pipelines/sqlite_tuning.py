"""Dagster's SQLite instance storage without an fsync for every event.

Dagster's SQLite storages (runs, event log index, one file per run, schedules) open a new
connection for every statement batch (SQLAlchemy ``NullPool``) and use WAL mode. Two SQLite
defaults then make every stored event cost two or more fsyncs (≈ 50 ms per event measured on the
2-core machine, the floor of a run with thousands of partition and check events):

* ``synchronous=FULL`` syncs the WAL at every commit;
* closing the last connection to a database checkpoints the WAL into the database (and syncs).

Here every new SQLite connection of the process gets ``synchronous=NORMAL`` — in WAL mode the
documented safe setting: a power loss can lose the last transactions but never corrupts the
database — and one idle reader connection per database file is kept open, so that a closing
connection is not the last one and does not checkpoint; SQLite's automatic checkpoint (every
1,000 pages) keeps the WAL small. Measured: 54 ms → 22 ms per stored event under load, see
``bench/bench_scales.py`` and docs/leistung.md.

A third cost is SQLAlchemy itself: Dagster's SQLite event log builds a new SQLAlchemy *engine* for
every statement batch (``create_engine`` + ``dispose``; with ``NullPool`` the engine holds no
connection anyway) and asks SQLite whether the asset-check table exists before every check
evaluation -- four engines per check event, the largest part of Dagster's bookkeeping in a run
(measured with py-spy over a whole run of M). :func:`install` therefore also keeps one engine per
database file of an event log storage (still ``NullPool``: no connection stays open, the file can
be deleted) and remembers tables once found. Measured with ``bench/bench_scales.py``'s
bookkeeping figure and docs/leistung.md.

Belongs here: only this. It touches no DuckDB connection and nothing when the instance uses
PostgreSQL (production, ``deploy/dagster.yaml``). Installed once per process by importing
``pipelines.definitions``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from contextlib import contextmanager

MAX_KEEPERS = 32  # bounded: a long-lived process (code server) touches many run files over time

_keepers: OrderedDict[str, sqlite3.Connection] = OrderedDict()
_lock = threading.Lock()
_installed = False


def _on_connect(dbapi_con, _record) -> None:
    if not isinstance(dbapi_con, sqlite3.Connection):
        return
    dbapi_con.execute("PRAGMA synchronous=NORMAL")
    rows = dbapi_con.execute("PRAGMA database_list").fetchall()
    path = rows[0][2] if rows else ""
    if not path:  # in-memory database
        return
    with _lock:
        if path in _keepers:
            _keepers.move_to_end(path)
            return
        # a keeper opened before the file is in WAL mode would not stop the checkpoint
        if dbapi_con.execute("PRAGMA journal_mode").fetchall()[0][0] != "wal":
            return
        keeper = sqlite3.connect(path, check_same_thread=False)
        keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()  # maps the WAL index; no open transaction
        _keepers[path] = keeper
        while len(_keepers) > MAX_KEEPERS:
            _, old = _keepers.popitem(last=False)
            old.close()


def _engine(storage, shard: str):
    """The storage's engine for ``shard`` (one per database file, least recently used dropped)."""
    from dagster._core.storage.event_log.sqlite import sqlite_event_log as sel

    engines = storage.__dict__.setdefault("_inobhut_engines", OrderedDict())
    engine = engines.get(shard)
    if engine is None:
        engine = sel.create_engine(storage.conn_string_for_shard(shard), poolclass=sel.NullPool,
                                   connect_args={"timeout": sel.SQLITE_BUSY_TIMEOUT_SECONDS})
        engines[shard] = engine
        while len(engines) > MAX_KEEPERS:
            engines.popitem(last=False)[1].dispose()
    else:
        engines.move_to_end(shard)
    return engine


@contextmanager
def _connect(self, shard: str):
    """``SqliteEventLogStorage._connect`` with the engine of the shard kept (see module doc)."""
    with self._db_lock:
        engine = _engine(self, shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        with engine.connect() as conn:
            with conn.begin():
                yield conn


def _patch_event_log_storage() -> bool:
    """Keep engines and known tables in Dagster's SQLite event log storage; False (and nothing
    changed) when its internals are not the ones this was written for."""
    from dagster._core.storage.event_log.sqlite import sqlite_event_log as sel

    cls = sel.SqliteEventLogStorage
    needed = ("_connect", "_initdb", "conn_string_for_shard", "has_table")
    if not all(hasattr(cls, n) for n in needed) or not all(hasattr(sel, n) for n in
                                                            ("create_engine", "NullPool", "SQLITE_BUSY_TIMEOUT_SECONDS")):
        return False
    original_has_table = cls.has_table

    def has_table(self, table_name: str) -> bool:
        known = self.__dict__.setdefault("_inobhut_tables", set())
        if table_name in known:
            return True
        found = original_has_table(self, table_name)
        if found:  # a table, once there, stays (migrations only add)
            known.add(table_name)
        return found

    cls._connect = _connect
    cls.has_table = has_table
    return True


def install() -> None:
    """Idempotent: register the connect hook for every SQLAlchemy engine of this process and keep
    the engines of Dagster's SQLite event log storage."""
    global _installed, patched
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _on_connect)
    patched = _patch_event_log_storage()
    _installed = True


patched = False  # whether the event log storage keeps its engines (see install)
