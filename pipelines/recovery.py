"""Runs that died, runs that wait, runs that are told to stop (the Dagster side of fault handling).

Belongs here: the identity of the process that executes an in-process run (run tags: host, pid,
process start), finding runs whose process is gone (killed, out of memory, power cut) and marking
them failed and freeing their concurrency slots, telling in German which run a waiting run waits
for, and executing a run so that SIGTERM/SIGINT stop it even while it waits for a slot.

Why our own check: Dagster's run monitoring (``run_monitoring`` in ``dagster.yaml``) watches runs
that the daemon launched; a run started with ``execute_in_process`` (``inobhut run``) has no run
worker that the daemon could check. Its slots in the ``warehouse`` pool stay claimed forever
when the process is killed, and every later run waits for them.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TAG_HOST = "inobhut/host"
TAG_PID = "inobhut/pid"
TAG_PROCESS = "inobhut/prozess"  # boot id and start time of the process: a reused pid is not it
TAG_TRIGGER = "inobhut/ausloeser"
POOL = "warehouse"
POOLS = (POOL,)  # every pool of the definitions (test_recovery_watch checks it): the watcher looks at these
WATCH_INTERVAL_S = 2.0


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"


def _start_ticks(pid: int) -> str | None:
    """Start time of a process in clock ticks since boot (Linux), None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "?"
    fields = stat.rsplit(")", 1)[1].split()  # the name may contain spaces
    if fields[0] in ("Z", "X"):  # killed, not yet reaped (e.g. by a container's init): gone
        return None
    return fields[19]  # field 22 of proc(5)


def process_identity(pid: int | None = None) -> str | None:
    pid = os.getpid() if pid is None else pid
    ticks = _start_ticks(pid)
    if ticks is None:
        return None
    return f"{_boot_id()}:{ticks}"


def process_tags() -> dict[str, str]:
    """Run tags naming the process that executes an in-process run."""
    return {TAG_HOST: socket.gethostname(), TAG_PID: str(os.getpid()), TAG_PROCESS: process_identity() or "-"}


def process_alive(tags: dict[str, str]) -> bool | None:
    """Whether the process named in a run's tags still runs: None = cannot tell (no tags, other
    host: such runs are left to Dagster's run monitoring or to the operator)."""
    if TAG_PID not in tags or tags.get(TAG_HOST) != socket.gethostname():
        return None
    try:
        pid = int(tags[TAG_PID])
    except ValueError:
        return None
    ident = process_identity(pid)
    if ident is None:
        return False
    if not Path("/proc").is_dir():  # no /proc: the pid exists, assume it is the run's
        return True
    return ident == tags.get(TAG_PROCESS)


def _run_records(instance, statuses):
    from dagster import RunsFilter

    return instance.get_run_records(filters=RunsFilter(statuses=statuses))


@dataclass
class Released:
    run_id: str
    reason: str  # German

    def message(self) -> str:
        return f"Lauf {self.run_id[:8]}: {self.reason}"


def release_dead_runs(instance) -> list[Released]:
    """Mark in-process runs whose process is gone as failed and free their slots; free slots
    still held by runs that have ended or no longer exist. Safe while other runs are alive."""
    from dagster import DagsterRunStatus

    FINISHED_STATUSES = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)

    out: list[Released] = []
    active = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]
    for rec in _run_records(instance, active):
        run = rec.dagster_run
        if process_alive(dict(run.tags)) is False:
            instance.report_run_failed(
                run, message="Der Prozess dieses Laufs existiert nicht mehr (abgebrochen, z. B. SIGKILL, "
                "Speichermangel oder Stromausfall); von inobhut beim nächsten Start als fehlgeschlagen markiert.")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            out.append(Released(run.run_id, "Prozess beendet, Lauf als fehlgeschlagen markiert, Warehouse freigegeben"))
    storage = instance.event_log_storage
    if not getattr(storage, "supports_global_concurrency_limits", False):
        return out
    holders = set(storage.get_concurrency_run_ids())
    for key in storage.get_concurrency_keys():
        holders |= {s.run_id for s in storage.get_concurrency_info(key).claimed_slots}
    for run_id in sorted(holders):
        rec = instance.get_run_record_by_id(run_id)
        if rec is None or rec.dagster_run.status in FINISHED_STATUSES:
            storage.free_concurrency_slots_for_run(run_id)
            if not any(r.run_id == run_id for r in out):
                out.append(Released(run_id, "beendeter Lauf hielt noch das Warehouse, freigegeben"))
    return out


