"""What happens to one office-month: validate every new delivery version and stage it.

Belongs here: the order of datasets within an office-month, the cross-delivery context handed
to validation (previous month, same month's facilities), re-validation policy and the status
of an office-month that the Dagster asset checks and the delivery status report show.
Does not belong here: the checks themselves (``inobhut.validation``) or loading the warehouse
(``inobhut.load``).

Policy: a version is validated once per rule-catalogue version (``RULES_VERSION``) and set of
confirmations of its office, dataset and month; a rerun with unchanged rules and confirmations
reuses the stored verdict, so reruns are cheap and idempotent. How pending versions are found
and validated in batches (one Great Expectations run per dataset over all versions of all offices
of a call) is :mod:`inobhut.office_validation`.
Beside the staging files of a version this module keeps ``v0001.pruefung.json`` (rules version,
confirmations fingerprint, counts per level, positions of confirmed findings).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from inobhut import archive as arc
from inobhut import atomic
from inobhut import staging as stg
from inobhut.config import Paths, settings
from inobhut.warehouse import VERDICT_REJECTED

# plaetze first: massnahmen checks its Einrichtung references against the same month's plaetze
DATASET_ORDER = ("plaetze", "personal", "massnahmen", "uma")
MISSING = "fehlt"


@dataclass
class DatasetStatus:
    dataset: str
    status: str  # "fehlt" or the verdict of the newest version
    newest_version: int | None = None
    in_force_version: int | None = None
    n_rows: int = 0
    n_fehler: int = 0
    n_hinweise: int = 0
    pruefbericht: str | None = None  # path relative to <out>
    validated_now: bool = False
    levels: dict = field(default_factory=dict)  # {"zeile"|"datensatz": {"fehler": n, "hinweise": n}}
    rules: dict = field(default_factory=dict)  # rule id -> findings (newest version)
    n_bestaetigt: int = 0

    def level(self, name: str) -> tuple[int, int]:
        """(Fehler, unconfirmed Hinweise) of the newest version at one level."""
        lv = self.levels.get(name, {})
        return int(lv.get("fehler", 0)), int(lv.get("hinweise", 0))


@dataclass
class OfficeMonthStatus:
    ags: str
    month: str
    datasets: list[DatasetStatus] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return any(d.status != MISSING for d in self.datasets)

    @property
    def rejected(self) -> list[DatasetStatus]:
        return [d for d in self.datasets if d.status == VERDICT_REJECTED]

    @property
    def with_warnings(self) -> list[DatasetStatus]:
        return [d for d in self.datasets if d.n_hinweise and d.status != VERDICT_REJECTED]

    @property
    def missing(self) -> list[str]:
        return [d.dataset for d in self.datasets if d.status == MISSING]


def in_force(paths: Paths, ags: str, dataset: str, month: str) -> tuple[arc.ArchivedVersion, stg.Verdict] | None:
    """The newest accepted version of (ags, dataset, month), if any."""
    for v in reversed(arc.list_versions(paths.archive, ags, dataset, month)):
        verdict = stg.read_verdict(paths.staging, v)
        if verdict is not None and verdict.accepted:
            return v, verdict
    return None


def in_force_frame(paths: Paths, ags: str, dataset: str, month: str) -> pd.DataFrame | None:
    hit = in_force(paths, ags, dataset, month)
    if hit is None:
        return None
    return stg.read_frame(paths.staging, hit[0])


def pruefbericht_dir(paths: Paths, ags: str) -> Path:
    return paths.out / "pruefberichte" / ags


def pruefbericht_name(v: arc.ArchivedVersion) -> str:
    return f"{v.dataset}_{v.month}_v{v.version}"


LEVEL_ROW, LEVEL_DATASET = "zeile", "datensatz"


def level_of(rule_id: str) -> str:
    """File and row level (D…, Z…) vs dataset level (S…): the two asset checks."""
    return LEVEL_DATASET if rule_id.startswith("S") else LEVEL_ROW


def _sidecar(paths: Paths, v: arc.ArchivedVersion) -> Path:
    return stg.version_dir(paths.staging, v) / f"v{v.version:04d}.pruefung.json"


def read_sidecar(paths: Paths, v: arc.ArchivedVersion) -> dict | None:
    """Per version, beside the staging files: rules version and confirmations it was validated
    with, counts per level and rule, positions of confirmed findings in the findings file."""
    p = _sidecar(paths, v)
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def confirmed_rows(staging: Path, v: arc.ArchivedVersion) -> list[int]:
    """Positions of the confirmed rows in the version's findings file (used by the warehouse load)."""
    p = stg.version_dir(staging, v) / f"v{v.version:04d}.pruefung.json"
    if not p.exists():
        return []
    try:
        return sorted({int(i) for i in json.loads(p.read_text(encoding="utf-8")).get("bestaetigt", [])})
    except (OSError, ValueError, TypeError):
        return []



