"""Broken state, full disks, unreadable files, leftovers, messages (issue 8 findings 7 and 8,
issue 10 §3), each on a real ``inobhut run`` or ``inobhut reparieren`` process.

- a truncated warehouse, staging Parquet or verdict JSON: the next run says in German what is
  damaged and that the archive is intact, rebuilds the derived state and ends like an
  uninterrupted run; ``inobhut reparieren`` rebuilds staging and warehouse without changing
  one byte of the archive;
- a full disk (a small tmpfs) and an unreadable archive file: the run fails with a German message
  (exit 1), the landing files stay, and the next run after the cause is removed completes;
- temporary files of killed runs are removed at the next start, nothing else;
- ``inobhut ui`` stops on SIGTERM together with its ``dagster dev``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests import helpers_faults
from tests.helpers_faults import new_install, no_traceback


@pytest.fixture
def done(tmp_path_factory):
    """The session's uninterrupted run (tests copy its installation, never change it)."""
    return helpers_faults.baseline(tmp_path_factory.getbasetemp() / "faults_baseline")


@pytest.fixture
def landing_template(done):
    return done[0]


def _copy_install(done, tmp_path):
    import shutil

    from tests.helpers_faults import Install

    src = done[1]
    inst = Install(tmp_path / "kopie")
    shutil.copytree(src.base, inst.base, copy_function=shutil.copy2, symlinks=True)
    for p in (inst.out / "manifest.json",):  # outputs must be re-created identically, not kept
        p.unlink()
    return inst


def _archive_state(archive: Path) -> dict[str, str]:
    """Every file of the archive with its sha256 (the audit journal excepted: it is appended to)."""
    return {p.relative_to(archive).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(archive.rglob("*")) if p.is_file() and "_audit" not in p.parts}


_assert_like_done = helpers_faults.assert_like_baseline


def _truncate(p: Path, keep: float = 0.5) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])


def _damage(inst, what: str) -> list[Path]:
    if what == "warehouse":
        targets = [inst.warehouse]
    else:  # a staging Parquet of one version and the verdict JSON of another
        targets = [sorted(inst.staging.rglob("v0001.parquet"))[0], sorted(inst.staging.rglob("v0001.json"))[-1]]
    for t in targets:
        _truncate(t)
    return targets


@pytest.mark.slow
@pytest.mark.parametrize("what", ["warehouse", "staging"])
def test_damaged_derived_state_is_rebuilt_by_the_next_run(tmp_path, done, what):
    inst = _copy_install(done, tmp_path)
    before = _archive_state(inst.archive)
    targets = _damage(inst, what)
    res = inst.inobhut("run")  # before the fix: a raw DuckDB/Arrow/JSON error, every run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    no_traceback(res.stdout, res.stderr)
    err = "".join(res.stderr.split())  # the console wraps long paths anywhere
    assert all("".join(str(t).split()) in err for t in targets) and "beschädigt" in err
    assert "DasArchivistunversehrt" in err
    if what == "warehouse":
        assert (inst.warehouse.parent / "warehouse.duckdb.beschaedigt").exists()
    assert _archive_state(inst.archive) == before
    _assert_like_done(inst, done)


@pytest.mark.slow
def test_reparieren_rebuilds_staging_and_warehouse_never_touching_the_archive(tmp_path, done):
    from inobhut import audit

    inst = _copy_install(done, tmp_path)
    before = _archive_state(inst.archive)
    _truncate(inst.warehouse, 0.3)
    _truncate(next(iter(sorted(inst.staging.rglob("v0001.findings.parquet")))))
    res = inst.inobhut("reparieren")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    no_traceback(res.stdout, res.stderr)
    assert "Das Archiv ist unversehrt" in res.stdout
    assert _archive_state(inst.archive) == before
    events = [e for e in audit.read(inst.archive) if e["ereignis"] == "reparatur"]
    assert len(events) == 1
    _assert_like_done(inst, done)


def test_reparieren_usage_errors(tmp_path):
    from tests.helpers_faults import Install

    inst = Install(tmp_path)
    inst.data.mkdir(parents=True)
    res = inst.inobhut("reparieren")  # nothing archived: nothing to rebuild from
    assert res.returncode == 2 and "keine Lieferversion" in res.stderr.replace("\n", " ")
    res = inst.inobhut("reparieren", "--hilfe")
    assert res.returncode == 0 and "das Archiv wird dabei nur gelesen" in " ".join(res.stdout.split())


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.fail(f"tmpfs lässt sich nicht einhängen (der Test braucht root): {res.stderr}")


