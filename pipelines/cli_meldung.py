"""``inobhut meldung …``: the statutory outputs of the offices (German help; exit codes 0 written,
1 refused or checks failed, 2 unusable call), reading the warehouse.

Subcommands: ``bund`` (federal statistic per office and year), ``uma`` (working-day UMA report for
a day or a range), ``fristen`` (§42a deadline list per office)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="meldung", options_metavar="[OPTIONEN]", subcommand_metavar="BEFEHL [ARGUMENTE]...")
def meldung() -> None:
    """Gesetzliche Meldungen der Jugendämter: Bundesstatistik, UMA-Werktagsmeldung, Fristenliste §42a."""


# ---------------------------------------------------------------- bund (federal statistic)
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


# ---------------------------------------------------------------- uma (working-day UMA report)


def _day(value: str | None, option: str):
    """``JJJJ-MM-TT`` -> date (None stays None); anything else is an unusable call (exit 2)."""
    import datetime as dt
    import re

    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise click.BadParameter(f"„{value}“ ist kein Datum im Format JJJJ-MM-TT.", param_hint=option)


def _warehouse(out):
    import sys

    from inobhut.config import Paths
    from inobhut.warehouse import Warehouse
    from pipelines.cli import err_console

    paths = Paths.from_env(out=out)
    if not paths.warehouse.exists():
        err_console.print(f"Kein Warehouse unter {paths.warehouse}: zuerst „inobhut run“ ausführen.")
        sys.exit(2)
    return paths, Warehouse(paths.warehouse)


@meldung.command(name="uma", options_metavar="[OPTIONEN]")
@click.option("--tag", metavar="JJJJ-MM-TT", help="Ein Tag (auch ein Wochenende oder Feiertag).")
@click.option("--von", metavar="JJJJ-MM-TT", help="Erster Tag eines Zeitraums (mit --bis): jeder Werktag des Landes.")
@click.option("--bis", metavar="JJJJ-MM-TT", help="Letzter Tag des Zeitraums.")
@click.option("--verbund", "verbuende", multiple=True, metavar="VERBUND",
              help="Verbund (BW, SH-KOOP; mehrfach möglich; Vorgabe: jeder Verbund mit Lieferungen).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Ausgabeverzeichnis (Vorgabe: ./out bzw. INOBHUT_OUT).")
def uma(tag: str | None, von: str | None, bis: str | None, verbuende: tuple[str, ...], out: Path | None) -> None:
    """UMA-Werktagsmeldung an die Landesverteilstelle (§ 42a Abs. 4, § 42b SGB VIII) für einen Tag
    oder die Werktage eines Zeitraums: je Jugendamt vorläufige Inobhutnahmen, gemeldete Fälle ohne
    Verteilentscheidung, UMA nach Hilfeart, junge Volljährige, Verteilentscheidungen seit dem vorigen
    Werktag und Aufnahmequote; dazu die Verbundsumme. Schreibt CSV, Excel und HTML nach
    <out>/berichte/uma_tagesmeldung/<verbund>/.
    Exit 0: geschrieben, 1: für einen Verbund keine Lieferungen für den Tag/Zeitraum, 2: Aufruf unbrauchbar."""
    import sys

    from inobhut import config
    from inobhut.meldungen import uma_tag
    from pipelines.cli import console, err_console

    if bool(tag) == bool(von or bis) or (not tag and not (von and bis)):
        raise click.UsageError("Entweder --tag JJJJ-MM-TT oder --von JJJJ-MM-TT zusammen mit --bis JJJJ-MM-TT angeben.")
    first, last = (_day(tag, "--tag"),) * 2 if tag else (_day(von, "--von"), _day(bis, "--bis"))
    if first > last:
        raise click.UsageError("--von liegt nach --bis.")
    unknown = [v for v in verbuende if v not in config.networks()]
    if unknown:
        raise click.UsageError(f"Unbekannter Verbund: {', '.join(unknown)}. Bekannt: {', '.join(config.networks())}.")
    paths, wh = _warehouse(out)
    refused = False
    with wh.connect() as con:
        nets = list(verbuende) or [v for v in config.networks() if uma_tag.latest_workday(con, v) is not None]
        if not nets:
            err_console.print("Keine angenommenen Lieferungen im Warehouse – nichts zu melden.")
            sys.exit(1)
        for v in nets:
            ok, missing = uma_tag.days_of(con, v, first, last)
            try:
                files = uma_tag.write(con, v, ok or missing, paths.out, archive=paths.archive)
            except uma_tag.KeineDaten as exc:
                err_console.print(f"[red]{exc}[/red]")
                refused = True
                continue
            if missing and ok:
                err_console.print(f"{v}: ohne Lieferungen und daher nicht gemeldet: "
                                  + ", ".join(d.strftime("%d.%m.%Y") for d in missing[:5]) + (" …" if len(missing) > 5 else ""))
            console.print(f"{v}: UMA-Werktagsmeldung ({len(ok)} Tag(e)) → {files[0]}")
    sys.exit(1 if refused else 0)


# ---------------------------------------------------------------- fristen (§42a deadline list)
@meldung.command(name="fristen", options_metavar="[OPTIONEN]")
@click.option("--jugendamt", "jugendaemter", multiple=True, metavar="SCHLÜSSEL",
              help="Jugendamt (Schlüssel; mehrfach möglich; Vorgabe: jedes Jugendamt mit Maßnahmen-Lieferungen).")
@click.option("--stichtag", metavar="JJJJ-MM-TT", help="Stand der Liste (Vorgabe: Datenstand des Jugendamts, "
              "also der letzte Tag seines neuesten Liefermonats).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Ausgabeverzeichnis (Vorgabe: ./out bzw. INOBHUT_OUT).")
def fristen(jugendaemter: tuple[str, ...], stichtag: str | None, out: Path | None) -> None:
    """Fristenliste §42a je Jugendamt: vorläufige Inobhutnahmen, deren Meldung an die
    Landesverteilstelle (7 Werktage, § 42a Abs. 4 SGB VIII) überfällig ist oder verspätet war – mit
    Lieferdatei, Zeile und Beginn, damit das Jugendamt jeden Fall in den eigenen Unterlagen findet.
    Nur für das Jugendamt selbst: <out>/jugendaemter/<schlüssel>/fristen/.
    Exit 0: geschrieben, 1: für ein Jugendamt keine Daten bis zum Stichtag, 2: Aufruf unbrauchbar."""
    import sys

    from inobhut import config
    from inobhut.meldungen import fristen as fr
    from inobhut.meldungen.schreiben import write_outputs
    from pipelines.cli import console, err_console

    day = _day(stichtag, "--stichtag")
    unknown = [a for a in jugendaemter if a not in config.office_keys()]
    if unknown:
        raise click.UsageError(f"Kein Mitglieds-Jugendamt: {', '.join(unknown)}")
    paths, wh = _warehouse(out)
    refused = False
    with wh.connect() as con:
        known = fr.data_ends(con)
        keys = list(jugendaemter) or [o.ags for o in config.offices() if o.ags in known]
        if not keys:
            err_console.print("Keine Maßnahmen-Lieferungen im Warehouse – keine Fristenliste.")
            sys.exit(1)
        ends = [known[a] for a in keys if a in known]
        faelle = fr.all_cases(con, day or max(ends)) if ends else None  # read once for all offices
        outputs = []
        for a in keys:
            try:
                outputs.append(fr.output(con, a, paths.out, day, faelle, known.get(a)))
            except fr.KeineDaten as exc:
                err_console.print(f"[red]{exc}[/red]")
                refused = True
    for o, files in zip(outputs, write_outputs(outputs, archive=paths.archive)):  # on all cores
        n = sum(1 for _ in files[-1].open(encoding="utf-8")) - 1
        console.print(f"{o.ags}: Fristenliste mit {n} Fall/Fällen → {files[0]}")
    sys.exit(1 if refused else 0)
