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

Belongs here: only this. It touches no DuckDB connection and nothing when the instance uses
PostgreSQL (production, ``deploy/dagster.yaml``). Installed once per process by importing
``pipelines.definitions``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict

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


def install() -> None:
    """Idempotent: register the connect hook for every SQLAlchemy engine of this process."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _on_connect)
    _installed = True
