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
    from inobhut.statistics import compute_month, write_month

    rows: dict[str, int] = {}
    selected = sorted(context.partition_keys)
    with inobhut.warehouse_db().connect() as con:
        # Every month with data is recomputed, not only the selected ones: a later delivery can
        # change an earlier month's table (fristen_42a shows each §42a case in its latest known
        # state, e.g. a Meldung made after the month's end). One month costs ~0.2 s.
        months = sorted({m for (m,) in con.execute("SELECT DISTINCT monat FROM deliveries").fetchall()} | set(selected))
        for month in months:
            tables = compute_month(con, month)
            write_month(con, month, tables)
            if month in selected:
                for name, df in tables.items():
                    rows[name] = rows.get(name, 0) + len(df)
    return dg.MaterializeResult(metadata={"neu_berechnete_monate": len(months), **{f"zeilen_{k}": v for k, v in rows.items()}})


@dg.asset(
    key=TIDY_TABLES,
    deps=[MONTHLY_TABLES],
    group_name="statistics",
    pool="warehouse",
    description="Tidy-Exporte aller Zeiträume nach <out>/tabellen/*.csv (unverändert, ohne Geheimhaltung: nur für das Haus).",
    kinds={"csv"},
)
def tidy_tables(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.statistics import export_tidy

    out = inobhut.paths().out / "tabellen"
    with inobhut.warehouse_db().connect() as con:
        files = export_tidy(con, out)
    return dg.MaterializeResult(metadata={"dateien": dg.MetadataValue.md("\n".join(f"- `{p.name}`" for p in files))})
