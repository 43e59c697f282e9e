"""A value derived from a file's content (its sha256, or the checksum a version sidecar names),
remembered by the file's identity the way git's index does, so that a run reads only the files
that changed.

Belongs here: the rule when a remembered value may be reused, and the cache file. Users:
``manifest.json``'s checksums of the outputs (:mod:`inobhut.manifest`), the checksums of the
files in the landing zone and of the newest archived version of each delivery, which every intake
and every "anything new?" check compares (:mod:`inobhut.archive`): with ten years of history both
read tens of thousands of files on every run.

The rule. Per file (path relative to the cache's root) the cache keeps ``st_ino st_size
st_mtime_ns st_ctime_ns`` and the value; the value is reused only when all four equal the file's
current ``stat``. That tuple changes with every content change: inobhut's writers replace files
atomically (``os.replace``: a new inode); ``os.utime`` can set the mtime back, but the kernel sets
the ctime to its current time on every write and every ``utime``, and no user code can set it; so
even an in-place rewrite of the same size with the old mtime restored shows a new ctime. One gap
remains, git's "racy clean" problem: file timestamps are coarse (a clock tick of some
milliseconds), so a file changed in the same tick after its ``stat`` was taken could keep all four
values. Hence, as git does, entries are trusted only when older than the cache: before stat'ing,
a run creates a marker file under the root and takes its timestamp (the file system's own clock --
``time.time_ns()`` runs ahead of the coarse file clock, and on a network share the server stamps
the times), stores it as ``stand_ns``, and the next run reuses an entry only when the file's mtime
and ctime are strictly older than that: any change after the ``stat`` then carries a ctime >=
``stand_ns`` > the stored one. A root that cannot be written gives no marker: nothing is stored.
The marker's clock is that of the root's file system; a file on another file system (a folder
mounted below the root, with a clock of its own) is never taken from the cache (its device
differs from the marker's).

The cache is written atomically after its user is done (left untouched when no entry changed: its
``stand_ns`` stays valid for unchanged files); a missing, unreadable, corrupt or foreign cache
(other format, other root) means "compute everything", never an error; it holds exactly the
files asked for in the run that stored it. It lives under ``<staging>`` (derived state that may be
deleted at any time), never in the trees it describes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from inobhut import atomic

FORMAT = 2  # 2: with the device of the marker (geraet)
_VALUE = re.compile(r"[0-9a-f]{64}")  # every cached value is a sha256 in hex


def fs_now(marker: Path) -> tuple[int, int] | None:
    """(current time in ns, device) of the file system of ``marker``: the timestamp of the marker
    file, created (or touched) there and removed at once. None when it cannot be written (also
    when its folder does not exist)."""
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.utime(fd)  # a marker left by a crash gets the current time too
            st = os.fstat(fd)
        finally:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):  # two runs may share a fixed marker name
                os.unlink(marker)
    except OSError:
        return None
    return min(st.st_mtime_ns, st.st_ctime_ns), st.st_dev


class ChecksumCache:
    """Values of the files under ``root``, computed only for files whose identity is not in the
    cache ``cache_file``. ``marker``: where the file system's current time is taken (under
    ``root``; its name must be one the tree's readers ignore); None for a user that only reads
    the cache (it stores nothing)."""

    def __init__(self, cache_file: Path, root: Path, marker: Path | None):
        self.cache_file = Path(cache_file)
        self.root_id = os.path.abspath(root)
        self.stored, self.stand, self.device = self._load()
        self.now = fs_now(marker) if marker is not None else None  # before any stat: see the module docstring
        self.entries: dict[str, str] = {}  # the new cache: path -> "ino size mtime ctime value"

    def _load(self) -> tuple[dict | None, int, int | None]:
        try:
            doc = json.loads(self.cache_file.read_bytes())
            entries, stand, device = doc["dateien"], doc["stand_ns"], doc["geraet"]
            if (doc.get("format") == FORMAT and doc.get("ausgabe") == self.root_id
                    and type(entries) is dict and type(stand) is int and type(device) is int):
                return entries, stand, device
        except Exception:  # whatever is wrong with a cache only costs computing
            pass
        return None, 0, None

    def value(self, rel: str, path: str | Path, st: os.stat_result, compute: Callable[[str | Path], str]) -> str:
        """The value of the file ``path`` (``rel`` under the root) whose ``stat`` is ``st``: the
        cached one when the identity is unchanged and older than the cache, else ``compute(path)``."""
        ident = f"{st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} "
        old = (self.stored or {}).get(rel)
        n = len(ident)
        if (type(old) is str and len(old) == n + 64 and old.startswith(ident) and _VALUE.fullmatch(old, n)
                and st.st_mtime_ns < self.stand and st.st_ctime_ns < self.stand  # not racily clean
                and st.st_dev == self.device):  # and timed by the marker's clock
            value = old[n:]
        else:
            value = compute(path)
        self.entries[rel] = ident + value
        return value

    def save(self) -> None:
        """Store the cache atomically. Unchanged entries keep the stored file and its older
        ``stand_ns`` (still valid for them: no file changed since). A failure costs the next run
        computing, nothing else."""
        if self.now is None or self.stored == self.entries:
            return
        now, device = self.now
        text = json.dumps({"format": FORMAT, "ausgabe": self.root_id, "stand_ns": now, "geraet": device,
                           "dateien": self.entries}, ensure_ascii=False, separators=(",", ":"))
        with contextlib.suppress(OSError, UnicodeError):
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(self.cache_file, text)
