"""Pseudonymisation of case numbers (HMAC-SHA-256, keyed by ``INOBHUT_PSEUDONYM_KEY``).

The raw ``Fallnummer`` never leaves memory except inside the archived original file.
The office key is part of the message, so equal case numbers of two offices differ.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from inobhut.config import settings


class MissingKeyError(RuntimeError):
    pass


def key_from_env() -> bytes:
    """The key from the variable named in the settings, else from the file named in
    ``<variable>_FILE`` (e.g. a systemd credential; a trailing line break is ignored)."""
    var = settings()["pseudonymisierung"]["schluessel_variable"]
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
    if not key:
        raise MissingKeyError(
            f"Kein Pseudonymisierungsschlüssel: Bitte die Umgebungsvariable {var} setzen "
            f"oder in {file_var} den Pfad einer Schlüsseldatei angeben "
            "(ein langer, geheimer Text; er muss für alle Läufe gleich bleiben)."
        )
    return key.encode("utf-8")


def pseudonymise(ags: str, fallnummer: str, key: bytes) -> str:
    """32 hex characters (128 bit) of HMAC-SHA-256 over ``"<ags>:<fallnummer>"``."""
    msg = f"{ags}:{fallnummer.strip()}".encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]
