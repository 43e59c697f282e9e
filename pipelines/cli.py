"""The command line ``inobhut`` (German help and messages; see shared/spec/interface.md).

click was chosen because Dagster already depends on it (no extra dependency) and it gives
exit codes, option parsing and help texts; rich renders the progress and summary tables.
"""

from __future__ import annotations

import atexit
import os
import sys
import warnings
from pathlib import Path

import click
from rich.console import Console

from pipelines import cli_de
from pipelines.cli_support import demo_refusal, intake_only, mark_demo, print_unassignable, run_months

cli_de.install()

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DEMO_SEED = 20240101
DEMO_FEHLERQUOTE = 0.01


def _months_arg(values: tuple[str, ...]) -> list[str]:
    import re

    out = []
    for v in values:
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", v):
            raise click.BadParameter(f"„{v}“ ist kein Monat im Format JJJJ-MM.")
        out.append(v)
    return out


@click.group(context_settings={"help_option_names": ["-h", "--hilfe", "--help"]}, options_metavar="[OPTIONEN]", subcommand_metavar="BEFEHL [ARGUMENTE]...")
@click.version_option(package_name="inobhut", message="inobhut %(version)s")
def main() -> None:
    """inobhut – Lieferungen der Jugendämter prüfen, Statistik (§42/§42a SGB VIII, UMA-Quote,
    Plätze, Personal) berechnen und Berichte erzeugen."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    warnings.filterwarnings("ignore")


def entry() -> None:
    """The command ``inobhut`` (and ``python -m pipelines.cli``): :func:`main`, then the end of the
    process without the interpreter's teardown (see :func:`_end_without_teardown`) -- also after
    an exception nothing caught (a bug), so that the watcher of :func:`_guard_end` covers it."""
    from inobhut import faultpoint

    faultpoint.leave_stuck_at_exit()
    try:
        faultpoint.crash_if_asked()
        main()
    except SystemExit as exc:
        _end_without_teardown(exc.code)
        raise
    except Exception:  # a bug: the traceback as the interpreter prints it, exit code 1 as it sets
        sys.excepthook(*sys.exc_info())
        _end_without_teardown(1)
        raise SystemExit(1) from None  # (printed already)


def _end_without_teardown(code) -> None:
    """End the process as the interpreter would, minus its teardown: with pandas, DuckDB and
    Dagster loaded, the last full garbage collection of the teardown walked the whole heap for
    1.3-1.7 s after a nightly run had printed its last line (S, measured). Everything before it
    still happens: the exit handlers run (logging, worker pools, temporary directories, in
    their order), the output streams are flushed; every output, archive and warehouse write is
    closed before a command returns. Only where the interpreter would do more than that (a
    non-numeric exit code to print, a non-daemon thread still running) it is left to do so."""
    import threading

    if not (code is None or isinstance(code, int)):
        return
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return
    _guard_end(code or 0)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or gone (a pipe whose reader ended)
            pass
    os._exit(code or 0)


EXIT_GRACE_S = 60.0  # s a command may take to end after its work is done (exit handlers, children)


def _guard_end(code: int) -> None:
    """A command whose work is done ends, whatever keeps it: after ``EXIT_GRACE_S`` a watcher
    kills the child processes still there and ends the process with ``code``.

    Why: at its end the interpreter's exit handlers join every child process (multiprocessing
    sends SIGTERM to daemonic ones first) and every queue's feeder thread. A child that does not
    end (say, stuck in a system call) or a feeder that cannot write keeps ``inobhut run`` alive
    after its last line -- under the nightly schedule, which nobody watches, for ever (seen twice
    in a test sandbox after a failed run; the cause was not found). Normal ends take well under a
    second and do not wait for the watcher."""
    import threading

    from inobhut import faultpoint

    grace = faultpoint.exit_grace(EXIT_GRACE_S)

    def watch() -> None:
        import multiprocessing
        import time

        time.sleep(grace)
        stuck = multiprocessing.active_children()
        names = ", ".join(f"{c.name} (PID {c.pid})" for c in stuck) or "keine"
        text = (f"inobhut: Die Arbeit ist getan, aber der Befehl endete nach {grace:g} s nicht von selbst "
                f"(Aufräumen am Ende hing; Hilfsprozesse, die noch liefen: {names}). Er wird jetzt beendet; "
                f"Ergebnis und Rückgabewert ({code}) bleiben wie gemeldet.\n")
        try:  # first: once a stuck child is gone, the main thread may end the process itself
            os.write(2, text.encode("utf-8"))
        except OSError:
            pass
        for child in stuck:
            try:
                child.kill()
                child.join(timeout=1)  # reaped here: no zombie left for an init that does not reap
            except (OSError, ValueError, AttributeError, AssertionError):
                pass
        os._exit(code)

    threading.Thread(target=watch, name="inobhut-ende", daemon=True).start()


def _print_summary(paths, months: list[str]) -> None:
    from rich.table import Table

    from inobhut.status import delivery_status
    from inobhut.warehouse import Warehouse

    with Warehouse(paths.warehouse).connect() as con:
        st = delivery_status(con, months)
    counts = st["status"].value_counts()
    t = Table(title=f"Lieferungen {min(months)} bis {max(months)}")
    t.add_column("Status")
    t.add_column("Anzahl", justify="right")
    for s in ("angenommen", "angenommen mit Hinweisen", "abgelehnt", "fehlt"):
        t.add_row(s, f"{int(counts.get(s, 0)):,}".replace(",", "."))
    console.print(t)
    rejected = st[st["status"] == "abgelehnt"]
    if len(rejected):
        console.print("[bold]Abgelehnte Lieferungen[/bold] (Prüfbericht unter pruefberichte/):")
        for r in rejected.head(15).itertuples():
            keep = f", Version {r.in_kraft} bleibt in Kraft" if not pd_isna(r.in_kraft) else ""
            console.print(f"  {r.ags} {r.dataset} {r.monat} v{r.version}: {r.n_fehler} Fehler{keep} → "
                          f"{paths.out / 'pruefberichte' / r.ags / f'{r.dataset}_{r.monat}_v{r.version}.html'}")
        if len(rejected) > 15:
            console.print(f"  … und {len(rejected) - 15} weitere")


def pd_isna(x) -> bool:
    import pandas as pd

    return bool(pd.isna(x))


def status(text: str):
    """A spinner with ``text`` on a terminal; nothing otherwise (a log file, the nightly schedule):
    rich's display thread wakes 12.5 times a second also where nothing is shown and took 3 s of a
    nightly run's interpreter on ten years of history; on a terminal 4 times a second suffice."""
    import contextlib

    return console.status(text, refresh_per_second=4) if console.is_terminal else contextlib.nullcontext()