@pytest.mark.slow
@pytest.mark.parametrize("size", ["400k", "5m"])  # full at intake / full while writing outputs
def test_full_disk_fails_in_german_and_the_next_run_completes(tmp_path, landing_template, done, size):
    inst = new_install(tmp_path, landing_template)
    os.rmdir(inst.data)
    _mount_tmpfs(inst.data, size)
    try:
        landed = sorted(p.relative_to(inst.landing) for p in inst.landing.rglob("*") if p.is_file())
        res = inst.inobhut("run")
        assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
        no_traceback(res.stdout, res.stderr)
        assert "Kein Speicherplatz mehr auf dem Datenträger" in res.stderr.replace("\n", " ")
        assert sorted(p.relative_to(inst.landing) for p in inst.landing.rglob("*") if p.is_file()) == landed
        subprocess.run(["mount", "-o", "remount,size=256m", str(inst.data)], check=True)  # space freed
        res = inst.inobhut("run")
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        _assert_like_done(inst, done)
    finally:
        subprocess.run(["umount", "-l", str(inst.data)], check=False)


@pytest.mark.slow
def test_unreadable_archive_file_fails_in_german_and_the_next_run_completes(tmp_path, landing_template, done):
    inst = new_install(tmp_path, landing_template)
    killed = inst.inobhut("run", kill_at="validation:1")  # archived, not yet validated
    assert killed.returncode == -signal.SIGKILL
    files = [p for p in inst.archive.rglob("v0001_*") if p.is_file()]
    for p in files:
        p.chmod(0)
    # root reads anything: without the capabilities to bypass permissions it is an ordinary user
    nocap = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    res = inst.inobhut("run", prefix=nocap)
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    no_traceback(res.stdout, res.stderr)
    assert "Keine Berechtigung" in res.stderr and "archive" in res.stderr
    assert sorted(p.name for p in inst.landing.rglob("*") if p.is_file())  # landing untouched
    for p in files:
        p.chmod(0o644)
    res = inst.inobhut("run", prefix=nocap)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    _assert_like_done(inst, done)


def test_leftover_temporary_files_are_removed_and_nothing_else(tmp_path):
    from inobhut import atomic

    dead = subprocess.Popen(["true"])
    dead.wait()
    d = tmp_path / "out" / "berichte"
    d.mkdir(parents=True)
    old = time.time() - 3600
    mine = [d / f".bericht.xlsx.{dead.pid}-0a1b2c3d.tmp", d / ".manifest.json.tmp", d / "x.csv.tmp", d / ".tmp-ab_12.xlsx"]
    # pid 1 runs, but started long after this file was written: a reused pid, not the writer
    reused = d / ".alt.xlsx.1-0a1b2c3d.tmp"
    # a writer killed but not yet reaped (a zombie, as under a container init that does not reap)
    zombie = subprocess.Popen(["sleep", "60"])
    zombie.kill()
    time.sleep(0.3)
    mine += [reused, d / f".zombie.xlsx.{zombie.pid}-0a1b2c3d.tmp"]
    keep = [d / "bericht.xlsx", d / "08111_massnahmen_2024-03.csv", d / ".hidden", d / f".live.json.{os.getpid()}-0a1b2c3d.tmp",
            d / "notiz.tmp"]
    for p in mine + keep:
        p.write_text("x")
        os.utime(p, (old, old))
    os.utime(reused, (1_000_000, 1_000_000))  # 1970: before any process of this boot started
    fresh_legacy = d / ".gerade.json.tmp"
    fresh_legacy.write_text("x")  # a legacy name seconds old may belong to a running old version
    res = atomic.clean_leftovers([tmp_path / "out"])
    zombie.wait()
    assert sorted(res.removed) == sorted(mine)
    assert all(p.exists() for p in [*keep, fresh_legacy])


def test_leftover_sweep_does_not_follow_symbolic_links(tmp_path):
    """Outside inobhut's folders nothing is removed, also when a link inside points there."""
    from inobhut import atomic

    dead = subprocess.Popen(["true"])
    dead.wait()
    elsewhere = tmp_path / "fremd"
    elsewhere.mkdir()
    foreign = elsewhere / f".fremd.xlsx.{dead.pid}-0a1b2c3d.tmp"
    foreign.write_text("x")
    out = tmp_path / "out" / "tief" / "unten"
    out.mkdir(parents=True)
    (out / "verweis").symlink_to(elsewhere, target_is_directory=True)
    link = out / f".link.xlsx.{dead.pid}-0a1b2c3d.tmp"
    link.symlink_to(foreign)
    mine = out / f".bericht.xlsx.{dead.pid}-0a1b2c3d.tmp"
    mine.write_text("x")
    res = atomic.clean_leftovers([tmp_path / "out"])
    assert res.removed == [mine]
    assert foreign.exists() and link.is_symlink()


