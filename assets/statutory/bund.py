"""The federal statistic of provisional protective measures as a Dagster asset with yearly
partitions (one partition = one Berichtsjahr, all offices), its job and the sensor that builds it
after every successful pipeline run for the years that run touched.

Why a job and a sensor of its own: an asset job may only hold assets of one partitions
definition, and the pipeline job ``inobhut`` is partitioned by month. So the nightly run (a range
of months) is followed by one run of this job per touched year; the asset then refreshes the index
page and ``manifest.json`` so that they list the new files (not under ``inobhut run``: the invocation
writes them once after both runs, see ``OVERVIEW_BY_CALLER``). Registered in
``pipelines/definitions.py`` through :func:`definitions`.
"""

from collections.abc import Mapping

import dagster as dg

from assets.statistics.tables import MONTHLY_TABLES
from inobhut.config import settings
from pipelines.jobs import OVERVIEW_BY_CALLER, RANGE_END, RANGE_START, inobhut_job
from pipelines.resources import InobhutResource

GROUP = "bundesstatistik"
BUNDESSTATISTIK = dg.AssetKey(["statutory", "bundesstatistik"])

YEARS = dg.TimeWindowPartitionsDefinition(
    start=settings()["zeitraum"]["erster_monat"][:4],
    fmt="%Y",
    cron_schedule="0 0 1 1 *",
    timezone="Europe/Berlin",
    end_offset=1,  # the current year too: measures that ended so far (a provisional export)
)


@dg.asset(
    key=BUNDESSTATISTIK,
    deps=[MONTHLY_TABLES],
    partitions_def=YEARS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    pool="warehouse",
    description="Bundesstatistik der vorläufigen Schutzmaßnahmen (§§ 98–103 SGB VIII) je Jugendamt und Jahr: "
    "Satzdatei (CSV), Arbeitsmappe (Excel) und zurückgewiesene Datensätze unter "
    "jugendaemter/<AGS>/bundesstatistik/<JJJJ>/ (nur für das Jugendamt); danach Übersichtsseite und manifest.json neu.",
    kinds={"excel", "csv"},
)
def bundesstatistik(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.manifest import write_manifest
    from inobhut.meldungen.bund_ausgabe import write_year
    from inobhut.report_run import render_index_page

    paths, wh = inobhut.paths(), inobhut.warehouse_db()
    files, refused, offices = 0, 0, 0
    with wh.connect() as con:
        for year in sorted(context.partition_keys):
            for ags, (b, written) in write_year(con, paths.out, year, archive=paths.archive, lauf=context.run.run_id).items():
                files += len(written)
                refused += b.n_zurueckgewiesen
                offices += 1
                if b.n_zurueckgewiesen:
                    context.log.warning(f"Bundesstatistik {ags} {year}: {b.n_zurueckgewiesen} Datensätze zurückgewiesen "
                                        "(Prüfregeln B001–B008; Liste für das Jugendamt geschrieben)")
    counts = {"jugendaemter": offices, "dateien": files, "zurueckgewiesen": refused}
    if context.run.tags.get(OVERVIEW_BY_CALLER):  # written once after this run by `inobhut run`
        return dg.MaterializeResult(metadata={**counts, "uebersicht": "nach dem Aufruf (inobhut run)"})
    index = render_index_page(paths, wh)
    manifest = write_manifest(paths, wh)
    return dg.MaterializeResult(metadata={
        **counts, "index": dg.MetadataValue.path(str(index)), "manifest": dg.MetadataValue.path(str(manifest)),
    })


bundesstatistik_job = dg.define_asset_job(
    "bundesstatistik",
    selection=dg.AssetSelection.assets(BUNDESSTATISTIK),
    description="Bundesstatistik je Jahr (alle Jugendämter); startet nach jedem erfolgreichen Lauf für dessen Jahre.",
)


def years_of_run(tags: Mapping[str, str]) -> list[str]:
    """The calendar years whose months a pipeline run covered (range tags or a single partition),
    limited to the yearly partitions that exist."""
    first = tags.get(RANGE_START) or tags.get("dagster/partition")
    last = tags.get(RANGE_END) or first
    if not first or len(first) < 4 or not first[:4].isdigit() or not last[:4].isdigit():
        return []
    valid = set(YEARS.get_partition_keys())
    return [str(y) for y in range(int(first[:4]), int(last[:4]) + 1) if str(y) in valid]


@dg.run_status_sensor(
    name="bundesstatistik_nach_lauf",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[inobhut_job],
    request_job=bundesstatistik_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Nach jedem erfolgreichen Lauf (auch dem nächtlichen): Bundesstatistik für die Jahre seiner Monate.",
)
def bundesstatistik_nach_lauf(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    return [dg.RunRequest(run_key=f"{run.run_id}-{y}", partition_key=y) for y in years_of_run(run.tags)]


def definitions() -> dg.Definitions:
    """The asset, job and sensor above, merged into the code location by ``pipelines/definitions.py``."""
    return dg.Definitions(assets=[bundesstatistik], jobs=[bundesstatistik_job], sensors=[bundesstatistik_nach_lauf])
