"""Confirmations (Bestätigungen) of Hinweise by an office's data steward.

Belongs here: the confirmation file of an office, ``<landing>/<ags>/bestaetigungen.csv``
(semicolon, UTF-8 with BOM so that Excel shows the umlauts), reading it tolerantly, adding a
confirmation (``inobhut bestaetigen``), and turning the confirmations of one office, dataset
and month into the keys validation compares findings with. Not here: applying them to
findings (:mod:`inobhut.validation`), re-validating when they change (:mod:`inobhut.processing`).

One line confirms one Hinweis (rule) for one case and month:

=============== ==============================================================================
Datensatz       massnahmen | uma | plaetze | personal
Monat           JJJJ-MM (the reporting month of the delivery)
Regel           rule id of a Hinweis (e.g. Z101); a Fehler cannot be confirmed
Schluessel      the Fallnummer (massnahmen, uma), the Einrichtung (plaetze), the Bereich (personal);
                empty for a finding about the whole delivery (e.g. S101 Zeilenzahl)
Grund           short reason (required)
Bestaetigt_von  who confirmed (optional)
Bestaetigt_am   date (JJJJ-MM-TT), filled in by the command
=============== ==============================================================================

The file lives in the office's own landing folder: the Fallnummer in it is the office's own
data, like the deliveries beside it. It is read with the pseudonymisation key and only the
pseudonyms leave the landing zone; the file itself is never archived or copied.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

from inobhut.archive import CONFIRMATIONS_FILE
from inobhut.naming import is_month
from inobhut.pseudonym import pseudonymise
from inobhut.validation.rules import rules
from schemas.datasets import DATASET_NAMES

FILE_NAME = CONFIRMATIONS_FILE  # one name for intake (skips it) and confirmations
COLUMNS = ("Datensatz", "Monat", "Regel", "Schluessel", "Grund", "Bestaetigt_von", "Bestaetigt_am")
WHOLE_FILE = "*"


class ConfirmationError(ValueError):
    """A confirmation that cannot be stored (German message)."""


@dataclass(frozen=True)
class Confirmation:
    dataset: str
    month: str
    rule: str
    schluessel: str  # "" = the whole delivery
    grund: str
    von: str = ""
    am: str = ""


def confirmations_path(landing: Path, ags: str) -> Path:
    return Path(landing) / ags / FILE_NAME


def read_confirmations(landing: Path, ags: str) -> list[Confirmation]:
    """All well-formed confirmations of the office (lines without a Hinweis rule, dataset,
    month or reason are ignored)."""
    p = confirmations_path(landing, ags)
    if not p.is_file():
        return []
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text else ""
    delim = ";" if first.count(";") >= first.count(",") else ","
    out = []
    catalogue = rules()
    for row in csv.DictReader(io.StringIO(text), delimiter=delim):
        r = {(k or "").strip().casefold(): (v or "").strip() for k, v in row.items() if k is not None}
        c = Confirmation(r.get("datensatz", ""), r.get("monat", ""), r.get("regel", "").upper(),
                         r.get("schluessel", r.get("schlüssel", "")), r.get("grund", ""),
                         r.get("bestaetigt_von", ""), r.get("bestaetigt_am", ""))
        rule = catalogue.get(c.rule)
        if c.dataset in DATASET_NAMES and is_month(c.month) and c.grund and rule is not None and rule.schwere == "Hinweis":
            out.append(c)
    return out


def add_confirmation(landing: Path, ags: str, *, dataset: str, month: str, rule: str, schluessel: str,
                     grund: str, von: str = "", today: dt.date | None = None) -> Confirmation:
    """Append a confirmation to the office's file (atomic rewrite); an identical one is not
    added twice. Raises :class:`ConfirmationError` with a German message."""
    rule = rule.strip().upper()
    r = rules().get(rule)
    if r is None:
        raise ConfirmationError(f"Die Regel „{rule}“ gibt es nicht (siehe docs/pruefregeln.md).")
    if r.schwere != "Hinweis":
        raise ConfirmationError(f"{rule} ist ein Fehler; Fehler können nicht bestätigt, nur in der Datei korrigiert werden.")
    if dataset not in DATASET_NAMES:
        raise ConfirmationError(f"Unbekannter Datensatz „{dataset}“; erlaubt sind: {', '.join(DATASET_NAMES)}.")
    if not grund.strip():
        raise ConfirmationError("Bitte einen Grund für die Bestätigung angeben.")
    schluessel = schluessel.strip()
    if schluessel == WHOLE_FILE:
        schluessel = ""
    c = Confirmation(dataset, month, rule, schluessel, grund.strip(), von.strip(), (today or dt.date.today()).isoformat())
    existing = read_confirmations(landing, ags)
    if any((e.dataset, e.month, e.rule, e.schluessel) == (c.dataset, c.month, c.rule, c.schluessel) for e in existing):
        return c
    p = confirmations_path(landing, ags)
    p.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(COLUMNS)
    for e in [*existing, c]:
        w.writerow([e.dataset, e.month, e.rule, e.schluessel, e.grund, e.von, e.am])
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8-sig")
    os.replace(tmp, p)
    return c


def confirmation_keys(confs: list[Confirmation], *, ags: str, dataset: str, month: str, key: bytes) -> set[tuple[str, str]]:
    """(rule id, key) pairs for validation: the key is the case pseudonym (massnahmen, uma),
    the facility id (plaetze), the area code (personal) or ``*`` for the whole delivery."""
    out = set()
    for c in confs:
        if c.dataset != dataset or c.month != month:
            continue
        if not c.schluessel:
            k = WHOLE_FILE
        elif dataset in ("massnahmen", "uma"):
            k = pseudonymise(ags, c.schluessel, key)
        elif dataset == "personal":
            k = c.schluessel.lstrip("0") or c.schluessel
        else:
            k = c.schluessel
        out.add((c.rule, k))
    return out


def fingerprint(keys: set[tuple[str, str]]) -> str:
    """A short digest of the confirmation keys (a change triggers re-validation)."""
    h = hashlib.sha256("\n".join(f"{r}\t{k}" for r, k in sorted(keys)).encode("utf-8"))
    return h.hexdigest()[:16]
