"""What happens to one office-month: validate every new delivery version and stage it.

Belongs here: the order of datasets within an office-month, the cross-delivery context handed
to validation (previous month, same month's facilities), re-validation policy and the status
of an office-month that the Dagster asset checks and the delivery status report show.
Does not belong here: the checks themselves (``inobhut.validation``) or loading the warehouse
(``inobhut.load``).

Policy: a version is validated once per rule-catalogue version (``RULES_VERSION``) and set of
confirmations of its office, dataset and month; a rerun with unchanged rules and confirmations
reuses the stored verdict, so reruns are cheap and idempotent. Great Expectations runs once per
dataset over all versions validated in one call (:func:`validate_office_months`), not per file.
Beside the staging files of a version this module keeps ``v0001.pruefung.json`` (rules version,
confirmations fingerprint, counts per level, positions of confirmed findings).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from inobhut import archive as arc
from inobhut import atomic, faultpoint
from inobhut import staging as stg
from inobhut.calendar import add_months
from inobhut.config import Paths, office, settings
from inobhut.warehouse import VERDICT_REJECTED

# plaetze first: massnahmen checks its Einrichtung references against the same month's plaetze
DATASET_ORDER = ("plaetze", "personal", "massnahmen", "uma")
MISSING = "fehlt"


@dataclass
class DatasetStatus:
    dataset: str
    status: str  # "fehlt" or the verdict of the newest version
    newest_version: int | None = None
    in_force_version: int | None = None
    n_rows: int = 0
    n_fehler: int = 0
    n_hinweise: int = 0
    pruefbericht: str | None = None  # path relative to <out>
    validated_now: bool = False
    levels: dict = field(default_factory=dict)  # {"zeile"|"datensatz": {"fehler": n, "hinweise": n}}
    rules: dict = field(default_factory=dict)  # rule id -> findings (newest version)
    n_bestaetigt: int = 0

    def level(self, name: str) -> tuple[int, int]:
        """(Fehler, unconfirmed Hinweise) of the newest version at one level."""
        lv = self.levels.get(name, {})
        return int(lv.get("fehler", 0)), int(lv.get("hinweise", 0))


@dataclass
class OfficeMonthStatus:
    ags: str
    month: str
    datasets: list[DatasetStatus] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return any(d.status != MISSING for d in self.datasets)

    @property
    def rejected(self) -> list[DatasetStatus]:
        return [d for d in self.datasets if d.status == VERDICT_REJECTED]

    @property
    def with_warnings(self) -> list[DatasetStatus]:
        return [d for d in self.datasets if d.n_hinweise and d.status != VERDICT_REJECTED]

    @property
    def missing(self) -> list[str]:
        return [d.dataset for d in self.datasets if d.status == MISSING]


def in_force(paths: Paths, ags: str, dataset: str, month: str) -> tuple[arc.ArchivedVersion, stg.Verdict] | None:
    """The newest accepted version of (ags, dataset, month), if any."""
    for v in reversed(arc.list_versions(paths.archive, ags, dataset, month)):
        verdict = stg.read_verdict(paths.staging, v)
        if verdict is not None and verdict.accepted:
            return v, verdict
    return None


def in_force_frame(paths: Paths, ags: str, dataset: str, month: str) -> pd.DataFrame | None:
    hit = in_force(paths, ags, dataset, month)
    if hit is None:
        return None
    return stg.read_frame(paths.staging, hit[0])


def pruefbericht_dir(paths: Paths, ags: str) -> Path:
    return paths.out / "pruefberichte" / ags


def pruefbericht_name(v: arc.ArchivedVersion) -> str:
    return f"{v.dataset}_{v.month}_v{v.version}"


LEVEL_ROW, LEVEL_DATASET = "zeile", "datensatz"


def level_of(rule_id: str) -> str:
    """File and row level (D…, Z…) vs dataset level (S…): the two asset checks."""
    return LEVEL_DATASET if rule_id.startswith("S") else LEVEL_ROW


def _sidecar(paths: Paths, v: arc.ArchivedVersion) -> Path:
    return stg.version_dir(paths.staging, v) / f"v{v.version:04d}.pruefung.json"


def read_sidecar(paths: Paths, v: arc.ArchivedVersion) -> dict | None:
    """Per version, beside the staging files: rules version and confirmations it was validated
    with, counts per level and rule, positions of confirmed findings in the findings file."""
    p = _sidecar(paths, v)
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def confirmed_flags(staging: Path, v: arc.ArchivedVersion, n: int) -> list[bool]:
    """``bestaetigt`` for each row of the version's findings file (used by the warehouse load)."""
    p = stg.version_dir(staging, v) / f"v{v.version:04d}.pruefung.json"
    idx: set[int] = set()
    if p.exists():
        try:
            idx = set(json.loads(p.read_text(encoding="utf-8")).get("bestaetigt", []))
        except (OSError, ValueError):
            idx = set()
    return [i in idx for i in range(n)]


