"""``<out>/manifest.json``: every output file with its sha256 and every input delivery version.

Deterministic: the same outputs and inputs give the same bytes (no wall-clock time inside;
``erstellt`` is the newest receipt time of the deliveries that went in). ``vergleichsbasis`` is the
previous data status the front page shows the changes against (:mod:`inobhut.overview`).

Checksum cache (``<staging>/.manifest_cache.json``, internal like ``.lauf_stand.json``): a run
hashes only the outputs that changed (:mod:`inobhut.checksum_cache`: by file identity, git's rule
against racily clean entries, the file system's time taken from a marker file in ``out``; entries
of files gone are dropped). It lives outside ``out`` because everything there but Data Docs,
Protokoll and ``betrieb`` belongs to the output tree that installations compare byte for byte,
and a cache holds inode numbers and times.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from json.encoder import encode_basestring
from pathlib import Path

from inobhut import __version__, atomic
from inobhut.archive import sha256_file
from inobhut.checksum_cache import FORMAT, ChecksumCache
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
CACHE_FORMAT = FORMAT


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


class _Checksums:
    """sha256 and size of every output, computed only for files whose identity is not in the cache."""

    def __init__(self, paths: Paths):
        paths.out.mkdir(parents=True, exist_ok=True)
        self.cache = ChecksumCache(cache_path(paths), paths.out, atomic.temp_path_for(paths.out / MANIFEST))
        self.outputs: list[tuple[str, str, int]] = []  # (path, sha256, bytes) in manifest order
        for rel, e in _walk(paths.out):
            st = e.stat()
            self.outputs.append((rel, self.cache.value(rel, e.path, st, sha256_file), st.st_size))

    def save(self) -> None:
        self.cache.save()


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
    buf, start, end = audit.tail_window(audit.journal_path(paths.archive), audit.ONCE_WINDOW)
    seen = set()
    for m in _JOURNAL_SHA256.finditer(buf, start, max(start, end)):
        if m.group(1) not in wanted:
            continue
        try:
            e = json.loads(audit.line_at(buf, start, m.start()))
        except ValueError:
            continue
        if isinstance(e, dict) and e.get("ereignis") == "ausgabe":
            seen.add((e.get("datei"), e.get("sha256")))
    return seen
