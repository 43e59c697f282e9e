"""Data minimisation at the door: identifying data and raw case numbers never get past reading.

Belongs here: recognising columns that identify a person (names, addresses, full birth dates,
phone numbers, e-mail addresses) by header and by content, in German and English spellings
(rules D091, D092); full birth dates in ``Geburtsmonat`` (Z091); a case number of the delivery
standing in another column (Z092); scrubbing every raw case number out of finding texts
(:func:`scrub_findings`); and the screening of one file at intake (:func:`screen_file`), which
decides whether the file goes to the quarantine (:mod:`inobhut.quarantine`) instead of the archive.

Not here: moving files (``quarantine``), reading files (``ingest``; it calls the functions
here while it has the header and the cells in hand), the XML/zip hardening (``xmlguard``).
No function here ever puts an identifying value into a finding: findings name the column,
the kind of data and row numbers only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from inobhut.validation.rules import Finding, make_finding, mask

# Rules whose Fehler send a file to the quarantine instead of the archive.
QUARANTINE_RULES = frozenset({"D091", "D092", "Z091"})

# Kinds of identifying data (German label used in messages).
KIND_NAME = "Namen"
KIND_ADDRESS = "Anschriften"
KIND_BIRTH = "vollständige Geburtsdaten"
KIND_PHONE = "Telefonnummern"
KIND_EMAIL = "E-Mail-Adressen"

# Header patterns on the normalised header (lower case, umlauts spelled out, only [0-9a-z]),
# see inobhut.ingest.normalise_header. Order matters only for the label.
_HEADER_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    (KIND_EMAIL, re.compile(r"e?mail|emailadresse")),
    (KIND_PHONE, re.compile(r"^(tel|telnr|fax)$|telefon|phone|mobil|handy|rufnummer|faxnummer|cellular")),
    (KIND_BIRTH, re.compile(r"geburtsdatum|gebdatum|geburtstag|^geb(oren)?(am)?$|gebam|geboren|dateofbirth|birthdate|birthday|^dob$|geburtsdat")),
    (KIND_ADDRESS, re.compile(r"anschrift|adresse|address|strasse|^str$|street|hausnummer|hausnr|housenumber|wohnort|^plz|postleitzahl|postcode|postalcode|zipcode|^zip$|meldeadresse|wohnsitz|aufenthaltsort")),
    (KIND_NAME, re.compile(r"^(name|namen|nom)$|vorname|nachname|familienname|geburtsname|rufname|zuname|firstname|lastname|surname|givenname|forename|fullname|middlename|kindesname|namedes|nameder|nameof|childname|^namekind|^name(jugendliche|person|klient|mutter|vater|eltern)")),
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"^(?:\+|00)\d[\d\s/().-]{6,}$|^0\d{2,5}[\s/-]+\d[\d\s-]{3,}$|^0\d{9,12}$")
_FULL_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2,4})$|^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?$|^(\d{1,2})/(\d{1,2})/(\d{4})$")
_STREET = re.compile(r"(stra(ss|ß)e|str\.|weg|gasse|platz|allee|ring|damm|chaussee|ufer|street|road|avenue)\s*\d{1,4}\s*[a-z]?\b", re.IGNORECASE)
_PLZ_ORT = re.compile(r"\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]{2,}")
_NAME_WORDS = re.compile(r"^[A-ZÄÖÜÀ-Þ][a-zäöüßà-ÿ'-]+(?:[ ,]+[A-ZÄÖÜÀ-Þ][a-zäöüßà-ÿ'-]+){0,3}$")
CONTENT_SAMPLE = 2000  # values per column looked at for the content check
MIN_SHARE = 0.3  # share of non-empty sampled values that must look identifying


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Common first names (German and the frequent countries of origin), lower case."""
    text = resources.files("schemas.reference").joinpath("vornamen.txt").read_text("utf-8")
    return frozenset(w.strip().casefold() for w in text.split() if w.strip() and not w.startswith("#"))


def header_kind(normalised: str) -> str | None:
    """The kind of identifying data a (normalised) header announces, or None."""
    if not normalised or normalised == "geburtsmonat":
        return None
    for kind, pat in _HEADER_PATTERNS:
        if pat.search(normalised):
            return kind
    return None