def fail_run(instance, run_id: str, message: str) -> bool:
    """Mark one run failed (if it has not ended) and free its slots; False if it does not exist."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return False
    if not run.is_finished:
        instance.report_run_failed(run, message=message)
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return True


def live_runs(instance) -> list[str]:
    """Ids of runs that are active and whose process runs (or cannot be checked)."""
    from dagster import DagsterRunStatus

    active = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]
    return [r.dagster_run.run_id for r in _run_records(instance, active)
            if process_alive(dict(r.dagster_run.tags)) is not False]


def _fmt_time(ts: float | None) -> str:
    if ts is None:
        return "unbekannt"
    t = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return t.strftime("%d.%m.%Y %H:%M:%S UTC")


def waits_for_slot(instance, run_id: str, pools: tuple[str, ...] = POOLS) -> bool:
    """Whether a step of ``run_id`` waits for a slot of one of ``pools`` (a few reads of the
    small concurrency tables: cheap enough for every turn of the watcher, unlike the run and
    pool scans of :func:`release_dead_runs` and :func:`waiting_for`)."""
    storage = instance.event_log_storage
    if not getattr(storage, "supports_global_concurrency_limits", False):
        return False
    return any(p.run_id == run_id and p.assigned_timestamp is None
               for key in pools for p in storage.get_concurrency_info(key).pending_steps)


def waiting_for(instance, run_id: str) -> str | None:
    """A German sentence saying which run holds the pool that ``run_id`` waits for, or None."""
    storage = instance.event_log_storage
    if not getattr(storage, "supports_global_concurrency_limits", False):
        return None
    for key in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(key)
        mine = [p for p in info.pending_steps if p.run_id == run_id and p.assigned_timestamp is None]
        if not mine:
            continue
        since = min(p.enqueued_timestamp for p in mine)
        # a slot is held by a claimed slot or by a pending step already assigned to it
        holders = sorted({s.run_id for s in info.claimed_slots if s.run_id and s.run_id != run_id}
                         | {p.run_id for p in info.pending_steps if p.run_id != run_id and p.assigned_timestamp})
        parts = []
        for h in holders:
            rec = instance.get_run_record_by_id(h)
            if rec is None:
                parts.append(f"Lauf {h[:8]} (unbekannt)")
                continue
            tags = dict(rec.dagster_run.tags)
            who = tags.get(TAG_TRIGGER) or tags.get("dagster/schedule_name") or tags.get("dagster/sensor_name") or "Dagster"
            proc = (f", Prozess {tags[TAG_PID]} auf {tags.get(TAG_HOST, '?')}" if TAG_PID in tags else
                    "; ohne Prozesskennung – läuft er nicht mehr, gibt „inobhut reparieren --lauf "
                    f"{h}“ das Warehouse frei")
            parts.append(f"Lauf {h[:8]} ({who}, gestartet {_fmt_time(rec.start_time or rec.create_timestamp.timestamp())}{proc})")
        held = "; ".join(parts) or "einem anderen Lauf"
        return (f"Dieser Lauf wartet seit {_fmt_time(since.timestamp())} auf das Warehouse (Pool „{key}“); "
                f"es ist belegt von {held}. Er geht weiter, sobald jener fertig ist; ist jener Prozess "
                "abgestürzt, gibt inobhut das Warehouse selbst frei. Abbrechen: Strg+C oder SIGTERM.")
    return None


class RunAborted(Exception):
    """The run was stopped by SIGTERM/SIGINT; the run is marked failed and its slots are free."""

    def __init__(self, signame: str, run_id: str):
        self.signame, self.run_id = signame, run_id
        super().__init__(f"Lauf {run_id[:8]} auf {signame} abgebrochen.")


def execute_guarded(instance, run_id: str, execute: Callable[[], object], notify: Callable[[str], None]):
    """Run ``execute()`` (an ``execute_in_process`` of run ``run_id``) in a worker thread while the
    main thread watches: while a step of the run waits for a slot (:func:`waits_for_slot`, every
    ``WATCH_INTERVAL_S``), it frees slots of dead runs and says in German whom the run waits for;
    it turns SIGTERM/SIGINT into a clean stop (run marked failed, slots freed, :class:`RunAborted`).

    Why a worker thread: Dagster's in-process executor captures SIGINT/SIGTERM while it waits
    for a concurrency slot and never looks at them again, so a waiting run cannot be stopped."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["result"] = execute()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            box["error"] = exc

    received: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    old = {}
    if main:
        for s in (signal.SIGTERM, signal.SIGINT):
            old[s] = signal.signal(s, lambda signo, _frame: received.append(signo))
    worker = threading.Thread(target=work, name="inobhut-lauf", daemon=True)
    worker.start()
    last_said, next_check = None, time.monotonic() + WATCH_INTERVAL_S
    try:
        while worker.is_alive():
            worker.join(timeout=0.2)
            if received:
                name = signal.Signals(received[0]).name
                notify(f"{name} empfangen: der Lauf {run_id[:8]} wird abgebrochen …")
                _stop_run(instance, run_id, name)
                raise RunAborted(name, run_id)
            if time.monotonic() >= next_check and worker.is_alive():
                next_check = time.monotonic() + WATCH_INTERVAL_S
                try:
                    said = None
                    # the scans only while the run waits: a turn of them cost about 40 ms of the
                    # interpreter the run executes in on a long history (some 65 turns a nightly run)
                    if waits_for_slot(instance, run_id):
                        for r in release_dead_runs(instance):
                            notify(r.message())
                        said = waiting_for(instance, run_id)
                except Exception:  # noqa: BLE001 - the watcher must never break the run it watches
                    said = None
                if said and said != last_said:
                    notify(said)
                last_said = said or last_said
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]