def _run(paths, months: list[str]) -> int:
    from inobhut.validation import gx_helper

    gx_helper.start()  # imports Great Expectations on the second core while the run starts (see there)
    from inobhut.calendar import month_range
    from pipelines.runner import run_pipeline

    from inobhut.faults import describe_exception

    months = month_range(min(months), max(months))
    try:
        with status(f"Pipeline läuft über {len(months)} Monat(e) ({min(months)} bis {max(months)}) …"):
            outcome = run_pipeline(paths, months, notify=lambda text: err_console.print(text))
    except Exception as exc:  # before or around the Dagster run: a German message, never a traceback
        err_console.print(f"[red]Der Lauf konnte nicht ausgeführt werden:[/red] {describe_exception(exc)}")
        return 1
    if outcome.aborted:
        err_console.print(f"[red]{outcome.error}[/red]")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)  # the run's worker thread may still hold files: end the process now
    if not outcome.success:
        err_console.print(f"[red]Der Lauf {outcome.run_id} ist fehlgeschlagen[/red] (Schritte: {', '.join(outcome.failed_steps)}).")
        if outcome.error:
            err_console.print(outcome.error)
            from pipelines.run_failure import remedy  # the same advice as the run-failure sensor

            err_console.print(f"Was tun: {remedy(outcome.error)}")
        err_console.print("Details: Dagster-Oberfläche (inobhut ui) → Runs.")
        return 1
    try:
        _print_summary(paths, months)
    except Exception as exc:
        err_console.print(f"Der Lauf ist fertig, die Übersicht ließ sich nicht anzeigen: {describe_exception(exc)}")
    print_unassignable(console, paths)
    from pipelines.cli_datenschutz import print_quarantined  # files with personal data held back this run

    print_quarantined(paths)
    console.print(f"Tabellen: {paths.out / 'tabellen'}")
    console.print(f"Übersicht aller Berichte: [bold]{paths.out / 'berichte' / 'index.html'}[/bold]")
    return 0


