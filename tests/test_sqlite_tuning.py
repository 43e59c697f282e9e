"""Dagster's SQLite instance storage as tuned by ``pipelines.sqlite_tuning``: events are stored and
read back as before, with one SQLAlchemy engine per database file instead of one per statement
batch (the largest part of Dagster's bookkeeping per event, docs/leistung.md), and connections
without an fsync per commit."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines import sqlite_tuning

ROOT = Path(__file__).resolve().parents[1]


def _store(inst, run_id: str, key: dg.AssetKey, partition: str) -> None:
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry

    def entry(kind, data):
        ev = DagsterEvent(kind.value, "pruefung", event_specific_data=data)
        return EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id, timestamp=time.time(),
                             dagster_event=ev)

    inst.store_event(entry(DagsterEventType.ASSET_MATERIALIZATION,
                           StepMaterializationData(dg.AssetMaterialization(asset_key=key, partition=partition))))
    inst.store_event(entry(DagsterEventType.ASSET_CHECK_EVALUATION,
                           dg.AssetCheckEvaluation(asset_key=key, check_name="zeilenpruefung", passed=partition != "2025-02",
                                                   partition=partition)))


@pytest.fixture
def counted_engines(monkeypatch):
    from dagster._core.storage.event_log.sqlite import sqlite_event_log as sel

    made: list[str] = []
    original = sel.create_engine

    def counting(url, *a, **kw):
        made.append(str(url))
        return original(url, *a, **kw)

    monkeypatch.setattr(sel, "create_engine", counting)
    return made


def test_event_log_keeps_one_engine_per_database_and_stores_everything(tmp_path, counted_engines):
    sqlite_tuning.install()
    assert sqlite_tuning.patched, "die Dagster-Version hat andere Interna: sqlite_tuning anpassen"
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    key = dg.AssetKey(["validated", "08335"])
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    with dg.DagsterInstance.from_config(str(tmp_path)) as inst:
        counted_engines.clear()  # creating the instance initialises the index once
        for run_id in ("lauf-a", "lauf-b"):
            for month in months:
                _store(inst, run_id, key, month)
        # 48 events into two run files and the index: a handful of engines, not several per event
        assert len(counted_engines) <= 4, counted_engines
        assert len(inst.fetch_materializations(key, limit=100).records) == 24
        history = inst.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(key, "zeilenpruefung"), limit=100)
        assert len(history) == 24
        assert sum(r.status.value == "FAILED" for r in history) == 2  # February of both runs
        assert sorted(inst.get_materialized_partitions(key)) == months
        # the run files hold their own events (what the UI shows per run)
        assert len(inst.all_logs("lauf-b")) == 24


def test_connections_commit_without_fsync(tmp_path):
    sqlite_tuning.install()
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


@pytest.fixture
def counted_connections():
    import sqlalchemy as sa

    opened: list[int] = []

    def on_connect(dbapi_con, _record):
        opened.append(id(dbapi_con))

    sa.event.listen(sa.engine.Engine, "connect", on_connect)
    yield opened
    sa.event.remove(sa.engine.Engine, "connect", on_connect)


def test_event_log_keeps_its_connections_and_closes_them_with_the_instance(tmp_path, counted_connections):
    """Opening a SQLite connection cost more than storing the event: the engines keep theirs
    between statement batches (48 events: a few connections, not one or more per event), and
    the instance closes them when it is closed."""
    sqlite_tuning.install()
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    key = dg.AssetKey(["validated", "08335"])
    with dg.DagsterInstance.from_config(str(tmp_path)) as inst:
        storage = inst.event_log_storage
        _store(inst, "lauf-a", key, "2025-01")  # creates the run file
        counted_connections.clear()
        for month in [f"2025-{m:02d}" for m in range(2, 13)]:
            _store(inst, "lauf-a", key, month)
        assert len(inst.all_logs("lauf-a")) == 24
        assert len(counted_connections) <= 2, len(counted_connections)  # NullPool: several per event
        assert storage.__dict__.get("_inobhut_engines")
    assert not storage.__dict__.get("_inobhut_engines")  # closed with the instance


def test_a_kept_connection_never_writes_into_a_deleted_file(tmp_path):
    """``wipe`` deletes the run files: the events stored afterwards must land in the new file on
    disk (read here with a connection of its own), not in the deleted one a kept connection still
    points to (where the storage itself would still find them)."""
    import sqlite3

    sqlite_tuning.install()
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    key = dg.AssetKey(["validated", "08335"])
    with dg.DagsterInstance.from_config(str(tmp_path)) as inst:
        storage = inst.event_log_storage
        for month in ("2025-01", "2025-02"):
            _store(inst, "lauf-a", key, month)
        path = Path(storage.path_for_shard("lauf-a"))
        storage.wipe()
        assert not path.exists()
        _store(inst, "lauf-a", key, "2025-03")
        assert path.exists()
        with sqlite3.connect(path) as con:
            assert con.execute("SELECT count(*) FROM event_logs").fetchone()[0] == 2
        assert len(inst.all_logs("lauf-a")) == 2
