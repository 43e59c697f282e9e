"""Schedule ``abruf``: pull the offices' sources into the landing zone before the nightly run.

The nightly schedule decides which months to run from the files waiting in the landing zone;
files that still sit on an office's SFTP server are not there yet. So ``abruf`` (01:30
Europe/Berlin, half an hour before ``nightly``) runs only the asset ``raw/fetch``; what it brings
in is then pending for ``nightly`` (and for the landing sensor, when it is switched on). Without a
configured source nothing is scheduled.
"""

from __future__ import annotations

import dagster as dg

from assets.raw.fetch import FETCH_ONLY_JOB, RAW_FETCH

abruf_job = dg.define_asset_job(
    FETCH_ONLY_JOB, selection=dg.AssetSelection.assets(RAW_FETCH),
    description="Nur der Abruf: neue und geänderte Lieferungen von den Quellen der Jugendämter in die Eingangsablage holen.",
)


@dg.schedule(
    job=abruf_job,
    cron_schedule="30 1 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nächtlicher Abruf von den Quellen der Jugendämter (Ordner, SFTP), vor dem Lauf „nightly“.",
)
def abruf(context: dg.ScheduleEvaluationContext):
    from inobhut.quellen import QuellenError, load_sources

    try:
        sources = load_sources()
    except QuellenError:
        return dg.RunRequest(tags={"inobhut/ausloeser": "Abruf (Zeitplan)"})  # the run reports the broken file
    if all(s.art == "eingang" for s in sources.values()):
        return dg.SkipReason("Keine Quelle konfiguriert: alle Jugendämter liefern direkt in die Eingangsablage.")
    return dg.RunRequest(tags={"inobhut/ausloeser": "Abruf (Zeitplan)"})
