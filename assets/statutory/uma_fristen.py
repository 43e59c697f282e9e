"""Statutory outputs in every run: the working-day UMA report of each network for the latest
Werktag covered by the deliveries, and the §42a deadline list of every office with Maßnahmen data
(at its data state). Both before the index page and manifest (``reports/index_and_manifest``)."""

import dagster as dg

from assets.statistics.tables import MONTHLY_TABLES
from pipelines.resources import InobhutResource

UMA_TAGESMELDUNG = dg.AssetKey(["statutory", "uma_tagesmeldung"])
FRISTENLISTEN = dg.AssetKey(["statutory", "fristenlisten"])


@dg.asset(
    key=UMA_TAGESMELDUNG,
    deps=[MONTHLY_TABLES],
    group_name="statutory",
    pool="warehouse",
    description="UMA-Werktagsmeldung an die Landesverteilstelle je Verbund für den letzten Werktag, den die "
    "Lieferungen abdecken (CSV, Excel, HTML unter berichte/uma_tagesmeldung/<verbund>/).",
    kinds={"csv", "excel", "html"},
)
def uma_tagesmeldung(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut import config
    from inobhut.meldungen import uma_tag

    paths = inobhut.paths()
    written, tage = [], {}
    with inobhut.warehouse_db().connect() as con:
        for v in config.networks():
            day = uma_tag.latest_workday(con, v)
            if day is None:
                continue
            written += uma_tag.write(con, v, [day], paths.out, archive=paths.archive, lauf=context.run.run_id)
            tage[v] = day.isoformat()
    return dg.MaterializeResult(metadata={"dateien": len(written), **{f"tag_{k}": t for k, t in tage.items()}})


@dg.asset(
    key=FRISTENLISTEN,
    deps=[MONTHLY_TABLES],
    group_name="statutory",
    pool="warehouse",
    description="Fristenliste §42a je Jugendamt (überfällige und verspätete Meldungen an die Landesverteilstelle "
    "mit Lieferdatei und Zeile), nur für das Jugendamt: jugendaemter/<ags>/fristen/.",
    kinds={"csv", "excel", "html"},
)
def fristenlisten(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.meldungen import fristen
    from inobhut.meldungen.schreiben import write_outputs

    paths = inobhut.paths()
    with inobhut.warehouse_db().connect() as con:
        outputs = fristen.outputs_all(con, paths.out)
    # rendered on all cores once the warehouse is closed (the workers are forked)
    lists = write_outputs(outputs, archive=paths.archive, lauf=context.run.run_id)
    faelle = sum(len(o.tidy) for o in outputs)
    return dg.MaterializeResult(metadata={"jugendaemter": len(lists), "faelle": faelle})
