"""Writing the files of a statutory output: the tidy CSV, the report (Excel and HTML through
:mod:`inobhut.reports`) and one audit event ``ausgabe`` per written file (with its sha256).

Belongs here: the write step every statutory output shares. Does not belong here: what the
outputs contain (``uma_tag``, ``fristen``, ``bund``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from inobhut import audit
from inobhut.archive import sha256_file
from inobhut.reports import ReportModel, render_report
from inobhut.statistics import write_csv


def write_output(model: ReportModel, tidy: pd.DataFrame, base: Path, *, archive: Path | None,
                 ags: str | None = None, monat: str | None = None, lauf: str | None = None) -> list[Path]:
    """Write ``base.html``, ``base.xlsx`` and ``base.csv`` (same model and frame, same bytes) and,
    if ``archive`` is given, record an ``ausgabe`` event per file in its audit journal.
    Returns the files (HTML first)."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    files = render_report(model, base)
    files.append(write_csv(tidy, base.with_name(base.name + ".csv")))
    if archive is not None:
        audit.record_many(archive, [
            {"ereignis": "ausgabe", "lauf": lauf, "ags": ags, "monat": monat, "datei": _shown(p),
             "sha256": sha256_file(p), "detail": {"art": model.kind, "zeilen": len(tidy)}}
            for p in files])
    return files


def _shown(p: Path) -> str:
    """The path as recorded: relative to the output directory (``…/berichte/…`` or
    ``…/jugendaemter/…``) where possible."""
    parts = p.parts
    for anchor in ("berichte", "jugendaemter"):
        if anchor in parts:
            return Path(*parts[parts.index(anchor):]).as_posix()
    return p.as_posix()
