"""``inobhut meldung …``: the statutory outputs of the offices (German help; exit codes 0 written,
1 refused or checks failed, 2 unusable call), reading the warehouse.

Subcommands: ``bund`` (federal statistic per office and year), ``uma`` (working-day UMA report for
a day or a range), ``fristen`` (§42a deadline list per office)."""

from __future__ import annotations

import click


@click.group(name="meldung", options_metavar="[OPTIONEN]", subcommand_metavar="BEFEHL [ARGUMENTE]...")
def meldung() -> None:
    """Gesetzliche Meldungen der Jugendämter: Bundesstatistik, UMA-Werktagsmeldung, Fristenliste §42a."""


@meldung.command(name="bund", options_metavar="[OPTIONEN]")
@click.option("--jahr", required=True, metavar="JJJJ", help="Berichtsjahr: gemeldet werden die Maßnahmen, die in diesem Jahr endeten.")
@click.option("--jugendamt", "jugendaemter", multiple=True, metavar="AGS",
              help="Schlüssel des Jugendamts (mehrfach möglich; Vorgabe: jedes Jugendamt mit Maßnahmen-Lieferungen im Jahr).")
@click.option("--out", type=click.Path(), default=None, help="Ausgabeverzeichnis (Vorgabe: ./out bzw. INOBHUT_OUT).")
def bund(jahr: str, jugendaemter: tuple[str, ...], out: str | None) -> None:
    """Bundesstatistik der vorläufigen Schutzmaßnahmen (§§ 98–103 SGB VIII) je Jugendamt und Jahr:
    Satzdatei (CSV), Arbeitsmappe (Excel) und Liste der zurückgewiesenen Datensätze unter
    <out>/jugendaemter/<AGS>/bundesstatistik/<JJJJ>/ – nur für das jeweilige Jugendamt.
    Exit 0: geschrieben, 1: geschrieben, aber Datensätze wegen Prüfregeln B001–B008 zurückgewiesen,
    2: Aufruf unbrauchbar."""
    import re
    import sys

    from rich.console import Console

    from inobhut import config
    from inobhut.config import Paths
    from inobhut.meldungen import bund_ausgabe
    from inobhut.warehouse import Warehouse

    console, err_console = Console(highlight=False), Console(stderr=True, highlight=False)

    if not re.fullmatch(r"(19|20|21)\d\d", jahr.strip()):
        err_console.print(f"„{jahr}“ ist kein Jahr im Format JJJJ.")
        sys.exit(2)
    jahr = jahr.strip()
    keys = config.office_keys()
    normalised = [a.strip().zfill(5) if len(a.strip()) <= 5 else a.strip().zfill(8) for a in jugendaemter]
    unknown = [a for a, n in zip(jugendaemter, normalised) if n not in keys]
    if unknown:
        err_console.print(f"Kein Mitglieds-Jugendamt: {', '.join(unknown)}.")
        sys.exit(2)
    paths = Paths.from_env(out=out)
    if not paths.warehouse.exists():
        err_console.print(f"Kein Warehouse unter {paths.warehouse}: zuerst „inobhut run“ ausführen.")
        sys.exit(2)
    wh = Warehouse(paths.warehouse)
    with wh.connect() as con:
        results = bund_ausgabe.write_year(con, paths.out, jahr, normalised or None, archive=paths.archive,
                                          lauf="cli meldung bund")
    if results:  # the index page and manifest.json list every output file
        from inobhut.manifest import write_manifest
        from inobhut.report_run import render_index_page

        render_index_page(paths, wh)
        write_manifest(paths, wh)
    if not results:
        console.print(f"Keine Maßnahmen-Lieferungen für {jahr}: nichts geschrieben.")
        sys.exit(0)
    refused = 0
    for ags, (b, files) in results.items():
        line = (f"{config.office(ags).label} ({ags}), {jahr}: {b.beendet} beendet, {b.exportiert} gemeldet, "
                f"{b.n_zurueckgewiesen} zurückgewiesen → {files[0].parent}")
        if b.n_zurueckgewiesen:
            refused += b.n_zurueckgewiesen
            err_console.print(f"[red]{line}[/red]")
        else:
            console.print(line)
    if refused:
        err_console.print(f"{refused} Datensätze wurden zurückgewiesen; Regel und Korrekturhinweis stehen in "
                          "*_zurueckgewiesen.csv und im Blatt „Zurückgewiesen“.")
    sys.exit(1 if refused else 0)
