"""``<out>/manifest.json``: every output file with its sha256 and every input delivery version.

Deterministic: the same outputs and inputs give the same bytes (no wall-clock time inside;
``erstellt`` is the newest receipt time of the deliveries that went in). ``vergleichsbasis`` is the
previous data status the front page shows the changes against (:mod:`inobhut.overview`).

Checksum cache (``<staging>/.manifest_cache.json``, internal like ``.lauf_stand.json``): a run
hashes only the outputs that changed, the way git's index does. Per output (path relative to
``out``) it keeps ``st_ino st_size st_mtime_ns st_ctime_ns`` and the sha256; the stored sha256 is
reused only when all four equal the file's current ``stat``. That tuple changes with every content
change: writers replace outputs atomically (``os.replace``: a new inode) and leave unchanged
outputs untouched (``atomic.write_text(..., keep_unchanged=True)``); ``os.utime`` can set the mtime
back (``inobhut.generate`` does so on landing files), but the kernel sets the ctime to its current
time on every write and every ``utime``, and no user code can set it; so even an in-place rewrite
of the same size with the old mtime restored shows a new ctime. One gap remains, git's "racy
clean" problem: file timestamps are coarse (a clock tick of some milliseconds), so a file changed
in the same tick after its ``stat`` was stored could keep all four values. Hence, as git does,
entries are trusted only when older than the cache: before stat'ing, a run creates a marker file in
``out`` and takes its timestamp (the file system's own clock -- ``time.time_ns()`` runs ahead of
the coarse file clock, and on a network share the server stamps the times), stores it as
``stand_ns``, and the next run reuses an entry only when the file's mtime and ctime are strictly
older than that: any change after the ``stat`` then carries a ctime >= ``stand_ns`` > the stored
one. The cache is written atomically after the manifest (left untouched when no entry changed: its
``stand_ns`` stays valid for unchanged files); a missing, unreadable, corrupt or foreign cache
(other format, other ``out``) means "hash everything", never an error; entries of files gone are
dropped (the cache holds exactly the files of the manifest just written). It lives outside ``out``
because everything there but Data Docs, Protokoll and ``betrieb`` belongs to the output tree that
installations compare byte for byte, and a cache holds inode numbers and times.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import Iterator
from json.encoder import encode_basestring
from pathlib import Path

from inobhut import __version__, atomic
from inobhut.archive import sha256_file
from inobhut.config import Paths
from inobhut.warehouse import Warehouse

MANIFEST = "manifest.json"
# Great Expectations' Data Docs carry run times and random ids, the audit report (protokoll/)
# carries the real times of events: analyst and auditor aids outside the reproducible
# outputs, so not listed (see docs/entscheidungen.md)
# .eingaben: fingerprints of report inputs (inobhut.outputs); betrieb: the operator's log of failed
# runs (real times, pipelines/run_failure.py)
EXCLUDED_DIRS = ("gx_data_docs", "protokoll", ".eingaben", "betrieb")

CACHE_FILE = ".manifest_cache.json"  # under <staging>: checksums of the outputs by file identity
CACHE_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _walk(out: Path) -> Iterator[tuple[str, os.DirEntry]]:
    """(path relative to ``out`` with ``/``, directory entry) of every output file, in the order of
    ``os.walk`` with sorted names (a folder's files, then its subfolders); what ``os.walk`` skips
    (unreadable folders, symbolic links to folders) is skipped too."""
    def listing(folder: str, prefix: str, top: bool) -> Iterator[tuple[str, os.DirEntry]]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        subdirs = []
        for e in entries:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not (top and e.name in EXCLUDED_DIRS):
                    subdirs.append(e)
            elif not (e.name.startswith(".") or top and e.name == MANIFEST):
                yield prefix + e.name, e
        for e in subdirs:
            try:
                link = e.is_symlink()
            except OSError:
                link = False
            if not link:
                yield from listing(e.path, f"{prefix}{e.name}/", False)

    yield from listing(os.fspath(out), "", True)


def output_files(out: Path) -> list[Path]:
    return [out / rel for rel, _ in _walk(out)]


def cache_path(paths: Paths) -> Path:
    return paths.staging / CACHE_FILE


def _load_cache(paths: Paths) -> tuple[dict | None, int]:
    """(entries, ``stand_ns``) of the stored cache; None when there is none fit for use."""
    try:
        doc = json.loads(cache_path(paths).read_bytes())
        entries, stand = doc["dateien"], doc["stand_ns"]
        if (doc.get("format") == CACHE_FORMAT and doc.get("ausgabe") == _out_id(paths.out)
                and type(entries) is dict and type(stand) is int):
            return entries, stand
    except Exception:  # whatever is wrong with a cache only costs hashing
        pass
    return None, 0


def _out_id(out: Path) -> str:
    return os.path.abspath(out)


def _fs_now(out: Path) -> int | None:
    """The current time of ``out``'s file system (ns): the timestamp of a marker file created
    there and removed at once. None when ``out`` cannot be written (then no cache is stored)."""
    marker = atomic.temp_path_for(out / MANIFEST)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
            os.unlink(marker)
    except OSError:
        return None
    return min(st.st_mtime_ns, st.st_ctime_ns)


class _Checksums:
    """sha256 and size of every output, computed only for files whose identity is not in the cache."""

    def __init__(self, paths: Paths):
        self.paths = paths
        self.stored, stand = _load_cache(paths)
        self.now = _fs_now(paths.out)  # before any stat: see the module docstring
        self.outputs: list[tuple[str, str, int]] = []  # (path, sha256, bytes) in manifest order
        # the new cache: path -> "st_ino st_size st_mtime_ns st_ctime_ns sha256"
        self.entries: dict[str, str] = {}
        cached = self.stored or {}
        for rel, e in _walk(paths.out):
            st = e.stat()
            ident = f"{st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} "
            old = cached.get(rel)
            n = len(ident)
            if (type(old) is str and len(old) == n + 64 and old.startswith(ident) and _SHA256.fullmatch(old, n)
                    and st.st_mtime_ns < stand and st.st_ctime_ns < stand):  # not racily clean
                sha = old[n:]
            else:
                sha = sha256_file(Path(e.path))
            self.entries[rel] = ident + sha
            self.outputs.append((rel, sha, st.st_size))

    def save(self) -> None:
        """Store the cache atomically. Unchanged entries keep the stored file and its older
        ``stand_ns`` (still valid for them: no file changed since). A failure costs the next
        run hashing, nothing else."""
        if self.now is None or self.stored == self.entries:
            return
        text = json.dumps({"format": CACHE_FORMAT, "ausgabe": _out_id(self.paths.out), "stand_ns": self.now,
                           "dateien": self.entries}, ensure_ascii=False, separators=(",", ":"))
        with contextlib.suppress(OSError, UnicodeError):
            self.paths.staging.mkdir(parents=True, exist_ok=True)
            atomic.write_text(cache_path(self.paths), text)


def write_manifest(paths: Paths, wh: Warehouse) -> Path:
    from inobhut.overview import comparison_base, delivery_inputs

    with wh.connect() as con:
        inputs, created = delivery_inputs(con)
    # the data status the front page compares against (read before the old manifest is replaced)
    base = comparison_base(paths.out, inputs)
    sums = _Checksums(paths)
    outputs = sums.outputs
    doc = {
        "produkt": "inobhut",
        "version": __version__,
        "datenstand": created,
        "ausgaben": outputs,
        "lieferungen": inputs,
        "vergleichsbasis": base,
    }
    target = paths.out / MANIFEST
    before = _previous_outputs(target)
    paths.out.mkdir(parents=True, exist_ok=True)
    # unchanged outputs and inputs: the file stays untouched
    atomic.write_text(target, manifest_text(doc), keep_unchanged=True)
    sums.save()  # after the manifest
    record_outputs(paths, [o for o in outputs if before.get(o[0]) != o[1]])
    from inobhut import audit

    with wh.connect() as con:  # the mirror is complete whenever the outputs are
        audit.sync_to_warehouse(con, paths.archive)
    return target


def manifest_text(doc: dict) -> str:
    """``json.dumps(doc, ensure_ascii=False, indent=1) + "\\n"`` byte for byte, with ``doc["ausgaben"]``
    given as (path, sha256, bytes) tuples; several times faster (the standard library's encoder
    runs in pure Python as soon as ``indent`` is set)."""
    parts = []
    for k, v in doc.items():
        if k == "ausgaben":
            body = ",\n  ".join([f'{{\n   "datei": {encode_basestring(f)},\n   "sha256": {encode_basestring(h)},\n'
                                  f'   "bytes": {int(n)}\n  }}' for f, h, n in v])
            value = f"[\n  {body}\n ]" if v else "[]"
        else:
            value = _dumps(v, " ")
        parts.append(f"{encode_basestring(k)}: {value}")
    return "{\n " + ",\n ".join(parts) + "\n}\n" if parts else "{}\n"


def _dumps(obj, indent: str) -> str:
    """``json.dumps(obj, ensure_ascii=False, indent=1)`` for a value at nesting ``indent``."""
    t = type(obj)
    if t is str:
        return encode_basestring(obj)
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if t is int:
        return int.__repr__(obj)
    if t is float and math.isfinite(obj):
        return float.__repr__(obj)
    inner = indent + " "
    if t is dict and all(type(k) is str for k in obj):
        if not obj:
            return "{}"
        items = f",\n{inner}".join([f"{encode_basestring(k)}: {_dumps(v, inner)}" for k, v in obj.items()])
        return f"{{\n{inner}{items}\n{indent}}}"
    if t is list:
        if not obj:
            return "[]"
        items = f",\n{inner}".join([_dumps(v, inner) for v in obj])
        return f"[\n{inner}{items}\n{indent}]"
    # anything else (other key types, subclasses, tuples, NaN, ...) exactly as the standard library
    # writes it; its line breaks are all structural (a string's are escaped)
    return json.dumps(obj, ensure_ascii=False, indent=1).replace("\n", "\n" + indent)


def _previous_outputs(target: Path) -> dict[str, str]:
    from inobhut.overview import read_manifest

    try:
        return {o["datei"]: o["sha256"] for o in read_manifest(target.parent).get("ausgaben", [])}
    except (AttributeError, KeyError, TypeError):
        return {}


def record_outputs(paths: Paths, files: list[tuple[str, str, int]]) -> None:
    """The one place where written outputs (reports, tables, statutory outputs) enter the audit
    trail: an ``ausgabe`` event per (path relative to ``out``, sha256, bytes). ``write_manifest``
    calls it for every output that is new or changed since the previous manifest; a command
    that writes outputs outside the pipeline calls it for its files."""
    from inobhut import audit

    if not files:
        return
    # a writer that records its own, richer event (the statutory outputs: office, year, counts)
    # has done so already: the same file version is never recorded twice
    seen = _recorded(paths, {h for _, h, _ in files})
    audit.record_many(paths.archive, [dict(ereignis="ausgabe", datei=f, sha256=h, detail={"bytes": n})
                                      for f, h, n in files if (f, h) not in seen])


# a checksum in a journal line (json.dumps writes it as it is: lowercase hex is never escaped)
_JOURNAL_SHA256 = re.compile(rb'"sha256"\s*:\s*"([0-9a-f]{64})"')


def _recorded(paths: Paths, checksums: set[str]) -> set[tuple[str, str]]:
    """(datei, sha256) of the ``ausgabe`` events with one of ``checksums`` among the journal lines
    ``audit._tail_events`` reads (the last ``audit.ONCE_WINDOW`` bytes, without a first piece that
    may start mid-line and without the part after the last newline). Only the lines carrying one of
    the checksums are decoded: decoding the whole window took 0.7 s (32 MB) on every run that
    changed an output."""
    from inobhut import audit

    wanted = {h.encode() for h in checksums}
    window = audit.ONCE_WINDOW
    try:
        with open(audit.journal_path(paths.archive), "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - window))
            buf = fh.read()
    except FileNotFoundError:
        return set()
    start = buf.find(b"\n") + 1 if size > window else 0
    end = buf.rfind(b"\n")
    seen = set()
    for m in _JOURNAL_SHA256.finditer(buf, start, max(start, end)):
        if m.group(1) not in wanted:
            continue
        try:
            e = json.loads(buf[buf.rfind(b"\n", 0, m.start()) + 1:buf.find(b"\n", m.end())])
        except ValueError:
            continue
        if isinstance(e, dict) and e.get("ereignis") == "ausgabe":
            seen.add((e.get("datei"), e.get("sha256")))
    return seen
