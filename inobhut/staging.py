"""Staging: the validated, pseudonymised form of every delivery version.

Belongs here: reading and writing the per-version files that the validated layer produces and
the warehouse layer loads: ``v0001.json`` (verdict and counts; written last, so its presence
means the version is completely validated), ``v0001.parquet`` (accepted versions only; canonical
columns with ``fall_id`` instead of ``fallnummer``) and ``v0001.findings.parquet`` (versions with at
least one finding only: four of five versions have none, and an empty Parquet file cost as much to
write as a full one; an absent file reads as no findings).
Layout: ``<staging>/<ags>/<dataset>/<YYYY-MM>/``. No raw case number is ever written here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from inobhut import atomic
from inobhut.archive import ArchivedVersion
from inobhut.warehouse import ACCEPTED_VERDICTS

FINDING_COLUMNS = ["rule_id", "severity", "zeile", "spalte", "wert", "meldung", "hinweis"]


@dataclass
class Verdict:
    verdict: str
    n_rows: int
    n_fehler: int
    n_hinweise: int
    rules_version: str
    encoding: str | None = None
    delimiter: str | None = None
    fehlanzeige: bool = False  # header only: nothing to report this month

    @property
    def accepted(self) -> bool:
        return self.verdict in ACCEPTED_VERDICTS


def version_dir(staging: Path, v: ArchivedVersion) -> Path:
    return staging / v.ags / v.dataset / v.month


def _stem(v: ArchivedVersion) -> str:
    return f"v{v.version:04d}"


def read_verdict(staging: Path, v: ArchivedVersion) -> Verdict | None:
    p = version_dir(staging, v) / f"{_stem(v)}.json"
    if not p.exists():
        return None
    data = json.loads(p.read_text(encoding="utf-8"))
    names = {f.name for f in fields(Verdict)}
    return Verdict(**{k: val for k, val in data.items() if k in names})


def frame_path(staging: Path, v: ArchivedVersion) -> Path:
    return version_dir(staging, v) / f"{_stem(v)}.parquet"


def findings_path(staging: Path, v: ArchivedVersion) -> Path:
    return version_dir(staging, v) / f"{_stem(v)}.findings.parquet"


def read_frame(staging: Path, v: ArchivedVersion) -> pd.DataFrame:
    return pd.read_parquet(frame_path(staging, v))


def read_findings(staging: Path, v: ArchivedVersion) -> pd.DataFrame:
    p = findings_path(staging, v)
    if not p.exists():
        return pd.DataFrame(columns=FINDING_COLUMNS)
    return pd.read_parquet(p)


def findings_frame(findings) -> pd.DataFrame:
    findings = list(findings)
    # column by column (a frame from a list of dicts plus a cast per column cost ~6 ms per version)
    return pd.DataFrame({c: pd.array([getattr(f, c) for f in findings], dtype="Int64" if c == "zeile" else "string")
                         for c in FINDING_COLUMNS}, columns=FINDING_COLUMNS)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """``df.to_parquet(path, index=False)`` byte for byte, without pandas' wrapper around
    pyarrow (its checks of path, engine and options cost 1.7 ms of 4.9 ms per file, and a run
    writes one or two files per version)."""
    if df.attrs:  # pandas stores them in the file's metadata: its own writer does that
        df.to_parquet(path, index=False)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


def write_version(staging: Path, v: ArchivedVersion, verdict: Verdict, frame: pd.DataFrame | None, findings) -> None:
    """Write the staging files of one version; the verdict JSON last (atomic rename)."""
    d = version_dir(staging, v)
    d.mkdir(parents=True, exist_ok=True)
    stem = _stem(v)
    if "fallnummer" in (frame.columns if frame is not None else []):
        raise ValueError("raw Fallnummer must not be staged")
    findings = list(findings)
    targets = []
    if verdict.accepted and frame is not None:
        targets.append((d / f"{stem}.parquet", frame))
    if findings:
        targets.append((d / f"{stem}.findings.parquet", findings_frame(findings)))
    for path, df in targets:
        with atomic.replacing(path) as tmp:
            write_parquet(df, tmp)
    if not verdict.accepted:
        (d / f"{stem}.parquet").unlink(missing_ok=True)
    if not findings:  # a re-validation without findings leaves none from before
        (d / f"{stem}.findings.parquet").unlink(missing_ok=True)
    atomic.write_text(d / f"{stem}.json", json.dumps(asdict(verdict), ensure_ascii=False, indent=1))