def header_findings(header: list, mapped: list, header_no: int, normalise) -> tuple[list[Finding], set[int]]:
    """D091 for every header cell that is not a dataset column and announces identifying data.
    Returns the findings and the positions flagged (they get no D014 "unknown column")."""
    out: list[Finding] = []
    flagged: set[int] = set()
    for idx, (cell, col) in enumerate(zip(header, mapped)):
        if col is not None or cell is None or not str(cell).strip():
            continue
        kind = header_kind(normalise(cell))
        if kind:
            out.append(make_finding("D091", zeile=header_no, spalte=_header_text(cell), art=kind))
            flagged.add(idx)
    return out, flagged


def _header_text(cell: Any) -> str:
    return str(cell).strip()[:60]


def value_kind(value: Any, *, free_text: bool) -> str | None:
    """The kind of identifying data one cell looks like. ``free_text``: a column that is not
    part of the dataset (anything goes there); dataset text columns are only checked for the
    unambiguous kinds (e-mail, phone in international form, street with number)."""
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return KIND_BIRTH if free_text else None
    t = str(value).strip()
    if len(t) < 5 or len(t) > 200:
        return None
    if _EMAIL.search(t):
        return KIND_EMAIL
    if not free_text:
        if t.startswith(("+", "00")) and _PHONE.match(t) and sum(ch.isdigit() for ch in t) >= 9:
            return KIND_PHONE
        if _STREET.search(t) and _PLZ_ORT.search(t):
            return KIND_ADDRESS
        return None
    if _PHONE.match(t) and sum(ch.isdigit() for ch in t) >= 7:
        return KIND_PHONE
    if _STREET.search(t) or _PLZ_ORT.search(t):
        return KIND_ADDRESS
    if _FULL_DATE.match(t):
        return KIND_BIRTH
    if _NAME_WORDS.match(t):
        words = [w for w in re.split(r"[ ,]+", t.casefold()) if w]
        if any(w in first_names() for w in words):
            return KIND_NAME
    return None


def content_findings(columns: Iterable[tuple[str, list[tuple[int, Any]], bool]]) -> list[Finding]:
    """D092 for columns whose values look like identifying data.

    ``columns``: (header as delivered, [(row number, cell value)], free_text). A column is
    flagged when at least one e-mail address appears, or when a share of at least
    ``MIN_SHARE`` of its non-empty sampled values look like one kind (names, phone numbers,
    addresses, full dates in a column that is not part of the dataset)."""
    out: list[Finding] = []
    for header, cells, free_text in columns:
        counts: dict[str, list[int]] = {}
        n = 0
        for zeile, v in cells[:CONTENT_SAMPLE]:
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            n += 1
            kind = value_kind(v, free_text=free_text)
            if kind:
                counts.setdefault(kind, []).append(zeile)
        for kind, rows in counts.items():
            strict = kind == KIND_EMAIL or not free_text  # unambiguous: one value is enough
            if strict or len(rows) >= max(1, MIN_SHARE * n):
                out.append(make_finding("D092", zeile=None, spalte=_header_text(header), art=kind, anzahl=len(rows),
                                        zeilen=_rows_text(rows)))
                break
    return out


def _rows_text(rows: list[int]) -> str:
    head = ", ".join(str(r) for r in rows[:5])
    return head + (f" und {len(rows) - 5} weitere" if len(rows) > 5 else "")


def is_full_date(v: Any) -> bool:
    """A Geburtsmonat cell that carries a day: a date with a day other than the 1st (the 1st
    is how spreadsheets store a month), as a date value, an Excel serial number or text."""
    if v is None or isinstance(v, bool):
        return False
    if isinstance(v, (dt.datetime, dt.date)):
        return v.day != 1
    if isinstance(v, (int, float)):
        if 10000 <= v <= 80000 and float(v).is_integer():
            return (dt.date(1899, 12, 30) + dt.timedelta(days=int(v))).day != 1
        return False
    t = str(v).strip()
    m = _FULL_DATE.match(t)
    if not m:
        return False
    day = m[1] or m[6] or m[8]
    try:
        return int(day) != 1
    except (TypeError, ValueError):
        return False


