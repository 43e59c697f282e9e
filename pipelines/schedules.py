"""Schedules: the nightly run over every month that received new deliveries."""

from __future__ import annotations

import dagster as dg

from assets.raw.intake import RAW_INTAKE
from inobhut.archive import pending_files, unregistered_unassignable
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
        bad = unregistered_unassignable(paths.landing, paths.archive, set(office_keys()))
        if bad:  # only the intake: it registers and reports them (no month to compute)
            return dg.RunRequest(run_key=None, asset_selection=[RAW_INTAKE],
                                 tags={"inobhut/ausloeser": f"{len(bad)} nicht zuordenbare Datei(en)"})
        return dg.SkipReason("Keine neuen Lieferungen in der Eingangsablage.")
    return dg.RunRequest(run_key=None, tags=range_tags(months[0], months[-1]))
