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
database file of an event log storage and remembers tables once found. The engine keeps one
connection between statement batches (``StaticPool``; it is used only inside the storage's
``_connect``, under the storage's own lock, so never by two threads at once): opening a SQLite
connection and reading its schema cost more than storing the event (3,000 events stored alone:
5.3 s -> 3.6-3.7 s; a pool per thread gave 3.3 s but may close connections in use, a queue of
one 4.1 s). A kept connection holds no transaction between batches (the pool rolls back on return,
as the keeper above it is idle), is closed with the instance (``dispose``), and is dropped when
its file is deleted or replaced (``wipe``, or by hand: the engine is tied to the file's device
and inode), so it never writes into a file that is gone. Measured with
``bench/bench_scales.py``'s bookkeeping figure and docs/leistung.md.

Belongs here: only this. It touches no DuckDB connection and nothing when the instance uses
PostgreSQL (production, ``deploy/dagster.yaml``). Installed once per process by importing
``pipelines.definitions``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from contextlib import contextmanager

from sqlalchemy.pool import StaticPool

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


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _engine(storage, shard: str):
    """The storage's engine for ``shard`` (one per database file, least recently used dropped),
    keeping its connection from one statement batch to the next.

    The engine stays as long as the file is the same one (device and inode, one ``stat``): a
    file deleted or replaced (``wipe``, or by hand) gets a new engine, so no kept connection
    ever writes into a file that is no longer there."""
    from dagster._core.storage.event_log.sqlite import sqlite_event_log as sel

    engines = storage.__dict__.setdefault("_inobhut_engines", OrderedDict())
    now = _file_id(storage.path_for_shard(shard))
    hit = engines.get(shard)
    if hit is not None:
        if hit[1] is None:  # the file did not exist when the engine was made: it made the file
            hit[1] = now
        if hit[1] == now and now is not None:
            engines.move_to_end(shard)
            return hit[0]
        del engines[shard]
        hit[0].dispose()
    # one connection, kept: the engine is used only inside _connect, under the storage's own lock
    # (one statement batch at a time, whichever thread)
    engine = sel.create_engine(storage.conn_string_for_shard(shard), poolclass=StaticPool,
                               connect_args={"timeout": sel.SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
    engines[shard] = [engine, now]
    while len(engines) > MAX_KEEPERS:
        engines.popitem(last=False)[1][0].dispose()
    return engine


def _dispose_engines(storage) -> None:
    """Close the kept connections of ``storage`` (with the instance that owns it)."""
    engines = storage.__dict__.pop("_inobhut_engines", None) or {}
    for engine, _ in engines.values():
        engine.dispose()


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
    needed = ("_connect", "_initdb", "conn_string_for_shard", "path_for_shard", "has_table", "dispose")
    if not all(hasattr(cls, n) for n in needed) or not all(hasattr(sel, n) for n in
                                                            ("create_engine", "SQLITE_BUSY_TIMEOUT_SECONDS")):
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

    original_dispose = cls.dispose

    def dispose(self) -> None:
        original_dispose(self)
        _dispose_engines(self)

    cls._connect = _connect
    cls.has_table = has_table
    cls.dispose = dispose
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
