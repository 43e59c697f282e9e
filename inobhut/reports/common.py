"""Shared layout decisions of both renderers (Excel and HTML).

Belongs here: German labels of datasets, networks and offices as shown in reports, the
data-status table that every report carries, sheet names, and the list of tables a
rendered report consists of. Does not belong here: format-specific code.
"""

from __future__ import annotations

import re

import pandas as pd

from inobhut import config

from .fmt import fmt_datetime, fmt_month
from .model import ReportModel, ReportTable

DATASET_LABELS = {
    "massnahmen": "Maßnahmen",
    "uma": "UMA",
    "plaetze": "Plätze",
    "personal": "Personal",
}


DISCLOSURE_LABELS = {
    "sperrung": "Sperrung kleiner Fallzahlen (primäre und sekundäre Geheimhaltung)",
    "rundung3": "Rundung auf Vielfache von 3",
    "keine": "keine Geheimhaltung (Bericht an das Jugendamt über die eigenen Daten)",
    "keine_landesstelle": "keine Geheimhaltung (Meldung an die gesetzlich berechtigte Landesverteilstelle)",
}

STATUS_TABLE_ID = "datenstand"


def network_label(verbund: str) -> str:
    """Display name of a network (one source: ``inobhut.config.networks_label``)."""
    return config.networks_label(verbund)


def office_label(ags: str) -> str:
    """Office name as shown in reports; the AGS itself if the office is unknown. Not cached
    here: the label depends on the member list in force (a name two offices share gets their
    kind), and ``config.office`` is a dictionary look-up per member file."""
    try:
        return config.office(ags).label
    except KeyError:
        return ags


def dataset_label(name: str) -> str:
    return DATASET_LABELS.get(name, name)


def data_status_table(model: ReportModel) -> ReportTable:
    """The data status of a report as a table: which deliveries went in, which are missing."""
    rows = []
    for s in model.data_status:
        rows.append({
            "Jugendamt": office_label(s.jugendamt),
            "Schlüssel": s.jugendamt,
            "Datensatz": dataset_label(s.dataset),
            "Berichtsmonat": fmt_month(s.monat),
            "Version": s.version if s.version is not None else "–",
            "Eingegangen am": fmt_datetime(s.eingegangen) if s.eingegangen is not None else "–",
            "Ergebnis": s.verdict,
        })
    if not rows:
        rows.append({"Jugendamt": "keine Lieferungen", "Schlüssel": "–", "Datensatz": "–", "Berichtsmonat": "–",
                     "Version": "–", "Eingegangen am": "–", "Ergebnis": "–"})
    df = pd.DataFrame(rows)
    if len({s.jugendamt for s in model.data_status}) == 1:  # one office: its name is in the title
        df = df.drop(columns=["Jugendamt", "Schlüssel"])
    notes = [model.data_status_note] if model.data_status_note else []
    return ReportTable(
        id=STATUS_TABLE_ID,
        title="Datenstand: verwendete und fehlende Lieferungen",
        data=df,
        number_formats={"Version": "0"},
        notes=notes + [
            "Je Jugendamt, Datensatz und Monat gilt die neueste angenommene Version; eine abgelehnte "
            "Korrekturlieferung ersetzt nie eine angenommene. „fehlt“: bis zum Datenstand nicht geliefert."
        ],
        sheet="Datenstand",
    )


def report_tables(model: ReportModel) -> list[ReportTable]:
    """The tables of a rendered report: the model's tables, then the data status."""
    return [*model.tables, data_status_table(model)]


_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
RESERVED_SHEETS = ("Deckblatt", "Inhalt", "Erläuterungen")


def sheet_names(tables: list[ReportTable]) -> list[str]:
    """Valid, unique Excel sheet names (<= 31 characters) for the tables."""
    used = {s.casefold() for s in RESERVED_SHEETS}
    out = []
    for t in tables:
        base = _BAD_SHEET_CHARS.sub("-", (t.sheet or t.id).strip()).strip("'")[:31] or "Tabelle"
        name, n = base, 2
        while name.casefold() in used:
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        used.add(name.casefold())
        out.append(name)
    return out
