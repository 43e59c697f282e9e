"""The quarantine: deliveries with identifying data, kept apart, shortly, and then deleted.

Belongs here: the hook the intake calls for every new delivery version before archiving it
(:func:`intake_hook`), moving such a file into the quarantine (copy, verify the sha256, only
then remove it from the landing zone: nothing delivered is lost), its sidecar, the steward's
Prüfbericht of a quarantined file (:func:`write_reports`), listing and the deletion after the
retention period (:func:`cleanup`). Deciding *whether* a file identifies persons is
:mod:`inobhut.privacy`.

Where: ``$INOBHUT_QUARANTINE`` or ``<archive>/../quarantaene``; directories ``0700``, files
``0600``. Layout ``<quarantine>/<ags>/<YYYYMMDDTHHMMSSZ>_<sha12>_<dataset>_<YYYY-MM>.<ext>`` plus
a ``.json`` sidecar (name, checksum, size, times, the rule ids and column headers of the
findings — never a value). Retention: ``[datenschutz] quarantaene_tage`` (default 30 days).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inobhut import audit
from inobhut import atomic

ENV = "INOBHUT_QUARANTINE"
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass
class QuarantinedFile:
    ags: str
    dataset: str
    month: str
    file_name: str  # name as delivered
    sha256: str
    size_bytes: int
    received_at: str
    quarantined_at: str
    delete_after: str  # ISO date: the file is deleted by ``cleanup`` from this day on
    quarantine_file: str  # path relative to the quarantine root
    reasons: list[dict] = field(default_factory=list)  # {rule_id, spalte, meldung, hinweis, zeile}


def quarantine_dir(archive: Path) -> Path:
    env = os.environ.get(ENV)
    return Path(env) if env else Path(archive).resolve().parent / "quarantaene"


def retention_days() -> int:
    from inobhut.config import settings

    return int(settings().get("datenschutz", {}).get("quarantaene_tage", 30))


def _mkdir_private(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, DIR_MODE)


def _sha256(path: Path) -> str:
    from inobhut.archive import sha256_file

    return sha256_file(path)


def _screen(job: tuple[Path, str]):
    from inobhut.privacy import screen_file

    return screen_file(*job)


def screen_many(files: list[tuple[Path, str]]) -> list:
    """The privacy screening (:func:`inobhut.privacy.screen_file`) of ``(path, dataset)`` each, on
    all cores (each file is read far enough to see header and cells: the largest cost of an
    intake of many new files)."""
    from inobhut.parallel import parallel

    return parallel(_screen, files, min_jobs=8, chunksize=8)


def intake_hook(src: Path, dn, digest: str, archive: Path, screening=None) -> QuarantinedFile | bool | None:
    """Called by :func:`inobhut.archive.intake` for a new version before it is archived:
    a file with identifying data is moved to the quarantine (returns its record; False if the
    file changed while being copied: it stays in the landing zone and is not archived either),
    any other file is left alone (returns None). ``screening``: done before (:func:`screen_many`)."""
    if screening is None:
        screening = _screen((src, dn.dataset))
    if not screening.identifying:
        return None
    return put(src, dn, digest, archive, screening.findings) or False


def put(src: Path, dn, digest: str, archive: Path, findings) -> QuarantinedFile | None:
    """Copy ``src`` into the quarantine, verify it, write the sidecar, record the audit event,
    and only then remove ``src`` from the landing zone. None if the source changed meanwhile
    (it stays in the landing zone for the next run)."""
    root = quarantine_dir(archive)
    _mkdir_private(root)
    d = root / dn.ags
    _mkdir_private(d)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    target = d / f"{stamp}_{digest[:12]}_{dn.dataset}_{dn.month}.{dn.ext}"
    tmp = atomic.temp_path_for(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
        shutil.copyfileobj(inp, out)
        out.flush()
        os.fsync(out.fileno())
    if _sha256(tmp) != digest:
        tmp.unlink()
        return None
    os.replace(tmp, target)
    st = src.stat()
    q = QuarantinedFile(
        ags=dn.ags, dataset=dn.dataset, month=dn.month, file_name=src.name, sha256=digest, size_bytes=st.st_size,
        received_at=dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).replace(microsecond=0).isoformat(),
        quarantined_at=now.isoformat(), delete_after=(now.date() + dt.timedelta(days=retention_days())).isoformat(),
        quarantine_file=target.relative_to(root).as_posix(),
        reasons=[{"rule_id": f.rule_id, "spalte": f.spalte, "zeile": f.zeile, "meldung": f.meldung, "hinweis": f.hinweis}
                 for f in findings],
    )
    side = target.with_suffix(".json")
    side_tmp = atomic.temp_path_for(side)
    fd = os.open(side_tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(q), ensure_ascii=False, indent=1))
    os.replace(side_tmp, side)
    if _sha256(target) == digest:  # verified copy in place: now the landing file may go
        src.unlink()
    rules = sorted({f"{r['rule_id']} {r['spalte'] or ''}".strip() for r in q.reasons})
    audit.record(archive, "quarantaene", ags=dn.ags, dataset=dn.dataset, monat=dn.month, datei=q.quarantine_file,
                 sha256=digest, detail=f"Personenbezogene Angaben erkannt ({'; '.join(rules)}); Löschung ab {q.delete_after}")
    return q


def list_quarantined(archive: Path) -> list[QuarantinedFile]:
    root = quarantine_dir(archive)
    out = []
    if root.exists():
        for side in sorted(root.glob("*/*.json")):
            out.append(QuarantinedFile(**json.loads(side.read_text(encoding="utf-8"))))
    return out


def cleanup(archive: Path, today: dt.date | None = None) -> list[QuarantinedFile]:
    """Delete every quarantined file whose retention has passed (file and sidecar); one
    audit entry ``loeschung`` per file. Returns the deleted records."""
    today = today or dt.date.today()
    root = quarantine_dir(archive)
    gone = []
    for q in list_quarantined(archive):
        if dt.date.fromisoformat(q.delete_after) <= today:
            f = root / q.quarantine_file
            f.unlink(missing_ok=True)
            f.with_suffix(".json").unlink(missing_ok=True)
            audit.record(archive, "loeschung", ags=q.ags, dataset=q.dataset, monat=q.month, datei=q.quarantine_file,
                         sha256=q.sha256, detail="Quarantäne: Aufbewahrungsfrist abgelaufen")
            gone.append(q)
    return gone


def write_reports(quarantined: list[QuarantinedFile], out: Path) -> list[Path]:
    """The steward's Prüfbericht of each quarantined file under
    ``<out>/pruefberichte/<ags>/<dataset>_<YYYY-MM>_quarantaene_<sha12>.{html,xlsx,json}``
    (verdict abgelehnt; the findings name columns and rows, never the identifying values)."""
    from inobhut.config import office
    from inobhut.pruefbericht import write_pruefbericht
    from inobhut.validation import Finding
    from inobhut.validation.checks import ValidationResult
    from inobhut.warehouse import VERDICT_REJECTED

    written: list[Path] = []
    for q in quarantined:
        from inobhut.validation.rules import rules

        findings = [Finding(r["rule_id"], rules()[r["rule_id"]].schwere, r.get("zeile"), r.get("spalte"), None,
                            r["meldung"], r["hinweis"]) for r in q.reasons]
        result = ValidationResult(VERDICT_REJECTED, findings, None, 0, None, None)
        try:
            name = office(q.ags).label
        except KeyError:
            name = q.ags
        meta = {"ags": q.ags, "office_name": name, "dataset": q.dataset, "month": q.month,
                "version": "Quarantäne", "file_name": q.file_name, "sha256": q.sha256, "received_at": q.received_at,
                "base_name": f"{q.dataset}_{q.month}_quarantaene_{q.sha256[:12]}"}
        written += write_pruefbericht(result, meta, Path(out) / "pruefberichte" / q.ags)
    return written