def _dead_pid() -> int:
    dead = subprocess.Popen(["true"])
    dead.wait()
    return dead.pid


def _tree(base: Path, n: int = 12) -> list[Path]:
    folders = [base / f"{i:05d}" / ds / f"2025-{m:02d}" for i in range(n) for ds in ("massnahmen", "uma") for m in (1, 2)]
    for f in folders:
        f.mkdir(parents=True)
        (f / "v0001.json").write_text("{}")
    return folders


def test_leftover_sweep_with_its_cache_lists_only_changed_folders(tmp_path, monkeypatch):
    """With a cache a sweep stats every folder but lists only those changed since the last one
    (ten years of history: 49,000 folders listed on every run); a leftover that appears in any
    folder, however deep, is still found."""
    import json

    from inobhut import atomic

    base, cache = tmp_path / "staging", tmp_path / "cache.json"
    folders = _tree(base)
    listed: list[str] = []
    real = os.scandir

    def counting(path="."):
        listed.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(atomic.os, "scandir", counting)
    first = atomic.clean_leftovers([base], cache=cache)
    assert first.removed == [] and len(listed) == len(folders) + 1 + 12 + 24  # every folder once
    assert set(json.loads(cache.read_text())["wurzeln"][str(base)]["ordner"]) >= {str(f) for f in folders}
    time.sleep(0.05)  # the file system's clock moves on (entries must be older than the sweep)
    listed.clear()
    assert atomic.clean_leftovers([base], cache=cache).removed == []
    assert listed == [str(base)]  # only the root (its marker was created there)
    deep = folders[17]
    leftover = deep / f".v0002.parquet.{_dead_pid()}-0a1b2c3d.tmp"
    leftover.write_text("x")
    listed.clear()
    assert atomic.clean_leftovers([base], cache=cache).removed == [leftover]
    assert sorted(listed) == sorted([str(base), str(deep)])
    # a damaged cache only costs listing everything
    cache.write_text("{kaputt")
    listed.clear()
    again = deep / f".v0003.parquet.{_dead_pid()}-0a1b2c3d.tmp"
    again.write_text("x")
    assert atomic.clean_leftovers([base], cache=cache).removed == [again]
    assert len(listed) == len(folders) + 1 + 12 + 24


