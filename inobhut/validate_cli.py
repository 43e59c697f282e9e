"""``inobhut validate``: the same checks as the pipeline, for an office before it delivers.

Belongs here: deriving office, dataset and month from the file name, running the file and row
and dataset level checks that need no history, writing the Prüfbericht and printing a short
German summary. Cross-delivery checks (previous month) need the archive and run only in the
pipeline. Without ``INOBHUT_PSEUDONYM_KEY`` a random key is used: the pseudonyms are never
stored by this command.
"""

from __future__ import annotations

import os
from pathlib import Path

from inobhut.config import office, office_keys
from inobhut.naming import NameError_, parse_name
from inobhut.warehouse import VERDICT_REJECTED

MAX_LINES = 8


def validate_files(files: list[Path], bericht_dir: Path, console) -> int:
    from inobhut.pruefbericht import write_pruefbericht
    from inobhut.validation import validate_delivery

    key = os.environ.get("INOBHUT_PSEUDONYM_KEY", "").encode() or os.urandom(32)
    members = set(office_keys())
    rc = 0
    for f in files:
        console.rule(f"{f.name}")
        try:
            dn = parse_name(f.name)
        except NameError_ as exc:
            console.print(f"[red]abgelehnt[/red]: {exc}")
            rc = 1
            continue
        if dn.ags not in members:
            console.print(f"[red]abgelehnt[/red]: „{dn.ags}“ ist kein Mitglieds-Jugendamt.")
            rc = 1
            continue
        result = validate_delivery(f, ags=dn.ags, dataset=dn.dataset, month=dn.month, key=key, context=None)
        meta = {
            "ags": dn.ags, "office_name": office(dn.ags).label, "dataset": dn.dataset, "month": dn.month,
            "version": 0, "file_name": f.name, "sha256": _sha(f), "received_at": None,
            "base_name": f"{dn.dataset}_{dn.month}_vorpruefung",
        }
        written = write_pruefbericht(result, meta, bericht_dir / dn.ags)
        n_f = sum(1 for x in result.findings if x.severity == "Fehler")
        n_h = sum(1 for x in result.findings if x.severity == "Hinweis")
        colour = "red" if result.verdict == VERDICT_REJECTED else ("yellow" if n_h else "green")
        console.print(f"[{colour}]{result.verdict}[/{colour}] – {result.n_rows} Zeilen, {n_f} Fehler, {n_h} Hinweise")
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
