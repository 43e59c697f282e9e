"""``inobhut abrufen``: pull new or changed deliveries from the offices' sources (quellen.toml)
into the landing zone, outside Dagster (German help; exit 0 all sources fetched, 1 some source
or file failed, 2 unusable call or sources file)."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@click.command(name="abrufen", options_metavar="[OPTIONEN]")
@click.option("--jugendamt", "jugendaemter", multiple=True, metavar="SCHLÜSSEL",
              help="Nur diese Jugendämter (mehrfach möglich); Vorgabe: jede Quelle der Quellendatei.")
def abrufen(jugendaemter: tuple[str, ...]) -> None:
    """Neue und geänderte Lieferdateien von den Quellen der Jugendämter (Ordner, SFTP) in die
    Eingangsablage holen – jede Dateifassung genau einmal, nie eine halbe Datei.
    Quellendatei: INOBHUT_QUELLEN bzw. [quellen] datei (docs/quellen.md).
    Exit 0: alles abgerufen, 1: mindestens eine Quelle oder Datei fehlgeschlagen, 2: Aufruf oder Quellendatei unbrauchbar."""
    from inobhut.config import Paths, office_keys
    from inobhut.quellen import QuellenError, fetch_all, load_sources

    unknown = [a for a in jugendaemter if a not in office_keys()]
    if unknown:
        err_console.print(f"„{', '.join(unknown)}“ ist kein Mitglieds-Jugendamt.")
        sys.exit(2)
    try:
        sources = load_sources()
    except QuellenError as exc:
        err_console.print(f"[red]{exc}[/red]")
        sys.exit(2)
    paths = Paths.from_env()
    summary = fetch_all(paths, jugendaemter=list(jugendaemter) or None, sources=sources)
    if not summary.offices:
        console.print("Keine Quelle zum Abrufen konfiguriert: alle Jugendämter liefern direkt in die Eingangsablage.")
        sys.exit(0)
    t = Table(title=f"Abruf in die Eingangsablage {paths.landing}")
    for col in ("Jugendamt", "Quelle", "abgerufen", "unverändert", "zurückgestellt", "abgelehnt"):
        t.add_column(col)
    for o in summary.offices:
        t.add_row(o.ags, o.quelle, str(o.count("abgerufen")), str(o.count("unveraendert")),
                  str(o.count("zurueckgestellt")), str(o.count("abgelehnt")) + (" + Quelle" if o.fehler else ""))
    console.print(t)
    console.print(f"{summary.count('abgerufen')} abgerufen, {summary.count('unveraendert')} unverändert, "
                  f"{summary.count('zurueckgestellt')} zurückgestellt, {summary.count('abgelehnt')} abgelehnt.")
    for o in summary.offices:
        if o.fehler:
            err_console.print(f"[red]{o.ags}:[/red] {o.fehler}")
        for f in o.dateien:
            if f.status in ("abgelehnt", "zurueckgestellt"):
                err_console.print(f"{o.ags} {f.name}: {f.grund}")
    sys.exit(1 if summary.failed else 0)
