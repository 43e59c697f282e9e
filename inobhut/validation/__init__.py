"""Plausibility checks of one delivery (file, row and dataset level) and the verdict.

Belongs here: the public entry points ``validate_delivery``/``validate_file``, the result and
context types, the rule catalogue (``RULES_VERSION``, ``rules()``) and its Markdown rendering
for ``docs/pruefregeln.md``. The checks are in :mod:`inobhut.validation.checks`, the rule
texts in ``schemas/rules.yaml``, reading files in :mod:`inobhut.ingest`, the Great
Expectations suite in ``schemas/gx_suites.py`` and its runner in
:mod:`inobhut.validation.expectations`. One file: :func:`validate_delivery`. Many files (the
pipeline): :func:`prepare` each, one :func:`run_expectations` over all, :func:`finish` each.
"""

from __future__ import annotations

from inobhut.validation.rules import Finding, Rule, make_finding, mask, rules, rules_version
from inobhut.validation.expectations import GxRun, run_expectations
from inobhut.validation.checks import (
    RULES_VERSION,
    ValidationContext,
    ValidationResult,
    WHOLE_FILE,
    Prepared,
    finding_key,
    finish,
    prepare,
    validate_delivery,
    validate_file,
    verdict_of,
)

LEVEL_TITLES = {"Datei": "Dateiebene", "Zeile": "Zeilenebene", "Datensatz": "Datensatzebene",
                "Bundesstatistik": "Bundesstatistik (vor dem Export)"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def catalogue_markdown() -> str:
    """The rule catalogue as a German Markdown page (the content of ``docs/pruefregeln.md``)."""
    lines = [
        "# Prüfregeln",
        "",
        "Diese Seite wird aus `schemas/rules.yaml` erzeugt (`inobhut.validation.catalogue_markdown()`);",
        "bitte nicht von Hand ändern. Ein Test prüft, dass sie aktuell ist.",
        "",
        f"Stand des Regelkatalogs: `{rules_version()}`",
        "",
        "- **Fehler**: Die Lieferung wird abgelehnt; nichts davon gelangt in das Datenlager, die zuletzt",
        "  angenommene Version bleibt gültig.",
        "- **Hinweis**: Die Lieferung wird angenommen; der Befund steht im Prüfbericht und kann bestätigt werden.",
        "- Zeilennummern zählen wie in der gelieferten Datei (Kopfzeile = Zeile 1).",
        "- Eine Datei nur mit Kopfzeile ist eine gültige **Fehlanzeige** (Urteil „angenommen“, 0 Zeilen).",
        "- Platzhalter in geschweiften Klammern werden im Prüfbericht durch die konkreten Angaben ersetzt.",
        "",
    ]
    from schemas.gx_suites import SUITE

    gx_text = {s.rule: s.beschreibung for s in SUITE}
    for level in ("Datei", "Zeile", "Datensatz", "Bundesstatistik"):
        lines += [f"## {LEVEL_TITLES[level]}", ""]
        if level == "Bundesstatistik":
            lines += ["Diese Regeln prüfen nicht die Lieferung, sondern vor dem Export der Bundesstatistik jede im",
                      "Berichtsjahr beendete Maßnahme aus dem Datenlager. Ein Fehler lehnt keine Lieferung ab: der",
                      "Datensatz wird nicht exportiert, sondern dem Jugendamt mit Regel und Korrekturhinweis aufgelistet",
                      "(siehe docs/meldungen.md).", ""]
        lines += ["| Kennung | Schwere | Prüfung | Umsetzung | Meldung | Korrekturhinweis |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for r in rules().values():
            if r.ebene == level:
                impl = r.extra.get("umsetzung", "")
                if r.id in gx_text:
                    impl += f": {gx_text[r.id]}"
                lines.append(f"| {r.id} | {r.schwere} | {_cell(r.titel)} | {_cell(impl)} | {_cell(r.meldung)} | {_cell(r.hinweis)} |")
        lines.append("")
    lines += [
        "## Wie die Ebenen umgesetzt sind",
        "",
        "- Dateiebene: beim Einlesen (`inobhut/ingest.py`); ein Fehler hier beendet die Prüfung der Datei.",
        "- Zeilenebene: pandera-Schemas (`schemas/pandera_schemas.py`) und eigene Prüfungen, die Berichtsmonat,",
        "  Jugendamt oder Werktage brauchen.",
        "- Datensatzebene: Great Expectations 1.x (`schemas/gx_suites.py`) für Eindeutigkeit und Verteilungen,",
        "  in der Pipeline gebündelt: ein GX-Lauf je Datensatz und Lauf des Jugendamts-Assets über alle neuen",
        "  Lieferversionen (Spalte `_lieferung`), nicht ein Lauf je Datei. Vergleiche mit dem Vormonat und mit",
        "  der Plätze-Lieferung desselben Monats sind eigene Prüfungen (dafür hat GX keine Erwartung).",
        "- Die Ergebnisse der GX-Läufe stehen für Analysten als Data Docs unter `<out>/gx_data_docs/index.html`.",
        "",
        "## Festlegungen, wo die Spezifikation schweigt",
        "",
        "- D028: Ein Excel-Blatt wird nach 5.000 aufeinanderfolgenden Leerzeilen nicht weiter gelesen (Schutz vor",
        "  bis zum Blattende formatierten Zeilen); reicht das Blatt laut Datei weiter, wird das als Hinweis gemeldet.",
        "- Z105 (Meldefrist überschritten) wird nur in dem Monat gemeldet, in dem die Meldung an die",
        "  Landesstelle erfolgte; Z106 (Meldung fehlt) in jedem Monat, solange das Datum fehlt.",
        "- Z101 (Dauer) und Z102 (Beginn lange zurück) gelten für `massnahmen`; bei `uma` sind lange",
        "  Zuständigkeiten üblich.",
        "- Summenzeilen (D018) führen zur Ablehnung, weil das Programm Datenzeilen nicht stillschweigend",
        "  verwerfen soll.",
        "- Datumswerte als Excel-Seriennummer (zwischen 10000 und 80000, d. h. 1927–2119) werden umgerechnet",
        "  und einmal je Spalte als Hinweis (D023) gemeldet.",
        "- „x“/leer als Ja/Nein wird angenommen, wenn eine Ja/Nein-Spalte nur „x“ und leere Zellen enthält.",
        "- Ganze Zahlen mit Nachkommastellen 0 („12,0“) und Tausenderpunkt („1.200“) werden angenommen,",
        "  „12,5“ in einer Anzahl-Spalte ist ein Fehler (Z003).",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "Finding", "Rule", "RULES_VERSION", "ValidationContext", "ValidationResult", "catalogue_markdown",
    "make_finding", "mask", "rules", "rules_version", "validate_delivery", "validate_file", "verdict_of",
    "GxRun", "Prepared", "WHOLE_FILE", "finding_key", "finish", "prepare", "run_expectations",
]
