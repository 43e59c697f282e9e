"""The kinds of source a delivery is pulled from: a folder and an SFTP server (asyncssh).

Belongs here: connecting (with the pinned host key), listing the regular files of the source
folder, streaming one file, removing one file, and turning connection failures into German
messages. Does not belong here: deciding what to fetch (``inobhut.quellen.fetch``).
Both sources have the same async interface, used as ``async with open_source(src) as s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from inobhut.quellen.config import QuellenError, Source

CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: int  # seconds since the epoch, as the source reports it


class SourceFailed(Exception):
    """The whole source is unusable for this run (German message for the operator)."""


def wanted(name: str) -> bool:
    """Delivery candidates: no hidden files, no files still being written, no path tricks."""
    return bool(name) and not name.startswith(".") and not name.endswith((".tmp", ".part", "~")) \
        and "/" not in name and "\\" not in name and name not in (".", "..")


class FolderSource:
    """A local or mounted shared folder (e.g. an SMB share mounted under /mnt)."""

    def __init__(self, src: Source):
        self.src = src
        self.root = Path(src.ordner or "")

    async def list(self) -> list[RemoteFile]:
        if not self.root.is_dir():
            raise SourceFailed(f"Der Ordner {self.root} ist nicht vorhanden oder nicht lesbar (Freigabe eingehängt?).")
        out = []
        for e in sorted(os.scandir(self.root), key=lambda e: e.name):
            if wanted(e.name) and e.is_file(follow_symlinks=False):
                st = e.stat(follow_symlinks=False)
                out.append(RemoteFile(e.name, st.st_size, int(st.st_mtime)))
        return out

    async def stat(self, name: str) -> RemoteFile:
        st = (self.root / name).stat()
        return RemoteFile(name, st.st_size, int(st.st_mtime))

    async def copy_to(self, name: str, sink: Callable[[bytes], None]) -> None:
        with open(self.root / name, "rb") as fh:
            while block := fh.read(CHUNK):
                sink(block)

    async def remove(self, name: str) -> None:
        (self.root / name).unlink()


class SftpSource:
    """An SFTP server; the host key must match the pinned known_hosts entry."""

    def __init__(self, src: Source, sftp):
        self.src = src
        self.sftp = sftp
        self.root = (src.ordner or ".").rstrip("/") or "/"

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}" if self.root != "/" else f"/{name}"

    async def list(self) -> list[RemoteFile]:
        import asyncssh

        try:
            names = await self.sftp.readdir(self.root)
        except asyncssh.SFTPNoSuchFile as exc:
            raise SourceFailed(f"Den Ordner „{self.root}“ gibt es auf dem Server nicht (ordner in der Quellendatei prüfen).") from exc
        except asyncssh.SFTPPermissionDenied as exc:
            raise SourceFailed(f"Keine Leserechte für den Ordner „{self.root}“ auf dem Server.") from exc
        out = []
        for n in sorted(names, key=lambda n: n.filename):
            a = n.attrs
            regular = a.type == asyncssh.FILEXFER_TYPE_REGULAR if a.type not in (None, asyncssh.FILEXFER_TYPE_UNKNOWN) \
                else (a.permissions is not None and stat.S_ISREG(a.permissions))
            if wanted(n.filename) and regular and a.size is not None:
                out.append(RemoteFile(n.filename, int(a.size), int(a.mtime or 0)))
        return out

    async def stat(self, name: str) -> RemoteFile:
        a = await self.sftp.stat(self._path(name))
        return RemoteFile(name, int(a.size), int(a.mtime or 0))

    async def copy_to(self, name: str, sink: Callable[[bytes], None]) -> None:
        async with self.sftp.open(self._path(name), "rb") as fh:
            while True:
                block = await fh.read(CHUNK)
                if not block:
                    break
                sink(block)

    async def remove(self, name: str) -> None:
        await self.sftp.remove(self._path(name))


@contextlib.asynccontextmanager
async def open_source(src: Source) -> AsyncIterator[FolderSource | SftpSource]:
    if src.art == "ordner":
        yield FolderSource(src)
        return
    if src.art != "sftp":
        raise QuellenError(f"Jugendamt {src.ags}: die Quelle „{src.art}“ wird nicht abgerufen.")
    import asyncssh

    asyncssh.set_log_level("WARNING")  # no per-connection INFO lines in the run logs
    known = await _check_pinned(src)
    password = src.password()
    key = src.key_file()
    try:
        conn = await asyncio.wait_for(asyncssh.connect(
            src.host, src.port, username=src.benutzer, password=password,
            client_keys=[key] if key else None, known_hosts=known,
            agent_path=None, config=None, preferred_auth=("publickey", "password") if key else ("password",),
            connect_timeout=src.zeitlimit_sekunden, login_timeout=src.zeitlimit_sekunden,
            keepalive_interval=max(5, int(src.zeitlimit_sekunden)),
        ), timeout=src.zeitlimit_sekunden * 2)
    except asyncssh.HostKeyNotVerifiable as exc:
        offered = await _server_key_text(src)
        raise SourceFailed(
            f"Der Hostschlüssel des Servers {src.host}:{src.port} stimmt NICHT mit dem hinterlegten überein (geändert) – "
            "Abruf abgelehnt, es wurden keine Zugangsdaten gesendet. Das kann ein Serverwechsel beim Jugendamt oder ein "
            "Angriff (Man-in-the-Middle) sein: den Fingerabdruck beim Jugendamt auf einem zweiten Weg (Telefon) erfragen "
            f"und erst danach „hostschluessel“ in [jugendamt.{src.ags}] der Quellendatei ersetzen. "
            f"Der Server meldet: {offered}. Hinterlegt: {_pinned_fingerprints(src)}.") from exc
    except asyncssh.PermissionDenied as exc:
        how = "Schlüsseldatei" if key and not password else ("Schlüsseldatei bzw. Passwort" if key else "Passwort")
        raise SourceFailed(f"Anmeldung als „{src.benutzer}“ an {src.host}:{src.port} abgelehnt: {how} prüfen "
                           "(Passwort abgelaufen oder Schlüssel nicht freigeschaltet? beim Jugendamt nachfragen).") from exc
    except TimeoutError as exc:
        raise SourceFailed(f"Der Server {src.host}:{src.port} antwortet nicht innerhalb von {src.zeitlimit_sekunden:g} s.") from exc
    except asyncssh.Error as exc:
        raise SourceFailed(f"Verbindung zu {src.host}:{src.port} abgelehnt: {exc.reason}.") from exc
    except OSError as exc:
        raise _unreachable(src, exc) from exc
    try:
        async with conn, conn.start_sftp_client() as sftp:
            yield SftpSource(src, sftp)
    except asyncssh.ChannelOpenError as exc:
        raise SourceFailed(f"Der Server {src.host}:{src.port} bietet kein SFTP an ({exc.reason}).") from exc


def _unreachable(src: Source, exc: OSError) -> SourceFailed:
    return SourceFailed(f"Der Server {src.host}:{src.port} ist nicht erreichbar ({exc.strerror or exc}); "
                        "läuft er, stimmen Name und Port, lässt die Firewall die Verbindung zu?")


async def _check_pinned(src: Source):
    """The pinned known_hosts entries; refuses (without logging in) when none is for this host."""
    import asyncssh

    known = asyncssh.import_known_hosts("\n".join(src.hostschluessel) + "\n") if src.hostschluessel else asyncssh.import_known_hosts("")
    try:
        addr = str(ipaddress.ip_address(src.host))
    except ValueError:
        addr = ""
    host_keys, ca_keys, *_ = known.match(src.host, addr, src.port)
    if not host_keys and not ca_keys:
        offered = await _server_key_text(src)
        hint = f"ssh-keyscan -p {src.port} {src.host}" if src.port != 22 else f"ssh-keyscan {src.host}"
        raise SourceFailed(
            f"Für den Server {src.host}:{src.port} ist kein Hostschlüssel hinterlegt (unbekannter Server) – Abruf "
            f"abgelehnt, es wurden keine Zugangsdaten gesendet. Der Server meldet: {offered}. Die Zeile mit „{hint}“ "
            f"holen, den Fingerabdruck beim Jugendamt auf einem zweiten Weg (Telefon) bestätigen lassen und als "
            f"„hostschluessel“ in [jugendamt.{src.ags}] der Quellendatei eintragen (siehe docs/quellen.md).")
    return known


async def _server_key_text(src: Source) -> str:
    import asyncssh

    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(src.host, src.port), timeout=src.zeitlimit_sekunden)
    except TimeoutError as exc:
        raise SourceFailed(f"Der Server {src.host}:{src.port} antwortet nicht innerhalb von {src.zeitlimit_sekunden:g} s.") from exc
    except OSError as exc:
        raise _unreachable(src, exc) from exc
    except asyncssh.Error as exc:
        return f"(Schlüssel nicht abrufbar: {exc})"
    if key is None:
        return "(kein Schlüssel)"
    return f"{key.get_algorithm()} {key.get_fingerprint('sha256')}"


def _pinned_fingerprints(src: Source) -> str:
    import asyncssh

    out = []
    for line in src.hostschluessel:
        parts = line.split()
        for i, p in enumerate(parts[:-1]):
            if p.startswith(("ssh-", "ecdsa-", "sk-")):
                try:
                    out.append(f"{p} {asyncssh.import_public_key(f'{p} {parts[i + 1]}').get_fingerprint('sha256')}")
                except (ValueError, asyncssh.KeyImportError):
                    pass
                break
    return ", ".join(out) or "–"
