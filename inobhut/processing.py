"""What happens to one office-month: validate every new delivery version and stage it.

Belongs here: the order of datasets within an office-month, the cross-delivery context handed
to validation (previous month, same month's facilities), re-validation policy and the status
of an office-month that the Dagster asset checks and the delivery status report show.
Does not belong here: the checks themselves (``inobhut.validation``) or loading the warehouse
(``inobhut.load``).

Policy: a version is validated once per rule-catalogue version (``RULES_VERSION``); a rerun with
unchanged rules reuses the stored verdict, so reruns are cheap and idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from inobhut import archive as arc
from inobhut import staging as stg
from inobhut.calendar import add_months
from inobhut.config import Paths, office
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


def validate_office_month(paths: Paths, ags: str, month: str, key: bytes) -> OfficeMonthStatus:
    """Validate and stage every not yet validated version of the office-month."""
    from inobhut.pruefbericht import write_pruefbericht
    from inobhut.validation import RULES_VERSION, ValidationContext, validate_delivery

    status = OfficeMonthStatus(ags, month)
    plaetze_ids: set[str] | None = None
    for dataset in DATASET_ORDER:
        versions = arc.list_versions(paths.archive, ags, dataset, month)
        ds = DatasetStatus(dataset, MISSING)
        for v in versions:
            verdict = stg.read_verdict(paths.staging, v)
            if verdict is None or verdict.rules_version != RULES_VERSION:
                prev = in_force_frame(paths, ags, dataset, add_months(month, -1))
                context = ValidationContext(
                    previous=prev,
                    previous_rows=None if prev is None else len(prev),
                    plaetze_ids=plaetze_ids if dataset == "massnahmen" else None,
                )
                result = validate_delivery(v.path(paths.archive), ags=ags, dataset=dataset, month=month, key=key, context=context)
                meta = {
                    "ags": ags, "office_name": office(ags).label, "dataset": dataset, "month": month,
                    "version": v.version, "file_name": v.file_name, "sha256": v.sha256,
                    "received_at": v.received_at, "base_name": pruefbericht_name(v),
                }
                write_pruefbericht(result, meta, pruefbericht_dir(paths, ags))
                n_f = sum(1 for f in result.findings if f.severity == "Fehler")
                n_h = sum(1 for f in result.findings if f.severity == "Hinweis")
                verdict = stg.Verdict(
                    verdict=result.verdict, n_rows=int(result.n_rows), n_fehler=n_f, n_hinweise=n_h,
                    rules_version=RULES_VERSION, encoding=getattr(result, "encoding", None),
                    delimiter=getattr(result, "delimiter", None),
                    fehlanzeige=bool(result.verdict != VERDICT_REJECTED and result.n_rows == 0),
                )
                stg.write_version(paths.staging, v, verdict, result.frame, result.findings)
                ds.validated_now = True
            ds.status = verdict.verdict
            ds.newest_version = v.version
            ds.n_rows, ds.n_fehler, ds.n_hinweise = verdict.n_rows, verdict.n_fehler, verdict.n_hinweise
            ds.pruefbericht = f"pruefberichte/{ags}/{pruefbericht_name(v)}.html"
            if verdict.accepted:
                ds.in_force_version = v.version
        if dataset == "plaetze":
            frame = in_force_frame(paths, ags, "plaetze", month)
            plaetze_ids = None if frame is None else set(frame["einrichtung"].dropna().astype(str))
        status.datasets.append(ds)
    return status