def _sidecar_data(result, fp: str) -> dict:
    levels = {LEVEL_ROW: {"fehler": 0, "hinweise": 0}, LEVEL_DATASET: {"fehler": 0, "hinweise": 0}}
    for f in result.findings:
        lv = levels[level_of(f.rule_id)]
        if f.severity == "Fehler":
            lv["fehler"] += 1
        elif not f.bestaetigt:
            lv["hinweise"] += 1
    data = {
        "rules_version": result.rules_version, "bestaetigungen": fp,
        "bestaetigt": [i for i, f in enumerate(result.findings) if f.bestaetigt],
        "ebenen": levels, "regeln": result.counts(),
    }
    return data


def _write_sidecar_data(paths: Paths, v: arc.ArchivedVersion, data: dict) -> None:
    p = _sidecar(paths, v)
    atomic.write_text(p, json.dumps(data, ensure_ascii=False, indent=1))


def gx_docs_dir(paths: Paths) -> Path:
    from inobhut.validation.expectations import DOCS_DIRNAME

    return paths.out / DOCS_DIRNAME


def office_lock(paths: Paths, ags: str):
    """The lock of an office's staging files and Prüfberichte: two runs at the same time (two
    ``inobhut run``, the sensor beside the schedule) validate an office one after the other;
    the second finds the verdicts of the first and has nothing left to do."""
    from filelock import FileLock

    d = paths.staging / ags
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(str(d / ".validierung.lock"))


def validate_office_months(paths: Paths, ags: str, months: list[str], key: bytes, *,
                           data_docs: bool = True) -> tuple[list[OfficeMonthStatus], Any]:
    """Validate and stage every not yet validated version of the office in ``months`` (under
    the office's lock, see :func:`office_lock`); see :mod:`inobhut.office_validation`."""
    from inobhut.office_validation import validate_offices

    return validate_offices(paths, [ags], months, key, data_docs=data_docs)[ags]


def version_id(v: arc.ArchivedVersion) -> str:
    """Identity of a version as cross-delivery context (stored with the checks that used it)."""
    return f"{v.version}:{v.sha256[:16]}"


def build_network_data_docs(paths: Paths, months: list[str]):
    """Validate the versions in force of every member office for ``months`` with the GX suites
    (one validation per dataset and frame) and update the one Data Docs site. Nothing is read
    when the versions in force are those of the site's last build; otherwise DuckDB reads the
    staged files of each dataset in one pass (no pandas frame per version)."""
    from inobhut.config import office_keys

    files: dict[str, list[tuple[str, str]]] = {}
    received, versions = [], []
    for month in months:
        for ags in office_keys():
            for dataset in DATASET_ORDER:
                hit = in_force(paths, ags, dataset, month)
                if hit is None:
                    continue
                received.append(hit[0].received_at)
                versions.append([ags, dataset, month, hit[0].version, hit[0].sha256])
                if hit[1].n_rows:
                    files.setdefault(dataset, []).append((str(stg.frame_path(paths.staging, hit[0])), ags))
    if not files:
        return None
    from filelock import FileLock

    paths.out.mkdir(parents=True, exist_ok=True)
    paths.staging.mkdir(parents=True, exist_ok=True)
    # one site, one writer at a time; the lock file lives in staging, not among the outputs
    with FileLock(str(paths.staging / ".gx_data_docs.lock")):
        return _update_data_docs(paths, months, files, received, versions)


def _update_data_docs(paths: Paths, months: list[str], files: dict, received: list, versions: list):
    import datetime as dt
    import hashlib

    from inobhut.validation.expectations import frames_from_files, run_frames

    # GX writes run times and random ids into its pages: rebuild only when the versions in force
    # changed, so that a rerun on the same inputs leaves the site (and everything else) untouched
    stand = hashlib.sha256(json.dumps(sorted(versions), ensure_ascii=False).encode()).hexdigest()
    marker = gx_docs_dir(paths) / ".stand" / f"{months[0]}_{months[-1]}.txt"
    if marker.exists() and marker.read_text(encoding="utf-8") == stand:
        return None
    run_time = dt.datetime.fromisoformat(max(received))
    frames = {}
    for dataset, fs in sorted(files.items()):
        pair = frames_from_files(dataset, fs)
        if pair is not None:
            frames[dataset] = pair
    run = run_frames(frames, settings(), versions=sum(len(fs) for fs in files.values()), docs_dir=gx_docs_dir(paths),
                     run_name=f"Verbünde {months[0]}–{months[-1]}", run_time=run_time)
    atomic.write_text(marker, stand)
    return run
