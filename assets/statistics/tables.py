"""Statistics layer: the monthly tables in the warehouse and the tidy CSV exports."""


import dagster as dg

from assets.warehouse.monthly_load import WAREHOUSE_LOAD
from pipelines.partitions import MONTHS, SINGLE_RUN
from pipelines.resources import InobhutResource

MONTHLY_TABLES = dg.AssetKey(["statistics", "monthly_tables"])
TIDY_TABLES = dg.AssetKey(["statistics", "tidy_tables"])


@dg.asset(
    key=MONTHLY_TABLES,
    deps=[WAREHOUSE_LOAD],
    partitions_def=MONTHS,
    backfill_policy=SINGLE_RUN,
    group_name="statistics",
    pool="warehouse",
    description="Tabellenprogramm je Monat und Jugendamt/Verbund: die fünf festen Tabellen (bewegung, beendete, "
    "uma_quote, plaetze, fristen_42a) und die weiteren (UMA-Struktur, §42a-Verteilung, Dauer, Personal, "
    "Kapazität, Lieferstatus).",
    kinds={"duckdb"},
)
def monthly_tables(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.stat_refresh import refresh

    rows: dict[str, int] = {}
    selected = sorted(context.partition_keys)
    with inobhut.warehouse_db().connect() as con:
        # The selected months and every month whose inputs changed: a later delivery can change an
        # earlier month's table (fristen_42a shows each §42a case in its latest known state), so
        # the inputs of every month with data are compared with those of its last computation
        # (inobhut.stat_refresh); unchanged months keep their tables.
        recomputed, tables_of = refresh(con, selected)
        for tables in tables_of.values():
            for name, df in tables.items():
                rows[name] = rows.get(name, 0) + len(df)
    return dg.MaterializeResult(metadata={"neu_berechnete_monate": len(recomputed), **{f"zeilen_{k}": v for k, v in rows.items()}})


@dg.asset(
    key=TIDY_TABLES,
    deps=[MONTHLY_TABLES],
    group_name="statistics",
    pool="warehouse",
    description="Tidy-Exporte aller Zeiträume nach <out>/tabellen/*.csv (unverändert, ohne Geheimhaltung: nur für das Haus).",
    kinds={"csv"},
)
def tidy_tables(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.stat_store import export_tidy

    out = inobhut.paths().out / "tabellen"
    with inobhut.warehouse_db().connect() as con:
        files = export_tidy(con, out)
    return dg.MaterializeResult(metadata={"dateien": dg.MetadataValue.md("\n".join(f"- `{p.name}`" for p in files))})