def _sidecar_data(result, fp: str) -> dict:
    levels = {LEVEL_ROW: {"fehler": 0, "hinweise": 0}, LEVEL_DATASET: {"fehler": 0, "hinweise": 0}}
    for f in result.findings:
        lv = levels[level_of(f.rule_id)]
        if f.severity == "Fehler":
            lv["fehler"] += 1
        elif not f.bestaetigt:
            lv["hinweise"] += 1
    data = {
        "rules_version": result.rules_version, "bestaetigungen": fp,
        "bestaetigt": [i for i, f in enumerate(result.findings) if f.bestaetigt],
        "ebenen": levels, "regeln": result.counts(),
    }
    return data


def _write_sidecar_data(paths: Paths, v: arc.ArchivedVersion, data: dict) -> None:
    p = _sidecar(paths, v)
    atomic.write_text(p, json.dumps(data, ensure_ascii=False, indent=1))


def gx_docs_dir(paths: Paths) -> Path:
    from inobhut.validation.expectations import DOCS_DIRNAME

    return paths.out / DOCS_DIRNAME


def office_lock(paths: Paths, ags: str):
    """The lock of an office's staging files and Prüfberichte: two runs at the same time (two
    ``inobhut run``, the sensor beside the schedule) validate an office one after the other;
    the second finds the verdicts of the first and has nothing left to do."""
    from filelock import FileLock

    d = paths.staging / ags
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(str(d / ".validierung.lock"))


def validate_office_months(paths: Paths, ags: str, months: list[str], key: bytes, *,
                           data_docs: bool = True) -> tuple[list[OfficeMonthStatus], Any]:
    """Validate and stage every not yet validated version of the office in ``months`` (under
    the office's lock, see :func:`office_lock`)."""
    with office_lock(paths, ags):
        return _validate_office_months(paths, ags, months, key, data_docs=data_docs)


