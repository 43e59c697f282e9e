"""Raw layer: archive every delivered file unchanged, before anything else happens."""


import dagster as dg

from inobhut.archive import intake as archive_intake
from inobhut.config import office_keys
from pipelines.resources import InobhutResource

RAW_INTAKE = dg.AssetKey(["raw", "intake"])


@dg.asset(
    key=RAW_INTAKE,
    group_name="raw",
    description="Eingang: jede Datei der Eingangsablage unverändert mit SHA-256 archivieren; "
    "eine geänderte Datei gleichen Namens wird eine neue Version (Korrekturlieferung).",
    kinds={"python", "file"},
)
def intake(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    paths = inobhut.paths()
    summary = archive_intake(paths.landing, paths.archive, set(office_keys()))
    for bad in summary.unassignable:
        context.log.warning(f"Nicht zuordenbar, unverändert liegen gelassen: {bad.path} – {bad.reason}")
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
                "\n".join(f"- `{b.path}`: {b.reason}" for b in summary.unassignable) or "keine"
            ),
            "monate_mit_neuen_versionen": ", ".join(summary.months) or "keine",
        }
    )
