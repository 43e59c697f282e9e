"""Run-status sensors for the audit trail: every run launched by the daemon gets its ``lauf_ende``.

A successful full run records its end itself (``reports/index_and_manifest``), a fetch-only run
in ``raw/fetch``; a run that fails cannot, so the daemon records it here (in-process runs of
``inobhut run`` record it in ``pipelines.runner``), and a successful run of only some assets
(e.g. the landing sensor's) gets it here too. ``audit.record_once`` keeps it to one event per run.
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


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="protokoll_lauf_beendet",
                      monitor_all_code_locations=False, default_status=dg.DefaultSensorStatus.RUNNING,
                      description="Trägt das Ende eines erfolgreichen Laufs in den Prüfpfad ein, falls der Lauf es nicht selbst tat.")
def audit_run_success(context: dg.RunStatusSensorContext):
    audit.record_once(Paths.from_env().archive, "lauf_ende", lauf=context.dagster_run.run_id, detail={"ergebnis": "erfolgreich"})