def birth_month_findings(values: list, zeilen: list[int]) -> list[Finding]:
    """Z091 for each row whose Geburtsmonat is a full birth date (the value is not echoed)."""
    return [make_finding("Z091", zeile=z, spalte="Geburtsmonat") for v, z in zip(values, zeilen) if is_full_date(v)]


# --------------------------------------------------------------------------- case numbers

# Case numbers at least this long are looked for in other columns and in finding texts; shorter
# ones ("1", "A2") cannot be told apart from codes and are masked in the Fallnummer column only.
MIN_SUBSTRING = 4


def case_numbers(raw) -> set[str]:
    """The raw case numbers of a delivery that can be recognised elsewhere (the ``fallnummer``
    column of the raw frame, at least ``MIN_SUBSTRING`` characters)."""
    if raw is None or "fallnummer" not in getattr(raw, "columns", []):
        return set()
    return {t for t in (str(v).strip() for v in raw["fallnummer"].dropna().tolist()) if len(t) >= MIN_SUBSTRING}


def scrub_text(text: str | None, numbers: set[str]) -> str | None:
    if not text or not numbers:
        return text
    if text.strip() in numbers and len(text.strip()) >= MIN_SUBSTRING:
        return mask(text)
    for n in sorted((n for n in numbers if len(n) >= MIN_SUBSTRING), key=len, reverse=True):
        if n in text:
            text = text.replace(n, mask(n))
    return text


def scrub_findings(findings: list[Finding], numbers: set[str]) -> None:
    """Replace every raw case number of the delivery in finding values and texts by its mask."""
    if not numbers:
        return
    for f in findings:
        f.wert = scrub_text(f.wert, numbers)
        f.meldung = scrub_text(f.meldung, numbers)
        f.hinweis = scrub_text(f.hinweis, numbers)


def case_number_elsewhere(frame, raw, ds) -> list[Finding]:
    """Z092 for cells of other text columns that equal a case number of the same delivery;
    the cells are replaced by the mask in ``frame`` and ``raw`` (so nothing downstream, not
    even Great Expectations, sees them)."""
    numbers = case_numbers(raw)
    if not numbers:
        return []
    out: list[Finding] = []
    zeilen = frame["_zeile"].tolist()
    for col in ds.columns:
        if col.name == "fallnummer" or col.name not in raw.columns:
            continue
        vals = raw[col.name].tolist()
        hits = [i for i, v in enumerate(vals) if v is not None and v is not _NA and str(v).strip() in numbers]
        for i in hits:
            m = mask(vals[i])
            out.append(make_finding("Z092", zeile=int(zeilen[i]), spalte=col.header, wert=m))
            raw.at[i, col.name] = m
            if col.kind in ("text", "iso3", "code", "codes", "ags"):
                frame.at[i, col.name] = m
    return out


try:  # pandas' missing marker, compared by identity above
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = object()


# --------------------------------------------------------------------------- intake screening


@dataclass
class Screening:
    findings: list[Finding]  # the privacy findings (D091-Z091) of the file

    @property
    def identifying(self) -> bool:
        return any(f.rule_id in QUARANTINE_RULES and f.severity == "Fehler" for f in self.findings)


def screen_file(path: Path, dataset: str) -> Screening:
    """Read ``path`` far enough to see header and cells and return its privacy findings.
    Never raises: a file that cannot be read is left to the validation (it is archived and
    rejected there with the reason)."""
    from inobhut import config, ingest

    try:
        pr = config.settings()["pruefung"]
        rr = ingest.read_delivery(Path(path), dataset, max_bytes=int(pr["max_dateigroesse_mb"] * 1024 * 1024),
                                  max_rows=int(pr["max_zeilen"]), screen_only=True)
        return Screening([f for f in rr.findings if f.rule_id in QUARANTINE_RULES])
    except Exception:  # noqa: BLE001 - screening must never stop the intake
        return Screening([])
