"""Helpers of ``inobhut run`` and ``inobhut demo``: the unassignable files in the summary, the
months a run covers, and the guard that keeps the demo out of directories with real data.

The demo marks every directory it writes into with :data:`DEMO_MARKER` (a JSON file listing the
delivery files it generated with their sha256). It refuses a directory that is neither empty nor
marked, and a marked landing zone that holds a file it did not generate (a real delivery dropped
there must never be overwritten or processed with the public demo key).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

DEMO_MARKER = ".inobhut-demo.json"


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _files(root: Path) -> list[Path]:
    out = []
    for r, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        out += [Path(r) / n for n in sorted(names)]
        out += [Path(r) / d for d in dirs if (Path(r) / d).is_symlink()]
    return out


def demo_refusal(daten: Path, out: Path) -> str | None:
    """A German message why the demo must not write into ``daten`` / ``out``, or None."""
    for d, what in ((daten, "Arbeitsverzeichnis der Demo (--daten)"), (out, "Ausgabeverzeichnis (--out)")):
        if d.exists() and not d.is_dir():
            return f"Das {what} {d} ist kein Verzeichnis. Bitte ein anderes Verzeichnis angeben."
        marker = d / DEMO_MARKER
        if d.is_dir() and not marker.is_file() and any(d.iterdir()):
            return (f"Das {what} {d} enthält Dateien, die nicht von der Demo stammen. Die Demo schreibt nur in ein "
                    "leeres oder von ihr selbst angelegtes Verzeichnis, damit keine echte Lieferung überschrieben oder "
                    "mit dem öffentlichen Demo-Schlüssel verarbeitet wird. Bitte ein anderes Verzeichnis angeben.")
    marker = daten / DEMO_MARKER
    if marker.is_file():
        try:
            known = json.loads(marker.read_text(encoding="utf-8")).get("dateien", {})
        except (ValueError, AttributeError):
            return f"Die Markierungsdatei {marker} der Demo ist beschädigt. Bitte ein anderes Verzeichnis angeben."
        landing = daten / "landing"
        for p in _files(landing) if landing.is_dir() else []:
            rel = p.relative_to(landing).as_posix()
            if p.is_symlink() or not p.is_file() or known.get(rel) != _sha(p):
                return (f"Im Eingang der Demo liegt „{landing / rel}“, eine Datei, die die Demo nicht erzeugt hat "
                        "(etwa eine echte Lieferung). Die Demo überschreibt oder verarbeitet keine fremden Dateien: "
                        "bitte die Datei an ihren richtigen Ort verschieben oder ein anderes Verzeichnis angeben.")
    return None


def mark_demo(daten: Path, out: Path) -> None:
    """Mark ``daten`` and ``out`` as the demo's own, listing the generated delivery files."""
    landing = daten / "landing"
    files = {p.relative_to(landing).as_posix(): _sha(p) for p in _files(landing) if p.is_file()} if landing.is_dir() else {}
    text = "Von „inobhut demo“ angelegt: nur synthetische Daten. Die Demo schreibt nur hierher, solange diese Datei liegt."
    for d, doc in ((daten, {"hinweis": text, "dateien": files}), (out, {"hinweis": text})):
        d.mkdir(parents=True, exist_ok=True)
        (d / DEMO_MARKER).write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def run_months(paths) -> tuple[list[str], list[str]]:
    """The months ``inobhut run`` covers without ``--monat`` (every processable month with new
    deliveries or archived versions), and archived months outside the processable window."""
    from inobhut.archive import list_versions, pending_files
    from inobhut.config import office_keys
    from inobhut.landing import processable_months

    first, last = processable_months()
    found = {dn.month for _, dn in pending_files(paths.landing, paths.archive, set(office_keys()), staging=paths.staging)}
    found |= {v.month for v in list_versions(paths.archive)}
    return sorted(m for m in found if first <= m <= last), sorted(m for m in found if not first <= m <= last)


def print_unassignable(console, paths, limit: int = 30) -> None:
    """The unassignable files of the last intake, with what is wrong and what to do."""
    from inobhut.landing import KINDS, load_state

    items = load_state(paths.staging)
    if not items:
        return
    console.print(f"[bold]Nicht zuordenbare Dateien ({len(items)})[/bold] – liegen unverändert im Eingang "
                  f"{paths.landing}; eine Kopie ist im Archiv unter _nicht_zuordenbar:")
    for u in items[:limit]:
        console.print(f"  {u.path} ({KINDS.get(u.kind, u.kind)}): {u.message}")
    if len(items) > limit:
        console.print(f"  … und {len(items) - limit} weitere (Lieferstatus, Dagster: raw/intake)")


def intake_only(paths) -> None:
    """Archive and register what is in the landing zone when there is nothing to run (e.g. only
    unassignable files): they are reported even then."""
    from inobhut.archive import intake
    from inobhut.config import office_keys
    from inobhut.landing import save_state

    if paths.landing.exists():
        save_state(paths.staging, intake(paths.landing, paths.archive, set(office_keys()), staging=paths.staging).unassignable)