def _validate_office_months(paths: Paths, ags: str, months: list[str], key: bytes, *,
                            data_docs: bool = True) -> tuple[list[OfficeMonthStatus], Any]:
    """Validate and stage every not yet validated version of the office in ``months``.

    A version is (re)validated when it has no verdict, was validated with another rule
    catalogue or with other confirmations. Order: file and row level of every pending
    version; ONE Great Expectations run per dataset over all of them; then month by month
    (plaetze first) the cross-delivery checks, whose context (previous month's version in
    force, same month's facilities) is known by then, because only Fehler decide acceptance
    and the cross-delivery checks raise Hinweise only. Returns the statuses and the GX run."""
    from inobhut.confirmations import confirmation_keys, fingerprint, read_confirmations
    from inobhut.validation import RULES_VERSION, ValidationContext, finish, run_expectations

    st_settings = settings()
    confs = read_confirmations(paths.landing, ags)
    months = sorted(set(months))
    keys_of: dict[tuple[str, str], set] = {}
    versions_of: dict[tuple[str, str], list[arc.ArchivedVersion]] = {}
    todo: list[tuple[tuple[str, str, int], arc.ArchivedVersion]] = []
    for month in months:
        for dataset in DATASET_ORDER:
            versions = arc.list_versions(paths.archive, ags, dataset, month)
            versions_of[(month, dataset)] = versions
            if not versions:
                continue
            keys = confirmation_keys(confs, ags=ags, dataset=dataset, month=month, key=key)
            keys_of[(month, dataset)] = keys
            fp = fingerprint(keys)
            for v in versions:
                verdict = stg.read_verdict(paths.staging, v)
                side = read_sidecar(paths, v)
                if (verdict is None or verdict.rules_version != RULES_VERSION or side is None
                        or side.get("bestaetigungen") != fp or side.get("rules_version") != RULES_VERSION):
                    todo.append(((month, dataset, v.version), v))
    # 1. file and row level: per dataset in chunks (one pandera pass per chunk), on all cores
    chunks = _prepare_chunks(todo, paths, ags, key, st_settings)
    done = [p for chunk in _parallel(_prepare_job, chunks, min_jobs=2 if len(todo) >= 8 else len(chunks) + 1) for p in chunk]
    pending: dict[tuple[str, str, int], Any] = dict(zip((k for ch in chunks for k in ch[0]), done))
    items = [p.item for p in pending.values() if p.item is not None]
    gx_run = None
    if items:
        # 2. dataset level with Great Expectations: ONE run per dataset over all versions
        gx_run = run_expectations(items, st_settings, docs_dir=gx_docs_dir(paths) if data_docs else None,
                                  run_name=f"{ags} {months[0]}–{months[-1]}")
    # 2b. versions whose cross-delivery context changes in this run (a correction of the previous
    #     month or of the same month's plaetze changes the version in force): their checks run again
    changed = _context_changed(paths, ags, months, versions_of, pending)
    if changed:
        again = _prepare_chunks(changed, paths, ags, key, st_settings)
        redone = [p for chunk in _parallel(_prepare_job, again, min_jobs=len(again) + 1) for p in chunk]
        more = dict(zip((k for ch in again for k in ch[0]), redone))
        extra = [p.item for p in more.values() if p.item is not None]
        if extra:
            run_expectations(extra, st_settings, docs_dir=None, run_name=f"{ags} Kontext")
        pending.update(more)
    # 3. month by month: cross-delivery checks; the in-force frames are kept in memory, the
    #    Prüfberichte and staging files are written afterwards (again on all cores)
    forced: dict[tuple[str, str], pd.DataFrame | None] = {}
    forced_id: dict[tuple[str, str], str | None] = {}

    def force_frame(dataset: str, month: str) -> pd.DataFrame | None:
        if (dataset, month) not in forced:
            hit = in_force(paths, ags, dataset, month)
            forced[(dataset, month)] = None if hit is None else stg.read_frame(paths.staging, hit[0])
            forced_id[(dataset, month)] = None if hit is None else version_id(hit[0])
        return forced[(dataset, month)]

    writes: list[tuple] = []
    before_confirmed: dict[tuple[str, str, int], int] = {}
    statuses = []
    for month in months:
        status = OfficeMonthStatus(ags, month)
        plaetze_ids: set[str] | None = None
        for dataset in DATASET_ORDER:
            ds = DatasetStatus(dataset, MISSING)
            keys = keys_of.get((month, dataset), set())
            for v in versions_of[(month, dataset)]:
                prep = pending.get((month, dataset, v.version))
                if prep is not None:
                    prev = force_frame(dataset, add_months(month, -1))
                    context = ValidationContext(
                        previous=prev, previous_rows=None if prev is None else len(prev),
                        plaetze_ids=plaetze_ids if dataset == "massnahmen" else None,
                        confirmations=keys, settings=st_settings,
                    )
                    result = finish(prep, context)
                    meta = {
                        "ags": ags, "office_name": office(ags).label, "dataset": dataset, "month": month,
                        "version": v.version, "file_name": v.file_name, "sha256": v.sha256,
                        "received_at": v.received_at, "base_name": pruefbericht_name(v),
                    }
                    verdict = stg.Verdict(
                        verdict=result.verdict, n_rows=int(result.n_rows), n_fehler=result.n_fehler,
                        n_hinweise=result.n_hinweise, rules_version=RULES_VERSION, encoding=result.encoding,
                        delimiter=result.delimiter, fehlanzeige=result.fehlanzeige,
                    )
                    side = _sidecar_data(result, fingerprint(keys))
                    side["kontext"] = {"vormonat": forced_id.get((dataset, add_months(month, -1)))}
                    if dataset == "massnahmen":
                        force_frame("plaetze", month)
                        side["kontext"]["plaetze"] = forced_id.get(("plaetze", month))
                    writes.append((paths, v, verdict, result, meta, side))
                    before_confirmed[(v.dataset, v.month, v.version)] = len((read_sidecar(paths, v) or {}).get("bestaetigt", []))
                    if verdict.accepted:
                        forced[(dataset, month)] = result.frame
                        forced_id[(dataset, month)] = version_id(v)
                    ds.validated_now = True
                else:
                    verdict = stg.read_verdict(paths.staging, v)
                    side = read_sidecar(paths, v) or {}
                ds.status = verdict.verdict
                ds.newest_version = v.version
                ds.n_rows, ds.n_fehler, ds.n_hinweise = verdict.n_rows, verdict.n_fehler, verdict.n_hinweise
                ds.levels = side.get("ebenen", {})
                ds.rules = side.get("regeln", {})
                ds.n_bestaetigt = len(side.get("bestaetigt", []))
                ds.pruefbericht = f"pruefberichte/{ags}/{pruefbericht_name(v)}.html"
                if verdict.accepted:
                    ds.in_force_version = v.version
            if dataset == "plaetze":
                frame = force_frame("plaetze", month)
                plaetze_ids = None if frame is None else set(frame["einrichtung"].dropna().astype(str))
            status.datasets.append(ds)
        statuses.append(status)
    _parallel(_write_job, writes)
    _record_verdicts(paths, writes, before_confirmed)
    return statuses, gx_run


