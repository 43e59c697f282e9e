"""The sources file (``quellen.toml``): one source per member office, validated with German messages.

Where it is: the environment variable ``INOBHUT_QUELLEN``, else the setting ``[quellen] datei``
(relative to the settings file), else none: then every office delivers into its folder of the
landing zone itself (kind ``eingang``: nothing to fetch). Every key is documented in
``docs/quellen.md``. Secrets (passwords, private keys) never stand in this file: it only names a
secret file or an environment variable.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

KINDS = ("eingang", "ordner", "sftp")

# key -> (kinds it belongs to, type)
KEYS: dict[str, tuple[tuple[str, ...], type | tuple[type, ...]]] = {
    "art": (KINDS, str),
    "ordner": (("ordner", "sftp"), str),
    "host": (("sftp",), str),
    "port": (("sftp",), int),
    "benutzer": (("sftp",), str),
    "schluessel_datei": (("sftp",), str),
    "passwort_datei": (("sftp",), str),
    "passwort_variable": (("sftp",), str),
    "hostschluessel": (("sftp",), (str, list)),
    "loeschen_nach_abruf": (("ordner", "sftp"), bool),
    "zeitlimit_sekunden": (("sftp",), (int, float)),
}
FORBIDDEN = {"passwort": "Passwörter stehen nie in der Quellendatei: „passwort_datei“ (Geheimnisdatei) oder "
                         "„passwort_variable“ (Umgebungsvariable) angeben.",
             "schluessel": "Private Schlüssel stehen nie in der Quellendatei: „schluessel_datei“ angeben."}


class QuellenError(ValueError):
    """The sources file or a secret is unusable (German message naming file, office and key)."""


@dataclass(frozen=True)
class Source:
    ags: str
    art: str = "eingang"  # "eingang" (the landing folder itself), "ordner", "sftp"
    ordner: str | None = None  # local folder (ordner) or remote folder (sftp)
    host: str | None = None
    port: int = 22
    benutzer: str | None = None
    schluessel_datei: str | None = None
    passwort_datei: str | None = None
    passwort_variable: str | None = None
    hostschluessel: tuple[str, ...] = ()  # known_hosts lines as printed by ssh-keyscan
    loeschen_nach_abruf: bool = False
    zeitlimit_sekunden: float = 30.0
    datei: str = ""  # the sources file it came from (for messages)

    @property
    def label(self) -> str:
        if self.art == "sftp":
            return f"sftp://{self.benutzer}@{self.host}:{self.port}{self.ordner}"
        if self.art == "ordner":
            return f"Ordner {self.ordner}"
        return "Eingangsablage"

    def password(self) -> str | None:
        """The password from the secret file or the environment (None if only a key is used)."""
        if self.passwort_datei:
            p = Path(self.passwort_datei)
            try:
                return p.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise QuellenError(f"Jugendamt {self.ags}: die Passwortdatei {p} ist nicht lesbar ({exc.strerror}).") from exc
        if self.passwort_variable:
            val = os.environ.get(self.passwort_variable)
            if not val:
                raise QuellenError(f"Jugendamt {self.ags}: die Umgebungsvariable {self.passwort_variable} "
                                   "(passwort_variable) ist nicht gesetzt.")
            return val
        return None

    def key_file(self) -> str | None:
        if not self.schluessel_datei:
            return None
        p = Path(self.schluessel_datei)
        if not p.is_file() or not os.access(p, os.R_OK):
            raise QuellenError(f"Jugendamt {self.ags}: die Schlüsseldatei {p} (schluessel_datei) fehlt oder ist nicht lesbar.")
        return str(p)


def sources_file() -> Path | None:
    """The configured sources file, or None (every office: the landing zone itself)."""
    from inobhut.config import settings

    name = os.environ.get("INOBHUT_QUELLEN") or settings().get("quellen", {}).get("datei") or ""
    if not name:
        return None
    p = Path(name)
    if not p.is_absolute():
        cfg = os.environ.get("INOBHUT_CONFIG")
        p = (Path(cfg).resolve().parent if cfg else Path.cwd()) / p
    return p


def load_sources(path: Path | None = None, members: tuple[str, ...] | None = None) -> dict[str, Source]:
    """One source per member office (offices without an entry: ``eingang``).

    Raises :class:`QuellenError` listing every problem of the file at once."""
    from inobhut.config import office_keys

    members = tuple(members or office_keys())
    path = path if path is not None else sources_file()
    out = {a: Source(a) for a in members}
    if path is None:
        return out
    if not Path(path).is_file():
        raise QuellenError(f"Die Quellendatei {path} (INOBHUT_QUELLEN bzw. [quellen] datei) gibt es nicht.")
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise QuellenError(f"Die Quellendatei {path} ist kein gültiges TOML: {exc}.") from exc
    errors: list[str] = []
    for key in doc:
        if key != "jugendamt":
            errors.append(f"Unbekannter Abschnitt „{key}“: erwartet sind nur Abschnitte [jugendamt.<Schlüssel>].")
    offices = doc.get("jugendamt", {})
    if not isinstance(offices, dict):
        errors.append("„jugendamt“ muss aus Abschnitten [jugendamt.<Schlüssel>] bestehen.")
        offices = {}
    for ags, entry in offices.items():
        where = f"[jugendamt.{ags}]"
        if ags not in members:
            errors.append(f"{where}: „{ags}“ ist kein Mitglieds-Jugendamt (Schlüssel wie in der Stammdatei, z. B. 08111).")
            continue
        if not isinstance(entry, dict):
            errors.append(f"{where}: erwartet ist ein Abschnitt mit Schlüsseln wie art, host, ordner.")
            continue
        src, errs = _source(ags, entry, where, str(path))
        errors.extend(errs)
        if src is not None:
            out[ags] = src
    if errors:
        raise QuellenError(f"Die Quellendatei {path} ist fehlerhaft:\n" + "\n".join(f"- {e}" for e in errors))
    return out


def _source(ags: str, entry: dict, where: str, file: str) -> tuple[Source | None, list[str]]:
    errors: list[str] = []
    art = entry.get("art", "eingang")
    if art not in KINDS:
        return None, [f"{where} art = „{art}“: erlaubt sind {', '.join(KINDS)}."]
    vals: dict = {}
    for key, val in entry.items():
        if key in FORBIDDEN:
            errors.append(f"{where} {key}: {FORBIDDEN[key]}")
            continue
        if key not in KEYS:
            errors.append(f"{where}: unbekannter Schlüssel „{key}“ (erlaubt: {', '.join(sorted(KEYS))}).")
            continue
        kinds, typ = KEYS[key]
        if art not in kinds:
            errors.append(f"{where}: „{key}“ gilt nicht für art = „{art}“.")
            continue
        if not isinstance(val, typ) or (typ is int and isinstance(val, bool)):
            errors.append(f"{where} {key} = {val!r}: falscher Typ.")
            continue
        vals[key] = val
    if art == "sftp":
        for key in ("host", "benutzer", "ordner"):
            if not vals.get(key):
                errors.append(f"{where}: für art = „sftp“ fehlt „{key}“.")
        port = vals.get("port", 22)
        if not 1 <= port <= 65535:
            errors.append(f"{where} port = {port}: erlaubt ist 1 bis 65535.")
        if not (vals.get("schluessel_datei") or vals.get("passwort_datei") or vals.get("passwort_variable")):
            errors.append(f"{where}: keine Anmeldung angegeben: „schluessel_datei“, „passwort_datei“ oder „passwort_variable“.")
        if vals.get("passwort_datei") and vals.get("passwort_variable"):
            errors.append(f"{where}: nur eines von „passwort_datei“ und „passwort_variable“ angeben.")
        hk = vals.get("hostschluessel", [])
        lines = [hk] if isinstance(hk, str) else hk
        if not all(isinstance(x, str) for x in lines):
            errors.append(f"{where} hostschluessel: erwartet sind Zeilen im known_hosts-Format (Text).")
            lines = []
        vals["hostschluessel"] = tuple(ln.strip() for text in lines for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#"))
        for line in vals["hostschluessel"]:
            problem = known_hosts_problem(line)
            if problem:
                errors.append(f"{where} hostschluessel: keine gültige known_hosts-Zeile ({problem}); "
                              "erwartet wie von ssh-keyscan ausgegeben: „host ssh-ed25519 AAAA…“.")
    if art == "ordner" and not vals.get("ordner"):
        errors.append(f"{where}: für art = „ordner“ fehlt „ordner“.")
    if vals.get("zeitlimit_sekunden") is not None and vals["zeitlimit_sekunden"] <= 0:
        errors.append(f"{where} zeitlimit_sekunden: muss größer als 0 sein.")
    if errors:
        return None, errors
    vals.pop("art", None)
    return Source(ags=ags, art=art, datei=file, **vals), []


def known_hosts_problem(line: str) -> str | None:
    """Why ``line`` is not a usable known_hosts entry (German), or None. asyncssh silently skips
    unparsable lines, which would turn a typo into an "unknown host" later."""
    import asyncssh

    fields = line.split()
    if fields and fields[0].startswith("@"):
        fields = fields[1:]
    if len(fields) < 3:
        return "Rechnername, Schlüsseltyp und Schlüssel erwartet"
    try:
        asyncssh.import_public_key(f"{fields[1]} {fields[2]}")
    except (ValueError, asyncssh.KeyImportError) as exc:
        return f"Schlüssel nicht lesbar: {exc}"
    return None
