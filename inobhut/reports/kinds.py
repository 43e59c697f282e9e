"""The registry of output kinds: which files of a run the front page (``berichte/index.html``) lists.

Belongs here: one :class:`OutputKind` per kind of report or statutory output, in the order the
front page shows them, plus the naming contract that lets the front page find the files without
knowing where each kind is written. A new output kind appears on the front page by adding ONE
entry to :data:`OUTPUT_KINDS` -- nothing else (links are derived from the files found).

Naming contract (every output kind keeps it): the files of one output share a stem
``<kind>_<scope>[_<period>]`` in one folder below one of :data:`SEARCH_DIRS` of ``<out>``, e.g.
``berichte/landesbericht/BW/2025-03/landesbericht_BW_2025-03.html`` or
``jugendaemter/08111/bundesstatistik/bundesstatistik_08111_2025.csv``. ``scope`` is an office key
(AGS) or a network id; ``period`` is ``YYYY-MM`` (month), ``YYYY`` (year), ``YYYY-MM-DD`` (day) or
absent (whole history, latest Stichtag). The file kinds of one output (HTML, Excel, CSV, ...) are
linked together, HTML first.

Does not belong here: writing the outputs, the page layout (:mod:`.index_page`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: folders of ``<out>`` searched for outputs (the Prüfberichte have their own section)
SEARCH_DIRS: tuple[str, ...] = ("berichte", "jugendaemter")
#: file kinds of one output in link order, with their German link text
FILE_KINDS: dict[str, str] = {".html": "HTML", ".xlsx": "Excel", ".pdf": "PDF", ".csv": "CSV", ".xml": "XML",
                              ".json": "JSON"}


@dataclass(frozen=True)
class OutputKind:
    kind: str  # file name prefix, e.g. "landesbericht"
    label: str  # plural heading, e.g. "Landesberichte"
    title: str  # one output, e.g. "Landesbericht"
    periodless: str = "gesamter Zeitraum"  # row label of outputs without a period
    network_first: tuple[str, ...] = ()  # networks listed first (e.g. the coordinating network)

    def pattern(self) -> re.Pattern:
        return re.compile(rf"^{re.escape(self.kind)}_(?P<scope>[A-Za-z0-9-]+)"
                          r"(?:_(?P<period>\d{4}(?:-\d{2}){0,2}))?$")


#: every kind the front page lists, in its order (add one line for a new kind)
OUTPUT_KINDS: tuple[OutputKind, ...] = (
    OutputKind("landesbericht", "Landesberichte", "Landesbericht"),
    OutputKind("jugendamtsbericht", "Jugendamtsberichte", "Jugendamtsbericht"),
    OutputKind("lieferstatus", "Lieferstatus", "Lieferstatus"),
    OutputKind("jahresbericht", "Jahresberichte", "Jahresbericht"),
    OutputKind("strategiebericht", "Strategieberichte", "Strategiebericht"),
    OutputKind("platzuebersicht", "Platzübersichten", "Platzübersicht", periodless="neuester Stichtag",
               network_first=("SH-KOOP",)),
)


def output_kind(kind: str) -> OutputKind | None:
    return next((k for k in OUTPUT_KINDS if k.kind == kind), None)


@dataclass(frozen=True)
class FoundOutput:
    kind: str
    scope: str
    period: str  # "" | YYYY | YYYY-MM | YYYY-MM-DD
    files: tuple[Path, ...]  # HTML first (FILE_KINDS order)


def find_outputs(out: Path, kinds: tuple[OutputKind, ...] | None = None) -> list[FoundOutput]:
    """Every output of a registered kind below ``out``'s :data:`SEARCH_DIRS` (sorted, deterministic)."""
    # longest prefix first: "uma_tagesmeldung" must not be taken for a kind "uma"
    ordered = sorted(kinds or OUTPUT_KINDS, key=lambda k: -len(k.kind))
    groups: dict[tuple[Path, str], list[Path]] = {}
    for d in SEARCH_DIRS:
        root = Path(out) / d
        if not root.is_dir():
            continue
        for p in root.rglob("*"):
            if p.suffix.lower() in FILE_KINDS and p.is_file() and not p.name.startswith("."):
                groups.setdefault((p.parent, p.stem), []).append(p)
    found = []
    for (_, stem), files in sorted(groups.items()):
        for k in ordered:
            m = k.pattern().match(stem)
            if m:
                files = sorted(files, key=lambda f: list(FILE_KINDS).index(f.suffix.lower()))
                found.append(FoundOutput(k.kind, m["scope"], m["period"] or "", tuple(files)))
                break
    return found
