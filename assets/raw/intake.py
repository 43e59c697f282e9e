"""Raw layer: archive every delivered file unchanged, before anything else happens."""


import dagster as dg

from assets.raw.fetch import RAW_FETCH, record_run_start
from inobhut import audit
from inobhut.archive import intake as archive_intake
from inobhut.config import office_keys
from inobhut.landing import KINDS, save_state
from pipelines.resources import InobhutResource

RAW_INTAKE = dg.AssetKey(["raw", "intake"])


@dg.asset(
    key=RAW_INTAKE,
    deps=[RAW_FETCH],
    group_name="raw",
    description="Eingang: jede Datei der Eingangsablage unverändert mit SHA-256 archivieren; "
    "eine geänderte Datei gleichen Namens wird eine neue Version (Korrekturlieferung). "
    "Nicht zuordenbare Dateien bleiben liegen, werden gemeldet und als Kopie unter _nicht_zuordenbar aufbewahrt.",
    kinds={"python", "file"},
)
def intake(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    paths = inobhut.paths()
    if context.run.asset_selection is not None and RAW_FETCH not in context.run.asset_selection:
        record_run_start(context, paths.archive)  # a run without the fetch step (e.g. the landing sensor)
    with audit.lauf(context.run.run_id):
        summary = archive_intake(paths.landing, paths.archive, set(office_keys()), lauf=context.run.run_id,
                                 staging=paths.staging)
    save_state(paths.staging, summary.unassignable)
    for bad in summary.unassignable:
        context.log.warning(f"Nicht zuordenbar, unverändert liegen gelassen: {bad.path} – {bad.message}")
    from inobhut.quarantine import cleanup, write_reports

    expired = cleanup(paths.archive)  # the quarantine's short retention is enforced on every run
    if summary.quarantined:
        write_reports(summary.quarantined, paths.out)
        for q in summary.quarantined:
            context.log.warning(f"Personenbezogene Angaben: {q.ags} {q.dataset} {q.month} in die Quarantäne gelegt "
                                f"(nicht archiviert; Prüfbericht unter pruefberichte/{q.ags}/)")
    return dg.MaterializeResult(
        metadata={
            "neue_versionen": len(summary.new_versions),
            "unveraendert": summary.unchanged,
            "nicht_zuordenbar": len(summary.unassignable),
            "quarantaene": len(summary.quarantined),
            "quarantaene_geloescht": len(expired),
            "nicht_zuordenbar_liste": dg.MetadataValue.md(
                "\n".join(f"- `{b.path}` ({KINDS.get(b.kind, b.kind)}): {b.message}" for b in summary.unassignable)
                or "keine"
            ),
            "monate_mit_neuen_versionen": ", ".join(summary.months) or "keine",
        }
    )