def _check_months(months: list[str]) -> None:
    from inobhut.calendar import last_complete_month
    from inobhut.config import settings

    first = settings()["zeitraum"]["erster_monat"]
    last = last_complete_month()
    bad = [m for m in months if m < first or m > last]
    if bad:
        raise click.UsageError(
            f"Monat(e) {', '.join(bad)} außerhalb des verarbeitbaren Zeitraums {first} bis {last} "
            "(erster Monat: Einstellung zeitraum.erster_monat; der laufende Monat ist noch nicht abgeschlossen)."
        )


@main.command(options_metavar="[OPTIONEN]")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Ausgabeverzeichnis (Vorgabe: ./out bzw. INOBHUT_OUT).")
@click.option("--daten", type=click.Path(path_type=Path), default=Path("demo"), show_default=True, help="Arbeitsverzeichnis der Demo (Eingang, Archiv, Warehouse), getrennt von echten Daten.")
@click.option("--jugendamt", "jugendaemter", multiple=True, metavar="SCHLÜSSEL", help="Nur diese Jugendämter (Schlüssel); Vorgabe: alle 50.")
@click.option("--monate", type=click.IntRange(1, 120), default=24, show_default=True, help="Anzahl Monate bis zum letzten abgeschlossenen Monat.")
def demo(out: Path | None, daten: Path, jugendaemter: tuple[str, ...], monate: int) -> None:
    """Synthetische Lieferungen erzeugen und die ganze Pipeline darauf laufen lassen."""
    from inobhut.calendar import add_months, last_complete_month
    from inobhut.config import DEMO_PSEUDONYM_KEY, Paths
    from inobhut.generate import generate

    daten = daten.resolve()
    paths = Paths.from_env(
        landing=daten / "landing", archive=daten / "archive", staging=daten / "staging",
        warehouse=daten / "warehouse.duckdb", out=out,
    )
    refusal = demo_refusal(daten, paths.out.resolve())
    if refusal:
        err_console.print(f"[red]{refusal}[/red]")
        sys.exit(2)
    os.environ["INOBHUT_PSEUDONYM_KEY"] = DEMO_PSEUDONYM_KEY
    console.print("[yellow]Demo: es wird ein fester, öffentlich bekannter Pseudonymisierungsschlüssel verwendet – nur für synthetische Daten.[/yellow]")
    bis = last_complete_month()
    von = add_months(bis, -(monate - 1))
    with status(f"Erzeuge synthetische Lieferungen {von} bis {bis} …"):
        summary = generate(paths.landing, von, bis, seed=DEMO_SEED, fehlerquote=DEMO_FEHLERQUOTE, jugendaemter=list(jugendaemter) or None)
    mark_demo(daten, paths.out.resolve())
    console.print(f"{summary.get('files', summary.get('dateien', '?'))} Dateien in {paths.landing} erzeugt.")
    rc = _run(paths, [von, bis])
    if rc == 0:  # the demo's run covers every month it generated: a plain `inobhut run` after it is a no-op
        from inobhut import uptodate

        uptodate.record(paths, DEMO_PSEUDONYM_KEY.encode("utf-8"), paths.out / "manifest.json")
    sys.exit(rc)


