"""Reports layer: monthly Landes- and Jugendamtsberichte, then the index page and manifest."""


import dagster as dg

from assets.statistics.tables import MONTHLY_TABLES, TIDY_TABLES
from assets.statutory.uma_fristen import FRISTENLISTEN, UMA_TAGESMELDUNG
from pipelines.jobs import OVERVIEW_BY_CALLER
from pipelines.partitions import MONTHS, SINGLE_RUN
from pipelines.resources import InobhutResource

MONTHLY_REPORTS = dg.AssetKey(["reports", "monthly_reports"])
INDEX_AND_MANIFEST = dg.AssetKey(["reports", "index_and_manifest"])


@dg.asset(
    key=MONTHLY_REPORTS,
    deps=[MONTHLY_TABLES],
    partitions_def=MONTHS,
    backfill_policy=SINGLE_RUN,
    group_name="reports",
    pool="warehouse",
    description="Landesbericht je Verbund und Monat (mit Geheimhaltung) und Jugendamtsbericht je Jugendamt und Monat, als Excel und HTML.",
    kinds={"excel", "html"},
)
def monthly_reports(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.report_run import render_months

    files = render_months(inobhut.paths(), inobhut.warehouse_db(), sorted(context.partition_keys))
    return dg.MaterializeResult(metadata={"dateien": len(files)})


@dg.asset(
    key=INDEX_AND_MANIFEST,
    deps=[MONTHLY_REPORTS, TIDY_TABLES, UMA_TAGESMELDUNG, FRISTENLISTEN],
    group_name="reports",
    pool="warehouse",
    description="Lieferstatus, Platzübersicht, Jahres- und Strategiebericht, die Übersichtsseite berichte/index.html "
    "und manifest.json (jede Ausgabe mit SHA-256, jede verwendete Lieferversion).",
    kinds={"html", "json"},
)
def index_and_manifest(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.report_run import finish_outputs, render_all_other_reports
    from inobhut.status import reference_date

    paths = inobhut.paths()
    # reports that are not per month: Lieferstatus, Platzübersicht, Jahres- and Strategiebericht
    # the Lieferstatus marks deliveries overdue as of the run's day (INOBHUT_STICHTAG pins it)
    others = render_all_other_reports(paths, inobhut.warehouse_db(), today=reference_date())
    if context.run.tags.get(OVERVIEW_BY_CALLER):
        # `inobhut run` writes index page, manifest, the run's end and the Protokoll once, after the
        # federal statistic's run that follows this one (pipelines/runner.py)
        return dg.MaterializeResult(metadata={"weitere_berichte": len(others),
                                              "uebersicht": "nach dem Aufruf (inobhut run)"})
    index, manifest, protokoll = finish_outputs(paths, inobhut.warehouse_db(), context.run.run_id)
    return dg.MaterializeResult(
        metadata={"index": dg.MetadataValue.path(str(index)), "manifest": dg.MetadataValue.path(str(manifest)),
                  "weitere_berichte": len(others), "protokoll": len(protokoll)}
    )
