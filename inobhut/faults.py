"""German messages for failures of a run that an operator can act on (classes, not single cases).

Belongs here: mapping an exception -- or the class name and message of one that Dagster recorded
in a failed step -- to a German text that says what happened and what to do: operating-system
errors by errno (full disk, no permission, read-only, missing, I/O error, too many files, no
memory), the same conditions as DuckDB, SQLite and Arrow word them, damaged derived state
(warehouse, staging: ``inobhut reparieren``), and a generic fallback that still says where the
details are. The rules are data (``ERRNO_TEXTS``, ``TEXT_PATTERNS``); nothing here decides
anything about the run.
"""

from __future__ import annotations

import errno
import re

AFTER_FIX = ("Bereits Archiviertes bleibt erhalten, die Dateien im Eingang bleiben liegen; danach "
             "„inobhut run“ erneut starten (halbe Dateien räumt der nächste Start weg).")
REPAIR = ("Warehouse und Staging sind aus dem Archiv abgeleitet: „inobhut reparieren“ baut sie neu auf "
          "(das Archiv wird dabei nur gelesen).")

# errno -> (what happened, what to do); {path} is the file named in the error, if any
ERRNO_TEXTS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("Kein Speicherplatz mehr auf dem Datenträger{at}.",
                   "Platz schaffen (oder das Verzeichnis auf einen größeren Datenträger legen). " + AFTER_FIX),
    errno.EDQUOT: ("Das Speicherkontingent (Quota) ist erschöpft{at}.",
                   "Kontingent erhöhen oder Platz schaffen. " + AFTER_FIX),
    errno.EACCES: ("Keine Berechtigung{at}.",
                   "Die Rechte für den Benutzer, unter dem inobhut läuft, prüfen (lesen im Archiv und Eingang, "
                   "schreiben in Staging, Warehouse und Ausgaben). " + AFTER_FIX),
    errno.EPERM: ("Vorgang nicht erlaubt{at}.",
                  "Rechte und Eigentümer der Datei prüfen. " + AFTER_FIX),
    errno.EROFS: ("Der Datenträger ist nur lesbar eingehängt{at}.",
                  "Den Datenträger beschreibbar einhängen. " + AFTER_FIX),
    errno.ENOENT: ("Datei oder Verzeichnis fehlt{at}.",
                   "Wurde es während des Laufs verschoben oder gelöscht? Verzeichniseinstellungen "
                   "(INOBHUT_LANDING, INOBHUT_ARCHIVE …) prüfen. " + AFTER_FIX),
    errno.EIO: ("Ein-/Ausgabefehler des Datenträgers{at}.",
                "Den Datenträger prüfen lassen (Systemprotokoll); fehlt eine Archivdatei, sie aus der "
                "Datensicherung zurückspielen. " + AFTER_FIX),
    errno.EMFILE: ("Zu viele offene Dateien{at}.", "Das Limit (ulimit -n) erhöhen. " + AFTER_FIX),
    errno.ENFILE: ("Zu viele offene Dateien im System{at}.", "Andere Programme beenden oder das Limit erhöhen. " + AFTER_FIX),
    errno.ENOMEM: ("Zu wenig Arbeitsspeicher{at}.", "Andere Programme beenden oder mehr Speicher bereitstellen. " + AFTER_FIX),
    errno.EISDIR: ("An der Stelle einer Datei liegt ein Verzeichnis{at}.", "Das Verzeichnis entfernen oder umbenennen. " + AFTER_FIX),
}

# (regular expression on "<class>: <message>", errno it means, or a text of its own)
TEXT_PATTERNS: list[tuple[str, int | tuple[str, str]]] = [
    (r"No space left on device|database or disk is full|disk is full", errno.ENOSPC),
    (r"Disk quota exceeded", errno.EDQUOT),
    (r"Permission denied", errno.EACCES),
    (r"Read-only file system|attempt to write a readonly database", errno.EROFS),
    (r"Cannot allocate memory|MemoryError|OutOfMemoryException|Out of Memory", errno.ENOMEM),
    (r"Input/output error", errno.EIO),
    (r"Could not set lock on file|Conflicting lock is held|database is locked",
     ("Das Warehouse oder die Dagster-Ablage ist von einem anderen Prozess gesperrt.",
      "Warten, bis der andere Lauf fertig ist (oder ihn beenden), dann „inobhut run“ erneut starten.")),
    ((r"not a valid DuckDB database|Could not read enough bytes|Corrupt database file|block checksum|"
      r"database disk image is malformed"),
     ("Das Warehouse ist beschädigt.", REPAIR)),
    (r"Parquet magic bytes not found|Parquet file size is 0|ArrowInvalid|Couldn't deserialize thrift|JSONDecodeError",
     ("Eine Staging-Datei ist beschädigt.", REPAIR)),
]

# inobhut's own exceptions whose message is already German and says what to do
GERMAN_MESSAGES = {"ArchiveDamaged", "MissingKeyError", "ExportRefused"}

_ERRNO_RE = re.compile(r"\[Errno (\d+)\]")
_PATH_RE = re.compile(r"""['"](/[^'"]+)['"]""")


def _at(path: str | None) -> str:
    return f" ({path})" if path else ""


def describe(cls_name: str, message: str, *, errno_: int | None = None, path: str | None = None) -> str:
    """The German message for a failure given as class name and message."""
    if cls_name in GERMAN_MESSAGES:
        return message.strip()
    text = f"{cls_name}: {message}"
    if errno_ is None:
        m = _ERRNO_RE.search(text)
        errno_ = int(m.group(1)) if m else None
    if path is None:
        m = _PATH_RE.search(message)
        path = m.group(1) if m else None
    if errno_ in ERRNO_TEXTS:
        what, todo = ERRNO_TEXTS[errno_]
        return f"{what.format(at=_at(path))} {todo}"
    for pattern, meaning in TEXT_PATTERNS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            if isinstance(meaning, int):
                what, todo = ERRNO_TEXTS[meaning]
                return f"{what.format(at=_at(path))} {todo}"
            return f"{meaning[0]} {meaning[1]}"
    if errno_ is not None:
        return (f"Betriebssystemfehler {errno_}{_at(path)}: {message.strip()[:300]}. " + AFTER_FIX)
    return f"Unerwarteter Fehler ({cls_name}): {message.strip()[:500]}"


def describe_exception(exc: BaseException) -> str:
    """The German message for an exception raised outside a Dagster step (CLI, start of a run)."""
    if isinstance(exc, OSError):
        return describe(type(exc).__name__, str(exc), errno_=exc.errno, path=exc.filename and str(exc.filename))
    return describe(type(exc).__name__, str(exc))


def is_known(cls_name: str, message: str) -> bool:
    """Whether :func:`describe` has a specific text (not the generic fallback)."""
    return not describe(cls_name, message).startswith("Unerwarteter Fehler")
