"""The watcher of an in-process run (``pipelines.recovery.execute_guarded``) on a real instance:
it scans runs and pools only while the run waits for a slot -- each scan cost about 40 ms of
the run's interpreter lock on a long history, every two seconds of every run -- and then still
frees dead runs and says whom the run waits for. The whole-process behaviour (a real waiting
``inobhut run``, SIGTERM) is in ``test_faults_run.py``."""

from __future__ import annotations

import time

import pytest

from pipelines import recovery


@pytest.fixture
def instance(tmp_path, monkeypatch):
    from pipelines.runner import open_instance, prepare_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    prepare_dagster_home(tmp_path / "dagster")
    with open_instance() as inst:
        yield inst


def _run(instance, **tags):
    from dagster._core.test_utils import create_run_for_test

    import dagster as dg

    return create_run_for_test(instance, job_name="inobhut", status=dg.DagsterRunStatus.STARTED, tags=tags).run_id


def _watch(instance, run_id: str, monkeypatch, seconds: float = 0.8) -> tuple[list[str], int]:
    """Run a stand-in for the run's work under the watcher; German notes and the number of scans."""
    scans = []
    real = recovery.release_dead_runs
    monkeypatch.setattr(recovery, "WATCH_INTERVAL_S", 0.05)
    monkeypatch.setattr(recovery, "release_dead_runs", lambda inst: scans.append(1) or real(inst))
    said: list[str] = []
    assert recovery.execute_guarded(instance, run_id, lambda: time.sleep(seconds) or "fertig", said.append) == "fertig"
    return said, len(scans)


def test_no_scans_while_the_run_does_not_wait(instance, monkeypatch):
    mine = _run(instance)
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(recovery.POOL)
    assert storage.claim_concurrency_slot(recovery.POOL, mine, "warehouse__monthly_load").is_claimed
    assert not recovery.waits_for_slot(instance, mine)  # holding a slot is not waiting
    said, scans = _watch(instance, mine, monkeypatch)
    assert said == [] and scans == 0


def test_a_waiting_run_scans_frees_dead_runs_and_says_whom_it_waits_for(instance, monkeypatch):
    import socket

    from pipelines.recovery import TAG_HOST, TAG_PID, TAG_PROCESS

    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(recovery.POOL)
    holder = _run(instance, **{TAG_HOST: socket.gethostname(), TAG_PID: "1", TAG_PROCESS: "keiner"})  # not pid 1's identity: dead
    assert storage.claim_concurrency_slot(recovery.POOL, holder, "warehouse__monthly_load").is_claimed
    mine = _run(instance)
    assert not storage.claim_concurrency_slot(recovery.POOL, mine, "warehouse__monthly_load").is_claimed
    assert recovery.waits_for_slot(instance, mine)
    said, scans = _watch(instance, mine, monkeypatch)
    assert scans >= 1
    assert f"Lauf {holder[:8]}: Prozess beendet, Lauf als fehlgeschlagen markiert, Warehouse freigegeben" in said
    assert instance.get_run_by_id(holder).is_failure


def test_every_pool_of_the_definitions_is_watched():
    from pipelines.definitions import build_definitions

    defs = build_definitions()
    pools = {getattr(node.definition, "pool", None) for job in defs.resolve_all_job_defs()
             for node in job.graph.nodes}
    pools.discard(None)
    assert pools and pools <= set(recovery.POOLS), pools
