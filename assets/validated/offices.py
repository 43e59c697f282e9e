"""Validated layer: one monthly-partitioned asset per member office, materialised per network.

Each partition is one office-month: every new delivery version of the four datasets is read,
checked (file, row and dataset level), pseudonymised and staged; a Prüfbericht is written per
version. The offices of a network are ONE multi-asset (step ``pruefung_<verbund>``) that
validates all selected offices at once; each office keeps its own asset and checks. Two
per-partition asset checks carry the result, so the UI shows each office's month:
``zeilenpruefung`` (file and row level: reading, pandera) and ``datensatzpruefung`` (dataset
level: Great Expectations, run ONCE per dataset over all versions of the step, plus the custom
cross-delivery checks): passed (angenommen), failed with severity WARN (Hinweise, or a dataset
missing), failed with severity ERROR (Fehler: abgelehnt), not evaluated (nothing delivered).
Metadata: counts per dataset and rule, links to the Prüfberichte and to the GX Data Docs.

Why ERROR is not a Dagster *blocking* check: one run covers many months, and a blocking check
would stop the warehouse load for all of them. The blocking happens per office-month in the
loader instead: a rejected version is never loaded, the previous accepted one stays in force.

Why the check results are logged per partition instead of returned: a single run over a time
range of months (``BackfillPolicy.single_run``) executes the asset once for all months, and an
``AssetCheckResult`` returned from such a step has no partition. Logging one
``AssetCheckEvaluation`` per month keeps the office-month granularity in one run.
"""

import time

import dagster as dg

from assets.raw.intake import RAW_INTAKE
from inobhut import audit
from inobhut.config import network_offices, networks, office
from inobhut.processing import (
    LEVEL_DATASET,
    LEVEL_ROW,
    OfficeMonthStatus,
    gx_docs_dir,
    level_of,
)
from inobhut.pseudonym import check_and_record, key_from_env
from pipelines.dagster_compat import AssetCheckEvaluation, partitioned_check_spec
from pipelines.partitions import MONTHS, SINGLE_RUN
from pipelines.resources import InobhutResource

CHECK_ROWS = "zeilenpruefung"  # file and row level (reading, pandera)
CHECK_DATASET = "datensatzpruefung"  # dataset level (Great Expectations + custom checks)
CHECK_TITLES = {CHECK_ROWS: "Datei- und Zeilenebene (Einlesen, pandera)",
                CHECK_DATASET: "Datensatzebene (Great Expectations, Vormonat, Plätze)"}
LEVEL_OF_CHECK = {CHECK_ROWS: LEVEL_ROW, CHECK_DATASET: LEVEL_DATASET}


def office_asset_key(ags: str) -> dg.AssetKey:
    return dg.AssetKey(["validated", f"office_{ags}"])


