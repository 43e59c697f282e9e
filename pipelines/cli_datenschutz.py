"""``inobhut schluessel …`` and ``inobhut loeschen``: key management and retention (German help;
exit codes 0 done, 1 refused or failed, 2 unusable call). The work is done in
:mod:`inobhut.pseudonym`, :mod:`inobhut.key_rotation`, :mod:`inobhut.retention` and
:mod:`inobhut.quarantine`; see docs/sicherheit.md."""

from __future__ import annotations

import sys

import click
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@click.group(name="schluessel", options_metavar="[OPTIONEN]", subcommand_metavar="BEFEHL [ARGUMENTE]...")
def schluessel() -> None:
    """Pseudonymisierungsschlüssel: Fingerabdruck anzeigen, Schlüssel wechseln."""


@schluessel.command(name="fingerabdruck", options_metavar="[OPTIONEN]")
def fingerabdruck() -> None:
    """Fingerabdruck des gesetzten Schlüssels und der gespeicherte Fingerabdruck (nie der Schlüssel)."""
    from inobhut import pseudonym
    from inobhut.config import Paths

    paths = Paths.from_env()
    try:
        fp = pseudonym.fingerprint(pseudonym.key_from_env())
    except pseudonym.MissingKeyError as exc:
        err_console.print(f"[red]{exc}[/red]")
        sys.exit(2)
    st, wh = pseudonym.staging_fingerprint(paths.staging), pseudonym.warehouse_fingerprint(paths.warehouse)
    console.print(f"gesetzter Schlüssel: {fp}")
    console.print(f"gespeichert (Staging): {st or '–'}; gespeichert (Warehouse): {wh or '–'}")
    sys.exit(0 if {st, wh} <= {fp, None} else 1)


@schluessel.command(name="wechseln", options_metavar="[OPTIONEN]")
@click.option("--neu-variable", default="INOBHUT_PSEUDONYM_KEY_NEU", show_default=True, metavar="VARIABLE",
              help="Umgebungsvariable mit dem neuen Schlüssel (der bisherige steht in INOBHUT_PSEUDONYM_KEY).")
def wechseln(neu_variable: str) -> None:
    """Schlüssel wechseln: alles aus dem Archiv mit dem neuen Schlüssel neu pseudonymisieren
    (Staging und Warehouse neu aufbauen), Eintrag „schluesselwechsel“ im Audit-Journal.
    Danach INOBHUT_PSEUDONYM_KEY auf den neuen Schlüssel setzen."""
    from inobhut import pseudonym
    from inobhut.config import Paths
    from inobhut.key_rotation import RotationError, rotate
    from pipelines.cli import status

    paths = Paths.from_env()
    try:
        old = pseudonym.key_from_env()
        new = pseudonym.key_from_env(neu_variable)
    except pseudonym.MissingKeyError as exc:
        err_console.print(f"[red]{exc}[/red]")
        sys.exit(2)
    try:
        with status("Neuaufbau aus dem Archiv mit dem neuen Schlüssel …"):  # a spinner only on a terminal
            res = rotate(paths, old, new)
    except RotationError as exc:
        err_console.print(f"[red]{exc}[/red]")
        sys.exit(1)
    console.print(f"Schlüssel gewechselt: Fingerabdruck {res.old_fingerprint} → {res.new_fingerprint}; "
                  f"{len(res.months)} Berichtsmonate neu aufgebaut.")
    console.print("[bold]Jetzt INOBHUT_PSEUDONYM_KEY auf den neuen Schlüssel setzen[/bold] (sonst verweigern weitere Läufe den Start) "
                  f"und den alten Schlüssel vernichten; {neu_variable} wieder entfernen.")


@click.command(name="loeschen", options_metavar="[OPTIONEN]")
@click.option("--jugendamt", "jugendaemter", multiple=True, metavar="SCHLÜSSEL", help="Jugendamt, dessen Daten gelöscht werden (mehrfach möglich).")
@click.option("--aelter-als", "jahre", type=click.IntRange(1, 100), default=None, metavar="JAHRE",
              help="Berichtsmonate, die mehr als so viele Jahre zurückliegen, werden gelöscht.")
@click.option("--quarantaene", "nur_quarantaene", is_flag=True, help="Nur die Quarantäne aufräumen (Dateien nach Ablauf ihrer Frist löschen).")
@click.option("--probelauf", is_flag=True, help="Nur anzeigen, was gelöscht würde.")
@click.option("--stichtag", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="JJJJ-MM-TT",
              help="Bezugstag der Fristen (Vorgabe: heute).")
def loeschen(jugendaemter: tuple[str, ...], jahre: int | None, nur_quarantaene: bool, probelauf: bool, stichtag) -> None:
    """Daten nach Ablauf der Aufbewahrungsfrist löschen: Archiv, Staging, Warehouse und die eigenen
    Berichte eines Jugendamts; außerdem abgelaufene Dateien der Quarantäne. Jede Löschung steht im
    Audit-Journal („loeschung“). Berichte anderer Jugendämter bleiben unverändert."""
    from inobhut import quarantine, retention
    from inobhut.config import Paths, office_keys

    paths = Paths.from_env()
    today = stichtag.date() if stichtag else None
    if not nur_quarantaene:
        if not jugendaemter or jahre is None:
            raise click.UsageError("Bitte --jugendamt und --aelter-als angeben (oder nur --quarantaene).")
        unknown = [a for a in jugendaemter if a not in office_keys()]
        if unknown:
            raise click.UsageError(f"Kein Mitglieds-Jugendamt: {', '.join(unknown)}")
        for ags in jugendaemter:
            s = retention.delete_office(paths, ags, jahre, today=today, dry_run=probelauf)
            verb = "würde löschen" if probelauf else "gelöscht"
            console.print(f"{ags}: Monate vor {s.cutoff} {verb}: {s.archive_versions} Archivversionen, {s.staging_dirs} "
                          f"Staging-Monate, {s.warehouse_rows} Warehouse-Zeilen, {s.output_files} Ausgabedateien.")
    if probelauf:
        due = [q for q in quarantine.list_quarantined(paths.archive)]
        console.print(f"Quarantäne: {len(due)} Datei(en), Löschung jeweils ab dem eingetragenen Datum.")
        sys.exit(0)
    gone = quarantine.cleanup(paths.archive, today)
    console.print(f"Quarantäne: {len(gone)} Datei(en) nach Ablauf der Frist gelöscht.")
    sys.exit(0)


def print_quarantined(paths) -> None:
    """After ``inobhut run``: what is in the quarantine (held back for personal data; short-lived by design)."""
    from inobhut.quarantine import list_quarantined

    qs = list_quarantined(paths.archive)
    if not qs:
        return
    console.print(f"[bold red]Quarantäne[/bold red] (personenbezogene Angaben, nicht archiviert): {len(qs)} Datei(en)")
    for q in qs[:15]:
        report = paths.out / "pruefberichte" / q.ags / f"{q.dataset}_{q.month}_quarantaene_{q.sha256[:12]}.html"
        console.print(f"  {q.ags} {q.dataset} {q.month} (Löschung ab {q.delete_after}) → {report}")


def register(main: click.Group) -> None:
    main.add_command(schluessel)
    main.add_command(loeschen)
