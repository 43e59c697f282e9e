"""Fetching: new or changed files of each office's source into the landing zone, exactly once.

A file is downloaded to a hidden temporary name (``<landing>/.abruf/<ags>/<name>.part``, which
intake and the landing sensor ignore), its size compared with the listing, its sha256 computed
while streaming and again from the disk, the source file re-checked for changes during the
transfer, and only then renamed into ``<landing>/<ags>/<name>``. The fetch state
(``<archive>/_abruf/<ags>.json``: name, size, mtime, sha256 and time of each fetched version)
makes a file version be fetched once; it lives beside the archive because it must survive a
rebuild of everything derived. A source file is removed only when the office's configuration
says ``loeschen_nach_abruf = true``, and only after the copy is complete. A failing source never
stops the other offices; every fetch and refusal is an audit event.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from filelock import FileLock

from inobhut import audit
from inobhut.archive import list_versions, sha256_file
from inobhut.config import Paths
from inobhut.quellen.config import QuellenError, Source, load_sources
from inobhut.quellen.sources import RemoteFile, SourceFailed, open_source

STATE_DIR = "_abruf"
TMP_DIR = ".abruf"


@dataclass
class FileOutcome:
    name: str
    status: str  # "abgerufen" | "unveraendert" | "abgelehnt" | "zurueckgestellt"
    grund: str = ""  # German
    sha256: str | None = None
    groesse: int | None = None


@dataclass
class OfficeResult:
    ags: str
    quelle: str
    art: str
    fehler: str | None = None  # the whole source failed (German)
    dateien: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.dateien if f.status == status)

    @property
    def ok(self) -> bool:
        return self.fehler is None and not self.count("abgelehnt")


@dataclass
class FetchSummary:
    offices: list[OfficeResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.count(status) for o in self.offices)

    @property
    def failed(self) -> list[OfficeResult]:
        return [o for o in self.offices if not o.ok]

    def as_dict(self) -> dict:
        return {"jugendaemter": [asdict(o) for o in self.offices]}


def state_path(archive: Path, ags: str) -> Path:
    return archive / STATE_DIR / f"{ags}.json"


def read_state(archive: Path, ags: str) -> dict[str, dict]:
    p = state_path(archive, ags)
    if not p.exists():
        return {}
    return json.loads(p.read_text(encoding="utf-8")).get("dateien", {})


def _write_state(archive: Path, ags: str, files: dict[str, dict]) -> None:
    p = state_path(archive, ags)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"dateien": files}, ensure_ascii=False, indent=1, sort_keys=True))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)


def fetch_all(paths: Paths, *, jugendaemter: list[str] | None = None, sources: dict[str, Source] | None = None,
              lauf: str | None = None) -> FetchSummary:
    """Fetch every configured source (or only ``jugendaemter``). Raises :class:`QuellenError`
    only for an unusable sources file; a failing source is recorded in the summary."""
    sources = sources if sources is not None else load_sources()
    summary = FetchSummary()
    for ags in jugendaemter or sorted(sources):
        src = sources.get(ags)
        if src is None:
            raise QuellenError(f"„{ags}“ ist kein Mitglieds-Jugendamt.")
        if src.art == "eingang":
            continue  # the office delivers into the landing zone itself: nothing to fetch
        summary.offices.append(fetch_office(paths, src, lauf=lauf))
    return summary


def fetch_office(paths: Paths, src: Source, *, lauf: str | None = None) -> OfficeResult:
    res = OfficeResult(src.ags, src.label, src.art)
    lock = paths.archive / STATE_DIR / f"{src.ags}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock), timeout=3600):  # two runs at once: the second waits, then finds nothing new
        try:
            asyncio.run(_fetch(paths, src, res, lauf))
        except (SourceFailed, QuellenError, LandingWriteError) as exc:
            res.fehler = str(exc)
        except Exception as exc:  # noqa: BLE001 - a transfer broken off, or anything else: never stop the others
            res.fehler = _broken_off(src, exc)
    events = []
    if res.fehler:
        events.append(dict(ereignis="abruf_abgelehnt", lauf=lauf, ags=src.ags, detail={"quelle": src.label, "grund": res.fehler}))
    for f in res.dateien:
        if f.status == "abgelehnt":
            events.append(dict(ereignis="abruf_abgelehnt", lauf=lauf, ags=src.ags, datei=f.name, sha256=f.sha256,
                               detail={"quelle": src.label, "grund": f.grund}))
    audit.record_many(paths.archive, events)
    return res


def _broken_off(src: Source, exc: Exception) -> str:
    import asyncssh

    if isinstance(exc, (asyncssh.Error, ConnectionError, asyncio.IncompleteReadError, OSError, EOFError)):
        return (f"Die Verbindung zu {src.label} ist während des Abrufs abgebrochen ({type(exc).__name__}: {exc}). "
                "Vollständig abgerufene Dateien sind in der Eingangsablage; keine halbe Datei wurde übernommen. "
                "Der nächste Lauf holt den Rest.")
    return f"Unerwarteter Fehler beim Abruf von {src.label}: {type(exc).__name__}: {exc}"


async def _fetch(paths: Paths, src: Source, res: OfficeResult, lauf: str | None) -> None:
    state = read_state(paths.archive, src.ags)
    tmp_dir = paths.landing / TMP_DIR / src.ags
    target_dir = paths.landing / src.ags
    async with open_source(src) as source:
        listing = await source.list()
        for rf in listing:
            entry = state.get(rf.name)
            if entry and entry["groesse"] == rf.size and entry["mtime"] == rf.mtime:
                grund = "bereits abgerufen"
                if src.loeschen_nach_abruf:  # an earlier deletion at the source failed: try again
                    grund += await _remove(source, rf.name)
                res.dateien.append(FileOutcome(rf.name, "unveraendert", grund, entry["sha256"], rf.size))
                continue
            tmp_dir.mkdir(parents=True, exist_ok=True)
            target_dir.mkdir(parents=True, exist_ok=True)
            outcome = await _fetch_file(paths, src, source, rf, entry, state, tmp_dir, target_dir, lauf)
            res.dateien.append(outcome)


async def _fetch_file(paths, src, source, rf: RemoteFile, entry, state, tmp_dir: Path, target_dir: Path, lauf) -> FileOutcome:
    tmp = tmp_dir / f"{rf.name}.part"
    h = hashlib.sha256()
    n = 0
    with _landing_io(paths, tmp):
        fh = open(tmp, "wb")  # a .part left by a broken-off run is simply overwritten
    try:
        def sink(block: bytes) -> None:
            nonlocal n
            h.update(block)
            with _landing_io(paths, tmp):
                fh.write(block)
            n += len(block)

        await source.copy_to(rf.name, sink)
        with _landing_io(paths, tmp):
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        fh.close()
    digest = h.hexdigest()
    after = await source.stat(rf.name)
    if (after.size, after.mtime) != (rf.size, rf.mtime):
        tmp.unlink()
        return FileOutcome(rf.name, "zurueckgestellt", "Die Datei wurde während des Abrufs an der Quelle verändert "
                           "(wird noch geschrieben); sie wird beim nächsten Lauf abgerufen.", None, rf.size)
    if n != rf.size or tmp.stat().st_size != rf.size or sha256_file(tmp) != digest:
        tmp.unlink()
        return FileOutcome(rf.name, "abgelehnt", f"Größe oder Prüfsumme stimmt nicht: {n} Bytes übertragen, die Quelle "
                           f"meldet {rf.size} Bytes. Nichts übernommen; der nächste Lauf versucht es erneut.", digest, n)
    target = target_dir / rf.name
    record = {"groesse": rf.size, "mtime": rf.mtime, "sha256": digest,
              "abgerufen_um": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if entry and entry["sha256"] == digest or target.exists() and sha256_file(target) == digest:
        tmp.unlink()  # only the time stamp changed, or the copy is there already
        if not (entry and entry["sha256"] == digest):  # a run that died after the rename: record it now
            audit.record(paths.archive, "abgerufen", lauf=lauf, ags=src.ags, datei=f"{src.ags}/{rf.name}", sha256=digest,
                         detail={"quelle": src.label, "bytes": rf.size, "korrektur": bool(entry), "nachgetragen": True})
        state[rf.name] = {**record, "abgerufen_um": (entry or {}).get("abgerufen_um", record["abgerufen_um"])}
        _write_state(paths.archive, src.ags, state)
        grund = "Inhalt unverändert" + (await _remove(source, rf.name) if src.loeschen_nach_abruf else "")
        return FileOutcome(rf.name, "unveraendert", grund, digest, rf.size)
    if target.exists() and not _archived(paths.archive, src.ags, target):
        tmp.unlink()  # replacing it now would lose a delivered version that intake has not archived yet
        return FileOutcome(rf.name, "zurueckgestellt", "Die vorige Fassung in der Eingangsablage ist noch nicht "
                           "archiviert; die neue Fassung wird nach dem Eingang beim nächsten Lauf abgerufen.", digest, rf.size)
    with _landing_io(paths, tmp):
        os.replace(tmp, target)
        _fsync_dir(target_dir)
    audit.record(paths.archive, "abgerufen", lauf=lauf, ags=src.ags, datei=f"{src.ags}/{rf.name}", sha256=digest,
                 detail={"quelle": src.label, "bytes": rf.size, "korrektur": bool(entry)})
    state[rf.name] = record
    _write_state(paths.archive, src.ags, state)
    grund = "Korrektur (geänderte Datei)" if entry else "neu"
    if src.loeschen_nach_abruf:
        grund += await _remove(source, rf.name)
    return FileOutcome(rf.name, "abgerufen", grund, digest, rf.size)


async def _remove(source, name: str) -> str:
    """Delete a fetched file at the source (only with ``loeschen_nach_abruf``); never raises:
    the copy is safe, deleting is a courtesy that the next run retries."""
    try:
        await source.remove(name)
        return ", an der Quelle gelöscht"
    except Exception as exc:  # noqa: BLE001
        return f", Löschen an der Quelle fehlgeschlagen ({exc}); nächster Versuch beim nächsten Lauf"


class LandingWriteError(Exception):
    """Writing into the landing zone failed (German message); the source is not to blame."""


@contextlib.contextmanager
def _landing_io(paths: Paths, tmp: Path):
    """Local write errors (full disk, no permission) are the landing zone's, not the source's:
    say so, and leave no temporary file behind."""
    try:
        yield
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise LandingWriteError(
            f"In die Eingangsablage {paths.landing} kann nicht geschrieben werden ({exc.strerror or exc}): "
            "Speicherplatz und Rechte prüfen. An der Quelle wurde nichts verändert; der nächste Lauf holt die Datei.") from exc


def _archived(archive: Path, ags: str, target: Path) -> bool:
    digest = sha256_file(target)
    return any(v.sha256 == digest for v in list_versions(archive, ags))


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
