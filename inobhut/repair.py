"""Damaged derived state: detecting it and rebuilding it from the archive, never touching the archive.

Belongs here: checking the warehouse (every table read completely, so a torn or truncated DuckDB
file is found) and the staging files of every archived version (verdict and check-summary JSON
parse, Parquet files complete), verifying the archive against its checksums, putting damaged
derived files aside, and the German messages about all of this. Does not belong here: running the
pipeline (``pipelines.runner``) -- a repair removes what is derived and lets the next run rebuild it
from the archive (the run validates every version without a verdict and loads every month whose
load state is missing).

The archive is only ever read here. A damaged warehouse is moved aside to
``<warehouse>.beschaedigt`` (for inspection; the next damage replaces it), damaged staging files
of a version are removed (they are re-created from the archived file by the next run).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from inobhut import archive as arc
from inobhut import atomic
from inobhut import staging as stg
from inobhut.config import Paths

PARQUET_MAGIC = b"PAR1"
ASIDE_SUFFIX = ".beschaedigt"


@dataclass
class Damage:
    kind: str  # "warehouse" | "staging"
    path: Path
    detail: str  # German, short
    version: arc.ArchivedVersion | None = None

    def message(self) -> str:
        if self.kind == "warehouse":
            return f"Das Warehouse {self.path} ist beschädigt ({self.detail})."
        return f"Staging-Datei {self.path} ist beschädigt ({self.detail}); betroffen: {self.version.label}."


@dataclass
class ArchiveCheck:
    versions: int = 0
    problems: list[str] = field(default_factory=list)  # German, one per bad file

    @property
    def intact(self) -> bool:
        return not self.problems

    def message(self) -> str:
        if self.intact:
            return f"Das Archiv ist unversehrt ({self.versions} Lieferversionen, jede Prüfsumme stimmt)."
        return ("Das Archiv ist NICHT unversehrt – bitte die betroffenen Dateien aus der Datensicherung "
                "zurückspielen (inobhut ändert das Archiv nie selbst): " + "; ".join(self.problems))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def check_warehouse(path: Path) -> Damage | None:
    """Open the DuckDB file and read every column of every table (a torn file fails here,
    not in the middle of a run). None if intact or absent. Takes the warehouse lock."""
    import duckdb
    from filelock import FileLock

    path = Path(path)
    if not path.exists():
        return None
    with FileLock(str(path) + ".lock", timeout=600):
        try:
            con = duckdb.connect(str(path))
        except duckdb.Error as exc:
            return Damage("warehouse", path, f"lässt sich nicht öffnen: {_short(exc)}")
        try:
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
            for t in tables:
                con.execute(f'SELECT bit_xor(hash(COLUMNS(*))) FROM "{t}"').fetchall()
        except duckdb.Error as exc:
            return Damage("warehouse", path, f"nicht vollständig lesbar: {_short(exc)}")
        finally:
            con.close()
    return None


def _parquet_complete(p: Path) -> str | None:
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(4)
            fh.seek(max(size - 4, 0))
            tail = fh.read(4)
    except OSError as exc:
        return f"nicht lesbar: {exc.strerror or exc}"
    if size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        return "unvollständige Parquet-Datei"
    return None


def _json_ok(p: Path) -> str | None:
    try:
        json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"kein gültiges JSON: {_short(exc)}"
    return None


def check_staging_version(staging: Path, v: arc.ArchivedVersion, since_ns: int | None = None) -> Damage | None:
    """The first damaged staging file of a version, if any (absent files are not damage:
    a version without a verdict is simply not validated yet). With ``since_ns``: None without
    reading anything when neither the version's files nor its directory changed since then
    (status change time, which no program can set back)."""
    stem = f"v{v.version:04d}"
    if since_ns is not None and _unchanged_since(os.path.join(staging, v.ags, v.dataset, v.month), stem, since_ns):
        return None
    d = stg.version_dir(staging, v)
    verdict_p = d / f"{stem}.json"
    for p in (verdict_p, d / f"{stem}.pruefung.json"):
        if p.exists() and (err := _json_ok(p)):
            return Damage("staging", p, err, v)
    for p in (d / f"{stem}.parquet", d / f"{stem}.findings.parquet"):
        if p.exists() and (err := _parquet_complete(p)):
            return Damage("staging", p, err, v)
    if verdict_p.exists():
        verdict = stg.read_verdict(staging, v)
        if verdict is not None and verdict.accepted and not (d / f"{stem}.parquet").exists():
            return Damage("staging", d / f"{stem}.parquet", "fehlt, obwohl die Version angenommen ist", v)
    return None


STAGING_FILES = ("{stem}.json", "{stem}.pruefung.json", "{stem}.parquet", "{stem}.findings.parquet")
_STAGING_SUFFIXES = tuple(n.removeprefix("{stem}") for n in STAGING_FILES)


def _unchanged_since(d: str, stem: str, since_ns: int) -> bool:
    """Neither the directory (a file added, removed or renamed) nor any staging file of the
    version changed its status (content, size, name, mode) at or after ``since_ns``. Plain
    strings put together by concatenation: 130,000 paths on ten years of history (pathlib's
    objects took half of the time, ``os.path.join`` and ``str.format`` a third of the rest)."""
    base = d + os.sep + stem
    for p in (d, *(base + suffix for suffix in _STAGING_SUFFIXES)):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            continue
        except OSError:
            return False
        if st.st_ctime_ns >= since_ns or st.st_mtime_ns >= since_ns:
            return False
    return True


# ``<staging>/.unversehrt``: when the last start-of-run check that found nothing damaged began
# (less CHECK_MARGIN_NS: file times come from the kernel's coarse clock, which may lag behind).
# The next check reads only versions changed since: a torn file is the result of a write, and
# every write changes the file's status change time. A missing, unreadable or future time (the
# clock was set back) means a full check.
CLEAN_MARKER = ".unversehrt"
CHECK_MARGIN_NS = 60 * 10**9


def _last_clean(staging: Path, now_ns: int) -> int | None:
    try:
        t = int((staging / CLEAN_MARKER).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return t if 0 < t <= now_ns else None


def _mark_clean(staging: Path, started_ns: int) -> None:
    if staging.is_dir():
        atomic.write_text(staging / CLEAN_MARKER, f"{started_ns - CHECK_MARGIN_NS}\n")


def check_staging(paths: Paths, since_ns: int | None = None) -> list[Damage]:
    """Damaged staging files of every archived version (of those changed since ``since_ns``;
    an unchanged version's sidecar is not even read)."""
    if since_ns is None:
        versions = arc.list_versions(paths.archive)
    else:
        staging, sep = str(paths.staging), os.sep
        versions = [arc.read_sidecar(sidecar) for ags, ds, month, version, sidecar in arc.version_slots(paths.archive)
                    if not _unchanged_since(staging + sep + ags + sep + ds + sep + month, f"v{version:04d}", since_ns)]
    return [dmg for v in versions if (dmg := check_staging_version(paths.staging, v, since_ns))]


def confirm_staging_intact(paths: Paths) -> bool:
    """The start check's staging part for what a run has just written, done at the run's end:
    every version changed since the last clean check is checked now and, when none is damaged,
    the marker moves to now, so that the next start reads none of them. Meant for runs that
    wrote very many versions (a backfill, see ``pipelines.runner``): otherwise the nightly run
    after it reads them all (ten years: ~14 s of its start). Repairs nothing: damage found here
    leaves the marker where it was, and the next start finds and repairs it."""
    started = time.time_ns()
    if check_staging(paths, _last_clean(paths.staging, started)):
        return False
    _mark_clean(paths.staging, started)
    return True


def check_archive(paths: Paths) -> ArchiveCheck:
    """Every archived version: file readable and its sha256 equal to the sidecar's (read only)."""
    res = ArchiveCheck()
    for v in arc.list_versions(paths.archive):
        res.versions += 1
        p = v.path(paths.archive)
        try:
            if arc.sha256_file(p) != v.sha256:
                res.problems.append(f"{p}: Prüfsumme stimmt nicht")
        except OSError as exc:
            res.problems.append(f"{p}: nicht lesbar ({exc.strerror or exc})")
    return res


def set_warehouse_aside(path: Path) -> Path:
    """Move a damaged warehouse (and its WAL) to ``<file>.beschaedigt``; returns that path."""
    path = Path(path)
    aside = path.with_name(path.name + ASIDE_SUFFIX)
    os.replace(path, aside)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + ".wal"))
    return aside


