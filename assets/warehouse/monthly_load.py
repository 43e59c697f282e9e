"""Warehouse layer: load each month's versions in force into DuckDB (one transaction per month)."""


import dagster as dg

from assets.validated.offices import office_asset_key
from inobhut import audit
from inobhut.config import office_keys
from inobhut.load import load_months
from pipelines.partitions import MONTHS, SINGLE_RUN
from pipelines.resources import InobhutResource

WAREHOUSE_LOAD = dg.AssetKey(["warehouse", "monthly_load"])


def build_monthly_load() -> dg.AssetsDefinition:
    """The load asset depends on every office asset (member list read at definition time)."""
    return dg.asset(
        key=WAREHOUSE_LOAD,
        deps=[office_asset_key(a) for a in office_keys()],
        partitions_def=MONTHS,
        backfill_policy=SINGLE_RUN,
        group_name="warehouse",
        pool="warehouse",
        description="Lädt je Monat die neueste angenommene Version jeder Lieferung (Jugendamt × Datensatz) "
        "ins Data Warehouse; abgelehnte Versionen ersetzen nie eine angenommene.",
        kinds={"duckdb"},
    )(monthly_load)


def monthly_load(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    paths, wh = inobhut.paths(), inobhut.warehouse_db()
    replaced = unchanged = versions = 0
    with audit.lauf(context.run.run_id):
        for s in load_months(paths, wh, sorted(context.partition_keys)):
            replaced, unchanged, versions = replaced + s.replaced, unchanged + s.unchanged, versions + s.versions
    return dg.MaterializeResult(metadata={"ersetzt": replaced, "unveraendert": unchanged, "versionen": versions})
