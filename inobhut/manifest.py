"""``<out>/manifest.json``: every output file with its sha256 and every input delivery version.

Deterministic: the same outputs and inputs give the same bytes (no wall-clock time inside;
``erstellt`` is the newest receipt time of the deliveries that went in).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from inobhut import __version__
from inobhut.archive import sha256_file
from inobhut.config import Paths
from inobhut.warehouse import Warehouse

MANIFEST = "manifest.json"
# Great Expectations' Data Docs carry run times and random ids, the audit report (protokoll/)
# carries the real times of events: analyst and auditor aids outside the reproducible
# outputs, so not listed (see docs/entscheidungen.md)
EXCLUDED_DIRS = ("gx_data_docs", "protokoll", ".eingaben")  # .eingaben: fingerprints of report inputs (inobhut.outputs)


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
    with wh.connect() as con:
        rows = con.execute(
            "SELECT ags, dataset, monat, version, file_name, sha256, verdict, in_force, received_at "
            "FROM deliveries ORDER BY ags, dataset, monat, version"
        ).fetchall()
    inputs = [
        {"jugendamt": a, "datensatz": d, "monat": m, "version": v, "datei": f, "sha256": s, "ergebnis": verdict, "in_kraft": bool(inf)}
        for a, d, m, v, f, s, verdict, inf, _ in rows
    ]
    created = max((r[8] for r in rows if r[8] is not None), default=None)
    outputs = [
        {"datei": p.relative_to(paths.out).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in output_files(paths.out)
    ]
    doc = {
        "produkt": "inobhut",
        "version": __version__,
        "datenstand": created.isoformat() if created is not None else None,
        "ausgaben": outputs,
        "lieferungen": inputs,
    }
    target = paths.out / MANIFEST
    before = _previous_outputs(target)
    paths.out.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    from inobhut.outputs import replace_if_changed

    replace_if_changed(tmp, target)  # unchanged outputs and inputs: the file stays untouched
    record_outputs(paths, [(o["datei"], o["sha256"], o["bytes"]) for o in outputs if before.get(o["datei"]) != o["sha256"]])
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