def version_id(v: arc.ArchivedVersion) -> str:
    """Identity of a version as cross-delivery context (stored with the checks that used it)."""
    return f"{v.version}:{v.sha256[:16]}"


def _context_changed(paths: Paths, ags: str, months: list[str], versions_of: dict, pending: dict) -> list:
    """Already validated versions whose cross-delivery context (previous month's version in force;
    for massnahmen also the same month's plaetze in force) differs from the one they were checked
    with -- judged by the versions in force AFTER this run (only Fehler decide acceptance, and
    those are known once the file, row and GX levels of the pending versions have run).
    Versions checked before the context was recorded are left alone."""
    def accepted(v: arc.ArchivedVersion) -> bool:
        prep = pending.get((v.month, v.dataset, v.version))
        if prep is not None:
            return not prep.has_fehler
        verdict = stg.read_verdict(paths.staging, v)
        return verdict is not None and verdict.accepted

    cache: dict[tuple[str, str], str | None] = {}

    def force_id(dataset: str, month: str) -> str | None:
        if (dataset, month) not in cache:
            versions = versions_of.get((month, dataset))
            if versions is None:
                versions = arc.list_versions(paths.archive, ags, dataset, month)
            ok = [v for v in versions if accepted(v)]
            cache[(dataset, month)] = version_id(ok[-1]) if ok else None
        return cache[(dataset, month)]

    out = []
    for month in months:
        for dataset in DATASET_ORDER:
            for v in versions_of.get((month, dataset), []):
                if (month, dataset, v.version) in pending:
                    continue
                ctx = (read_sidecar(paths, v) or {}).get("kontext")
                if ctx is None:
                    continue
                now = {"vormonat": force_id(dataset, add_months(month, -1))}
                if dataset == "massnahmen":
                    now["plaetze"] = force_id("plaetze", month)
                if ctx != now:
                    out.append(((month, dataset, v.version), v))
    return out


def _record_verdicts(paths: Paths, writes: list[tuple], before_confirmed: dict) -> None:
    """Audit events once the staging files are written: the verdict of every (re)validated
    version, and confirmations that newly took effect (rule ids and counts only, no keys)."""
    from inobhut import audit

    events = []
    for _, v, verdict, result, _, side in writes:
        events.append(dict(ereignis="urteil", ags=v.ags, dataset=v.dataset, monat=v.month, version=v.version, sha256=v.sha256,
                           detail={"ergebnis": verdict.verdict, "zeilen": verdict.n_rows, "fehler": verdict.n_fehler,
                                   "hinweise": verdict.n_hinweise, "regelwerk": verdict.rules_version}))
        confirmed = side.get("bestaetigt", [])
        new = len(confirmed) - before_confirmed.get((v.dataset, v.month, v.version), 0)
        if new > 0:
            events.append(dict(ereignis="bestaetigung", ags=v.ags, dataset=v.dataset, monat=v.month, version=v.version,
                               detail={"bestaetigte_hinweise": len(confirmed), "neu": new,
                                       "regeln": sorted({result.findings[i].rule_id for i in confirmed})}))
    audit.record_many(paths.archive, events)


MAX_CHUNK = 120  # files per pandera pass: bounds the memory of one batch


