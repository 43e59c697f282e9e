"""Whether a run would change anything: the fast path of an unchanged rerun.

Belongs here: the fingerprint of everything a run's outputs depend on (program and rule
catalogue version, settings, member offices, confirmations, pseudonymisation key, the
unassignable files of the landing zone, every archived version with its verdict and check
summary, the warehouse file) and the record of
the outputs of the last complete run. ``inobhut run`` (without ``--monat``) asks :func:`is_up_to_date` before it
starts a Dagster run and records the state with :func:`record` after a successful run over
every month with deliveries (a partial run, e.g. the sensor's, records nothing). Does not belong here: deciding what a partial run must redo (the assets do that).

The record lives in ``<staging>/.lauf_stand.json`` (internal; only digests, no data). A run is
skipped only when no office has a source to fetch from (``quellen.toml``), nothing waits in
the landing zone, the fingerprint equals the recorded one,
and ``manifest.json`` and every output it lists are present with the recorded checksums.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from pathlib import Path

from inobhut.config import Paths
from inobhut import atomic

STATE_FILE = ".lauf_stand.json"


def _state_path(paths: Paths) -> Path:
    return paths.staging / STATE_FILE


def fingerprint(paths: Paths, key: bytes) -> str:
    """A digest of every input of the outputs (see the module docstring)."""
    from inobhut import __version__, archive as arc, config
    from inobhut.load import _signature
    from inobhut.validation import RULES_VERSION

    h = hashlib.sha256()
    h.update(f"{__version__}|{RULES_VERSION}|".encode())
    h.update(json.dumps(config.settings(), sort_keys=True, default=str).encode())
    h.update(repr(config.offices()).encode())
    h.update(hmac.new(key, b"inobhut-laufstand", hashlib.sha256).digest())
    members = set(config.office_keys())
    for ags in sorted(members):
        conf = paths.landing / ags / arc.CONFIRMATIONS_FILE
        h.update(conf.read_bytes() if conf.is_file() else b"-")
    from inobhut.landing import scan

    for b in scan(paths.landing, members)[1]:  # a new or changed unassignable file is reported by a run
        try:
            st = (paths.landing / b.path).lstat()
            h.update(f"{b.path}|{b.kind}|{st.st_size}|{st.st_mtime_ns}|".encode())
        except OSError:
            h.update(f"{b.path}|{b.kind}|-|".encode())
    by_month: dict[str, list] = {}
    for v in arc.list_versions(paths.archive):
        if v.ags in members:
            by_month.setdefault(v.month, []).append(v)
    for month in sorted(by_month):
        h.update(f"{month}:{_signature(paths, by_month[month])}|".encode())
    try:
        st = paths.warehouse.stat()
        h.update(f"wh:{st.st_size}:{st.st_mtime_ns}".encode())
    except FileNotFoundError:
        h.update(b"wh:-")
    return h.hexdigest()


def record(paths: Paths, key: bytes, manifest: Path) -> None:
    """Remember the fingerprint and the manifest of a complete run (atomically)."""
    from inobhut.archive import sha256_file

    doc = {"fingerprint": fingerprint(paths, key), "manifest_sha256": sha256_file(manifest)}
    atomic.write_text(_state_path(paths), json.dumps(doc))


def _all_validated(paths: Paths) -> bool:
    """Every archived version of a member office has a verdict of the current rule catalogue."""
    from inobhut import archive as arc, staging as stg
    from inobhut.config import office_keys
    from inobhut.validation import RULES_VERSION

    members = set(office_keys())
    for v in arc.list_versions(paths.archive):
        if v.ags in members:
            verdict = stg.read_verdict(paths.staging, v)
            if verdict is None or verdict.rules_version != RULES_VERSION:
                return False
    return True


def _has_remote_sources() -> bool:
    from inobhut.quellen.config import QuellenError, load_sources, sources_file

    try:
        return sources_file() is not None and any(s.art != "eingang" for s in load_sources().values())
    except QuellenError:
        return True


def is_up_to_date(paths: Paths, key: bytes) -> bool:
    """True when a run would only reproduce what is there (never raises: any doubt -> False)."""
    from inobhut.archive import pending_files, sha256_file
    from inobhut.checksum_cache import ChecksumCache
    from inobhut.config import office_keys
    from inobhut.manifest import MANIFEST, cache_path

    try:
        state = json.loads(_state_path(paths).read_text(encoding="utf-8"))
        manifest = paths.out / MANIFEST
        if sha256_file(manifest) != state.get("manifest_sha256"):
            return False
        if pending_files(paths.landing, paths.archive, set(office_keys()), staging=paths.staging):
            return False
        if _has_remote_sources():  # what waits there is only known by fetching: the run fetches
            return False
        if not _all_validated(paths):
            return False
        if fingerprint(paths, key) != state.get("fingerprint"):
            return False
        listed = json.loads(manifest.read_text(encoding="utf-8"))["ausgaben"]
        # the manifest's checksums by file identity (read only): an output untouched since the
        # manifest was written is not hashed again (ten years: 88,000 outputs)
        known = ChecksumCache(cache_path(paths), paths.out, None)
        for entry in listed:
            p = paths.out / entry["datei"]
            st = p.stat()
            if (not stat.S_ISREG(st.st_mode) or st.st_size != entry["bytes"]
                    or known.value(entry["datei"], p, st, sha256_file) != entry["sha256"]):
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False
