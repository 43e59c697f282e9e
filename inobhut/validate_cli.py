"""``inobhut validate``: the same checks as the pipeline, for an office before it delivers.

Belongs here: running :func:`inobhut.validation.validate_file` (the name is checked first, so
bad names and non-members get a Prüfbericht too: under ``<bericht>/ohne_zuordnung/``), the file,
row and dataset level checks that need no history (Great Expectations included), writing the
Prüfbericht (HTML, Excel, JSON) and printing a short German summary. Cross-delivery checks (previous month) need the archive and run only in the
pipeline. It never needs (and never reads) the production key ``INOBHUT_PSEUDONYM_KEY``: a
random key is drawn per call, the pseudonyms are never stored by this command (an office checks
its file on its own machine, where the key does not exist).
"""

from __future__ import annotations

import os
from pathlib import Path

from inobhut.config import office
from inobhut.warehouse import VERDICT_REJECTED

MAX_LINES = 8


def validate_files(files: list[Path], bericht_dir: Path, console) -> int:
    """Validate each file, write its Prüfbericht (HTML, Excel, JSON) under
    ``<bericht_dir>/<ags>/`` and print a short German summary. Returns the exit code:
    0 all accepted (Hinweise allowed), 1 at least one rejected."""
    from inobhut.pruefbericht import write_pruefbericht
    from inobhut.validation import validate_file

    key = os.urandom(32)  # never the production key (see the module docstring)
    rc = 0
    for f in files:
        console.rule(f"{f.name}")
        result, dn = validate_file(f, key=key)
        if dn is not None:
            try:
                name = office(dn.ags).label
            except KeyError:
                name = dn.ags
            meta = {"ags": dn.ags, "office_name": name, "dataset": dn.dataset, "month": dn.month,
                    "base_name": f"{dn.dataset}_{dn.month}_vorpruefung"}
            target = bericht_dir / dn.ags
        else:  # the name says nothing usable: the report is named after the file
            stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f.stem)[:80] or "datei"
            meta = {"ags": "–", "office_name": "unbekannt", "dataset": "–", "month": "–",
                    "base_name": f"{stem}_vorpruefung"}
            target = bericht_dir / "ohne_zuordnung"
        meta.update({"version": "Vorprüfung", "file_name": f.name, "sha256": _sha(f), "received_at": None})
        written = write_pruefbericht(result, meta, target)
        n_b = sum(1 for x in result.findings if x.bestaetigt)
        colour = "red" if result.verdict == VERDICT_REJECTED else ("yellow" if result.n_hinweise else "green")
        extra = f", {n_b} bestätigt" if n_b else ""
        console.print(f"[{colour}]{result.verdict}[/{colour}] – {result.n_rows} Zeilen, {result.n_fehler} Fehler, "
                      f"{result.n_hinweise} Hinweise{extra}")
        for x in sorted(result.findings, key=lambda x: (x.severity != "Fehler", x.zeile or 0))[:MAX_LINES]:
            where = f"Zeile {x.zeile}" if x.zeile else "Datei"
            col = f", Spalte {x.spalte}" if x.spalte else ""
            console.print(f"  {x.severity} {x.rule_id} ({where}{col}): {x.meldung}")
        if len(result.findings) > MAX_LINES:
            console.print(f"  … {len(result.findings) - MAX_LINES} weitere Meldungen im Prüfbericht")
        for p in written:
            if p.suffix == ".html":
                console.print(f"Prüfbericht: {p}")
        if result.verdict == VERDICT_REJECTED:
            rc = 1
    return rc


def _sha(p: Path) -> str:
    from inobhut.archive import sha256_file

    return sha256_file(p)
