"""Writing the files of a statutory output: the tidy CSV, the report (Excel and HTML through
:mod:`inobhut.reports`) and one audit event ``ausgabe`` per written file (with its sha256).

Belongs here: the write step every statutory output shares, one output at a time
(:func:`write_output`) or many on all cores (:func:`write_outputs`: rendering is CPU-bound;
the audit events are recorded by the calling process, in the order of the outputs). Does not
belong here: what the outputs contain (``uma_tag``, ``fristen``, ``bund``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inobhut import audit
from inobhut.archive import sha256_file
from inobhut.reports import ReportModel, render_report
from inobhut.stat_store import write_csv


@dataclass
class Output:
    """One statutory output to write: ``base.html``, ``base.xlsx`` and ``base.csv``."""

    model: ReportModel
    tidy: pd.DataFrame
    base: Path
    ags: str | None = None
    monat: str | None = None


def write_output(model: ReportModel, tidy: pd.DataFrame, base: Path, *, archive: Path | None,
                 ags: str | None = None, monat: str | None = None, lauf: str | None = None) -> list[Path]:
    """Write ``base.html``, ``base.xlsx`` and ``base.csv`` (same model and frame, same bytes) and,
    if ``archive`` is given, record an ``ausgabe`` event per file in its audit journal.
    Returns the files (HTML first)."""
    return write_outputs([Output(model, tidy, Path(base), ags, monat)], archive=archive, lauf=lauf)[0]


def write_outputs(outputs: list[Output], *, archive: Path | None, lauf: str | None = None) -> list[list[Path]]:
    """:func:`write_output` for many outputs, rendered on all cores (:func:`inobhut.parallel.parallel`;
    the workers inherit the models through fork). Returns the files of each output (HTML first)."""
    from inobhut.parallel import parallel

    written = parallel(_write, outputs, min_jobs=8, chunksize=2)
    if archive is not None:  # an event for every file that is new or changed, not for a rewrite with equal bytes
        audit.record_many(archive, [
            {"ereignis": "ausgabe", "lauf": lauf, "ags": o.ags, "monat": o.monat, "datei": _shown(p),
             "sha256": h, "detail": {"art": o.model.kind, "zeilen": len(o.tidy)}}
            for o, (files, changed) in zip(outputs, written) for p, h in changed])
    return [files for files, _ in written]


def _write(o: Output) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Worker: the files of one output and the (file, sha256) of those that are new or changed."""
    base = o.base
    base.parent.mkdir(parents=True, exist_ok=True)
    before = _checksums([base.with_suffix(".html"), base.with_suffix(".xlsx"), base.with_name(base.name + ".csv")])
    files = render_report(o.model, base)
    files.append(write_csv(o.tidy, base.with_name(base.name + ".csv")))
    return files, [(p, h) for p in files if (h := sha256_file(p)) != before.get(p)]


def _checksums(files: list[Path]) -> dict[Path, str]:
    return {p: sha256_file(p) for p in files if p.is_file()}


def _shown(p: Path) -> str:
    """The path as recorded: relative to the output directory (``…/berichte/…`` or
    ``…/jugendaemter/…``) where possible."""
    parts = p.parts
    for anchor in ("berichte", "jugendaemter"):
        if anchor in parts:
            return Path(*parts[parts.index(anchor):]).as_posix()
    return p.as_posix()
