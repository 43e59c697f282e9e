"""Running the pipeline in-process on the instance in ``$DAGSTER_HOME`` (default ``./.dagster``).

``inobhut run`` and ``inobhut demo`` use exactly the definitions that ``dagster dev`` loads;
a range of months is ONE run (partition range tags, single-run backfill policy on every
partitioned asset).
"""

from __future__ import annotations

import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

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
        shutil.copyfile(src, dst)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    months: list[str]
    failed_steps: list[str] = field(default_factory=list)
    error: str | None = None


def run_pipeline(paths: Paths, months: list[str], *, dagster_home: Path | None = None) -> RunOutcome:
    """Run the whole pipeline for ``months`` (one run over min..max) and wait for it."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    paths.export_env()
    prepare_dagster_home(dagster_home)
    warnings.filterwarnings("ignore", module="dagster")
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.jobs import range_tags

    first, last = min(months), max(months)
    defs = build_definitions()
    job = defs.resolve_job_def("inobhut")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={**range_tags(first, last), "inobhut/ausloeser": "inobhut run"},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=False,
        )
        # what the sensor "bundesstatistik_nach_lauf" does under the daemon
        followed = _run_bundesstatistik(defs, instance, first, last) if result.success else None
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
                err = info.message.strip()
                break
    for r in results:
        if not r.success:  # a successful run records its end itself (reports/index_and_manifest)
            from pipelines.audit_sensors import record_run_failure

            record_run_failure(paths.archive, r.run_id, err)
    return RunOutcome(all(r.success for r in results), result.run_id, [first, last], failed, err)


def _run_bundesstatistik(defs, instance, first: str, last: str):
    """The federal statistic for the years of the months ``first``..``last`` as one run of the
    yearly job (in-process runs have no sensor daemon); None when no year applies."""
    from assets.statutory.bund import years_of_run
    from pipelines.jobs import range_tags

    years = years_of_run(range_tags(first, last))
    if not years:
        return None
    return defs.resolve_job_def("bundesstatistik").execute_in_process(
        instance=instance,
        tags={**range_tags(years[0], years[-1]), "inobhut/ausloeser": "inobhut run"},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
