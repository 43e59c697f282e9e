"""Run-status sensor for the audit trail: a failed or canceled run gets its ``lauf_ende``.

A successful run records its end itself (``reports/index_and_manifest``); a run that fails
cannot, so the daemon records it here (in-process runs of ``inobhut run`` record it in
``pipelines.runner``). ``audit.record_once`` keeps it to one event per run either way.
"""

from __future__ import annotations

import dagster as dg

from inobhut import audit
from inobhut.config import Paths


def record_run_failure(archive, run_id: str, message: str | None, ergebnis: str = "fehlgeschlagen") -> None:
    audit.record_once(archive, "lauf_ende", lauf=run_id,
                      detail={"ergebnis": ergebnis, **({"meldung": message[:2000]} if message else {})})


@dg.run_failure_sensor(name="protokoll_lauf_fehlgeschlagen", monitor_all_code_locations=False,
                       default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Trägt das Ende eines fehlgeschlagenen Laufs in den Prüfpfad ein.")
def audit_run_failure(context: dg.RunFailureSensorContext):
    record_run_failure(Paths.from_env().archive, context.dagster_run.run_id, context.failure_event.message)
