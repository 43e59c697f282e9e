"""Key rotation: re-pseudonymise everything from the archive under a new key.

Belongs here: the procedure behind ``inobhut schluessel wechseln``. The archive holds every
delivered file unchanged, so the derived state (staging, warehouse, outputs with pseudonyms) can
be rebuilt under the new key:

1. the old key must match the stored fingerprint (proves the operator holds the current key);
2. the new key must satisfy the key rules and differ from the old one;
3. staging and warehouse are moved aside, the GX Data Docs (they show pseudonyms) deleted;
4. the whole pipeline runs over every archived month with the new key (one Dagster run);
5. on success the old staging/warehouse are deleted, the new fingerprint is stored, and the
   audit trail gets ``schluesselwechsel`` (old and new fingerprint, never a key); on failure the
   old state is put back and nothing changed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from inobhut import audit, pseudonym
from inobhut.archive import list_versions
from inobhut.config import Paths


class RotationError(RuntimeError):
    """German message: why the key was not changed (nothing was changed)."""


@dataclass
class RotationResult:
    old_fingerprint: str
    new_fingerprint: str
    months: list[str]
    run_id: str


def rotate(paths: Paths, old_key: bytes, new_key: bytes, *, run=None, dagster_home: Path | None = None) -> RotationResult:
    """Rebuild staging and warehouse from the archive under ``new_key`` (see module doc).
    ``run(paths, months) -> outcome`` defaults to :func:`pipelines.runner.run_pipeline`."""
    if run is None:
        from pipelines.runner import run_pipeline

        def run(p, months):
            return run_pipeline(p, months, dagster_home=dagster_home)

    old_fp, new_fp = pseudonym.fingerprint(old_key), pseudonym.fingerprint(new_key)
    try:
        pseudonym.check_and_record(paths.staging, paths.warehouse, old_key)
    except pseudonym.KeyMismatchError as exc:
        raise RotationError(f"Der bisherige Schlüssel stimmt nicht: {exc}") from None
    if old_fp == new_fp:
        raise RotationError("Der neue Schlüssel ist derselbe wie der bisherige; es gibt nichts zu wechseln.")
    months = sorted({v.month for v in list_versions(paths.archive)})
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    staging, wh = Path(paths.staging), Path(paths.warehouse)
    old_staging = staging.with_name(f"{staging.name}.alt-{stamp}")
    old_wh = wh.with_name(f"{wh.name}.alt-{stamp}")
    moved = []
    if staging.exists():
        os.replace(staging, old_staging)
        moved.append((old_staging, staging))
    if wh.exists():
        os.replace(wh, old_wh)
        moved.append((old_wh, wh))
    wal = wh.with_name(wh.name + ".wal")
    if wal.exists():
        os.replace(wal, old_wh.with_name(old_wh.name + ".wal"))
        moved.append((old_wh.with_name(old_wh.name + ".wal"), wal))
    shutil.rmtree(Path(paths.out) / "gx_data_docs", ignore_errors=True)
    var = pseudonym.variable()
    saved = os.environ.get(var)
    os.environ[var] = new_key.decode("utf-8")
    try:
        outcome = run(paths, months) if months else None
        ok = outcome is None or outcome.success
        if not ok:
            raise RotationError(f"Der Neuaufbau mit dem neuen Schlüssel ist fehlgeschlagen (Lauf {outcome.run_id}: "
                                f"{outcome.error or ', '.join(outcome.failed_steps)}); der bisherige Stand wurde wiederhergestellt.")
        pseudonym.write_fingerprint(paths.staging, paths.warehouse, new_key)
    except BaseException:
        for old, cur in moved:
            if cur.is_dir():
                shutil.rmtree(cur, ignore_errors=True)
            elif cur.exists():
                cur.unlink()
            os.replace(old, cur)
        raise
    finally:  # the caller's environment is left as it was (the operator sets the new key)
        if saved is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = saved
    for old, _ in moved:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    audit.record(paths.archive, "schluesselwechsel", lauf=getattr(outcome, "run_id", None),
                 detail=f"Fingerabdruck {old_fp} → {new_fp}; {len(months)} Berichtsmonate aus dem Archiv neu pseudonymisiert "
                        "(Staging und Warehouse neu aufgebaut)")
    return RotationResult(old_fp, new_fp, months, getattr(outcome, "run_id", ""))
