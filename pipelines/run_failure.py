"""A failed run leaves a German message: what failed and what to do.

Belongs here: turning a failed Dagster run into one German paragraph for the operator (run,
trigger, months, failed steps, the innermost error, a remedy chosen by the kind of error, whether
Dagster retries it), and the run-failure sensor that writes it into the run's tags
(``inobhut/fehlermeldung``), the run's event log and the operator log
``<out>/betrieb/laufprotokoll.txt``. The remedies are data (:data:`REMEDIES`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import dagster as dg

from inobhut.config import Paths

MESSAGE_TAG = "inobhut/fehlermeldung"
OPERATOR_LOG = Path("betrieb") / "laufprotokoll.txt"

# (pattern over "ErrorClass: message" of the innermost error, what to do) -- first match wins
REMEDIES: list[tuple[str, str]] = [
    (r"No space left|Errno 28|ENOSPC|disk is full|Disk quota",
     "Der Speicherplatz ist voll: Platz auf dem Datenträger freigeben (z. B. alte Ausgaben oder Protokolle "
     "verschieben); die Eingangsdateien bleiben liegen, der nächste Lauf holt alles nach."),
    (r"PermissionError|Permission denied|Errno 13",
     "Keine Berechtigung: Lese- und Schreibrechte des Dienstbenutzers auf Eingang, Archiv, Warehouse und "
     "Ausgabe prüfen (ls -l); danach den Lauf wiederholen."),
    (r"MissingKeyError|INOBHUT_PSEUDONYM_KEY|Schlüssel",
     "Der Pseudonymisierungsschlüssel fehlt oder ist unlesbar: INOBHUT_PSEUDONYM_KEY bzw. die Schlüsseldatei in "
     "der Umgebungsdatei des Dienstes prüfen; danach den Lauf wiederholen."),
    (r"Could not set lock|Conflicting lock|database is locked|Timeout.*lock|filelock",
     "Das Warehouse oder das Archiv ist von einem anderen Prozess gesperrt: laufende inobhut- oder "
     "DuckDB-Prozesse prüfen; der Lauf kann danach wiederholt werden."),
    (r"FileNotFoundError|No such file|Errno 2",
     "Eine Datei oder ein Verzeichnis fehlt: die Pfade INOBHUT_* in der Umgebungsdatei und die Einbindung "
     "der Laufwerke prüfen; danach den Lauf wiederholen."),
    (r"OperationalError|could not connect|Connection refused",
     "Eine Datenbankverbindung ist gescheitert (PostgreSQL der Dagster-Ablage?): Dienst postgresql und die "
     "Zugangsdaten INOBHUT_PG_* prüfen."),
]
DEFAULT_REMEDY = ("Die Einzelheiten stehen in der Dagster-Oberfläche unter Runs → dieser Lauf → Logs. Nach der "
                  "Behebung den Lauf dort mit „Re-execute“ oder mit „inobhut run“ wiederholen; ist die Ursache "
                  "unklar, das Protokoll an die Betreuung von inobhut geben (es enthält keine Falldaten).")


def innermost(error) -> str:
    """``ErrorClass: message`` of the innermost cause of a ``SerializableErrorInfo``."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return f"{getattr(error, 'cls_name', '') or 'Fehler'}: {(getattr(error, 'message', '') or '').strip()}"


def remedy(error_text: str) -> str:
    for pattern, text in REMEDIES:
        if re.search(pattern, error_text, re.IGNORECASE):
            return text
    return DEFAULT_REMEDY


def failure_message(run: dg.DagsterRun, steps: list[str], error_text: str, *, retries_enabled: bool,
                    max_retries: int) -> str:
    """One German paragraph for the operator."""
    tags = run.tags
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    months = f"{start} bis {end}" if start else tags.get("dagster/partition", "")
    trigger = tags.get("inobhut/ausloeser") or tags.get("dagster/schedule_name") or tags.get("dagster/sensor_name") or "manuell"
    attempt = int(tags.get("dagster/retry_number", "0"))
    parts = [f"Der Lauf {run.run_id} (Auslöser: {trigger}{', Monate ' + months if months else ''}) ist fehlgeschlagen"]
    parts[0] += f" im Schritt {', '.join(steps)}." if steps else "."
    parts.append(f"Ursache: {error_text}")
    parts.append(f"Was tun: {remedy(error_text)}")
    will = tags.get("dagster/will_retry")  # set by Dagster when the run failed
    retrying = (will == "true") if will is not None else (retries_enabled and attempt < max_retries)
    if retrying:
        parts.append(f"Dagster startet den Lauf automatisch erneut (Wiederholung {attempt + 1} von {max_retries}).")
    elif retries_enabled:
        parts.append(f"Es gibt keine automatische Wiederholung mehr ({max_retries} Wiederholungen ausgeschöpft).")
    parts.append("Nichts Geliefertes geht verloren: die Dateien bleiben in der Eingangsablage, bis sie archiviert sind.")
    return " ".join(parts)


def _step_and_error(context: dg.RunFailureSensorContext) -> tuple[list[str], str]:
    steps, error = [], None
    for ev in context.get_step_failure_events():
        steps.append(ev.step_key or "?")
        info = getattr(ev.event_specific_data, "error", None)
        if error is None and info is not None:
            error = innermost(info)
    if error is None:
        info = getattr(context.failure_event.event_specific_data, "error", None)
        error = innermost(info) if info is not None else (context.failure_event.message or "unbekannt")
    return steps, error


def append_operator_log(out: Path, line: str) -> Path:
    path = out / OPERATOR_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp} {line}\n")
    return path


@dg.run_failure_sensor(
    name="run_failure_notice",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Schreibt zu jedem fehlgeschlagenen Lauf eine deutsche Meldung (was, warum, was tun) in die "
    "Tags des Laufs, sein Protokoll und <Ausgabe>/betrieb/laufprotokoll.txt.",
)
def run_failure_notice(context: dg.RunFailureSensorContext) -> None:
    run, instance = context.dagster_run, context.instance
    steps, error = _step_and_error(context)
    msg = failure_message(run, steps, error, retries_enabled=instance.run_retries_enabled,
                          max_retries=instance.run_retries_max_retries)
    instance.add_run_tags(run.run_id, {MESSAGE_TAG: msg[:4000]})
    instance.report_engine_event(msg, run)
    append_operator_log(Paths.from_env().out, msg)
