"""Running the pipeline in-process on the instance in ``$DAGSTER_HOME`` (default ``./.dagster``).

``inobhut run`` and ``inobhut demo`` use exactly the definitions that ``dagster dev`` loads;
a range of months is ONE run (partition range tags, single-run backfill policy on every
partitioned asset).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from inobhut import atomic
from inobhut.config import Paths

REPO_ROOT = Path(__file__).resolve().parent.parent


def dagster_yaml_source() -> Path:
    """The instance settings put into ``$DAGSTER_HOME``: the file named in
    ``INOBHUT_DAGSTER_YAML`` (production: ``deploy/dagster.yaml``), else the repository's."""
    named = os.environ.get("INOBHUT_DAGSTER_YAML")
    return Path(named) if named else REPO_ROOT / "dagster.yaml"


def prepare_dagster_home(home: Path | None = None) -> Path:
    """Create the Dagster home and put the repository's ``dagster.yaml`` into it."""
    home = Path(home or os.environ.get("DAGSTER_HOME") or (Path.cwd() / ".dagster")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    src, dst = dagster_yaml_source(), home / "dagster.yaml"
    if not src.is_file():
        raise FileNotFoundError(f"Die Dagster-Einstellungen {src} (INOBHUT_DAGSTER_YAML) gibt es nicht; "
                                "bitte den Pfad in der Umgebungsdatei prüfen (z. B. <Installation>/deploy/dagster.yaml).")
    if src.exists() and (not dst.exists() or dst.read_bytes() != src.read_bytes()):
        atomic.write_bytes(dst, src.read_bytes())  # two runs starting at once never see half a file
    os.environ["DAGSTER_HOME"] = str(home)
    return home


INSTANCE_LOCK = ".inobhut-instanz.lock"


@contextmanager
def open_instance() -> Iterator:
    """The Dagster instance of ``$DAGSTER_HOME`` (set by :func:`prepare_dagster_home`).

    Opening an instance creates its storage on first use (SQLite: ``runs.db``, ``index.db``,
    ``schedules.db``, each stamped with its schema version); Dagster does that without
    coordination between processes, and two ``inobhut`` commands opening a fresh home at the
    same moment collide on it (``UNIQUE constraint failed: alembic_version``). Every opening
    therefore holds a file lock in the home until the storages exist; afterwards the instance
    is used unlocked (its databases handle concurrent writers themselves)."""
    import dagster as dg
    from filelock import FileLock

    home = Path(os.environ["DAGSTER_HOME"])
    with FileLock(str(home / INSTANCE_LOCK), timeout=600):
        instance = dg.DagsterInstance.get()  # builds run, event log and schedule storage
    with instance:
        yield instance


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    months: list[str]
    failed_steps: list[str] = field(default_factory=list)
    error: str | None = None  # German: what failed and what to do
    aborted: bool = False  # stopped by SIGTERM/SIGINT


# The garbage collector's oldest generation is collected ten times less often during a run (the
# third threshold, default 10). A full collection visits every tracked object -- after the imports
# of Dagster, pandas and DuckDB some 350,000 -- and took 0.15-0.23 s each; a nightly run on ten
# years of history did 12-13 of them (2.0 s of 25.6 s), spread over writing workbooks and walking
# the output tree. Nearly everything a run frees goes by reference counting; what waits longer for
# a collection is cyclic garbage (measured: +17 MB peak on that run). The younger generations keep
# their defaults.
FULL_COLLECTION_EVERY = 100


@contextmanager
def fewer_full_collections() -> Iterator[None]:
    import gc

    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], max(before[2], FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run_pipeline(paths: Paths, months: list[str], *, dagster_home: Path | None = None,
                 notify: Callable[[str], None] | None = None) -> RunOutcome:
    """:func:`_run_pipeline` with fewer full garbage collections (:func:`fewer_full_collections`)."""
    with fewer_full_collections():
        return _run_pipeline(paths, months, dagster_home=dagster_home, notify=notify)


def _run_pipeline(paths: Paths, months: list[str], *, dagster_home: Path | None = None,
                  notify: Callable[[str], None] | None = None) -> RunOutcome:
    """Run the whole pipeline for ``months`` (one run over min..max) and wait for it; after a
    successful run, the federal statistic of the run's years (what the sensor
    ``bundesstatistik_nach_lauf`` does under the daemon), then once the index page, manifest, the
    run's end in the audit trail and the Protokoll (``report_run.finish_outputs``; under the daemon
    each run writes them itself).

    Before the run (see ``pipelines.recovery`` and ``inobhut.repair``): leftovers of killed runs
    are removed, damaged derived state is put aside (the run then covers the months needed to
    rebuild it) and runs whose process died release the warehouse. ``notify`` receives German
    messages about all of this and about waiting for another run."""
    import uuid

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    notify = notify or (lambda _text: None)
    paths.export_env()
    prepare_dagster_home(dagster_home)
    warnings.filterwarnings("ignore", module="dagster")

    from inobhut.faults import describe
    from inobhut.repair import repair_derived_state
    from inobhut.report_run import finish_outputs
    from inobhut.warehouse import Warehouse
    from pipelines.definitions import build_definitions
    from pipelines.jobs import OVERVIEW_BY_CALLER, range_tags
    from pipelines.recovery import RunAborted, execute_guarded, process_tags, release_dead_runs

    first_sweep = atomic.clean_leftovers(_swept(paths), cache=_sweep_cache(paths))
    removed = first_sweep.removed
    if removed:
        notify(f"{len(removed)} liegengebliebene temporäre Datei(en) eines abgebrochenen Laufs entfernt.")
    repair = repair_derived_state(paths)
    for text in repair.messages():
        notify(text)
    months = sorted(set(months) | repair.months)
    first, last = min(months), max(months)
    defs = build_definitions()
    job = defs.resolve_job_def("inobhut")
    run_id = str(uuid.uuid4())  # Dagster's run ids are UUID4 strings
    # index page, manifest, the run's end and the Protokoll: once, after all runs (finish_outputs below)
    tags = {**range_tags(first, last), "inobhut/ausloeser": "inobhut run", OVERVIEW_BY_CALLER: run_id, **process_tags()}
    followed = None
    with open_instance() as instance:
        for released in release_dead_runs(instance):
            notify(released.message())
        try:
            result = execute_guarded(instance, run_id, lambda: job.execute_in_process(
                instance=instance, run_id=run_id, tags=tags,
                # Dagster's console logger prints English tracebacks: off here; the user's messages
                # (warnings of the assets, German) are passed on below, failures summarised in German
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                raise_on_error=False,
            ), notify)
            for entry in instance.all_logs(run_id):
                if entry.dagster_event is None and entry.level >= logging.WARNING:
                    notify(entry.user_message)
            if result.success:
                followed = _run_bundesstatistik(defs, instance, first, last, run_id)
        except RunAborted as exc:
            return RunOutcome(False, run_id, [first, last], error=(
                f"Der Lauf wurde auf {exc.signame} abgebrochen und als fehlgeschlagen markiert; das Warehouse ist "
                "wieder frei. Was schon archiviert ist, bleibt; der nächste „inobhut run“ macht den Rest."), aborted=True)
    checks_after_run(paths, first_sweep, first, last, success=result.success)
    results = [r for r in (result, followed) if r is not None]
    events = [e for r in results for e in r.all_events]
    failed = [e.step_key for e in events if e.event_type_value == "STEP_FAILURE"]
    err = None
    for e in events:
        if e.event_type_value == "STEP_FAILURE" and e.event_specific_data is not None:
            info = getattr(e.event_specific_data, "error", None)
            if info is not None:
                # the innermost cause is what a user can act on
                while getattr(info, "cause", None) is not None:
                    info = info.cause
                err = describe(info.cls_name or "Fehler", info.message.strip())
                break
    main_ok = result.success
    if main_ok:  # after the federal statistic's run (its files are listed), also when that one failed
        try:
            finish_outputs(paths, Warehouse(paths.warehouse), run_id)
        except Exception as exc:  # noqa: BLE001 -- reported in German, the run counts as failed
            from inobhut.faults import describe_exception

            main_ok, err = False, err or describe_exception(exc)
            failed.append("reports__index_and_manifest")
    from pipelines.audit_sensors import record_run_failure

    if not main_ok:  # a successful main run has its end from finish_outputs
        record_run_failure(paths.archive, run_id, err)
    if followed is not None and not followed.success:
        record_run_failure(paths.archive, followed.run_id, err)
    return RunOutcome(main_ok and (followed is None or followed.success), result.run_id, [first, last], failed, err)


def _swept(paths: Paths) -> list[Path]:
    return [paths.out, paths.staging, paths.archive]


# A run over at least this many months (a backfill) does at its end what the next start would
# otherwise do for everything it wrote: the leftover sweep lists its new folders (into the sweep's
# folder cache) and the staging check reads its new versions (``repair.confirm_staging_intact``).
# The work moves from the nightly run after a backfill into the backfill (ten years: ~16 s of the
# next start). Not for short runs: the staging check walks every version's folder (~1.3 s on ten
# years), which a nightly run would then pay twice.
LARGE_RUN_MONTHS = 12


def checks_after_run(paths: Paths, first_sweep: atomic.Cleanup, first: str, last: str, *, success: bool) -> None:
    """After a run over ``first``..``last``: the second leftover sweep when needed; after a
    successful run over at least ``LARGE_RUN_MONTHS`` months also the sweep and the staging
    check of what it wrote (a failed run leaves both to the next start)."""
    from inobhut.calendar import month_range
    from inobhut.repair import confirm_staging_intact

    large = success and len(month_range(first, last)) >= LARGE_RUN_MONTHS
    sweep_after_run(paths, first_sweep, large=large)
    if large:
        try:
            confirm_staging_intact(paths)
        except OSError:  # work taken off the next start, never a reason to fail a run that succeeded:
            pass  # the marker stays, and the next start checks (and reports) as it always did


def sweep_after_run(paths: Paths, first: atomic.Cleanup, *, large: bool = False) -> atomic.Cleanup | None:
    """A second sweep for temporary files after the run, when the one before it kept a file of a
    writer that was still running (a process of a killed run may still have been dying, e.g. in
    uninterruptible disk I/O, and be gone now), or after a ``large`` successful run (see
    ``LARGE_RUN_MONTHS``). Otherwise there is nothing it could find that the next start does not
    remove as well -- and each sweep stats every folder of outputs, staging and archive."""
    if not (first.kept_live or large):
        return None
    return atomic.clean_leftovers(_swept(paths), cache=_sweep_cache(paths))


def _sweep_cache(paths: Paths) -> Path:
    """The folders the last sweep found without temporary files (``atomic.clean_leftovers``):
    derived state under ``<staging>``, may be deleted at any time."""
    return paths.staging / ".aufraeumen_cache.json"


def _run_bundesstatistik(defs, instance, first: str, last: str, main_run: str | None = None):
    """The federal statistic for the years of the months ``first``..``last`` as one run of the
    yearly job (in-process runs have no sensor daemon); None when no year applies. With
    ``main_run`` the run leaves index page and manifest to the caller (``OVERVIEW_BY_CALLER``),
    without it writes them itself, as when the daemon's sensor starts it."""
    from assets.statutory.bund import years_of_run
    from pipelines.jobs import OVERVIEW_BY_CALLER, range_tags

    years = years_of_run(range_tags(first, last))
    if not years:
        return None
    return defs.resolve_job_def("bundesstatistik").execute_in_process(
        instance=instance,
        tags={**range_tags(years[0], years[-1]), "inobhut/ausloeser": "inobhut run",
              **({OVERVIEW_BY_CALLER: main_run} if main_run else {})},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