def _table(st: OfficeMonthStatus, level: str, out_dir: str) -> str:
    rows = ["| Datensatz | Status | Version | in Kraft | Zeilen | Fehler | Hinweise | bestätigt | Regeln | Prüfbericht |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for d in st.datasets:
        f, h = d.level(level)
        link = f"[öffnen](file://{out_dir}/{d.pruefbericht})" if d.pruefbericht else "–"
        regeln = ", ".join(f"{r}: {n}" for r, n in d.rules.items() if level_of(r) == level) or "–"
        rows.append(f"| {d.dataset} | {d.status} | {d.newest_version or '–'} | {d.in_force_version or '–'} | "
                     f"{d.n_rows} | {f} | {h} | {d.n_bestaetigt} | {regeln} | {link} |")
    return "\n".join(rows)


def check_evaluations(key: dg.AssetKey, st: OfficeMonthStatus, out_dir: str, gx_note: str | None = None) -> list[AssetCheckEvaluation]:
    """The two per-partition check results of an office-month ([] = nothing delivered).

    Fehler at the level -> failed, severity ERROR (the version is rejected; the loader keeps
    the previous accepted one); unconfirmed Hinweise -> failed, severity WARN; a missing
    dataset -> WARN on the dataset level (the month is incomplete)."""
    if not st.delivered:
        return []
    out = []
    for check, level in LEVEL_OF_CHECK.items():
        fehler = {d.dataset: d.level(level)[0] for d in st.datasets if d.level(level)[0]}
        hinweise = {d.dataset: d.level(level)[1] for d in st.datasets if d.level(level)[1]}
        missing = st.missing if level == LEVEL_DATASET else []
        if fehler:
            passed, severity = False, dg.AssetCheckSeverity.ERROR
            text = "abgelehnt: " + ", ".join(f"{ds} ({n} Fehler)" for ds, n in fehler.items())
        elif hinweise or missing:
            passed, severity = False, dg.AssetCheckSeverity.WARN
            parts = []
            if hinweise:
                parts.append("Hinweise in " + ", ".join(f"{ds} ({n})" for ds, n in hinweise.items()))
            if missing:
                parts.append("fehlt: " + ", ".join(missing))
            text = "angenommen; " + "; ".join(parts)
        else:
            passed, severity, text = True, dg.AssetCheckSeverity.ERROR, "angenommen"
        links = {f"pruefbericht_{d.dataset}": dg.MetadataValue.path(f"{out_dir}/{d.pruefbericht}")
                 for d in st.datasets if d.pruefbericht}
        meta = {
            "ergebnis": text,
            "ebene": CHECK_TITLES[check],
            "fehler": sum(fehler.values()),
            "hinweise": sum(hinweise.values()),
            "bestaetigt": sum(d.n_bestaetigt for d in st.datasets),
            "datensaetze": dg.MetadataValue.md(_table(st, level, out_dir)),
            **links,
        }
        if level == LEVEL_DATASET and gx_note:
            meta["gx_data_docs"] = dg.MetadataValue.path(gx_note)
        out.append(AssetCheckEvaluation(asset_key=key, check_name=check, passed=passed, severity=severity,
                                        description=text, partition=st.month, metadata=meta))
    return out


def network_step_name(verbund: str) -> str:
    """The op (step) that validates the offices of a network, e.g. ``pruefung_bw``."""
    return "pruefung_" + verbund.lower().replace("-", "_")


def build_network_offices_asset(verbund: str) -> dg.AssetsDefinition:
    """The office assets of one network as ONE multi-asset (one step per run, not one per office).

    Each office keeps its own asset ``validated/office_<ags>``, partitions and two checks, so the
    UI shows every office-month as before; ``can_subset``: a run (the landing sensor, the UI) may
    select single offices. The step validates all selected offices at once
    (:func:`inobhut.office_validation.validate_offices`: one GX run per dataset over all pending
    versions, file chunks across offices on all cores) -- a step per office paid those fixed costs
    50 times per run (issue 12, docs/leistung.md)."""
    members = [o.ags for o in network_offices(verbund)]
    specs, check_specs = [], []
    for ags in members:
        key, o = office_asset_key(ags), office(ags)
        specs.append(dg.AssetSpec(
            key,
            deps=[RAW_INTAKE],
            partitions_def=MONTHS,
            group_name="validated",
            description=f"Geprüfte Lieferungen von {o.label} ({ags}, {o.verbund}) je Berichtsmonat.",
            tags={"verbund": o.verbund.lower().replace("-", "_")},
            kinds={"python", "parquet"},
        ))
        check_specs += [
            partitioned_check_spec(
                CHECK_ROWS, key, MONTHS,
                description="Datei- und Zeilenebene (Einlesen, pandera) der Lieferungen dieses Monats: "
                            "Fehler = abgelehnt (ERROR), Hinweise = Warnung (WARN).",
            ),
            partitioned_check_spec(
                CHECK_DATASET, key, MONTHS,
                description="Datensatzebene (Great Expectations: Eindeutigkeit, Verteilungen; eigene Prüfungen: "
                            "Vormonat, Plätze): Fehler = abgelehnt (ERROR), Hinweise oder fehlende Datensätze = Warnung (WARN).",
            ),
        ]

    @dg.multi_asset(
        name=network_step_name(verbund),
        specs=specs,
        check_specs=check_specs,
        backfill_policy=SINGLE_RUN,
        can_subset=True,
    )
    def _offices(context: dg.AssetExecutionContext, inobhut: InobhutResource):
        from inobhut.office_validation import validate_offices

        paths = inobhut.paths()
        key_bytes = key_from_env()
        check_and_record(paths.staging, paths.warehouse, key_bytes)  # another key's data: refuse (German message)
        selected = [a for a in members if office_asset_key(a) in context.selected_asset_keys]
        months = sorted(context.partition_keys)
        t0 = time.perf_counter()
        # Data Docs are built once per run by validated/gx_data_docs (one site), not here
        with audit.lauf(context.run.run_id):  # verdicts and confirmations go into the audit trail with the run id
            results = validate_offices(paths, selected, months, key_bytes)
        seconds = round(time.perf_counter() - t0, 2)
        docs = str(gx_docs_dir(paths) / "index.html")
        for ags in selected:
            key = office_asset_key(ags)
            statuses, gx_run = results[ags]
            counts = {"angenommen": 0, "mit_hinweisen": 0, "abgelehnt": 0, "nichts_geliefert": 0}
            for st in statuses:
                evs = check_evaluations(key, st, str(paths.out), docs)
                if not evs:
                    counts["nichts_geliefert"] += 1
                    continue
                if st.rejected:
                    counts["abgelehnt"] += 1
                elif st.with_warnings:
                    counts["mit_hinweisen"] += 1
                else:
                    counts["angenommen"] += 1
                for ev in evs:
                    context.log_event(ev)
            meta = {"monate": len(months), **counts, "pruefdauer_verbund_s": seconds,
                    "jugendaemter_im_schritt": len(selected)}
            if gx_run is not None:
                meta.update({"gx_validierungen": gx_run.validations, "gx_lieferversionen": gx_run.versions})
                meta["gx_data_docs"] = dg.MetadataValue.path(docs)
            yield dg.MaterializeResult(asset_key=key, metadata=meta)

    return _offices


def build_office_assets() -> list[dg.AssetsDefinition]:
    """One multi-asset per network (see :func:`build_network_offices_asset`)."""
    return [build_network_offices_asset(v) for v in networks()]
