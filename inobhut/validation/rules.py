"""The rule catalogue (``schemas/rules.yaml``) and the ``Finding`` record.

Belongs here: loading the catalogue, its version hash, turning a rule id plus details into a
:class:`Finding` with the German texts of the catalogue, masking case numbers. Not here: the
checks themselves (``inobhut.validation.checks``) or reading files (``inobhut.ingest``).
This module imports nothing from the rest of ``inobhut`` so that ``ingest`` can use it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

SEVERITIES = ("Fehler", "Hinweis")
LEVELS = ("Datei", "Zeile", "Datensatz", "Bundesstatistik")  # the last: checks before the federal export


@dataclass
class Finding:
    rule_id: str  # stable id from the rule catalogue, e.g. "D013", "Z006", "S001"
    severity: str  # "Fehler" | "Hinweis"
    zeile: int | None  # row as in the delivered file, header = 1; None = whole file
    spalte: str | None  # column header as in delivery.md
    wert: str | None  # delivered value as text (never a raw Fallnummer)
    meldung: str  # German message
    hinweis: str  # German fix hint
    bestaetigt: bool = False  # a confirmed Hinweis (does not count for the verdict)


@dataclass(frozen=True)
class Rule:
    id: str
    schwere: str
    ebene: str
    titel: str
    meldung: str
    hinweis: str
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def _rules_text() -> str:
    return resources.files("schemas").joinpath("rules.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    """All rules by id, in catalogue order."""
    data = yaml.safe_load(_rules_text())
    out: dict[str, Rule] = {}
    for rid, r in data.items():
        extra = {k: v for k, v in r.items() if k not in ("schwere", "ebene", "titel", "meldung", "hinweis")}
        rule = Rule(rid, r["schwere"], r["ebene"], r["titel"], r["meldung"], r["hinweis"], extra)
        assert rule.schwere in SEVERITIES, rid
        assert rule.ebene in LEVELS, rid
        out[rid] = rule
    return out


@lru_cache(maxsize=1)
def rules_version() -> str:
    """First 12 hex digits of the SHA-256 of ``rules.yaml`` (recorded with every verdict)."""
    return hashlib.sha256(_rules_text().encode("utf-8")).hexdigest()[:12]


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "–"


def make_finding(rule_id: str, zeile: int | None = None, spalte: str | None = None,
                 wert: Any = None, **details: Any) -> Finding:
    """A finding of ``rule_id`` with the catalogue's texts filled from the details."""
    rule = rules()[rule_id]
    wtxt = None if wert is None else str(wert)
    fill = _Defaults(details)
    fill.setdefault("spalte", spalte or "")
    fill.setdefault("wert", wtxt if wtxt is not None else "")
    return Finding(rule_id, rule.schwere, zeile, spalte, wtxt,
                   rule.meldung.format_map(fill), rule.hinweis.format_map(fill))


def mask(fallnummer: Any) -> str:
    """A masked case number for messages: only its last two characters stay visible."""
    t = "" if fallnummer is None else str(fallnummer).strip()
    return "***" + t[-2:] if len(t) > 2 else "***"
