"""Atomic file writes with temporary names unique per process, and cleaning up their leftovers.

Belongs here: the one naming scheme of inobhut's temporary files (``.<name>.<pid>-<random>.tmp``
beside the target), writing a file atomically (temporary file, then ``os.replace``) and removing
temporary files that a killed process or a full disk left behind. Every writer of an output,
staging or archive file uses :func:`temp_path_for` or :func:`write_text`/:func:`write_bytes`, so
two processes never share a temporary file and :func:`clean_leftovers` can tell inobhut's own
leftovers from anything else (a delivery is never matched: it never starts with a dot and never
carries the pid-random tail).
"""

from __future__ import annotations

import contextlib
import filecmp
import functools
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# the current scheme: .<target name>.<pid>-<8 hex>.tmp
TEMP_RE = re.compile(r"^\..+\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
# names of earlier versions of inobhut (fixed names, no pid): only ever inobhut's own files
LEGACY_TEMP_RES = (
    re.compile(r"^\..+\.tmp$"),  # .<name>.tmp (archive, staging, manifest, Prüfbericht)
    re.compile(r"^\.tmp-[A-Za-z0-9_]+\.(xlsx|html|csv|json)$"),  # tempfile.mkstemp in the report writers
    re.compile(r"^[^.].*\.(html|csv)\.tmp$"),  # <name>.html.tmp (Prüfbericht), <name>.csv.tmp (tables)
)
# a temporary file without a live owner is removed only when it is older than this (seconds):
# a legacy name carries no pid, and a pid may live on another machine sharing the directory
LEGACY_MIN_AGE_S = 60.0


def temp_path_for(target: Path) -> Path:
    """A temporary path beside ``target``, unique per process and call."""
    target = Path(target)
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


@contextlib.contextmanager
def replacing(target: Path, *, keep_unchanged: bool = False) -> Iterator[Path]:
    """``with replacing(p) as tmp: write tmp`` -> ``tmp`` replaces ``p`` atomically on success and
    is removed on any failure (a full disk included). ``keep_unchanged``: when ``p`` already has
    the same bytes, ``tmp`` is dropped and ``p`` stays untouched (its mtime too): outputs whose
    inputs did not change are not rewritten (see ``inobhut.outputs``)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        yield tmp
        if keep_unchanged and target.is_file() and filecmp.cmp(tmp, target, shallow=False):
            tmp.unlink()
        else:
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class DurableBatch:
    """Files written under temporary names and put in place together, durably: first the data of
    everything written so far is flushed to disk, then every file is renamed into place, then the
    renames are flushed. After a crash each file is there complete or not at all (a temporary file
    is a leftover for :func:`clean_leftovers`), as with one fsync per file -- but a flush of the
    whole file system (``syncfs``, Linux) costs one journal commit where ten years of deliveries
    took 24,000 fsyncs (8 s of a backfill's intake). Without ``syncfs`` each file is fsynced.
    Use :func:`durable_batch`."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []
        self.devices: dict[int, Path] = {}  # a folder on each file system written to

    def write_text(self, target: Path, text: str) -> None:
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path_for(target)
        self.pending.append((tmp, target))
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            self.devices.setdefault(os.fstat(fh.fileno()).st_dev, target.parent)

    def commit(self) -> None:
        """Flush, rename, flush; on a failure the files not yet in place are discarded."""
        placed = 0
        try:
            if not all([_syncfs(folder) for folder in self.devices.values()]):
                for tmp, _ in self.pending:
                    with open(tmp, "rb+") as fh:
                        os.fsync(fh.fileno())
            for tmp, target in self.pending:
                os.replace(tmp, target)
                placed += 1
            for folder in self.devices.values():
                _syncfs(folder)
        except BaseException:
            self.pending = self.pending[placed:]
            self.discard()
            raise
        self.pending = []

    def discard(self) -> None:
        for tmp, _ in self.pending:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.pending = []


@contextlib.contextmanager
def durable_batch() -> Iterator[DurableBatch]:
    """``with durable_batch() as b: b.write_text(p, text) ...``: committed at the end of the
    block, discarded (temporary files removed, nothing in place) on any exception."""
    batch = DurableBatch()
    try:
        yield batch
    except BaseException:
        batch.discard()
        raise
    batch.commit()


def _syncfs(path: Path) -> bool:
    """Flush the file system holding ``path`` (Linux ``syncfs``); False where that is not
    available (the caller then fsyncs file by file)."""
    fn = _syncfs_function()
    if fn is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return fn(fd) == 0
    finally:
        os.close(fd)


@functools.cache
def _syncfs_function():
    """libc's ``syncfs``, looked up once; None where there is none."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


def write_bytes(target: Path, data: bytes, *, fsync: bool = False) -> Path:
    with replacing(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
    return Path(target)


def write_text(target: Path, text: str, *, encoding: str = "utf-8", newline: str | None = None, fsync: bool = False,
               keep_unchanged: bool = False) -> Path:
    with replacing(target, keep_unchanged=keep_unchanged) as tmp:
        with open(tmp, "w", encoding=encoding, newline=newline) as fh:
            fh.write(text)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
    return Path(target)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _started_at(pid: int) -> float | None:
    """Start time of a process (epoch seconds, Linux /proc), None if unknown; 0.0 for a zombie
    (killed, not yet reaped: it writes nothing any more)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X"):
            return 0.0
        ticks = int(fields[19])
        btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return btime + ticks / os.sysconf("SC_CLK_TCK")


def _writer_alive(pid: int, mtime: float) -> bool:
    """Whether the process that wrote a temporary file may still be writing it: its pid runs and
    that process started before the file was last written (a reused pid is another process)."""
    if pid == os.getpid():
        return True
    if not _pid_alive(pid):
        return False
    started = _started_at(pid)
    if started == 0.0:  # a zombie
        return False
    return started is None or started <= mtime + 1.0


def _temp_like_files(base: str, known: dict | None = None, seen: dict | None = None) -> Iterator[tuple[str, str]]:
    """(folder, name) of every entry below ``base`` that is not a directory and whose name ends
    in ``.tmp`` or starts with ``.tmp-`` (every temporary name does, see above). One ``scandir``
    per folder and no further system call per entry (``os.walk`` stats every folder once more:
    three sweeps over ten years of outputs, staging and archive took 3.3 s of a nightly run);
    symbolic links to folders are not followed.

    ``seen``: filled with the folders listed now that held no such entry (see
    :func:`_unchanged`); ``known``: those of the last sweep with its clock, whose folders are not
    listed again while unchanged -- their subfolders are still visited."""
    stack = [base]
    entries_of, stand = (known or {}).get("ordner", {}), (known or {}).get("stand")
    while stack:
        folder = stack.pop()
        st = None
        if seen is not None:
            try:
                st = os.stat(folder)
            except OSError:  # vanished meanwhile: as os.walk, skipped
                continue
            old = entries_of.get(folder)
            if old is not None and _unchanged(old, st, stand):
                seen[folder] = old
                stack.extend(os.path.join(folder, n) for n in old[3])
                continue
        subdirs: list[str] = []
        clean = True
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    n = e.name
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                        subdirs.append(n)
                    elif n.endswith(".tmp") or n.startswith(".tmp-"):
                        clean = False
                        yield folder, n
        except OSError:  # vanished or unreadable meanwhile: as os.walk, skipped
            continue
        if st is not None and clean:
            seen[folder] = [st.st_ino, st.st_mtime_ns, st.st_ctime_ns, subdirs]


def _unchanged(old: list, st: os.stat_result, stand: list | None) -> bool:
    """Whether a folder listed by the last sweep without a temporary-like entry cannot have got
    one since: its identity and times are the same, and older than that sweep's start on the same
    file system's clock (git's rule against "racily clean" entries, as in
    :mod:`inobhut.checksum_cache`). Any entry created, removed or renamed in a folder sets its
    mtime and ctime to the file system's current time; the ctime cannot be set back."""
    if stand is None or type(old) is not list or len(old) != 4 or type(old[3]) is not list:
        return False
    stand_ns, device = stand
    return (old[0] == st.st_ino and old[1] == st.st_mtime_ns and old[2] == st.st_ctime_ns
            and st.st_mtime_ns < stand_ns and st.st_ctime_ns < stand_ns and st.st_dev == device)


def is_temp_name(name: str) -> bool:
    return bool(TEMP_RE.match(name)) or any(r.match(name) for r in LEGACY_TEMP_RES)


@dataclass
class Cleanup:
    removed: list[Path] = field(default_factory=list)
    kept_live: int = 0  # temporary files of a process that is still running


SWEEP_CACHE_FORMAT = 1


def clean_leftovers(dirs: list[Path], *, now: float | None = None, cache: Path | None = None) -> Cleanup:
    """Remove inobhut's temporary files under ``dirs`` whose writing process is gone.

    A file of the current scheme is removed when its pid is not running or runs a process that
    started after the file was written (pids are reused; inobhut's directories are written by one
    machine: the warehouse has a single writer); a legacy name when it is older than
    ``LEGACY_MIN_AGE_S``.

    ``cache``: a file (e.g. under ``<staging>``) that remembers the folders which held no
    temporary-like file, by identity and times, so that the next sweep lists only the folders
    changed since (ten years of history: 49,000 folders listed on every run, 2.4-3.9 s;
    now one ``stat`` per folder). A missing or damaged cache means listing everything."""
    now = time.time() if now is None else now
    res = Cleanup()
    known = _load_sweep_cache(cache) if cache is not None else {}
    fresh: dict[str, dict] = {}
    for base in dirs:
        base = Path(base)
        if not base.is_dir():
            continue
        key = os.path.abspath(base)
        seen: dict | None = None
        if cache is not None:
            from inobhut.checksum_cache import fs_now

            # the clock of this file system before any folder is stat'ed (the marker is a
            # temporary name: a crash leaves a file the next sweep removes)
            stand = fs_now(temp_path_for(base / ".aufraeumen"))
            if stand is not None:
                seen = {}
                fresh[key] = {"stand": list(stand), "ordner": seen}
        for root, n in _temp_like_files(str(base), known.get(key), seen):
            m = TEMP_RE.match(n)
            legacy = m is None and any(r.match(n) for r in LEGACY_TEMP_RES)
            if m is None and not legacy:
                continue
            p = Path(root) / n
            try:
                st = p.lstat()
            except OSError:
                continue
            if not os.path.isfile(p) or os.path.islink(p):
                continue
            age = now - st.st_mtime
            if m is not None:
                pid = int(m.group("pid"))
                if _writer_alive(pid, st.st_mtime):
                    res.kept_live += 1
                    continue
            elif age < LEGACY_MIN_AGE_S:
                res.kept_live += 1
                continue
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                res.removed.append(p)
    if cache is not None and fresh and Path(cache).parent.is_dir():  # never creates a folder
        import json

        with contextlib.suppress(OSError):
            write_text(Path(cache), json.dumps({"format": SWEEP_CACHE_FORMAT, "wurzeln": fresh}, separators=(",", ":")))
    return res


def _load_sweep_cache(cache: Path) -> dict:
    """{root: {"stand": [ns, device], "ordner": {folder: [ino, mtime, ctime, subfolders]}}} of the
    last sweep; {} when missing, unreadable or of another format (then every folder is listed)."""
    import json

    try:
        doc = json.loads(Path(cache).read_bytes())
        roots = doc["wurzeln"]
        if doc.get("format") != SWEEP_CACHE_FORMAT or type(roots) is not dict:
            return {}
        out = {}
        for root, r in roots.items():
            stand, folders = r["stand"], r["ordner"]
            if (type(stand) is list and len(stand) == 2 and all(type(x) is int for x in stand)
                    and type(folders) is dict):
                out[root] = {"stand": stand, "ordner": folders}
        return out
    except Exception:  # noqa: BLE001 - whatever is wrong with a cache only costs listing
        return {}