def drop_staging_version(staging: Path, v: arc.ArchivedVersion) -> None:
    """Remove a version's staging files, the verdict first (so it counts as not validated)."""
    d = stg.version_dir(staging, v)
    stem = f"v{v.version:04d}"
    for name in STAGING_FILES:  # the verdict first
        (d / name.format(stem=stem)).unlink(missing_ok=True)


@dataclass
class Repair:
    damages: list[Damage] = field(default_factory=list)
    months: set[str] = field(default_factory=set)  # months the next run must cover to rebuild
    archive: ArchiveCheck | None = None
    aside: Path | None = None

    def messages(self) -> list[str]:
        out = [d.message() for d in self.damages]
        if self.damages:
            if self.aside is not None:
                out.append(f"Das beschädigte Warehouse wurde nach {self.aside} verschoben; es wird aus Archiv und "
                           "Staging neu aufgebaut (alle Monate).")
            if any(d.kind == "staging" for d in self.damages):
                out.append("Die betroffenen Versionen werden aus dem Archiv neu geprüft.")
            if self.archive is not None:
                out.append(self.archive.message())
        return out


def repair_derived_state(paths: Paths) -> Repair:
    """Check warehouse and staging; put damaged derived state aside so that the next run rebuilds
    it, and say which months that run must cover. Safe: only derived files are touched."""
    rep = Repair()
    started = time.time_ns()
    wh = check_warehouse(paths.warehouse)
    st = check_staging(paths, _last_clean(paths.staging, started))
    if wh is None and not st:
        _mark_clean(paths.staging, started)
        return rep
    rep.archive = check_archive(paths)
    if wh is not None:
        rep.damages.append(wh)
        rep.aside = set_warehouse_aside(paths.warehouse)
        rep.months |= {v.month for v in arc.list_versions(paths.archive)}
    for dmg in st:
        rep.damages.append(dmg)
        drop_staging_version(paths.staging, dmg.version)
        rep.months.add(dmg.version.month)
    return rep


def clear_derived_state(paths: Paths) -> tuple[Path | None, int]:
    """For ``inobhut reparieren``: move the warehouse aside and remove the whole staging area, so
    that the next run rebuilds both from the archive. Returns (aside path, staging files removed)."""
    aside = set_warehouse_aside(paths.warehouse) if paths.warehouse.exists() else None
    n = 0
    if paths.staging.exists():
        n = sum(1 for p in paths.staging.rglob("*") if p.is_file())
        shutil.rmtree(paths.staging)
    return aside, n
