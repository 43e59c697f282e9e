"""The archive: every delivered file, byte for byte, with its checksum, before anything else.

Belongs here: deciding whether a delivery file of the landing zone is a new version, copying it unchanged into the archive (atomically, verified by sha256) and the version
registry (one JSON sidecar per version). Does not belong here: reading file contents.

Layout: ``<archive>/<ags>/<dataset>/<YYYY-MM>/v0001_<sha12>.<ext>`` plus ``v0001.json``.
A file whose sha256 equals the newest archived version of the same (ags, dataset, month) is not
a new version; any other content is the next version (a Korrekturlieferung). Which files are
deliveries (one per office, dataset and month) decides :mod:`inobhut.landing`.
Unassignable files (wrong place, wrong name or month, not a member office, a second file for the
same delivery) are left untouched in the landing zone, reported, and a copy of each regular one
is kept in ``<archive>/_nicht_zuordenbar/kopien/<sha256[:16]>.<ext>`` with the register
``verzeichnis.json`` (path, reason, checksum), so nothing that arrived is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from filelock import FileLock

from inobhut import atomic, audit, faultpoint, quarantine
from inobhut.landing import CONFIRMATIONS_FILE, Unassignable, scan  # noqa: F401 (re-exported)
from inobhut.naming import DeliveryName

UNASSIGNABLE_DIR = "_nicht_zuordenbar"


@dataclass(frozen=True)
class ArchivedVersion:
    ags: str
    dataset: str
    month: str
    version: int
    file_name: str  # name as delivered
    sha256: str
    size_bytes: int
    received_at: str  # ISO time: modification time of the delivered file (UTC)
    archive_file: str  # path relative to the archive root

    def path(self, archive: Path) -> Path:
        return archive / self.archive_file

    @property
    def label(self) -> str:
        return f"{self.ags}_{self.dataset}_{self.month} v{self.version}"


@dataclass
class IntakeSummary:
    new_versions: list[ArchivedVersion] = field(default_factory=list)
    unchanged: int = 0
    unassignable: list[Unassignable] = field(default_factory=list)
    quarantined: list = field(default_factory=list)  # inobhut.quarantine.QuarantinedFile

    @property
    def months(self) -> list[str]:
        return sorted({v.month for v in self.new_versions})


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def _version_dir(archive: Path, ags: str, dataset: str, month: str) -> Path:
    return archive / ags / dataset / month


_SIDECAR = re.compile(r"v[0-9]{4}\.json")


def list_versions(archive: Path, ags: str | None = None, dataset: str | None = None, month: str | None = None) -> list[ArchivedVersion]:
    """All archived versions matching the filters, sorted by (ags, dataset, month, version)."""
    out = [read_sidecar(p) for *_, p in version_slots(archive, ags, dataset, month)]
    out.sort(key=lambda v: (v.ags, v.dataset, v.month, v.version))
    return out


def version_slots(archive: Path, ags: str | None = None, dataset: str | None = None,
                  month: str | None = None) -> list[tuple[str, str, str, int, str]]:
    """(ags, dataset, month, version, sidecar path) of every archived version matching the
    filters, from the folder and file names alone, sorted: for a check that reads a version only
    when its files changed (ten years of 50 offices: reading all 24,000 sidecars took 1.6 s of
    every run's start).

    Walks ``<ags>/<dataset>/<month>/vNNNN.json`` with ``os.scandir`` (what ``Path.glob`` of that
    pattern matches, at half the cost: 2.6 s before for the ten years)."""
    out = []
    if not archive.exists():
        return out
    for d_ags in _subdirs(str(archive), ags):
        for d_ds in _subdirs(d_ags, dataset):
            for d_m in _subdirs(d_ds, month):
                keys = (d_ags.rsplit(os.sep, 1)[1], d_ds.rsplit(os.sep, 1)[1], d_m.rsplit(os.sep, 1)[1])
                out += [(*keys, int(n[1:5]), os.path.join(d_m, n)) for n in _sidecars(d_m)]
    out.sort()
    return out


def read_sidecar(path: str | Path) -> ArchivedVersion:
    """One version's sidecar (``vNNNN.json``)."""
    with open(path, encoding="utf-8") as fh:
        return ArchivedVersion(**json.load(fh))


def _sidecars(folder: str | Path) -> list[str]:
    """The names of the version sidecars (``vNNNN.json``) in a version folder; none if absent."""
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if _SIDECAR.fullmatch(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _subdirs(parent: str, name: str | None) -> list[str]:
    """``parent/name`` if it is a directory, or every subdirectory of ``parent`` without a name."""
    if name is not None:
        p = os.path.join(parent, name)
        return [p] if os.path.isdir(p) else []
    try:
        with os.scandir(parent) as entries:
            return [e.path for e in entries if e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def newest_version(archive: Path, ags: str, dataset: str, month: str) -> ArchivedVersion | None:
    """The newest archived version of (ags, dataset, month), or None: the last of
    :func:`list_versions` for the same filters, reading only its sidecar (an intake compares every
    landing file with it; reading every version of every file took 10 s on ten years of history)."""
    path = _newest_sidecar(archive, ags, dataset, month)
    return None if path is None else read_sidecar(path)


def _newest_sidecar(archive: str | Path, ags: str, dataset: str, month: str) -> str | None:
    """The sidecar of the newest archived version of (ags, dataset, month), from the names alone
    (string paths: an intake asks for every file of the landing zone, 24,000 on ten years)."""
    folder = os.path.join(archive, ags, dataset, month)
    names = _sidecars(folder)
    return os.path.join(folder, max(names)) if names else None


def _atomic_write_text(path: Path, text: str) -> None:
    atomic.write_text(path, text, fsync=True)


LANDING_CACHE = ".eingang_pruefsummen.json"  # under <staging>: checksums of the landing files by identity
NEWEST_CACHE = ".archiv_neueste.json"  # under <staging>: checksum of each delivery's newest version


class _Checksums:
    """The two checksums every landing file is compared by: its own, and that of the newest
    archived version of its delivery (office, dataset, month). With ``staging`` both are
    remembered by file identity (:mod:`inobhut.checksum_cache`): on ten years of history an
    intake hashed 24,000 landing files and read as many sidecars on every run. Without
    ``staging`` every file is read, as before. Only the intake stores (``store``): it asks for
    every file of the landing zone, deliveries and unassignable ones; the checks that ask for
    part of them only read the caches (a cache holds exactly the files of the run that stored it)."""

    def __init__(self, landing: Path, archive: Path, staging: Path | None, *, store: bool = True,
                 newest: bool = True):
        from inobhut.checksum_cache import ChecksumCache
        from inobhut.landing import CLOCK_MARKER

        self.archive = archive
        self._archive_str = os.fspath(archive)
        self._files = self._newest = None
        if staging is not None:
            self._files = ChecksumCache(staging / LANDING_CACHE, landing, landing / CLOCK_MARKER if store else None)
            if newest:
                self._newest = ChecksumCache(staging / NEWEST_CACHE, archive,
                                             atomic.temp_path_for(archive / NEWEST_CACHE) if store else None)

    def of_file(self, rel: str, path: Path) -> str:
        """sha256 of the landing file ``path`` (``rel`` in the landing zone; FileNotFoundError
        when it is gone)."""
        if self._files is None:
            return sha256_file(path)
        return self._files.value(rel, path, os.stat(path), sha256_file)

    def newest(self, ags: str, dataset: str, month: str) -> tuple[int, str] | None:
        """(version, sha256) of the newest archived version of the delivery, or None. A
        sidecar never changes once written (the intake writes it last, atomically)."""
        path = _newest_sidecar(self._archive_str, ags, dataset, month)
        if path is None:
            return None
        name = os.path.basename(path)
        version = int(name[1:5])
        if self._newest is None:
            return version, read_sidecar(path).sha256
        return version, self._newest.value(f"{ags}/{dataset}/{month}/{name}", path, os.stat(path), _sidecar_sha256)

    def save(self) -> None:
        for cache in (self._files, self._newest):
            if cache is not None:
                cache.save()


def _sidecar_sha256(path: str | Path) -> str:
    return read_sidecar(path).sha256


def pending_files(landing: Path, archive: Path, members: set[str], *,
                  staging: Path | None = None) -> list[tuple[Path, DeliveryName]]:
    """Delivery files in the landing zone whose content is not the newest archived version
    (the same choice among duplicates as :func:`intake`). ``staging``: where the checksums are
    remembered (see :class:`_Checksums`)."""
    found, _ = scan(landing, members)
    sums = _Checksums(landing, archive, staging, store=False)
    out = []
    for c in found:
        try:
            digest = sums.of_file(c.rel, c.path)
        except FileNotFoundError:  # removed meanwhile
            continue
        last = sums.newest(c.name.ags, c.name.dataset, c.name.month)
        if last is None or last[1] != digest:
            out.append((c.path, c.name))
    return out


def unregistered_unassignable(landing: Path, archive: Path, members: set[str], *,
                              staging: Path | None = None) -> list[Unassignable]:
    """Unassignable files of the landing zone that no intake has registered yet (the nightly
    schedule starts an intake for them, so that they are reported even on a day without deliveries).
    ``staging``: where the checksums are remembered (see :class:`_Checksums`)."""
    reg_path = archive / UNASSIGNABLE_DIR / "verzeichnis.json"
    register = json.loads(reg_path.read_text(encoding="utf-8")) if reg_path.exists() else {}
    _, bad = scan(landing, members)
    sums = _Checksums(landing, archive, staging, store=False, newest=False)
    out = []
    for u in bad:
        p = landing / u.path
        sig = u.kind
        if u.kind not in ("verknuepfung", "versteckt") and not p.is_symlink() and p.is_file():
            try:
                sig = sums.of_file(u.path, p)
            except OSError:
                pass
        if f"{u.path}|{sig}" not in register:
            out.append(u)
    return out


def _received_at(st: os.stat_result) -> str:
    return dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(microsecond=0).isoformat()


def _copy_verified(src: Path, target: Path, digest: str) -> bool:
    """Copy ``src`` to ``target`` via a temporary name, verified by sha256; False if the source
    changed while it was copied (it is taken at the next intake)."""
    tmp = atomic.temp_path_for(target)
    try:
        shutil.copyfile(src, tmp)
        faultpoint.reached("intake")
        if sha256_file(tmp) != digest:  # the source changed while we copied it: try next run
            tmp.unlink()
            return False
        os.replace(tmp, target)
    except BaseException:  # a full disk, a killed copy: no half file stays behind
        tmp.unlink(missing_ok=True)
        raise
    return True


def intake(landing: Path, archive: Path, members: set[str], *, lauf: str | None = None,
           staging: Path | None = None) -> IntakeSummary:
    """Archive every new delivery version found in the landing zone and keep a copy of every
    unassignable regular file (``<archive>/_nicht_zuordenbar/``); one audit record per new
    version and per newly seen unassignable file.

    The copy is written to a temporary name, verified against the sha256 of the source and
    then renamed; the sidecar JSON is written last, so a version exists only when complete.
    Idempotent: a second intake of the same landing state adds nothing. ``staging``: where the
    checksums of the landing files and newest versions are remembered (see :class:`_Checksums`)."""
    archive.mkdir(parents=True, exist_ok=True)
    summary = IntakeSummary()
    events: list[dict] = []
    with FileLock(str(archive / ".archive.lock"), timeout=600):
        found, summary.unassignable = scan(landing, members)
        sums = _Checksums(landing, archive, staging)
        digests: dict[str, str] = {}
        new = []
        for c in found:
            try:
                digest = digests[c.rel] = sums.of_file(c.rel, c.path)
            except FileNotFoundError:  # removed while the intake ran (a full disk etc. still fails loudly)
                continue
            newest = sums.newest(c.name.ags, c.name.dataset, c.name.month)
            if newest is not None and newest[1] == digest:
                summary.unchanged += 1
                continue
            new.append((c, digest, newest))
        # identifying data goes to the quarantine, not the archive: every new file is screened
        # first, on all cores (reading them is the largest cost of an intake of many files)
        screenings = quarantine.screen_many([(c.path, c.name.dataset) for c, _, _ in new])
        # the sidecars (a version exists only with its sidecar) are put in place together at the
        # end, after the data of every copy and sidecar is on disk (atomic.DurableBatch)
        with atomic.durable_batch() as sidecars:
            _archive_new(archive, new, screenings, summary, events, lauf, sidecars)
        events += _keep_unassignable(landing, archive, summary.unassignable, digests, lauf, sums)
        if events:
            audit.record_many(archive, events)
        sums.save()
    return summary


def _archive_new(archive: Path, new: list, screenings: list, summary: IntakeSummary, events: list[dict],
                 lauf: str | None, sidecars: atomic.DurableBatch) -> None:
    """Copy each new delivery version into the archive (or hand it to the quarantine) and write
    its sidecar into ``sidecars``; appends to ``summary`` and ``events``."""
    for (c, digest, newest), screening in zip(new, screenings):
        src, dn = c.path, c.name
        vdir = _version_dir(archive, dn.ags, dn.dataset, dn.month)
        held = quarantine.intake_hook(src, dn, digest, archive, screening)
        if held is not None:
            summary.quarantined += [held] if held else []
            continue
        version = (newest[0] + 1) if newest is not None else 1
        vdir.mkdir(parents=True, exist_ok=True)
        target = vdir / f"v{version:04d}_{digest[:12]}.{dn.ext}"
        try:
            if not _copy_verified(src, target, digest):
                continue
            st = src.stat()
        except FileNotFoundError:
            continue
        av = ArchivedVersion(
            ags=dn.ags, dataset=dn.dataset, month=dn.month, version=version, file_name=src.name,
            sha256=digest, size_bytes=st.st_size, received_at=_received_at(st),
            archive_file=target.relative_to(archive).as_posix(),
        )
        sidecars.write_text(vdir / f"v{version:04d}.json", json.dumps(asdict(av), ensure_ascii=False, indent=1))
        summary.new_versions.append(av)
        events.append(dict(ereignis="archiviert", lauf=lauf, ags=dn.ags, dataset=dn.dataset, monat=dn.month,
                           version=version, datei=av.archive_file, sha256=digest,
                           detail={"name": src.name, "bytes": st.st_size, "eingang": av.received_at}))


def _keep_unassignable(landing: Path, archive: Path, bad: list[Unassignable], digests: dict[str, str],
                       lauf: str | None, sums: _Checksums) -> list[dict]:
    """Copy every unassignable regular file into ``<archive>/_nicht_zuordenbar/kopien/`` (by
    content, once) and register it; returns the audit events of the files not seen before.
    Symbolic links, special, hidden and half-transferred files are registered, not copied."""
    qdir = archive / UNASSIGNABLE_DIR
    reg_path = qdir / "verzeichnis.json"
    register = json.loads(reg_path.read_text(encoding="utf-8")) if reg_path.exists() else {}
    events = []
    for u in bad:
        p = landing / u.path
        copy = u.kind not in ("verknuepfung", "versteckt") and not p.is_symlink() and p.is_file()
        if copy:
            try:
                u.sha256 = sums.of_file(u.path, p)
            except (FileNotFoundError, PermissionError):
                copy = False
        if u.kind == "doppelt" and u.sha256 and u.verwendet and digests.get(u.verwendet) == u.sha256:
            u.reason = (f"„{u.path}“ hat denselben Inhalt wie „{u.verwendet}“ (dieselbe Lieferung unter zwei Namen); "
                        "sie wird nur einmal archiviert.")
            copy = False
        if copy:
            ext = Path(u.path).suffix.lower()
            ext = ext if re.fullmatch(r"\.[a-z0-9]{1,8}", ext, re.ASCII) else ".bin"
            target = qdir / "kopien" / f"{u.sha256[:16]}{ext}"
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                if not _copy_verified(p, target, u.sha256):
                    continue
            u.kopie = target.relative_to(archive).as_posix()
        key = f"{u.path}|{u.sha256 or u.kind}"
        if key in register:
            continue
        st = p.lstat() if p.exists() or p.is_symlink() else None
        register[key] = {**u.as_dict(), "eingang": _received_at(st) if st else None}
        events.append(dict(ereignis="nicht_zuordenbar", lauf=lauf, ags=u.ags, monat=u.month, datei=u.kopie,
                           sha256=u.sha256, detail={"pfad": u.path, "art": u.kind, "grund": u.reason}))
    if events:
        qdir.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(reg_path, json.dumps(dict(sorted(register.items())), ensure_ascii=False, indent=1))
    return events
