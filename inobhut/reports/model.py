"""Declarative report model: what a report contains, independent of its output format.

Belongs here: the dataclasses that one report builder fills and both renderers (Excel and
HTML) read — :class:`ReportTable` (one table drives one Excel sheet and one HTML table, like
gptables' ``GPTable``), :class:`ChartSpec`, :class:`DeliveryStatus`, :class:`ReportModel`,
:class:`IndexEntry` — plus their validation (no empty cells, only known symbols as text in
number columns, supported number formats).
Does not belong here: rendering (``excel``, ``html``), statistics, disclosure control.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Number

import pandas as pd

from .fmt import NUMBER_FORMATS
from .kinds import OUTPUT_KINDS

#: the symbols of official statistics (DIN 55301 tradition) and their German meaning
SYMBOLS: dict[str, str] = {
    "–": "nichts vorhanden (genau null)",
    ".": "Zahlenwert unbekannt oder geheim zu halten",
    "x": "Tabellenfach gesperrt, weil Aussage nicht sinnvoll",
    "/": "keine Angabe, da Zahlenwert nicht sicher genug",
    "...": "Angabe fällt später an (noch nicht verfügbar)",
}

VERDICTS = ("angenommen", "angenommen mit Hinweisen", "abgelehnt", "fehlt")
CHART_KINDS = ("line", "bar")


class ReportModelError(ValueError):
    """A report model that cannot be rendered (message says which table and cell)."""


class ReleaseRefused(RuntimeError):
    """A report for the Landesebene whose disclosure release check failed (German message)."""


#: report kinds that go to the Landesebene: the release check runs before they are written
LANDESEBENE_KINDS = ("landesbericht", "jahresbericht", "strategiebericht")


@dataclass(frozen=True)
class ChartSpec:
    """A native Excel chart and an inline SVG chart drawn from the columns of its table."""

    kind: str  # "line" | "bar"
    x: str  # column with the categories (e.g. "Monat")
    y: list[str]  # number columns, one series each
    title: str
    alt_text: str  # German text alternative (Excel alt text, SVG <desc>)
    y_title: str = ""
    x_title: str = ""


@dataclass
class ReportTable:
    """One statistical table, display-ready (German headers, symbols instead of gaps).

    ``data`` columns: text columns (row labels) have no entry in ``number_formats``;
    number columns do, and hold numbers or one of ``symbols``. No cell may be empty.
    ``total_rows`` are 0-based positions in ``data`` that are totals.
    """

    id: str
    title: str
    data: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    number_formats: dict[str, str] = field(default_factory=dict)
    total_rows: list[int] | None = None
    symbols: tuple[str, ...] = tuple(SYMBOLS)
    chart: ChartSpec | None = None
    sheet: str | None = None  # Excel sheet name (<= 31 chars); default from ``id``
    description: str = ""  # one short line shown under the title
    row_header: str | None = None  # column of row labels (th scope="row"); default: first text column

    def __post_init__(self) -> None:
        self.validate()

    @property
    def label_column(self) -> str | None:
        if self.row_header is not None:
            return self.row_header
        for c in self.data.columns:
            if c not in self.number_formats:
                return c
        return None

    def validate(self) -> None:
        where = f"Tabelle „{self.id}“"
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", self.id):
            raise ReportModelError(f"{where}: id muss mit einem Buchstaben beginnen und nur A–Z, 0–9, _ enthalten")
        cols = list(self.data.columns)
        if not cols:
            raise ReportModelError(f"{where}: keine Spalten")
        if any(not isinstance(c, str) or not c.strip() for c in cols):
            raise ReportModelError(f"{where}: alle Spaltenköpfe müssen nichtleerer Text sein")
        if len(set(c.casefold() for c in cols)) != len(cols):
            raise ReportModelError(f"{where}: Spaltenköpfe sind nicht eindeutig: {cols}")
        if len(self.data) == 0:
            raise ReportModelError(f"{where}: keine Zeilen (eine leere Tabelle braucht eine Zeile mit Symbol)")
        for c, f in self.number_formats.items():
            if c not in cols:
                raise ReportModelError(f"{where}: Zahlenformat für unbekannte Spalte „{c}“")
            if f not in NUMBER_FORMATS:
                raise ReportModelError(f"{where}: Zahlenformat „{f}“ wird nicht unterstützt ({', '.join(NUMBER_FORMATS)})")
        if self.row_header is not None and self.row_header not in cols:
            raise ReportModelError(f"{where}: Zeilenkopf-Spalte „{self.row_header}“ fehlt")
        allowed = set(self.symbols)
        if not allowed <= set(SYMBOLS):
            raise ReportModelError(f"{where}: unbekannte Symbole {sorted(allowed - set(SYMBOLS))}")
        for c, col in self.data.items():
            numeric = c in self.number_formats
            for i, v in enumerate(col.tolist()):
                if _empty(v):
                    raise ReportModelError(f"{where}, Zeile {i + 1}, Spalte „{c}“: leere Zelle – bitte ein Symbol setzen")
                if numeric:
                    if isinstance(v, str):
                        if v not in allowed:
                            raise ReportModelError(f"{where}, Zeile {i + 1}, Spalte „{c}“: Text „{v}“ in Zahlenspalte ist kein zulässiges Symbol")
                    elif isinstance(v, bool) or not isinstance(v, Number) or math.isinf(float(v)):
                        raise ReportModelError(f"{where}, Zeile {i + 1}, Spalte „{c}“: {v!r} ist keine Zahl")
        for r in self.total_rows or []:
            if not 0 <= r < len(self.data):
                raise ReportModelError(f"{where}: Summenzeile {r} liegt außerhalb der Tabelle")
        if self.chart is not None:
            ch = self.chart
            if ch.kind not in CHART_KINDS:
                raise ReportModelError(f"{where}: Diagrammart „{ch.kind}“ unbekannt")
            missing = [c for c in [ch.x, *ch.y] if c not in cols]
            if missing:
                raise ReportModelError(f"{where}: Diagrammspalten fehlen: {missing}")
            if any(c not in self.number_formats for c in ch.y):
                raise ReportModelError(f"{where}: Diagrammreihen müssen Zahlenspalten sein")
            if not ch.title or not ch.alt_text:
                raise ReportModelError(f"{where}: Diagramm braucht Titel und Alternativtext")


def _empty(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, int):  # the common cases first: pd.isna costs more than the rest together
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class DeliveryStatus:
    """One delivery (version in force, or the newest if none was accepted) or a missing one."""

    jugendamt: str  # AGS
    dataset: str
    monat: str  # YYYY-MM
    verdict: str  # one of VERDICTS; "fehlt" = nothing delivered
    version: int | None = None
    eingegangen: dt.datetime | None = None  # received (archive mtime of the delivered file)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ReportModelError(f"unbekanntes Prüfergebnis „{self.verdict}“ (erlaubt: {', '.join(VERDICTS)})")

    @staticmethod
    def from_frame(df: pd.DataFrame) -> list["DeliveryStatus"]:
        """From a frame with columns jugendamt, dataset, monat, verdict[, version, eingegangen]."""
        out = []
        for r in df.to_dict("records"):
            ver = r.get("version")
            rec = r.get("eingegangen")
            out.append(DeliveryStatus(
                str(r["jugendamt"]), str(r["dataset"]), str(r["monat"]), str(r["verdict"]),
                None if _empty(ver) else int(ver),
                None if _empty(rec) else pd.Timestamp(rec).to_pydatetime(),
            ))
        return out


#: the last list given to :func:`in_force` (the list itself, its length, the result): a run's
#: reports pass the same list of every delivery many times (ten years: 0.17 s per pass)
_IN_FORCE_LAST: tuple[list, int, list[DeliveryStatus]] | None = None


def in_force(statuses: Iterable[DeliveryStatus]) -> list[DeliveryStatus]:
    """One status per (office, dataset, month): the newest accepted version, else the newest
    version at all, else the "fehlt" entry. A rejected re-delivery never hides an accepted one."""
    global _IN_FORCE_LAST
    last = _IN_FORCE_LAST
    if type(statuses) is list and last is not None and last[0] is statuses and last[1] == len(statuses):
        return list(last[2])
    result = _in_force(statuses)
    if type(statuses) is list:
        _IN_FORCE_LAST = (statuses, len(statuses), result)
    return list(result)


def _in_force(statuses: Iterable[DeliveryStatus]) -> list[DeliveryStatus]:
    best: dict[tuple[str, str, str], DeliveryStatus] = {}

    def rank(s: DeliveryStatus) -> tuple[int, int]:
        accepted = s.verdict in ("angenommen", "angenommen mit Hinweisen")
        return (2 if accepted else (1 if s.verdict == "abgelehnt" else 0), s.version or 0)

    for s in statuses:
        k = (s.jugendamt, s.dataset, s.monat)
        if k not in best or rank(s) > rank(best[k]):
            best[k] = s
    return [best[k] for k in sorted(best)]


def status_created_at(statuses: Sequence[DeliveryStatus], fallback: dt.datetime) -> dt.datetime:
    """Creation time of a report = the newest receipt in its data status (reproducible)."""
    times = [s.eingegangen for s in statuses if s.eingegangen is not None]
    return max(times) if times else fallback


@dataclass
class ReportModel:
    kind: str  # "landesbericht", "jugendamtsbericht", ...
    title: str
    period: str  # German text, e.g. "März 2025"
    scope: str  # network or office name
    audience: str
    disclosure_method: str  # "sperrung" | "rundung3" | "keine"
    disclosure_note: str  # German footnote on the method
    data_status: list[DeliveryStatus]
    product_version: str
    created_at: dt.datetime  # from the data status, never now()
    source: str
    contact: str
    tables: list[ReportTable]
    data_status_note: str = ""  # one German sentence summarising the data status
    definitions: list[tuple[str, str]] = field(default_factory=list)  # (Begriff, Erläuterung)
    period_key: str = ""  # "2025-03" (file names, index)
    scope_key: str = ""  # "BW" or an AGS
    network: str = ""  # network id ("BW", "SH-KOOP")
    # protected count tables shown in the report (name -> inobhut.disclosure.ProtectedTable),
    # checked with inobhut.disclosure.release_check before a Landesebene report is written
    protected: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        ids = [t.id for t in self.tables]
        if len(set(ids)) != len(ids):
            raise ReportModelError(f"Tabellen-ids sind nicht eindeutig: {ids}")

    def numbered_notes(self, tables: Sequence[ReportTable] | None = None) -> tuple[list[str], dict[str, list[int]]]:
        """All table notes numbered once in order of appearance: (notes, table id -> numbers).
        ``tables``: the tables to number (default: the model's own)."""
        notes: list[str] = []
        refs: dict[str, list[int]] = {}
        for t in self.tables if tables is None else tables:
            nums = []
            for n in t.notes:
                if n not in notes:
                    notes.append(n)
                nums.append(notes.index(n) + 1)
            refs[t.id] = nums
        return notes, refs


@dataclass(frozen=True)
class IndexEntry:
    """One report of a run on the index page."""

    kind: str  # "landesbericht", ...
    title: str  # link text
    network: str  # network id
    month: str  # "YYYY-MM" (or "" for reports without a month)
    files: tuple  # paths of the report's files (html first); links are made relative
    scope: str = ""  # office name or network label, shown next to the link


#: German plural label of every output kind (one source: the registry in :mod:`.kinds`)
KIND_LABELS: Mapping[str, str] = {k.kind: k.label for k in OUTPUT_KINDS}