def test_leftover_sweep_cache_trusts_no_folder_changed_in_or_after_its_clock_tick(tmp_path):
    """A folder is taken from the cache only when identity, mtime and ctime are unchanged AND
    older than the sweep that stored it (git's "racily clean" rule): a folder whose mtime was set
    back still shows a new ctime, and an entry stored in the same tick as a change is not trusted."""
    import json

    from inobhut import atomic

    base, cache = tmp_path / "out", tmp_path / "cache.json"
    folders = _tree(base, n=3)
    atomic.clean_leftovers([base], cache=cache)
    time.sleep(0.05)
    # 1. mtime set back to the cached value: the ctime still differs
    a = folders[2]
    before = a.stat()
    left_a = a / f".bericht.xlsx.{_dead_pid()}-0a1b2c3d.tmp"
    left_a.write_text("x")
    os.utime(a, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert a.stat().st_mtime_ns == before.st_mtime_ns
    assert atomic.clean_leftovers([base], cache=cache).removed == [left_a]
    # 2. an entry that matches the folder exactly, but was stored no earlier than the folder's
    #    last change (a stat in the same tick as a write the listing did not see yet)
    time.sleep(0.05)
    b = folders[5]
    left_b = b / f".bericht.html.{_dead_pid()}-0a1b2c3d.tmp"
    left_b.write_text("x")
    doc = json.loads(cache.read_text())
    root = doc["wurzeln"][str(base)]
    st = b.stat()
    root["ordner"][str(b)] = [st.st_ino, st.st_mtime_ns, st.st_ctime_ns, []]
    root["stand"][0] = st.st_mtime_ns  # stored in the tick of the change: not older than it
    cache.write_text(json.dumps(doc))
    assert atomic.clean_leftovers([base], cache=cache).removed == [left_b]


def test_temporary_names_are_unique_per_process_and_call(tmp_path):
    from inobhut import atomic

    names = {atomic.temp_path_for(tmp_path / "a.xlsx").name for _ in range(50)}
    assert len(names) == 50 and all(f".{os.getpid()}-" in n for n in names)
    with pytest.raises(OSError):
        with atomic.replacing(tmp_path / "b.txt") as tmp:
            tmp.write_text("halb")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []  # no half file stays


@pytest.mark.parametrize("cls, message, expected", [
    ("OSError", "[Errno 28] No space left on device: '/data/out/x.xlsx'", "Kein Speicherplatz mehr auf dem Datenträger (/data/out/x.xlsx)"),
    ("IOException", "IO Error: Could not write file \"/d/w.duckdb\": No space left on device", "Kein Speicherplatz"),
    ("OperationalError", "database or disk is full", "Kein Speicherplatz"),
    ("PermissionError", "[Errno 13] Permission denied: '/data/archive/08111/x.csv'", "Keine Berechtigung (/data/archive/08111/x.csv)"),
    ("OSError", "[Errno 30] Read-only file system: '/data'", "nur lesbar"),
    ("OSError", "[Errno 5] Input/output error", "Ein-/Ausgabefehler"),
    ("MemoryError", "", "Zu wenig Arbeitsspeicher"),
    ("IOException", "IO Error: Could not set lock on file \"/d/w.duckdb\": Conflicting lock is held", "gesperrt"),
    ("IOException", "IO Error: Could not read enough bytes from file \"/d/w.duckdb\"", "inobhut reparieren"),
    ("ArrowInvalid", "Parquet magic bytes not found in footer.", "inobhut reparieren"),
    ("OSError", "[Errno 71] Protocol error", "Betriebssystemfehler 71"),
    ("KeyError", "'x'", "Unerwarteter Fehler (KeyError)"),
])
def test_failures_are_described_in_german_by_class(cls, message, expected):
    from inobhut.faults import describe

    assert expected in describe(cls, message)


def test_dagster_yaml_monitors_daemon_runs_and_frees_their_slots(tmp_path, monkeypatch):
    import dagster as dg

    from pipelines.runner import prepare_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    prepare_dagster_home(tmp_path)
    with dg.DagsterInstance.get() as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0


@pytest.mark.slow
def test_ui_stops_on_sigterm_with_its_dagster_dev(tmp_path):
    from tests.helpers_faults import Install

    inst = Install(tmp_path)
    inst.data.mkdir(parents=True)
    proc = inst.start("ui", "--port", "0")
    children: set[int] = set()
    end = time.monotonic() + 120
    while time.monotonic() < end and len(children) < 2:  # dagster dev and a process of its own
        time.sleep(0.5)
        children = _descendants(proc.pid)
    assert len(children) >= 2, "dagster dev wurde nicht gestartet"
    time.sleep(1)
    children = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)  # before the fix: inobhut ended, dagster dev ran on
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    time.sleep(1)
    alive = [p for p in children if Path(f"/proc/{p}").exists() and "Z" not in _state(p)]
    assert not alive, alive


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _descendants(pid: int) -> set[int]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def test_sweep_after_a_run_only_when_a_running_writer_was_seen(tmp_path):
    """The sweep after a run walks every folder again; it is only needed when the sweep before
    the run kept a temporary file of a writer still running (a killed run's process dying):
    then it removes that file once the writer is gone. Otherwise it does not walk at all (what it
    could find, the next start removes)."""
    from inobhut import atomic
    from inobhut.config import Paths
    from pipelines.runner import sweep_after_run

    paths = Paths(tmp_path / "l", tmp_path / "a", tmp_path / "s", tmp_path / "w.duckdb", tmp_path / "out")
    d = paths.out / "berichte"
    d.mkdir(parents=True)
    writer = subprocess.Popen(["sleep", "60"])
    dying = d / f".bericht.xlsx.{writer.pid}-0a1b2c3d.tmp"
    dying.write_text("x")
    first = atomic.clean_leftovers([paths.out, paths.staging, paths.archive])
    assert first.kept_live == 1 and dying.exists()
    writer.kill()
    writer.wait()
    assert sweep_after_run(paths, first).removed == [dying]

    dead = subprocess.Popen(["true"])
    dead.wait()
    later = d / f".bericht.html.{dead.pid}-0a1b2c3d.tmp"  # appeared after a sweep that kept nothing
    quiet = atomic.clean_leftovers([paths.out, paths.staging, paths.archive])
    later.write_text("x")
    assert quiet.kept_live == 0 and sweep_after_run(paths, quiet) is None and later.exists()
    assert atomic.clean_leftovers([paths.out]).removed == [later]  # the next start's sweep


def test_leftover_sweep_cache_creates_no_folder(tmp_path):
    """The sweep of a fresh installation (no staging folder yet) stores no cache and so creates
    no folder as a side effect."""
    from inobhut import atomic

    out = tmp_path / "out"
    out.mkdir()
    cache = tmp_path / "staging" / ".aufraeumen_cache.json"
    assert atomic.clean_leftovers([out, tmp_path / "staging"], cache=cache).removed == []
    assert not (tmp_path / "staging").exists()
    (tmp_path / "staging").mkdir()
    atomic.clean_leftovers([out, tmp_path / "staging"], cache=cache)
    assert cache.is_file()
