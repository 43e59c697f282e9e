"""The archive: every delivered file, byte for byte, with its checksum, before anything else.

Belongs here: discovering delivery files in the landing zone, deciding whether a file is a new
version, copying it unchanged into the archive (atomically, verified by sha256) and the version
registry (one JSON sidecar per version). Does not belong here: reading file contents.

Layout: ``<archive>/<ags>/<dataset>/<YYYY-MM>/v0001_<sha12>.<ext>`` plus ``v0001.json``.
A file whose sha256 equals the newest archived version of the same (ags, dataset, month) is not
a new version; any other content is the next version (a Korrekturlieferung).
Unassignable files (wrong place, wrong name, not a member office) are reported and left untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from filelock import FileLock

from inobhut import atomic, faultpoint
from inobhut.naming import DeliveryName, NameError_, parse_name

CONFIRMATIONS_FILE = "bestaetigungen.csv"


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
class Unassignable:
    path: str  # relative to the landing zone
    reason: str  # German


@dataclass
class IntakeSummary:
    new_versions: list[ArchivedVersion] = field(default_factory=list)
    unchanged: int = 0
    unassignable: list[Unassignable] = field(default_factory=list)

    @property
    def months(self) -> list[str]:
        return sorted({v.month for v in self.new_versions})


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
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


def list_versions(archive: Path, ags: str | None = None, dataset: str | None = None, month: str | None = None) -> list[ArchivedVersion]:
    """All archived versions matching the filters, sorted by (ags, dataset, month, version)."""
    pattern = "/".join([ags or "*", dataset or "*", month or "*", "v[0-9][0-9][0-9][0-9].json"])
    out = []
    if not archive.exists():
        return out
    for sidecar in archive.glob(pattern):
        out.append(ArchivedVersion(**json.loads(sidecar.read_text(encoding="utf-8"))))
    out.sort(key=lambda v: (v.ags, v.dataset, v.month, v.version))
    return out


def _atomic_write_text(path: Path, text: str) -> None:
    atomic.write_text(path, text, fsync=True)


def _scan_landing(landing: Path, members: set[str]) -> tuple[list[tuple[Path, DeliveryName]], list[Unassignable]]:
    found: list[tuple[Path, DeliveryName]] = []
    bad: list[Unassignable] = []
    if not landing.exists():
        return found, bad
    for root, dirs, files in os.walk(landing, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rootp = Path(root)
        for name in sorted(files):
            p = rootp / name
            rel = p.relative_to(landing).as_posix()
            if name.startswith(".") or name.endswith((".tmp", ".part", "~")):
                continue  # hidden or still being written
            if name == CONFIRMATIONS_FILE and len(Path(rel).parts) == 2:
                continue  # the office's confirmations of Hinweise (inobhut.confirmations), not a delivery
            if p.is_symlink() or not p.is_file():
                bad.append(Unassignable(rel, "Verknüpfungen und Sonderdateien werden nicht angenommen."))
                continue
            parts = Path(rel).parts
            if len(parts) != 2:
                bad.append(Unassignable(rel, "Die Datei liegt nicht im Ordner eines Jugendamts (<Eingang>/<Schlüssel>/<Datei>)."))
                continue
            try:
                dn = parse_name(name)
            except NameError_ as exc:
                bad.append(Unassignable(rel, str(exc)))
                continue
            if dn.ags not in members:
                bad.append(Unassignable(rel, f"„{dn.ags}“ ist kein Mitglieds-Jugendamt."))
                continue
            if parts[0] != dn.ags:
                bad.append(Unassignable(rel, f"Die Datei für {dn.ags} liegt im Ordner „{parts[0]}“; sie gehört in den Ordner „{dn.ags}“."))
                continue
            found.append((p, dn))
    return found, bad


def pending_files(landing: Path, archive: Path, members: set[str]) -> list[tuple[Path, DeliveryName]]:
    """Delivery files in the landing zone whose content is not the newest archived version."""
    found, _ = _scan_landing(landing, members)
    newest = {}
    for v in list_versions(archive):
        newest[(v.ags, v.dataset, v.month)] = v
    out = []
    for p, dn in found:
        last = newest.get((dn.ags, dn.dataset, dn.month))
        if last is None or last.size_bytes != p.stat().st_size or last.sha256 != sha256_file(p):
            out.append((p, dn))
    return out


def intake(landing: Path, archive: Path, members: set[str]) -> IntakeSummary:
    """Archive every new delivery version found in the landing zone.

    The copy is written to a temporary name, verified against the sha256 of the source and
    then renamed; the sidecar JSON is written last, so a version exists only when complete."""
    archive.mkdir(parents=True, exist_ok=True)
    summary = IntakeSummary()
    with FileLock(str(archive / ".archive.lock"), timeout=600):
        found, summary.unassignable = _scan_landing(landing, members)
        for src, dn in found:
            digest = sha256_file(src)
            vdir = _version_dir(archive, dn.ags, dn.dataset, dn.month)
            existing = list_versions(archive, dn.ags, dn.dataset, dn.month)
            if existing and existing[-1].sha256 == digest:
                summary.unchanged += 1
                continue
            version = (existing[-1].version + 1) if existing else 1
            vdir.mkdir(parents=True, exist_ok=True)
            target = vdir / f"v{version:04d}_{digest[:12]}.{dn.ext}"
            tmp = atomic.temp_path_for(target)
            try:
                shutil.copyfile(src, tmp)
                faultpoint.reached("intake")
                if sha256_file(tmp) != digest:  # the source changed while we copied it: try next run
                    tmp.unlink()
                    continue
                os.replace(tmp, target)
            except BaseException:  # a full disk, a killed copy: no half file stays behind
                tmp.unlink(missing_ok=True)
                raise
            st = src.stat()
            av = ArchivedVersion(
                ags=dn.ags, dataset=dn.dataset, month=dn.month, version=version, file_name=src.name,
                sha256=digest, size_bytes=st.st_size,
                received_at=dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(microsecond=0).isoformat(),
                archive_file=target.relative_to(archive).as_posix(),
            )
            _atomic_write_text(vdir / f"v{version:04d}.json", json.dumps(asdict(av), ensure_ascii=False, indent=1))
            summary.new_versions.append(av)
    return summary
