"""Raw layer, first step: pull new or changed deliveries from the offices' sources (folder or
SFTP, ``quellen.toml``) into the landing zone, before intake archives them.

Also marks the start of a run in the audit trail (``lauf_start``; intake does it when a run
does not include this asset). A failing source never fails the asset: the other offices and
everything already in the landing zone are still processed; the check ``quellen`` turns red
(WARN for a source that failed, ERROR for an unusable sources file) and says why in German.
"""

import dagster as dg

from inobhut import audit
from inobhut.quellen import QuellenError, fetch_all, load_sources
from pipelines.resources import InobhutResource

RAW_FETCH = dg.AssetKey(["raw", "fetch"])
FETCH_ONLY_JOB = "abruf"  # pipelines/schedule_abruf.py


def record_run_start(context: dg.AssetExecutionContext, archive) -> None:
    """``lauf_start`` once per run (the first raw asset of the run calls it)."""
    run = context.run
    audit.record_once(archive, "lauf_start", lauf=context.run_id,
                      detail={"job": run.job_name, "ausloeser": run.tags.get("inobhut/ausloeser", ""),
                              "partitionen": run.tags.get("dagster/partition")
                              or "–".join(filter(None, [run.tags.get("dagster/asset_partition_range_start"),
                                                        run.tags.get("dagster/asset_partition_range_end")]))})


@dg.asset(
    key=RAW_FETCH,
    group_name="raw",
    description="Abruf: neue und geänderte Lieferdateien von den Quellen der Jugendämter (Ordner, SFTP mit "
    "hinterlegtem Hostschlüssel) atomar in die Eingangsablage holen – jede Dateifassung genau einmal.",
    kinds={"python", "sftp"},
    check_specs=[dg.AssetCheckSpec("quellen", asset=RAW_FETCH,
                                   description="Jede konfigurierte Quelle wurde erreicht und jede Datei vollständig abgerufen.")],
)
def fetch(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    paths = inobhut.paths()
    record_run_start(context, paths.archive)
    try:
        sources = load_sources()
    except QuellenError as exc:
        context.log.error(str(exc))
        audit.record(paths.archive, "abruf_abgelehnt", lauf=context.run_id, detail={"grund": str(exc)})
        return dg.MaterializeResult(
            metadata={"fehler": str(exc)},
            check_results=[dg.AssetCheckResult(check_name="quellen", passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                               description=str(exc))])
    summary = fetch_all(paths, sources=sources, lauf=context.run_id)
    if context.run.job_name == FETCH_ONLY_JOB or context.run.asset_selection == {RAW_FETCH}:  # a fetch-only run ends here
        audit.record_once(paths.archive, "lauf_ende", lauf=context.run_id,
                          detail={"ergebnis": "erfolgreich" if not summary.failed else "erfolgreich, Quellen fehlgeschlagen"})
    rows = []
    for o in summary.offices:
        if o.fehler:
            context.log.warning(f"Abruf {o.ags} ({o.quelle}) fehlgeschlagen: {o.fehler}")
            rows.append(f"| {o.ags} | {o.quelle} | – | Quelle fehlgeschlagen: {o.fehler} |")
        for f in o.dateien:
            if f.status != "unveraendert":
                rows.append(f"| {o.ags} | {o.quelle} | `{f.name}` | {f.status}: {f.grund} |")
    failed = summary.failed
    text = "; ".join(f"{o.ags}: {o.fehler or 'Datei(en) abgelehnt'}" for o in failed)
    return dg.MaterializeResult(
        metadata={
            "quellen": len(summary.offices),
            "abgerufen": summary.count("abgerufen"),
            "unveraendert": summary.count("unveraendert"),
            "zurueckgestellt": summary.count("zurueckgestellt"),
            "abgelehnt": summary.count("abgelehnt") + sum(1 for o in summary.offices if o.fehler),
            "einzelheiten": dg.MetadataValue.md(
                "| Jugendamt | Quelle | Datei | Ergebnis |\n| --- | --- | --- | --- |\n" + "\n".join(rows) if rows else "keine Änderungen"),
        },
        check_results=[dg.AssetCheckResult(
            check_name="quellen", passed=not failed, severity=dg.AssetCheckSeverity.WARN,
            description=text or f"{len(summary.offices)} Quelle(n) abgerufen.",
            metadata={"fehlgeschlagen": ", ".join(o.ags for o in failed) or "keine"})],
    )
