"""Schedules: the nightly run over every month that received new deliveries.

Every night something runs: with new or corrected deliveries the whole pipeline over the range
of their months (ONE run); without, intake and the Lieferstatus for the newest due month, so
that files that cannot be assigned are registered and overdue deliveries turn red (check
``lieferfrist``, Lieferstatus) even when nobody delivered anything.
"""

from __future__ import annotations

import dagster as dg

from assets.raw.intake import RAW_INTAKE
from assets.validated.freshness import freshness_check_keys
from inobhut.archive import pending_files, unregistered_unassignable
from inobhut.config import Paths, office_keys
from inobhut.status import last_due_month, reference_date
from pipelines.jobs import inobhut_job, range_tags
from pipelines.sensors import TRIGGER_TAG, UNASSIGNABLE_ASSETS, newest_month

TRIGGER = "nächtlicher Lauf"


def nightly_request(paths: Paths) -> dg.RunRequest | dg.SkipReason:
    months = sorted({dn.month for _, dn in pending_files(paths.landing, paths.archive, set(office_keys()), staging=paths.staging)})
    if months:
        # up to the newest month with data: a correction changes what depends on it later
        last = max(months[-1], newest_month(paths) or months[-1])
        return dg.RunRequest(run_key=None, tags={**range_tags(months[0], last), TRIGGER_TAG: TRIGGER})
    if not paths.warehouse.exists():
        bad = unregistered_unassignable(paths.landing, paths.archive, set(office_keys()), staging=paths.staging)
        if bad:  # nothing to report on yet: only the intake, it registers and keeps them
            return dg.RunRequest(run_key=None, asset_selection=[RAW_INTAKE],
                                 tags={TRIGGER_TAG: f"{len(bad)} nicht zuordenbare Datei(en)"})
        return dg.SkipReason("Keine Lieferungen in der Eingangsablage und noch kein Warehouse – nichts zu tun.")
    return dg.RunRequest(
        run_key=None,
        partition_key=last_due_month(reference_date()),
        asset_selection=UNASSIGNABLE_ASSETS,
        asset_check_keys=freshness_check_keys(),
        tags={TRIGGER_TAG: TRIGGER + " (nur Eingang, Lieferfristen, Lieferstatus)"},
    )


@dg.schedule(
    job=inobhut_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nächtlicher Lauf: alle Monate mit neuen oder korrigierten Lieferungen in einem Lauf; sonst "
    "Eingang, Lieferfristen und Lieferstatus.",
)
def nightly(context: dg.ScheduleEvaluationContext):
    return nightly_request(Paths.from_env())