@main.command(name="generate", options_metavar="[OPTIONEN]")
@click.option("--landing", type=click.Path(path_type=Path), required=True, help="Eingangsverzeichnis, in das die Dateien geschrieben werden.")
@click.option("--von", default=None, metavar="JJJJ-MM", help="Erster Monat JJJJ-MM (Vorgabe: 23 Monate vor --bis).")
@click.option("--bis", default=None, metavar="JJJJ-MM", help="Letzter Monat JJJJ-MM (Vorgabe: letzter abgeschlossener Monat).")
@click.option("--seed", type=int, default=42, show_default=True, help="Startwert des Zufallsgenerators.")
@click.option("--fehlerquote", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Anteil der Dateien mit eingebauten Fehlern.")
@click.option("--jugendamt", "jugendaemter", multiple=True, metavar="SCHLÜSSEL", help="Nur diese Jugendämter (mehrfach möglich).")
def generate_cmd(landing: Path, von: str | None, bis: str | None, seed: int, fehlerquote: float, jugendaemter: tuple[str, ...]) -> None:
    """Synthetische Lieferdateien im Lieferformat schreiben."""
    from inobhut.calendar import add_months, last_complete_month
    from inobhut.config import office_keys
    from inobhut.generate import generate

    bis = _months_arg((bis,))[0] if bis else last_complete_month()
    von = _months_arg((von,))[0] if von else add_months(bis, -23)
    if von > bis:
        raise click.UsageError("--von liegt nach --bis.")
    unknown = [a for a in jugendaemter if a not in office_keys()]
    if unknown:
        raise click.UsageError(f"Kein Mitglieds-Jugendamt: {', '.join(unknown)}")
    summary = generate(landing, von, bis, seed=seed, fehlerquote=fehlerquote, jugendaemter=list(jugendaemter) or None)
    console.print(f"{summary.get('files', summary.get('dateien', '?'))} Dateien für {von} bis {bis} in {landing} geschrieben.")


@main.command(options_metavar="[OPTIONEN]")
@click.option("--landing", type=click.Path(path_type=Path), default=None, help="Eingangsverzeichnis (Vorgabe: ./data/landing bzw. INOBHUT_LANDING).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Ausgabeverzeichnis (Vorgabe: ./out bzw. INOBHUT_OUT).")
@click.option("--monat", "monate", multiple=True, metavar="JJJJ-MM", help="Berichtsmonat JJJJ-MM (mehrfach möglich; Vorgabe: jeder Monat mit Lieferungen).")
def run(landing: Path | None, out: Path | None, monate: tuple[str, ...]) -> None:
    """Die Pipeline über Dagster für die angegebenen Monate in einem Lauf ausführen."""
    from inobhut.config import Paths
    from inobhut.pseudonym import KeyMismatchError, MissingKeyError, check_and_record, key_from_env

    paths = Paths.from_env(landing=landing, out=out)
    try:
        check_and_record(paths.staging, paths.warehouse, key_from_env())
    except (MissingKeyError, KeyMismatchError) as exc:
        err_console.print(f"[red]{exc}[/red]")
        sys.exit(2)
    months = _months_arg(monate)
    if not months:
        months, skipped = run_months(paths)
        if skipped:
            err_console.print(f"Archivierte Monate außerhalb des verarbeitbaren Zeitraums übersprungen: {', '.join(skipped)}.")
    if not months:
        intake_only(paths)
        err_console.print(f"Keine verarbeitbaren Lieferungen in {paths.landing} und keine archivierten Versionen – nichts zu tun.")
        print_unassignable(err_console, paths)
        sys.exit(0)
    _check_months(months)
    from inobhut import uptodate

    if not monate and uptodate.is_up_to_date(paths, key_from_env()):
        console.print("Nichts Neues: alle Lieferungen sind verarbeitet und alle Ausgaben aktuell "
                      f"(geprüft gegen {paths.out / 'manifest.json'}); kein Lauf nötig.")
        sys.exit(0)
    rc = _run(paths, months)
    if rc == 0 and not monate:  # a run over every month with deliveries
        uptodate.record(paths, key_from_env(), paths.out / "manifest.json")
    sys.exit(rc)


@main.command(name="landesexport", options_metavar="[OPTIONEN]")
@click.option("--zeitraum", "zeitraeume", multiple=True, required=True, metavar="JJJJ|JJJJ-MM",
              help="Jahr JJJJ, Monat JJJJ-MM oder Monate JJJJ-MM..JJJJ-MM (mehrfach möglich).")
@click.option("--verbund", "verbuende", multiple=True, metavar="VERBUND",
              help="Verbund (BW, SH-KOOP; mehrfach möglich; Vorgabe: jeder Verbund mit Daten).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Ausgabeverzeichnis (Vorgabe: ./out bzw. INOBHUT_OUT).")
def landesexport(zeitraeume: tuple[str, ...], verbuende: tuple[str, ...], out: Path | None) -> None:
    """Fallbezogene Tabellen je Jugendamt für die Landesebene exportieren – geschützt mit dem
    Verfahren aus [geheimhaltung] export_landesebene und nur nach bestandener Freigabeprüfung.
    Exit 0: geschrieben, 1: Freigabe verweigert (nichts geschrieben), 2: Aufruf unbrauchbar."""
    from inobhut import config, landesexport as lx
    from inobhut import statistics as st
    from inobhut.config import Paths
    from inobhut.warehouse import Warehouse

    paths = Paths.from_env(out=out)
    for z in zeitraeume:
        try:
            st.zeitraum(z)
        except (ValueError, KeyError) as exc:
            err_console.print(f"Zeitraum „{z}“ ist ungültig: {exc}. Erwartet: JJJJ, JJJJ-MM oder JJJJ-MM..JJJJ-MM.")
            sys.exit(2)
    unknown = [v for v in verbuende if v not in config.networks()]
    if unknown:
        err_console.print(f"Unbekannter Verbund: {', '.join(unknown)}. Bekannt: {', '.join(config.networks())}.")
        sys.exit(2)
    if not paths.warehouse.exists():
        err_console.print(f"Kein Warehouse unter {paths.warehouse}: zuerst „inobhut run“ ausführen.")
        sys.exit(2)
    wh = Warehouse(paths.warehouse)
    refused = False
    with wh.connect() as con:
        for v in verbuende or lx.networks_with_data(con):
            for z in zeitraeume:
                try:
                    files = lx.export_tables(con, z, v, paths.out)
                except lx.ExportRefused as exc:
                    err_console.print(f"[red]{v}, {z}:[/red] {exc}")
                    refused = True
                    continue
                console.print(f"{v}, {z}: {len(files)} Tabellen ({lx.method()}) in {files[0].parent if files else paths.out}")
    sys.exit(1 if refused else 0)


@main.command(options_metavar="[OPTIONEN]")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--bericht", type=click.Path(path_type=Path), default=Path("pruefberichte"), show_default=True, help="Verzeichnis für die Prüfberichte.")
def validate(files: tuple[Path, ...], bericht: Path) -> None:
    """Lieferdateien ohne Pipeline prüfen (vor dem Liefern). Exit 0: alle angenommen, 1: mindestens eine abgelehnt, 2: Aufruf unbrauchbar."""
    from inobhut.validate_cli import validate_files

    if not files:
        err_console.print("Bitte mindestens eine Datei angeben: inobhut validate DATEI …")
        sys.exit(2)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        err_console.print(f"Datei nicht gefunden: {', '.join(missing)}")
        sys.exit(2)
    sys.exit(validate_files(list(files), bericht, console))


@main.command(options_metavar="[OPTIONEN]")
@click.argument("dataset", metavar="DATENSATZ")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Zieldatei (.xlsx).")
def template(dataset: str, out: Path) -> None:
    """Die Excel-Liefervorlage eines Datensatzes schreiben (massnahmen, uma, plaetze, personal)."""
    from inobhut.template import build_template
    from schemas.datasets import DATASET_NAMES

    if dataset not in DATASET_NAMES:
        raise click.UsageError(f"Unbekannter Datensatz „{dataset}“; erlaubt sind: {', '.join(DATASET_NAMES)}.")
    if out.suffix.lower() != ".xlsx":
        raise click.UsageError("Die Vorlage wird als .xlsx geschrieben; bitte einen Dateinamen mit .xlsx angeben.")
    path = build_template(dataset, out)
    console.print(f"Vorlage für „{dataset}“ geschrieben: {path}")


@main.command(options_metavar="[OPTIONEN]")
@click.option("--jugendamt", "ags", required=True, help="Schlüssel des Jugendamts, z. B. 08335.")
@click.option("--datensatz", "dataset", required=True, help="massnahmen, uma, plaetze oder personal.")
@click.option("--monat", required=True, help="Berichtsmonat JJJJ-MM.")
@click.option("--regel", required=True, help="Kennung des Hinweises, z. B. Z101 (siehe Prüfbericht).")
@click.option("--schluessel", default="", help="Fallnummer (massnahmen, uma), Einrichtung (plaetze) oder Bereich (personal); leer = die ganze Lieferung.")
@click.option("--grund", required=True, help="Kurze Begründung, z. B. „Überbelegung wegen Notaufnahme, mit Aufsicht abgestimmt“.")
@click.option("--von", default="", help="Wer bestätigt (Name oder Kürzel).")
@click.option("--landing", type=click.Path(path_type=Path), default=None, help="Eingangsverzeichnis (Vorgabe: ./data/landing bzw. INOBHUT_LANDING).")
def bestaetigen(ags: str, dataset: str, monat: str, regel: str, schluessel: str, grund: str, von: str, landing: Path | None) -> None:
    """Einen Hinweis für einen Fall und Monat bestätigen; er wird danach nicht mehr gemeldet (bestätigt)."""
    from inobhut.config import Paths, office_keys
    from inobhut.confirmations import ConfirmationError, add_confirmation, confirmations_path

    month = _months_arg((monat,))[0]
    if ags not in office_keys():
        raise click.UsageError(f"Kein Mitglieds-Jugendamt: {ags}")
    paths = Paths.from_env(landing=landing)
    try:
        add_confirmation(paths.landing, ags, dataset=dataset, month=month, rule=regel, schluessel=schluessel, grund=grund, von=von)
    except ConfirmationError as exc:
        raise click.UsageError(str(exc)) from None
    was = f"Fall/Einrichtung „{schluessel}“" if schluessel.strip() else "die ganze Lieferung"
    console.print(f"Bestätigt: {regel.upper()} für {was}, {dataset} {month} ({confirmations_path(paths.landing, ags)}).")
    console.print("Der Hinweis zählt ab dem nächsten Lauf (inobhut run) nicht mehr; der Prüfbericht zeigt ihn als „bestätigt“.")


@main.command(options_metavar="[OPTIONEN]")
@click.option("--demo", "use_demo", is_flag=True, help="Die Verzeichnisse der Demo (./demo) verwenden.")
@click.option("--port", type=click.IntRange(0, 65535), default=3000, show_default=True, help="Port der Oberfläche (nur 127.0.0.1).")
def ui(use_demo: bool, port: int) -> None:
    """Die Dagster-Oberfläche starten (dagster dev mit DAGSTER_HOME=./.dagster)."""
    from inobhut.config import Paths
    from pipelines.runner import REPO_ROOT, open_instance, prepare_dagster_home

    if use_demo:
        d = Path("demo").resolve()
        Paths.from_env(landing=d / "landing", archive=d / "archive", staging=d / "staging", warehouse=d / "warehouse.duckdb").export_env()
        from inobhut.config import DEMO_PSEUDONYM_KEY

        os.environ.setdefault("INOBHUT_PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY)
    else:
        Paths.from_env().export_env()
    prepare_dagster_home()
    with open_instance():  # creates a fresh home's storage under inobhut's lock, before dagster dev's processes open it
        pass
    from pipelines.recovery import supervise

    console.print(f"Dagster-Oberfläche: http://127.0.0.1:{port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']}); beenden mit Strg+C oder SIGTERM.")
    sys.exit(supervise([sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)], cwd=REPO_ROOT,
                       notify=lambda t: err_console.print(t)))


from pipelines.cli_meldung import meldung  # noqa: E402  (statutory outputs)

main.add_command(meldung)
from pipelines.cli_abruf import abrufen  # noqa: E402  (pull deliveries from the offices)
main.add_command(abrufen)
from pipelines.cli_datenschutz import register as _register_datenschutz  # noqa: E402  (schluessel, loeschen)

_register_datenschutz(main)
from pipelines.cli_repair import reparieren  # noqa: E402  (inobhut reparieren)

main.add_command(reparieren)

if __name__ == "__main__":
    entry()