def _stop_run(instance, run_id: str, signame: str) -> None:
    """Mark the run failed, free its slots and end child processes (validation workers)."""
    import multiprocessing

    try:
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            instance.report_run_failed(run, message=f"Abgebrochen durch {signame} (inobhut).")
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    except Exception:  # noqa: BLE001, S110 - the next start releases it (release_dead_runs)
        pass
    for child in multiprocessing.active_children():
        child.kill()


STOP_GRACE_S = 20.0


def supervise(cmd: list[str], *, cwd: Path, notify: Callable[[str], None]) -> int:
    """Run ``cmd`` (``dagster dev``) as a child in its own process group; SIGTERM/SIGINT to us
    are passed on as SIGTERM to the whole group (webserver and daemon included), and after
    ``STOP_GRACE_S`` the group is killed. Returns the exit code: the child's, or 0 after a stop."""
    import subprocess

    child = subprocess.Popen(cmd, cwd=cwd, start_new_session=True)
    received: list[int] = []
    old = {s: signal.signal(s, lambda signo, _f: received.append(signo)) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while child.poll() is None and not received:
            try:
                child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        if child.poll() is not None:
            return child.returncode
        notify(f"{signal.Signals(received[0]).name} empfangen: die Dagster-Oberfläche wird beendet …")
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(child.pid, signal.SIGKILL)
            child.wait()
        _signal_group(child.pid, signal.SIGKILL)  # anything of the group still left
        notify("Die Dagster-Oberfläche ist beendet.")
        return 0
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
