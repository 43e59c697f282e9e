"""Validated layer: one monthly-partitioned asset per member office (built by a factory).

Each partition is one office-month: every new delivery version of the four datasets is read,
checked (file, row and dataset level), pseudonymised and staged; a Prüfbericht is written per
version. The per-partition asset check ``pruefung`` carries the verdict, so the UI shows each
office's month: passed (angenommen), failed with severity WARN (angenommen mit Hinweisen or
unvollständig), failed with severity ERROR (abgelehnt), and not evaluated (nothing delivered).

Why the check results are logged per partition instead of returned: a single run over a time
range of months (``BackfillPolicy.single_run``) executes the asset once for all months, and an
``AssetCheckResult`` returned from such a step has no partition. Logging one
``AssetCheckEvaluation`` per month keeps the office-month granularity in one run.
"""


import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation

from assets.raw.intake import RAW_INTAKE
from inobhut.config import office, office_keys
from inobhut.processing import OfficeMonthStatus, validate_office_month
from inobhut.pseudonym import key_from_env
from pipelines.partitions import MONTHS, SINGLE_RUN
from pipelines.resources import InobhutResource

CHECK_NAME = "pruefung"


def office_asset_key(ags: str) -> dg.AssetKey:
    return dg.AssetKey(["validated", f"office_{ags}"])


def check_evaluation(key: dg.AssetKey, st: OfficeMonthStatus, out_dir: str) -> AssetCheckEvaluation | None:
    """The per-partition check result of an office-month (None: nothing delivered)."""
    if not st.delivered:
        return None
    rows = ["| Datensatz | Status | Version | in Kraft | Zeilen | Fehler | Hinweise | Prüfbericht |", "|---|---|---|---|---|---|---|---|"]
    for d in st.datasets:
        link = f"[öffnen](file://{out_dir}/{d.pruefbericht})" if d.pruefbericht else "–"
        rows.append(
            f"| {d.dataset} | {d.status} | {d.newest_version or '–'} | {d.in_force_version or '–'} | "
            f"{d.n_rows} | {d.n_fehler} | {d.n_hinweise} | {link} |"
        )
    if st.rejected:
        passed, severity = False, dg.AssetCheckSeverity.ERROR
        text = "abgelehnt: " + ", ".join(d.dataset for d in st.rejected)
    elif st.missing or st.with_warnings:
        passed, severity = False, dg.AssetCheckSeverity.WARN
        parts = []
        if st.with_warnings:
            parts.append("Hinweise in " + ", ".join(d.dataset for d in st.with_warnings))
        if st.missing:
            parts.append("fehlt: " + ", ".join(st.missing))
        text = "angenommen; " + "; ".join(parts)
    else:
        passed, severity, text = True, dg.AssetCheckSeverity.ERROR, "angenommen"
    return AssetCheckEvaluation(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=passed,
        severity=severity,
        description=text,
        partition=st.month,
        metadata={
            "ergebnis": text,
            "fehler": sum(d.n_fehler for d in st.datasets),
            "hinweise": sum(d.n_hinweise for d in st.datasets),
            "datensaetze": dg.MetadataValue.md("\n".join(rows)),
        },
    )


def build_office_asset(ags: str) -> dg.AssetsDefinition:
    key = office_asset_key(ags)
    o = office(ags)
    spec = dg.AssetCheckSpec(
        CHECK_NAME,
        asset=key,
        partitions_def=MONTHS,
        description="Plausibilitätsprüfung der Lieferungen dieses Monats (Fehler = abgelehnt, Hinweise = Warnung).",
    )

    @dg.multi_asset(
        name=f"office_{ags}",
        specs=[
            dg.AssetSpec(
                key,
                deps=[RAW_INTAKE],
                partitions_def=MONTHS,
                group_name="validated",
                description=f"Geprüfte Lieferungen von {o.label} ({ags}, {o.verbund}) je Berichtsmonat.",
                tags={"verbund": o.verbund.lower().replace("-", "_")},
                kinds={"python", "parquet"},
            )
        ],
        check_specs=[spec],
        backfill_policy=SINGLE_RUN,
        can_subset=True,
    )
    def _office(context: dg.AssetExecutionContext, inobhut: InobhutResource):
        paths = inobhut.paths()
        key_bytes = key_from_env()
        counts = {"angenommen": 0, "mit_hinweisen": 0, "abgelehnt": 0, "nichts_geliefert": 0}
        for month in sorted(context.partition_keys):
            st = validate_office_month(paths, ags, month, key_bytes)
            ev = check_evaluation(key, st, str(paths.out))
            if ev is None:
                counts["nichts_geliefert"] += 1
                continue
            if st.rejected:
                counts["abgelehnt"] += 1
            elif st.with_warnings:
                counts["mit_hinweisen"] += 1
            else:
                counts["angenommen"] += 1
            context.log_event(ev)
        yield dg.MaterializeResult(asset_key=key, metadata={"monate": len(context.partition_keys), **counts})

    return _office


def build_office_assets() -> list[dg.AssetsDefinition]:
    return [build_office_asset(ags) for ags in office_keys()]

