"""The command ``inobhut reparieren``: rebuild the derived state (staging, warehouse) from the archive.

Registered in ``pipelines.cli`` with one line. The archive is only read: its files, sidecars and
checksums stay as they are; the rebuild is an ordinary run over every archived month after the
warehouse was moved aside and the staging area removed (``inobhut.repair``). ``--lauf`` frees the
warehouse from a run that died without a process tag (e.g. started by an older version).
Exit codes: 0 rebuilt (or runs freed), 1 the rebuild failed or the archive is not intact,
2 unusable call (no key, no archive, another run is active).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@click.command(name="reparieren", options_metavar="[OPTIONEN]")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Ausgabeverzeichnis (Vorgabe: ./out bzw. INOBHUT_OUT).")
@click.option("--lauf", "laeufe", multiple=True, metavar="LAUF-ID",
              help="Nur diesen abgebrochenen Lauf als fehlgeschlagen markieren und das Warehouse freigeben "
                   "(wenn er sicher nicht mehr läuft; mehrfach möglich). Ohne Neuaufbau.")
def reparieren(out: Path | None, laeufe: tuple[str, ...]) -> None:
    """Staging und Warehouse aus dem Archiv neu aufbauen; das Archiv wird dabei nur gelesen.

    Für ein beschädigtes Warehouse oder Staging (Meldung „beschädigt“ beim Lauf). Exit 0: neu
    aufgebaut, 1: Neuaufbau fehlgeschlagen oder Archiv nicht unversehrt, 2: Aufruf unbrauchbar
    (kein Schlüssel, kein Archiv, ein anderer Lauf ist aktiv)."""
    from inobhut import archive as arc
    from inobhut import audit, repair
    from inobhut.config import Paths
    from inobhut.faults import describe_exception
    from inobhut.pseudonym import MissingKeyError, key_from_env
    from pipelines.recovery import fail_run, live_runs, release_dead_runs
    from pipelines.runner import open_instance, prepare_dagster_home, run_pipeline

    paths = Paths.from_env(out=out)
    try:
        if laeufe:
            prepare_dagster_home()
            with open_instance() as instance:
                unknown = [r for r in laeufe if not fail_run(instance, r, "Von Hand freigegeben (inobhut reparieren --lauf).")]
            if unknown:
                err_console.print(f"Unbekannte Lauf-ID: {', '.join(unknown)} (siehe inobhut ui → Runs).")
                sys.exit(2)
            console.print(f"{len(laeufe)} Lauf/Läufe als fehlgeschlagen markiert; das Warehouse ist frei.")
            sys.exit(0)
        try:
            key_from_env()
        except MissingKeyError as exc:
            err_console.print(f"[red]{exc}[/red]")
            sys.exit(2)
        versions = arc.list_versions(paths.archive)
        if not versions:
            err_console.print(f"Im Archiv {paths.archive} liegt keine Lieferversion – es gibt nichts, woraus "
                              "Staging und Warehouse aufgebaut werden könnten.")
            sys.exit(2)
        prepare_dagster_home()
        with open_instance() as instance:
            for r in release_dead_runs(instance):
                console.print(r.message())
            active = live_runs(instance)
        if active:
            err_console.print(f"Es läuft gerade ein Lauf ({', '.join(a[:8] for a in active)}); bitte nach dessen Ende "
                              "reparieren (Staging und Warehouse dürfen währenddessen nicht entfernt werden).")
            sys.exit(2)
        check = repair.check_archive(paths)
        console.print(check.message())
        aside, n_staging = repair.clear_derived_state(paths)
        audit.record(paths.archive, "reparatur", detail={
            "warehouse_beiseite": str(aside) if aside else None, "staging_dateien_entfernt": n_staging,
            "archiv_versionen": check.versions, "archiv_unversehrt": check.intact})
        if aside:
            console.print(f"Warehouse beiseitegelegt: {aside}")
        console.print(f"Staging geleert ({n_staging} Dateien); Neuaufbau aus dem Archiv …")
        months = sorted({v.month for v in versions})
        outcome = run_pipeline(paths, [months[0], months[-1]], notify=lambda t: err_console.print(t))
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - a German message, never a traceback
        err_console.print(f"[red]Die Reparatur ist fehlgeschlagen:[/red] {describe_exception(exc)}")
        sys.exit(1)
    if not outcome.success:
        err_console.print(f"[red]Der Neuaufbau (Lauf {outcome.run_id}) ist fehlgeschlagen.[/red] {outcome.error or ''}")
        sys.exit(1)
    console.print(f"Staging und Warehouse sind aus dem Archiv neu aufgebaut ({months[0]} bis {months[-1]}).")
    sys.exit(0 if check.intact else 1)
