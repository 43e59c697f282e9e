"""Pseudonymisation of case numbers (HMAC-SHA-256, keyed by ``INOBHUT_PSEUDONYM_KEY``) and the
key's fingerprint.

The raw ``Fallnummer`` never leaves memory except inside the archived original file.
The office key is part of the message, so equal case numbers of two offices differ.

Key rules: at least ``[datenschutz] schluessel_min_bytes`` (32) bytes of key material (surrounding
whitespace does not count; fewer than 8 distinct characters is no key). The key itself is never
stored; its *fingerprint* (HMAC of a fixed label under the key, 16 hex digits) is stored with the
staging (``<staging>/_schluessel.json``) and in the warehouse (table ``schluessel``), and a run
with a key of another fingerprint is refused (:func:`check_and_record`): with another key the
pseudonyms of old and new months would silently stop matching. Changing the key on purpose is
``inobhut schluessel wechseln`` (:mod:`inobhut.key_rotation`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from pathlib import Path

from inobhut.config import settings
from inobhut import atomic

FINGERPRINT_LABEL = b"inobhut/schluessel-fingerabdruck/v1"
STAGING_FILE = "_schluessel.json"
WAREHOUSE_DDL = "CREATE TABLE IF NOT EXISTS schluessel (fingerabdruck VARCHAR, seit TIMESTAMP)"
MIN_DISTINCT = 8


class MissingKeyError(RuntimeError):
    """No usable key (missing, too short, whitespace only)."""


class KeyMismatchError(RuntimeError):
    """The key's fingerprint differs from the one the stored data was pseudonymised with."""


def variable() -> str:
    return settings()["pseudonymisierung"]["schluessel_variable"]


def min_bytes() -> int:
    return int(settings().get("datenschutz", {}).get("schluessel_min_bytes", 32))


def validate_key(text: str, var: str | None = None) -> bytes:
    """The key bytes of ``text``; raises :class:`MissingKeyError` with a German message."""
    var = var or variable()
    if not text:
        raise MissingKeyError(
            f"Kein Pseudonymisierungsschlüssel: Bitte die Umgebungsvariable {var} setzen "
            f"(ein langer, geheimer, zufälliger Text von mindestens {min_bytes()} Zeichen; er muss für alle Läufe gleich bleiben). "
            "Erzeugen z. B. mit: python -c \"import secrets; print(secrets.token_urlsafe(48))\""
        )
    material = text.strip().encode("utf-8")
    if len(material) < min_bytes() or len(set(material)) < MIN_DISTINCT:
        raise MissingKeyError(
            f"Der Pseudonymisierungsschlüssel in {var} ist zu schwach: nötig sind mindestens {min_bytes()} Bytes "
            f"Schlüsselmaterial (ohne Leerzeichen am Rand, mindestens {MIN_DISTINCT} verschiedene Zeichen), vorhanden: {len(material)}. "
            "Bitte einen langen zufälligen Schlüssel setzen, z. B. python -c \"import secrets; print(secrets.token_urlsafe(48))\"."
        )
    return text.encode("utf-8")


def key_from_env(var: str | None = None) -> bytes:
    """The key from the variable named in the settings, else from the file named in
    ``<variable>_FILE`` (e.g. a systemd credential; a trailing line break is ignored)."""
    var = var or variable()
    key = os.environ.get(var, "")
    file_var = f"{var}_FILE"
    if not key and os.environ.get(file_var):
        path = os.environ[file_var]
        try:
            with open(path, encoding="utf-8") as fh:
                key = fh.read().rstrip("\r\n")
        except OSError as exc:
            raise MissingKeyError(
                f"Die Schlüsseldatei {path} (Umgebungsvariable {file_var}) ist nicht lesbar: {exc.strerror}. "
                "Bitte Pfad und Rechte prüfen (lesbar nur für den Dienstbenutzer)."
            ) from None
        if not key:
            raise MissingKeyError(f"Die Schlüsseldatei {path} (Umgebungsvariable {file_var}) ist leer.")
    return validate_key(key, var)


