"""``<out>/manifest.json``: every output file with its sha256 and every input delivery version.

Deterministic: the same outputs and inputs give the same bytes (no wall-clock time inside;
``erstellt`` is the newest receipt time of the deliveries that went in). ``vergleichsbasis`` is the
previous data status the front page shows the changes against (:mod:`inobhut.overview`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from inobhut import __version__, atomic
from inobhut.archive import sha256_file
from inobhut.config import Paths
from inobhut.warehouse import Warehouse

MANIFEST = "manifest.json"
# Great Expectations' Data Docs carry run times and random ids, the audit report (protokoll/)
# carries the real times of events: analyst and auditor aids outside the reproducible
# outputs, so not listed (see docs/entscheidungen.md)
# .eingaben: fingerprints of report inputs (inobhut.outputs); betrieb: the operator's log of failed
# runs (real times, pipelines/run_failure.py)
EXCLUDED_DIRS = ("gx_data_docs", "protokoll", ".eingaben", "betrieb")


def output_files(out: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(out):
        if Path(root) == out:
            dirs[:] = [d for d in dirs if d not in EXCLUDED_DIRS]
        dirs.sort()
        for n in sorted(names):
            p = Path(root) / n
            if p.name == MANIFEST and p.parent == out or n.startswith("."):
                continue
            files.append(p)
    return files


def write_manifest(paths: Paths, wh: Warehouse) -> Path:
    from inobhut.overview import comparison_base, delivery_inputs

    with wh.connect() as con:
        inputs, created = delivery_inputs(con)
    # the data status the front page compares against (read before the old manifest is replaced)
    base = comparison_base(paths.out, inputs)
    outputs = [
        {"datei": p.relative_to(paths.out).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in output_files(paths.out)
    ]
    doc = {
        "produkt": "inobhut",
        "version": __version__,
        "datenstand": created,
        "ausgaben": outputs,
        "lieferungen": inputs,
        "vergleichsbasis": base,
    }
    target = paths.out / MANIFEST
    before = _previous_outputs(target)
    paths.out.mkdir(parents=True, exist_ok=True)
    # unchanged outputs and inputs: the file stays untouched
    atomic.write_text(target, json.dumps(doc, ensure_ascii=False, indent=1) + "\n", keep_unchanged=True)
    record_outputs(paths, [(o["datei"], o["sha256"], o["bytes"]) for o in outputs if before.get(o["datei"]) != o["sha256"]])
    from inobhut import audit

    with wh.connect() as con:  # the mirror is complete whenever the outputs are
        audit.sync_to_warehouse(con, paths.archive)
    return target


def _previous_outputs(target: Path) -> dict[str, str]:
    try:
        return {o["datei"]: o["sha256"] for o in json.loads(target.read_text(encoding="utf-8")).get("ausgaben", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def record_outputs(paths: Paths, files: list[tuple[str, str, int]]) -> None:
    """The one place where written outputs (reports, tables, statutory outputs) enter the audit
    trail: an ``ausgabe`` event per (path relative to ``out``, sha256, bytes). ``write_manifest``
    calls it for every output that is new or changed since the previous manifest; a command
    that writes outputs outside the pipeline calls it for its files."""
    from inobhut import audit

    if not files:
        return
    # a writer that records its own, richer event (the statutory outputs: office, year, counts)
    # has done so already: the same file version is never recorded twice
    seen = {(e.get("datei"), e.get("sha256")) for e in audit._tail_events(audit.journal_path(paths.archive), audit.ONCE_WINDOW)
            if e.get("ereignis") == "ausgabe"}
    audit.record_many(paths.archive, [dict(ereignis="ausgabe", datei=f, sha256=h, detail={"bytes": n})
                                      for f, h, n in files if (f, h) not in seen])
