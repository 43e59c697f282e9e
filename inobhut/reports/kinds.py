"""The registry of output kinds: which files of a run the front page (``berichte/index.html``) lists.

Belongs here: one :class:`OutputKind` per kind of report or statutory output, in the order the
front page shows them, plus the naming contract that lets the front page find the files without
knowing where each kind is written. A new output kind appears on the front page by adding ONE
entry to :data:`OUTPUT_KINDS` -- nothing else (links are derived from the files found).

Naming contract (every output kind keeps it): the files of one output share a stem
``<kind>_<scope>[_<period>]`` in one folder below one of :data:`SEARCH_DIRS` of ``<out>``, e.g.
``berichte/landesbericht/BW/2025-03/landesbericht_BW_2025-03.html`` or
``jugendaemter/08111/bundesstatistik/bundesstatistik_08111_2025.csv``. ``scope`` is an office key
(AGS) or a network id; ``period`` is ``YYYY-MM`` (month), ``YYYY`` (year), ``YYYY-MM-DD`` (day),
``YYYY-MM-DD_YYYY-MM-DD`` (range of days) or absent (whole history, latest Stichtag). The file
kinds of one output (HTML, Excel, CSV, ...) are linked together, HTML first, then files named
``<stem><companion>`` of a kind's ``companions``.

Does not belong here: writing the outputs, the page layout (:mod:`.index_page`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: folders of ``<out>`` searched for outputs (the Prüfberichte have their own section)
SEARCH_DIRS: tuple[str, ...] = ("berichte", "jugendaemter")
#: a period in a file name: YYYY, YYYY-MM, a day YYYY-MM-DD or a range of days YYYY-MM-DD_YYYY-MM-DD
PERIOD = r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2}(?:_[0-9]{4}-[0-9]{2}-[0-9]{2})?)?)?"  # ASCII digits only
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
    companions: tuple[str, ...] = ()  # stem suffixes of further files of one output ("_zurueckgewiesen")

    def pattern(self) -> re.Pattern:
        extra = "|".join(re.escape(c) for c in self.companions)
        return re.compile(rf"^{re.escape(self.kind)}_(?P<scope>[A-Za-z0-9-]+)(?:_(?P<period>{PERIOD}))?"
                          + (rf"(?P<extra>{extra})?$" if extra else "$"))


#: every kind the front page lists, in its order (add one line for a new kind). Deliberately not
#: listed: the Fristenliste §42a (case rows of one office, only below jugendaemter/<ags>/fristen/),
#: the Protokoll (real run times, outside the reproducible outputs) and the Prüfberichte (linked
#: from the delivery status instead).
OUTPUT_KINDS: tuple[OutputKind, ...] = (
    OutputKind("landesbericht", "Landesberichte", "Landesbericht"),
    OutputKind("jugendamtsbericht", "Jugendamtsberichte", "Jugendamtsbericht"),
    OutputKind("lieferstatus", "Lieferstatus", "Lieferstatus"),
    OutputKind("jahresbericht", "Jahresberichte", "Jahresbericht"),
    OutputKind("strategiebericht", "Strategieberichte", "Strategiebericht"),
    OutputKind("platzuebersicht", "Platzübersichten", "Platzübersicht", periodless="neuester Stichtag",
               network_first=("SH-KOOP",)),
    OutputKind("uma_tagesmeldung", "UMA-Werktagsmeldungen", "UMA-Werktagsmeldung"),
    OutputKind("bundesstatistik", "Bundesstatistik (Einzeldaten, nur für das jeweilige Jugendamt)", "Bundesstatistik",
               companions=("_zurueckgewiesen",)),
)


def output_kind(kind: str) -> OutputKind | None:
    return next((k for k in OUTPUT_KINDS if k.kind == kind), None)


@dataclass(frozen=True)
class FoundOutput:
    kind: str
    scope: str
    period: str  # "" | YYYY | YYYY-MM | YYYY-MM-DD | YYYY-MM-DD_YYYY-MM-DD
    files: tuple[Path, ...]  # HTML first (FILE_KINDS order)


def _files_below(root: str) -> Iterator[tuple[str, str]]:
    """(folder, name) of the files below ``root`` as ``Path(root).rglob("*")`` filtered by
    ``is_file()`` finds them (symbolic links to files count, folders behind symbolic links are
    not entered), from the folder listings' file types instead of a ``stat`` per file."""
    try:
        with os.scandir(root) as it:
            entries = list(it)
    except OSError:
        return
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                yield from _files_below(e.path)
            elif e.is_file():
                yield root, e.name
        except OSError:
            continue


def find_outputs(out: Path, kinds: tuple[OutputKind, ...] | None = None) -> list[FoundOutput]:
    """Every output of a registered kind below ``out``'s :data:`SEARCH_DIRS` (sorted, deterministic:
    by folder as ``Path`` sorts, then name). Works on strings and makes a ``Path`` only for the
    files it returns (pathlib's comparisons and hashing were two thirds of the time at 88,000
    outputs)."""
    # longest prefix first: "uma_tagesmeldung" must not be taken for a kind "uma"
    ordered = sorted(kinds or OUTPUT_KINDS, key=lambda k: -len(k.kind))
    order = {s: i for i, s in enumerate(FILE_KINDS)}
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (folder, stem) -> [(name, suffix)]
    for d in SEARCH_DIRS:
        root = Path(out) / d
        if not root.is_dir():
            continue
        for folder, name in _files_below(os.fspath(root)):
            i = name.rfind(".")  # stem and suffix as pathlib splits them
            if i > 0 and name[i:].lower() in FILE_KINDS and not name.startswith("."):
                groups.setdefault((folder, name[:i]), []).append((name, name[i:].lower()))
    found: dict[tuple[str, str], tuple[OutputKind, re.Match, list[tuple[str, str, str]]]] = {}
    for (folder, stem), files in groups.items():
        for k in ordered:
            m = k.pattern().match(stem)
            if m:
                base = stem[:m.start("extra")] if m.groupdict().get("extra") else stem
                found.setdefault((folder, base), (k, m, []))[2].extend((stem, n, sfx) for n, sfx in files)
                break
    result = []
    # Path order of the folders = order of their parts (every folder lies below ``out``)
    for (folder, base), (k, m, files) in sorted(found.items(), key=lambda kv: (kv[0][0].split(os.sep), kv[0][1])):
        # the output's own files first (FILE_KINDS order), then its companions
        files.sort(key=lambda f: (f[0] != base, order[f[2]], f[1]))
        result.append(FoundOutput(k.kind, m["scope"], m["period"] or "", tuple(Path(folder, n) for _, n, _ in files)))
    return result
