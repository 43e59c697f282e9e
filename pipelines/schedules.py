"""Schedules: the nightly run over every month that received new deliveries."""

from __future__ import annotations

import dagster as dg

from inobhut.archive import pending_files
from inobhut.config import Paths, office_keys
from pipelines.jobs import inobhut_job, range_tags


@dg.schedule(
    job=inobhut_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nächtlicher Lauf: alle Monate mit neuen oder korrigierten Lieferungen in einem Lauf.",
)
def nightly(context: dg.ScheduleEvaluationContext):
    paths = Paths.from_env()
    months = sorted({dn.month for _, dn in pending_files(paths.landing, paths.archive, set(office_keys()))})
    if not months:
        return dg.SkipReason("Keine neuen Lieferungen in der Eingangsablage.")
    return dg.RunRequest(run_key=None, tags=range_tags(months[0], months[-1]))