def pseudonymise(ags: str, fallnummer: str, key: bytes) -> str:
    """32 hex characters (128 bit) of HMAC-SHA-256 over ``"<ags>:<fallnummer>"``."""
    msg = f"{ags}:{fallnummer.strip()}".encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


def fingerprint(key: bytes) -> str:
    """16 hex digits identifying the key without revealing it (HMAC of a fixed label)."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


# --------------------------------------------------------------------------- stored fingerprints


def staging_fingerprint(staging: Path) -> str | None:
    p = Path(staging) / STAGING_FILE
    if not p.exists():
        return None
    return json.loads(p.read_text(encoding="utf-8")).get("fingerabdruck")


def warehouse_fingerprint(warehouse: Path) -> str | None:
    """The fingerprint stored in the warehouse; None when there is none or the warehouse cannot
    be read (damaged derived state is the run's repair step's business, inobhut.repair; the
    staging fingerprint still guards the key)."""
    if not Path(warehouse).is_file():
        return None
    import duckdb

    from inobhut.warehouse import Warehouse

    try:
        with Warehouse(warehouse).connect() as con:
            con.execute(WAREHOUSE_DDL)
            row = con.execute("SELECT fingerabdruck FROM schluessel ORDER BY seit DESC LIMIT 1").fetchone()
    except (duckdb.Error, OSError):
        return None
    return row[0] if row else None


def _has_data(staging: Path) -> bool:
    return Path(staging).exists() and any(p.is_dir() for p in Path(staging).iterdir())


def write_fingerprint(staging: Path, warehouse: Path, key: bytes) -> str:
    """Store the key's fingerprint with the staging and in the warehouse (replacing any). A
    warehouse that cannot be opened (damaged derived state) is left to the run's repair step
    (inobhut.repair); the next run stores the fingerprint in the rebuilt one."""
    import duckdb

    from inobhut.warehouse import Warehouse

    fp = fingerprint(key)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    Path(staging).mkdir(parents=True, exist_ok=True)
    atomic.write_text(Path(staging) / STAGING_FILE,  # office assets may run in parallel processes
                      json.dumps({"fingerabdruck": fp, "seit": now.isoformat(),
                                  "hinweis": "Fingerabdruck des Pseudonymisierungsschlüssels (nicht der Schlüssel)"},
                                 ensure_ascii=False, indent=1))
    if Path(warehouse).exists() and not Path(warehouse).is_file():
        return fp
    try:
        with Warehouse(warehouse).connect() as con:
            con.execute(WAREHOUSE_DDL)
            con.execute("DELETE FROM schluessel")
            con.execute("INSERT INTO schluessel VALUES (?, ?)", [fp, now.replace(tzinfo=None)])
    except (duckdb.Error, OSError):
        pass
    return fp


def check_and_record(staging: Path, warehouse: Path, key: bytes) -> str:
    """Refuse a key whose fingerprint differs from the stored one (German message); store the
    fingerprint where none is stored yet. Returns the fingerprint."""
    fp = fingerprint(key)
    stored = {"Staging": staging_fingerprint(staging), "Warehouse": warehouse_fingerprint(warehouse)}
    wrong = {where: f for where, f in stored.items() if f is not None and f != fp}
    if wrong:
        where = ", ".join(f"{w}: {f}" for w, f in wrong.items())
        raise KeyMismatchError(
            f"Der Pseudonymisierungsschlüssel passt nicht zu den vorhandenen Daten (gespeicherter Fingerabdruck {where}; "
            f"Fingerabdruck des gesetzten Schlüssels: {fp}). Mit einem anderen Schlüssel würden dieselben Fälle andere "
            "Pseudonyme bekommen und Monate nicht mehr zusammenpassen. Bitte den bisherigen Schlüssel setzen; einen "
            "Schlüsselwechsel macht „inobhut schluessel wechseln“ (siehe docs/sicherheit.md)."
        )
    if None in stored.values() or (stored["Staging"] is None and _has_data(staging)):
        write_fingerprint(staging, warehouse, key)
    return fp