def _prepare_chunks(todo: list, paths: Paths, ags: str, key: bytes, st_settings: dict) -> list[tuple]:
    """The pending versions grouped by dataset and cut into about one chunk per core:
    ``(keys, files, ags, dataset, key, settings, sha256s)``."""
    by_dataset: dict[str, list] = {}
    for k, v in todo:
        by_dataset.setdefault(k[1], []).append((k, (v.path(paths.archive), k[0]), v.sha256))
    workers = _workers()
    chunks = []
    for dataset, items in by_dataset.items():
        size = min(MAX_CHUNK, max(1, -(-len(items) // workers)))
        for i in range(0, len(items), size):
            part = items[i:i + size]
            chunks.append(([k for k, _, _ in part], [f for _, f, _ in part], ags, dataset, key, st_settings,
                           [sha for _, _, sha in part]))
    return chunks


class ArchiveDamaged(Exception):
    """An archived file whose bytes no longer match its checksum (German message)."""


def _prepare_job(job: tuple):
    """File and row level of a chunk of archived versions. Each archived file is read and
    checked against its sha256 first: a file that cannot be read (no permission, I/O error) or
    was changed fails the run with an OSError / :class:`ArchiveDamaged` -- it is never turned
    into a finding of the delivery (that verdict would be stored and outlive the repair of the
    disk)."""
    from inobhut.validation.checks import prepare_many

    _, files, ags, dataset, key, st_settings, shas = job
    for (path, _), sha in zip(files, shas):
        if arc.sha256_file(path) != sha:
            raise ArchiveDamaged(f"Die Archivdatei {path} stimmt nicht mehr mit ihrer Prüfsumme überein; inobhut ändert das "
                                 "Archiv nie – bitte die Datei aus der Datensicherung zurückspielen, dann „inobhut run“ erneut starten.")
    return prepare_many(files, ags=ags, dataset=dataset, key=key, settings=st_settings)


def _write_job(job: tuple) -> None:
    """Prüfbericht (HTML, Excel, JSON), the per-version check summary and the staging files;
    the verdict JSON is written last, so a version counts as validated only when complete."""
    from inobhut.pruefbericht import write_pruefbericht

    paths, v, verdict, result, meta, side = job
    write_pruefbericht(result, meta, pruefbericht_dir(paths, v.ags))
    _write_sidecar_data(paths, v, side)
    stg.write_version(paths.staging, v, verdict, result.frame, result.findings)
    faultpoint.reached("validation")


_JOBS: list | None = None


def _run_global(args: tuple):
    fn, i = args
    return fn(_JOBS[i])


def _workers() -> int:
    return min(os.cpu_count() or 1, 4)


def _parallel(fn, jobs: list, min_jobs: int = 8) -> list:
    """``[fn(j) for j in jobs]``, on all cores for larger batches (fork: the workers inherit the
    inputs, only results travel back). The work is CPU-bound pure Python (parsing, pandera),
    so threads would not help."""
    global _JOBS
    workers = _workers()
    if workers < 2 or len(jobs) < min_jobs or "fork" not in mp.get_all_start_methods():
        return [fn(j) for j in jobs]
    _JOBS = jobs
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            return list(pool.map(_run_global, [(fn, i) for i in range(len(jobs))], chunksize=1 if min_jobs < 8 else 4))
    finally:
        _JOBS = None


def build_network_data_docs(paths: Paths, months: list[str]):
    """Validate the versions in force of every member office for ``months`` with the GX suites
    (one validation per dataset and frame) and update the one Data Docs site."""
    from inobhut.config import office_keys
    from inobhut.validation.expectations import Item

    items, received, versions = [], [], []
    for month in months:
        for ags in office_keys():
            for dataset in DATASET_ORDER:
                hit = in_force(paths, ags, dataset, month)
                if hit is None:
                    continue
                frame = stg.read_frame(paths.staging, hit[0])
                received.append(hit[0].received_at)
                versions.append([ags, dataset, month, hit[0].version, hit[0].sha256])
                if len(frame):
                    items.append(Item(ags, dataset, frame, None))
    if not items:
        return None
    from filelock import FileLock

    paths.out.mkdir(parents=True, exist_ok=True)
    paths.staging.mkdir(parents=True, exist_ok=True)
    # one site, one writer at a time; the lock file lives in staging, not among the outputs
    with FileLock(str(paths.staging / ".gx_data_docs.lock")):
        return _update_data_docs(paths, months, items, received, versions)


def _update_data_docs(paths: Paths, months: list[str], items: list, received: list, versions: list):
    import datetime as dt

    from inobhut.validation import run_expectations

    # GX writes run times and random ids into its pages: rebuild only when the versions in force
    # changed, so that a rerun on the same inputs leaves the site (and everything else) untouched
    import hashlib

    stand = hashlib.sha256(json.dumps(sorted(versions), ensure_ascii=False).encode()).hexdigest()
    marker = gx_docs_dir(paths) / ".stand" / f"{months[0]}_{months[-1]}.txt"
    if marker.exists() and marker.read_text(encoding="utf-8") == stand:
        return None
    run_time = dt.datetime.fromisoformat(max(received))
    run = run_expectations(items, settings(), docs_dir=gx_docs_dir(paths),
                           run_name=f"Verbünde {months[0]}–{months[-1]}", run_time=run_time)
    atomic.write_text(marker, stand)
    return run


def validate_office_month(paths: Paths, ags: str, month: str, key: bytes) -> OfficeMonthStatus:
    """Validate and stage every not yet validated version of one office-month."""
    return validate_office_months(paths, ags, [month], key)[0][0]
