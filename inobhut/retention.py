"""Retention and deletion: an office's data older than N years, everywhere inobhut keeps it.

Belongs here: deciding which reporting months of one office are past the retention period and
deleting them from the archive (delivered files and sidecars), the staging (verdicts, frames,
findings), the warehouse (data rows, deliveries, findings, the office's rows of the ``stat_*``
tables) and the office's own outputs (Prüfberichte, the office folder ``<out>/jugendaemter/<ags>/``)
of those months; one audit entry ``loeschung`` per deleted archive version plus one summary.
Nothing of another office is touched, nothing is re-rendered (network totals of old months keep
the figures they were published with). The quarantine's own retention is in
:mod:`inobhut.quarantine` (``cleanup``).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from inobhut import audit
from inobhut.archive import list_versions
from inobhut.calendar import add_months, month_key
from inobhut.config import Paths

_MONTH_IN_NAME = re.compile(r"(\d{4}-\d{2})")
_YEAR_IN_NAME = re.compile(r"(?<![\d-])((?:19|20)\d{2})(?![\d-])")  # a yearly output, e.g. bund_08335_2024.csv


@dataclass
class DeletionSummary:
    ags: str
    cutoff: str  # first month that is kept (YYYY-MM)
    archive_versions: int = 0
    staging_dirs: int = 0
    warehouse_rows: int = 0
    output_files: int = 0
    months: list[str] = field(default_factory=list)


def cutoff_month(years: int, today: dt.date | None = None) -> str:
    """The first reporting month that is kept: months before (today's month − years) go."""
    today = today or dt.date.today()
    return add_months(month_key(today.replace(day=1)), -12 * int(years))


def delete_office(paths: Paths, ags: str, years: int, *, today: dt.date | None = None,
                  dry_run: bool = False) -> DeletionSummary:
    """Delete every reporting month of ``ags`` before :func:`cutoff_month` (see module doc)."""
    from inobhut.warehouse import Warehouse

    cut = cutoff_month(years, today)
    s = DeletionSummary(ags, cut)
    old = [v for v in list_versions(paths.archive, ags) if v.month < cut]
    s.months = sorted({v.month for v in old})
    s.archive_versions = len(old)
    stage_dirs = sorted(p for p in (Path(paths.staging) / ags).glob("*/*") if p.is_dir() and p.name < cut) \
        if (Path(paths.staging) / ags).exists() else []
    s.staging_dirs = len(stage_dirs)
    outputs = _office_outputs(Path(paths.out), ags, cut)
    s.output_files = len(outputs)
    if dry_run:
        return s
    if Path(paths.warehouse).exists():
        with Warehouse(paths.warehouse).connect() as con:
            s.warehouse_rows = _delete_warehouse(con, ags, cut)
    for d in stage_dirs:
        shutil.rmtree(d)
    for p in outputs:
        p.unlink(missing_ok=True)
    events = []
    for v in old:
        f = v.path(paths.archive)
        f.unlink(missing_ok=True)
        (f.parent / f"v{v.version:04d}.json").unlink(missing_ok=True)
        events.append(dict(ereignis="loeschung", ags=ags, dataset=v.dataset, monat=v.month, version=v.version,
                           datei=v.archive_file, sha256=v.sha256, detail=f"Aufbewahrungsfrist {years} Jahre abgelaufen"))
    for d in sorted({v.path(paths.archive).parent for v in old}):
        if d.exists() and not any(d.iterdir()):
            d.rmdir()
    events.append(dict(ereignis="loeschung", ags=ags, detail=(
        f"Jugendamt {ags}: Berichtsmonate vor {cut} gelöscht (Aufbewahrung {years} Jahre): {s.archive_versions} "
        f"Archivversionen, {s.staging_dirs} Staging-Monate, {s.warehouse_rows} Warehouse-Zeilen, {s.output_files} Ausgabedateien")))
    audit.record_many(paths.archive, events)
    return s


def _delete_warehouse(con, ags: str, cut: str) -> int:
    from schemas.datasets import DATASETS

    n = 0
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.execute("BEGIN TRANSACTION")
    try:
        for ds in DATASETS:
            n += con.execute(f"DELETE FROM {ds} WHERE jugendamt = ? AND monat < ?", [ags, cut]).fetchone()[0]
        for t in ("deliveries", "findings"):
            n += con.execute(f"DELETE FROM {t} WHERE ags = ? AND monat < ?", [ags, cut]).fetchone()[0]
        for t in sorted(x for x in tables if x.startswith("stat_")):
            cols = {r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()}
            if "jugendamt" not in cols:
                continue
            period = next((c for c in ("monat", "stichtag", "zeitraum", "tag", "datum") if c in cols), None)
            if period is None:
                continue
            n += con.execute(f"DELETE FROM {t} WHERE jugendamt = ? AND {_period_end(period)} < ?", [ags, cut]).fetchone()[0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return n


def _period_end(col: str) -> str:
    """SQL: the last month (YYYY-MM) of a period column: a day or month as is, a year ``YYYY``
    as ``YYYY-12``, a range ``A..B`` as its end -- a row goes only when its whole period is past."""
    v = f"CAST({col} AS VARCHAR)"
    last = f"CASE WHEN strpos({v}, '..') > 0 THEN split_part({v}, '..', 2) ELSE {v} END"
    return f"(CASE WHEN length({last}) = 4 THEN {last} || '-12' ELSE substr({last}, 1, 7) END)"


def _office_outputs(out: Path, ags: str, cut: str) -> list[Path]:
    """The office's own output files of months before ``cut`` (Prüfberichte, office folder)."""
    found: list[Path] = []
    for base in (out / "pruefberichte" / ags, out / "jugendaemter" / ags):
        if not base.exists():
            continue
        for p in base.rglob("*"):
            if not p.is_file():
                continue
            rel = p.relative_to(base).as_posix()
            months = _MONTH_IN_NAME.findall(rel) or [f"{y}-12" for y in _YEAR_IN_NAME.findall(rel)]
            if months and max(months) < cut:
                found.append(p)
    return sorted(found)
