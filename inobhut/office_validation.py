"""Validating and staging the pending delivery versions of one office or of many offices at once.

Belongs here: which versions are pending (no verdict, another rule catalogue, other
confirmations), the order of the work and how it is batched: the file and row level of all
pending versions in chunks per dataset (one row-level pass per chunk, on all cores, across
offices), ONE Great Expectations run per dataset over all pending versions of all offices of
the call, then office by office and month by month (plaetze first) the cross-delivery checks,
and finally the Prüfberichte and staging files (again on all cores) and the audit events.

Why many offices at once: every call has a fixed cost (a GX context and two validations per
dataset, a pool of worker processes, a row-level pass per chunk) that dominated the nightly run
when each of the 50 office steps paid it (issue 12: GX alone was about half of the run). The
office assets of a network are one step (``pruefung_<verbund>``) that validates all its selected
offices in a few such calls. The findings are the same as office by office: every
GX expectation is per version (``_lieferung`` is part of the compound key, the shares are one
row per version) and every pandera check is row-local.

Not here: the checks themselves (:mod:`inobhut.validation`), the status an office step reports
and the sidecar format (:mod:`inobhut.processing`).
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from inobhut import archive as arc
from inobhut import faultpoint
from inobhut import staging as stg
from inobhut.calendar import add_months
from inobhut.config import Paths, office, settings
from inobhut.parallel import parallel, workers
from inobhut.processing import (
    DATASET_ORDER,
    MISSING,
    DatasetStatus,
    OfficeMonthStatus,
    _sidecar_data,
    _write_sidecar_data,
    gx_docs_dir,
    in_force,
    office_lock,
    pruefbericht_dir,
    pruefbericht_name,
    read_sidecar,
    version_id,
)

MAX_CHUNK = 120  # files per row-level pass: bounds the memory of one batch
# pending versions validated together (offices are added whole until this is reached): bounds
# the memory of one batch (frames, raw values, findings) at ten years of history
MAX_BATCH_VERSIONS = 1000

Key = tuple[str, str, str, int]  # (ags, month, dataset, version)


@dataclass
class _Plan:
    """What one office has in the months of the call, and what of it is pending."""

    ags: str
    months: list[str]
    keys_of: dict[tuple[str, str], set] = field(default_factory=dict)
    versions_of: dict[tuple[str, str], list[arc.ArchivedVersion]] = field(default_factory=dict)
    todo: list[tuple[Key, arc.ArchivedVersion]] = field(default_factory=list)


def _plan(paths: Paths, ags: str, months: list[str], key: bytes) -> _Plan:
    """A version is (re)validated when it has no verdict, was validated with another rule
    catalogue or with other confirmations."""
    from inobhut.confirmations import confirmation_keys, fingerprint, read_confirmations
    from inobhut.validation import RULES_VERSION

    confs = read_confirmations(paths.landing, ags)
    plan = _Plan(ags, months)
    for month in months:
        for dataset in DATASET_ORDER:
            versions = arc.list_versions(paths.archive, ags, dataset, month)
            plan.versions_of[(month, dataset)] = versions
            if not versions:
                continue
            keys = confirmation_keys(confs, ags=ags, dataset=dataset, month=month, key=key)
            plan.keys_of[(month, dataset)] = keys
            fp = fingerprint(keys)
            for v in versions:
                verdict = stg.read_verdict(paths.staging, v)
                side = read_sidecar(paths, v)
                if (verdict is None or verdict.rules_version != RULES_VERSION or side is None
                        or side.get("bestaetigungen") != fp or side.get("rules_version") != RULES_VERSION):
                    plan.todo.append(((ags, month, dataset, v.version), v))
    return plan


def validate_offices(paths: Paths, offices: list[str], months: list[str], key: bytes, *,
                     data_docs: bool = False, run_name: str | None = None) -> dict[str, tuple[list[OfficeMonthStatus], Any]]:
    """Validate and stage every pending version of ``offices`` in ``months``; per office its
    statuses (one per month) and the GX run that covered it (None when nothing was pending).

    Offices are taken in batches of about :data:`MAX_BATCH_VERSIONS` pending versions; each batch
    holds the locks of its offices (sorted, so two runs never wait for each other crosswise)."""
    months = sorted(set(months))
    out: dict[str, tuple[list[OfficeMonthStatus], Any]] = {}
    rest = sorted(set(offices))
    while rest:
        with ExitStack() as locks:
            plans: list[_Plan] = []
            n = 0
            while rest and (not plans or n < MAX_BATCH_VERSIONS):
                ags = rest.pop(0)
                locks.enter_context(office_lock(paths, ags))
                plans.append(_plan(paths, ags, months, key))
                n += len(plans[-1].todo)
            out.update(_validate_batch(paths, plans, months, key, data_docs=data_docs, run_name=run_name))
    return out


def _validate_batch(paths: Paths, plans: list[_Plan], months: list[str], key: bytes, *,
                    data_docs: bool, run_name: str | None) -> dict[str, tuple[list[OfficeMonthStatus], Any]]:
    """Order: file and row level of every pending version; ONE Great Expectations run per
    dataset over all of them; then office by office, month by month (plaetze first) the
    cross-delivery checks, whose context (previous month's version in force, same month's
    facilities) is known by then, because only Fehler decide acceptance and the cross-delivery
    checks raise Hinweise only."""
    from inobhut.validation import GxRun, gx_helper, run_expectations
    from inobhut.validation.expectations import submit_expectations, warm_up

    st_settings = settings()
    todo = [t for p in plans for t in p.todo]
    name = run_name or (f"{plans[0].ags} {months[0]}–{months[-1]}" if len(plans) == 1
                        else f"{len(plans)} Jugendämter {months[0]}–{months[-1]}")
    # 1. file and row level: per dataset in chunks (one pandera pass per chunk), on all cores;
    #    meanwhile this process imports Great Expectations for step 2 (seconds otherwise spent
    #    alone), or, when the command's GX helper process has done that, what later workers need
    chunks = _prepare_chunks(todo, paths, key, st_settings)
    # 2. dataset level with Great Expectations: ONE run per dataset over all its versions, begun
    #    as soon as the dataset's chunks are read (the chunks come dataset by dataset): with the
    #    GX helper it checks one dataset while the workers read the next. With a Data Docs site
    #    one run over all datasets (a run name's results are replaced as a whole).
    left = Counter(ch[2] for ch in chunks)  # chunks of each dataset not yet read
    ready: dict[str, list] = {}
    parts: dict[str, Any] = {}

    def each(i: int, prepared: list) -> None:
        ds = chunks[i][2]
        ready.setdefault(ds, []).extend(p.item for p in prepared if p.item is not None)
        left[ds] -= 1
        if not data_docs and left[ds] == 0 and ready[ds]:
            parts[ds] = submit_expectations(ready[ds], st_settings, run_name=name)

    done = [p for chunk in parallel(_prepare_job, chunks, min_jobs=2 if len(todo) >= 8 else len(chunks) + 1,
                                    meanwhile=(_import_for_workers if gx_helper.running() else warm_up) if todo else None,
                                    each=each)
            for p in chunk]
    pending: dict[Key, Any] = dict(zip((k for ch in chunks for k in ch[0]), done))
    items = [p.item for p in pending.values() if p.item is not None]
    gx_run = None
    if items and data_docs:
        gx_run = run_expectations(items, st_settings, docs_dir=gx_docs_dir(paths), run_name=name)
    elif items:
        gx_run = GxRun(versions=len(items))
        for ds in sorted(parts):  # as one run over all datasets would report them
            part = parts[ds].result()
            gx_run.validations += part.validations
            for rule, n in part.unexpected.items():
                gx_run.unexpected[rule] = gx_run.unexpected.get(rule, 0) + n
    # 2b. versions whose cross-delivery context changes in this run (a correction of the previous
    #     month or of the same month's plaetze changes the version in force): their checks run again
    changed = [c for p in plans for c in _context_changed(paths, p, pending)]
    if changed:
        again = _prepare_chunks(changed, paths, key, st_settings)
        redone = [p for chunk in parallel(_prepare_job, again, min_jobs=2) for p in chunk]  # one chunk per core
        more = dict(zip((k for ch in again for k in ch[0]), redone))
        extra = [p.item for p in more.values() if p.item is not None]
        if extra:
            run_expectations(extra, st_settings, docs_dir=None, run_name="Kontext")
        pending.update(more)
    # 3. office by office, month by month: cross-delivery checks; the in-force frames are kept in
    #    memory, the Prüfberichte and staging files are written afterwards (again on all cores)
    writes: list[tuple] = []
    before_confirmed: dict[Key, int] = {}
    out = {}
    for plan in plans:
        statuses = _finish_office(paths, plan, pending, st_settings, writes, before_confirmed)
        out[plan.ags] = (statuses, gx_run if plan.todo else None)
    parallel(_write_job, writes)
    _record_verdicts(paths, writes, before_confirmed)
    return out


def _finish_office(paths: Paths, plan: _Plan, pending: dict, st_settings: dict, writes: list,
                   before_confirmed: dict) -> list[OfficeMonthStatus]:
    from inobhut.confirmations import fingerprint
    from inobhut.validation import RULES_VERSION, ValidationContext, finish

    ags = plan.ags
    forced: dict[tuple[str, str], pd.DataFrame | None] = {}
    forced_id: dict[tuple[str, str], str | None] = {}

    def force_frame(dataset: str, month: str) -> pd.DataFrame | None:
        if (dataset, month) not in forced:
            hit = in_force(paths, ags, dataset, month)
            forced[(dataset, month)] = None if hit is None else stg.read_frame(paths.staging, hit[0])
            forced_id[(dataset, month)] = None if hit is None else version_id(hit[0])
        return forced[(dataset, month)]

    statuses = []
    for month in plan.months:
        status = OfficeMonthStatus(ags, month)
        plaetze_ids: set[str] | None = None
        for dataset in DATASET_ORDER:
            ds = DatasetStatus(dataset, MISSING)
            keys = plan.keys_of.get((month, dataset), set())
            for v in plan.versions_of[(month, dataset)]:
                prep = pending.get((ags, month, dataset, v.version))
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
                    before_confirmed[(ags, v.dataset, v.month, v.version)] = len((read_sidecar(paths, v) or {}).get("bestaetigt", []))
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
    return statuses


def _import_for_workers() -> None:
    """What every worker process of this step imports on its first job -- pandera's pandas
    backends, the holiday calendar, the Prüfbericht's templates and Excel writer, Parquet
    (about 0.6 s per process) -- imported once here while the first workers run: the later
    pools of the step (the writers, the next batch, the other network's step) inherit it."""
    import holidays
    import pyarrow.parquet  # noqa: F401
    from pandera.backends.pandas import builtin_checks, register  # noqa: F401

    from inobhut import pruefbericht

    holidays.country_holidays("DE")  # the country's module is imported on first use
    pruefbericht.preload()


def _context_changed(paths: Paths, plan: _Plan, pending: dict) -> list:
    """Already validated versions whose cross-delivery context (previous month's version in force;
    for massnahmen also the same month's plaetze in force) differs from the one they were checked
    with -- judged by the versions in force AFTER this run (only Fehler decide acceptance, and
    those are known once the file, row and GX levels of the pending versions have run).
    Versions checked before the context was recorded are left alone."""
    ags = plan.ags

    def accepted(v: arc.ArchivedVersion) -> bool:
        prep = pending.get((ags, v.month, v.dataset, v.version))
        if prep is not None:
            return not prep.has_fehler
        verdict = stg.read_verdict(paths.staging, v)
        return verdict is not None and verdict.accepted

    cache: dict[tuple[str, str], str | None] = {}

    def force_id(dataset: str, month: str) -> str | None:
        if (dataset, month) not in cache:
            versions = plan.versions_of.get((month, dataset))
            if versions is None:
                versions = arc.list_versions(paths.archive, ags, dataset, month)
            ok = [v for v in versions if accepted(v)]
            cache[(dataset, month)] = version_id(ok[-1]) if ok else None
        return cache[(dataset, month)]

    out = []
    for month in plan.months:
        for dataset in DATASET_ORDER:
            for v in plan.versions_of.get((month, dataset), []):
                if (ags, month, dataset, v.version) in pending:
                    continue
                ctx = (read_sidecar(paths, v) or {}).get("kontext")
                if ctx is None:
                    continue
                now = {"vormonat": force_id(dataset, add_months(month, -1))}
                if dataset == "massnahmen":
                    now["plaetze"] = force_id("plaetze", month)
                if ctx != now:
                    out.append(((ags, month, dataset, v.version), v))
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
        new = len(confirmed) - before_confirmed.get((v.ags, v.dataset, v.month, v.version), 0)
        if new > 0:
            events.append(dict(ereignis="bestaetigung", ags=v.ags, dataset=v.dataset, monat=v.month, version=v.version,
                               detail={"bestaetigte_hinweise": len(confirmed), "neu": new,
                                       "regeln": sorted({result.findings[i].rule_id for i in confirmed})}))
    audit.record_many(paths.archive, events)


def _prepare_chunks(todo: list, paths: Paths, key: bytes, st_settings: dict) -> list[tuple]:
    """The pending versions grouped by dataset (across offices) and cut into about one chunk per
    core: ``(keys, files, dataset, key, settings, sha256s)`` with files as (path, month, ags)."""
    by_dataset: dict[str, list] = {}
    for k, v in todo:
        by_dataset.setdefault(k[2], []).append((k, (v.path(paths.archive), k[1], k[0]), v.sha256))
    n_workers = workers()
    chunks = []
    for dataset, items in by_dataset.items():
        size = min(MAX_CHUNK, max(1, -(-len(items) // n_workers)))
        for i in range(0, len(items), size):
            part = items[i:i + size]
            chunks.append(([k for k, _, _ in part], [f for _, f, _ in part], dataset, key, st_settings,
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

    _, files, dataset, key, st_settings, shas = job
    for (path, _, _), sha in zip(files, shas):
        if arc.sha256_file(path) != sha:
            raise ArchiveDamaged(f"Die Archivdatei {path} stimmt nicht mehr mit ihrer Prüfsumme überein; inobhut ändert das "
                                 "Archiv nie – bitte die Datei aus der Datensicherung zurückspielen, dann „inobhut run“ erneut starten.")
    return prepare_many(files, dataset=dataset, key=key, settings=st_settings)


def _write_job(job: tuple) -> None:
    """Prüfbericht (HTML, Excel, JSON), the per-version check summary and the staging files;
    the verdict JSON is written last, so a version counts as validated only when complete."""
    from inobhut.pruefbericht import write_pruefbericht

    paths, v, verdict, result, meta, side = job
    write_pruefbericht(result, meta, pruefbericht_dir(paths, v.ags))
    _write_sidecar_data(paths, v, side)
    stg.write_version(paths.staging, v, verdict, result.frame, result.findings)
    faultpoint.reached("validation")
