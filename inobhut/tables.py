"""The table registry: every table of ``shared/spec/statistics.md`` defined once.

Belongs here: one :class:`TableDef` per table -- grain, dimensions, counting rule, German
title, footnotes (the UMA quota footnote generated from the settings), German column labels,
number formats -- and a function returning its data for a period and an office or network, so
that the tidy export, the Excel sheet and the HTML table come from the same definition. Also
the disclosure layout of each table (how its counts form wide tables with shown totals) and
:func:`protected_tables`, which applies a disclosure method to every table of a period for
the release check (:func:`inobhut.disclosure.release_check`).

Not here: the counting itself (:mod:`inobhut.statistics`), the disclosure algorithms
(:mod:`inobhut.disclosure`), report layout and rendering (:mod:`inobhut.reports`).

Periods (``zeitraum``): ``YYYY-MM`` (month), ``YYYY`` (year), ``YYYY-MM..YYYY-MM`` (a run of
months of one year, e.g. year to date, see :func:`inobhut.statistics.bis_monat`). Flow tables
count over the period; stock tables (Stichtag) show the last month of the period that has
data; ``bewegung`` sums Zugänge/Abgänge over the period and shows the Bestand of its last month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from inobhut import config
from inobhut import stat_further, stat_store
from inobhut import statistics as st
from inobhut.disclosure import ProtectedTable, protect
from schemas.datasets import codes, label

INT = "#,##0"
DEC1 = "0.0"
DEC2 = "0.00"
EUR = "#,##0.00"  # amounts of money reach millions: thousands separator


@dataclass(frozen=True)
class Col:
    """One column of a table: canonical name, German label, role and number format."""

    name: str
    label: str
    role: str  # "zeit" | "schluessel" | "anzahl" | "wert" (derived or measured value) | "text"
    number_format: str | None = None  # Excel number format
    decimals: int | None = None
    basis: str | None = None  # for derived values: the count column with their number of cases


@dataclass(frozen=True)
class TableDef:
    name: str
    title: str  # German
    grain: str  # German: one row per ...
    dimensions: tuple[str, ...]
    counting_rule: str  # German
    columns: tuple[Col, ...]
    period_kind: str  # "monat" (flow over months) | "stichtag" (stock at a Stichtag)
    fixed: bool = False  # columns fixed by statistics.md
    personenbezogen: bool = True  # counts of cases/persons -> disclosure control when leaving an office
    notes: tuple[str, ...] = ()
    extra_footnotes: Callable[[], list[str]] | None = field(default=None, compare=False)

    @property
    def column_labels(self) -> dict[str, str]:
        return {c.name: c.label for c in self.columns}

    @property
    def number_formats(self) -> dict[str, str]:
        return {c.name: c.number_format for c in self.columns if c.number_format}

    def footnotes(self) -> list[str]:
        """German footnotes (without the disclosure footnote, which comes from the method)."""
        out = list(self.notes)
        if self.extra_footnotes is not None:
            out += self.extra_footnotes()
        return out

    def data(self, con: duckdb.DuckDBPyConnection, zeitraum: str, *, jugendamt: str | None = None,
             verbund: str | None = None) -> pd.DataFrame:
        """The table's rows for a period, optionally only one office or one network (its offices
        and its total row); unprotected, canonical dtypes."""
        df = _compute(self.name, con, zeitraum)
        if jugendamt is not None:
            df = df[df["jugendamt"] == jugendamt]
        elif verbund is not None:
            keys = {o.ags for o in config.network_offices(verbund)} | {verbund}
            df = df[df["jugendamt"].isin(keys)]
        return df.reset_index(drop=True)

    def labelled(self, df: pd.DataFrame) -> pd.DataFrame:
        """The frame with German column headers and German labels for codes and office keys."""
        out = df.copy()
        if "jugendamt" in out.columns:
            out["jugendamt"] = out["jugendamt"].map(jugendamt_label)
        for col, lst in _CODE_LABELS.get(self.name, {}).items():
            if col in out.columns:
                out[col] = [lst(v) if callable(lst) else label(lst, v) for v in out[col]]
        return out.rename(columns=self.column_labels)


def jugendamt_label(key: str) -> str:
    """Office name, network label (``BW`` -> ``Baden-Württemberg (Verbund)``) or the key itself."""
    if key in config.networks():
        try:
            return config.networks_label(key)  # type: ignore[attr-defined]
        except AttributeError:
            return key
    try:
        return config.office(key).label
    except KeyError:
        return key


# ---------------------------------------------------------------------------------------------
# footnotes generated from the settings


def uma_quote_footnotes() -> list[str]:
    """The counting rules of the UMA quota as configured (settings ``[uma_quote]``)."""
    s = config.settings()
    q = s["uma_quote"]
    excl = [str(h) for h in q.get("hilfearten_ausgenommen", [])]
    if excl:
        names = ", ".join(f"{label('hilfeart', h)} ({h})" for h in excl)
        ex = f"Nicht zum Ist zählen Personen mit der Hilfeart {names}."
    else:
        ex = "Zum Ist zählen Personen jeder Hilfeart."
    if q.get("junge_volljaehrige_im_ist", False):
        jv = "Junge Volljährige (18 Jahre und älter) zählen zum Ist und sind zusätzlich gesondert ausgewiesen."
    else:
        jv = "Junge Volljährige (18 Jahre und älter) zählen nicht zum Ist; sie sind gesondert ausgewiesen."
    return [
        "UMA-Ist: am Stichtag (Monatsletzter) zuständige Personen unter 18 Jahren (Alter ab dem 1. des "
        f"Geburtsmonats). {ex} {jv}",
        "Aufnahmesoll = Ist des Verbunds × Einwohner des Jugendamts ÷ Einwohner des Verbunds; Erfüllungsquote = "
        "100 × Ist ÷ Soll; Differenz = Ist − Soll (positiv: über dem Soll). Soll, Quote und Differenz werden nur "
        "berechnet, wenn alle Jugendämter des Verbunds für den Monat eine angenommene UMA-Lieferung haben. "
        f"Einwohner: {s['stammdaten'].get('einwohner_stand', '')}.",
    ]


def _fristen_footnotes() -> list[str]:
    frist = config.settings()["fristen"]["meldefrist_werktage"]
    return [f"Fristgerecht: Meldung an die Landesverteilstelle spätestens am {frist}. Werktag nach Beginn "
            "(Montag bis Freitag ohne Feiertage des Landes). Jeder Fall im neuesten bekannten Stand."]


def _lieferstatus_footnotes() -> list[str]:
    tag = config.settings()["fristen"]["liefertag"]
    return [f"Fällig ist die Lieferung am {tag}. des Folgemonats; Verspätung in Tagen ab diesem Tag bis zur "
            "ersten Lieferung. Status = Urteil der neuesten Version; in Kraft bleibt die neueste angenommene."]


GESCHLECHT_NOTE = ("Geschlecht: „divers“ und „ohne Angabe“ sind wie in der Bundesstatistik unter „männlich“ "
                   "gezählt.")
ANLASS_NOTE = ("Anlass: Mehrfachnennung – eine Maßnahme zählt bei jedem ihrer Anlässe; die Summe der Anlässe "
               "ist daher größer als die Zahl der Maßnahmen.")
ENDED_RULE = ("Maßnahmen, deren Ende im Zeitraum liegt, aus der Lieferung des Monats ihres Endes, je Fall einmal "
              "(neuester Berichtsmonat gilt).")

# ---------------------------------------------------------------------------------------------
# the definitions

_Z = {"monat": Col("monat", "Monat", "zeit"), "zeitraum": Col("zeitraum", "Zeitraum", "zeit"),
      "stichtag": Col("stichtag", "Stichtag", "zeit")}
_JA = Col("jugendamt", "Jugendamt", "schluessel")


def _n(name: str, lbl: str) -> Col:
    return Col(name, lbl, "anzahl", INT, 0)


def _v(name: str, lbl: str, dec: int, basis: str | None = None) -> Col:
    return Col(name, lbl, "wert", DEC1 if dec == 1 else DEC2, dec, basis)


def _eur(name: str, lbl: str) -> Col:
    return Col(name, lbl, "wert", EUR, 2)


TABLE_DEFS: dict[str, TableDef] = {}


def _add(t: TableDef) -> None:
    assert [c.name for c in t.columns] == st.COLUMNS[t.name], t.name
    TABLE_DEFS[t.name] = t


_add(TableDef(
    "bewegung", "Zugänge, Abgänge und Bestand an Schutzmaßnahmen", "Monat × Jugendamt × Maßnahme",
    ("jugendamt", "massnahme"),
    "Zugang: Beginn im Monat; Abgang: Ende im Monat; Bestand am Stichtag S: Beginn ≤ S und (Ende leer oder > S); "
    "aus der Lieferung des Jugendamts für den Monat.",
    (_Z["monat"], _JA, Col("massnahme", "Maßnahme", "schluessel"), _n("zugaenge", "Zugänge"),
     _n("abgaenge", "Abgänge"), _n("bestand", "Bestand am Monatsende")),
    "monat", fixed=True,
    notes=("Bei mehreren Monaten: Zugänge und Abgänge summiert, Bestand am Ende des letzten Monats.",),
))
_add(TableDef(
    "beendete", "Beendete Schutzmaßnahmen nach Merkmalen", "Zeitraum × Jugendamt × Merkmal × Ausprägung",
    ("jugendamt", "merkmal", "auspraegung"), ENDED_RULE,
    (_Z["zeitraum"], _JA, Col("merkmal", "Merkmal", "schluessel"), Col("auspraegung", "Ausprägung", "schluessel"),
     _n("anzahl", "Anzahl")),
    "monat", fixed=True,
    notes=(GESCHLECHT_NOTE, ANLASS_NOTE, "Alter: vollendete Lebensjahre bei Beginn der Maßnahme (Geburtstag = 1. des "
           "Geburtsmonats); Dauer = Ende − Beginn in Tagen."),
))
_add(TableDef(
    "uma_quote", "UMA-Aufnahmequote (Aufnahmesoll und Erfüllungsquote)", "Stichtag × Jugendamt", ("jugendamt",),
    "Zuständige UMA am Stichtag nach den eingestellten Zählregeln; Soll nach Einwohneranteil.",
    (_Z["stichtag"], _JA, _n("einwohner", "Einwohner"), _n("uma_ist", "UMA-Ist"), _v("uma_soll", "Aufnahmesoll", 2),
     _v("erfuellungsquote_pct", "Erfüllungsquote in %", 1, "uma_ist"), _v("differenz", "Differenz Ist − Soll", 2, "uma_ist"),
     _n("junge_volljaehrige", "Junge Volljährige")),
    "stichtag", fixed=True, extra_footnotes=uma_quote_footnotes,
))
_add(TableDef(
    "plaetze", "Plätze nach Angebot", "Stichtag × Jugendamt × Angebot", ("jugendamt", "angebot"),
    "Jede Einrichtung mit ihrem letzten Stichtag im Monat; frei = genehmigt − belegt − gesperrt; Auslastung = "
    "100 × belegt ÷ (genehmigt − gesperrt).",
    (_Z["stichtag"], _JA, Col("angebot", "Angebot", "schluessel"), _n("genehmigt", "Plätze genehmigt"),
     _n("belegt", "belegt"), _n("gesperrt", "gesperrt"), _n("frei", "frei"), _v("auslastung_pct", "Auslastung in %", 1),
     _v("vzae_soll", "VZÄ Soll", 2), _v("vzae_ist", "VZÄ Ist", 2)),
    "stichtag", fixed=True, personenbezogen=False,
    notes=("Frei kann bei Überbelegung negativ sein. Auslastung ohne Wert (in den Berichten „x“: nicht sinnvoll), "
           "wenn keine Plätze nutzbar sind.",),
))
_add(TableDef(
    "fristen_42a", "Meldefrist bei vorläufiger Inobhutnahme (§42a)", "Monat × Jugendamt", ("jugendamt",),
    "§42a-Maßnahmen mit Beginn im Zeitraum; Werktage nach Beginn bis einschließlich Meldung an die Landesstelle.",
    (_Z["monat"], _JA, _n("begonnen", "begonnen"), _n("fristgerecht", "fristgerecht gemeldet"),
     _n("verspaetet", "verspätet gemeldet"), _n("ohne_meldung", "noch nicht gemeldet"),
     _v("anteil_fristgerecht_pct", "Anteil fristgerecht in %", 1, "begonnen"),
     _v("median_werktage", "Median Werktage bis zur Meldung", 1, "gemeldet")),
    "monat", fixed=True, extra_footnotes=_fristen_footnotes,
))
_add(TableDef(
    "uma_struktur", "Struktur der UMA am Stichtag", "Stichtag × Jugendamt × Merkmal × Ausprägung",
    ("jugendamt", "merkmal", "auspraegung"),
    "Alle am Stichtag zuständigen Personen der UMA-Lieferung (jede Hilfeart, Minderjährige und junge Volljährige).",
    (_Z["stichtag"], _JA, Col("merkmal", "Merkmal", "schluessel"), Col("auspraegung", "Ausprägung", "schluessel"),
     _n("anzahl", "Anzahl")),
    "stichtag",
    notes=("Staatsangehörigkeit: die zehn häufigsten des Verbunds am Stichtag, alle übrigen unter „Sonstige“.",
           "Alter in vollendeten Jahren am Stichtag (Geburtstag = 1. des Geburtsmonats): bis 13, 14, 15, 16, 17, "
           "18–20, 21 und älter."),
))
_add(TableDef(
    "verteilung_42a", "Verteilentscheidungen nach §42a", "Zeitraum × Jugendamt", ("jugendamt",),
    "Beendete vorläufige Inobhutnahmen (" + ENDED_RULE + ") nach Verteilentscheidung; Tage = Ende − Beginn der "
    "Maßnahme (die vorläufige Inobhutnahme endet mit der Entscheidung).",
    (_Z["zeitraum"], _JA, _n("beendet", "beendete §42a-Maßnahmen"), _n("entschieden", "mit Entscheidung"),
     *[_n(f"entscheidung_{c}", label("verteilentscheidung", c)) for c in codes("verteilentscheidung")],
     _v("tage_mittel", "Tage bis zur Entscheidung (Mittelwert)", 1, "entschieden"),
     _v("tage_median", "Tage bis zur Entscheidung (Median)", 1, "entschieden")),
    "monat",
))
_add(TableDef(
    "zuweisungen_42a", "Aufnehmende Jugendämter nach Verteilung", "Zeitraum × verteilendes × aufnehmendes Jugendamt",
    ("jugendamt", "aufnehmend"),
    "Beendete vorläufige Inobhutnahmen mit Verteilentscheidung „Verteilung angeordnet“ nach Zuweisung_Jugendamt.",
    (_Z["zeitraum"], _JA, Col("aufnehmend", "aufnehmendes Jugendamt", "schluessel"), _n("anzahl", "Anzahl")),
    "monat",
    notes=("Aufnehmende Jugendämter außerhalb der Mitglieder erscheinen mit ihrem Schlüssel.",),
))
_add(TableDef(
    "dauer", "Dauer beendeter Schutzmaßnahmen", "Zeitraum × Jugendamt × Maßnahme × Unbegleitet",
    ("jugendamt", "massnahme", "unbegleitet"), ENDED_RULE + " Dauer = Ende − Beginn in Tagen.",
    (_Z["zeitraum"], _JA, Col("massnahme", "Maßnahme", "schluessel"), Col("unbegleitet", "unbegleitet eingereist", "schluessel"),
     _n("anzahl", "beendete Maßnahmen"), _v("dauer_mittel", "Dauer in Tagen (Mittelwert)", 1, "anzahl"),
     _v("dauer_median", "Dauer in Tagen (Median)", 1, "anzahl")),
    "monat",
))
_add(TableDef(
    "personal", "Personal der Jugendämter", "Stichtag × Jugendamt × Bereich", ("jugendamt", "bereich"),
    "Je Bereich der letzte Stichtag im Monat; Besetzungsquote = 100 × VZÄ Ist ÷ VZÄ Soll.",
    (_Z["stichtag"], _JA, Col("bereich", "Bereich", "schluessel"), _v("vzae_soll", "VZÄ Soll", 2),
     _v("vzae_ist", "VZÄ Ist", 2), _v("stellen_unbesetzt", "unbesetzte Stellen (VZÄ)", 2),
     _v("besetzungsquote_pct", "Besetzungsquote in %", 1), _n("faelle", "offene Fälle")),
    "stichtag", personenbezogen=False,
    notes=("VZÄ: Vollzeitäquivalente. Besetzungsquote ohne Wert (in den Berichten „x“: nicht sinnvoll), wenn "
           "kein Soll vorliegt.",),
))
_add(TableDef(
    "kapazitaet", "Kapazität, Auslastung und Kosten nach Angebot", "Stichtag × Jugendamt × Angebot",
    ("jugendamt", "angebot"),
    "Jede Einrichtung mit ihrem letzten Stichtag im Monat; nutzbar = genehmigt − gesperrt; Auslastung = 100 × "
    "belegt ÷ nutzbar; gesperrt in % der genehmigten Plätze; Kosten je Belegungstag = Σ (belegt × Tagessatz) ÷ "
    "Σ belegt über die Einrichtungen mit Tagessatz; Monatskosten = Kosten je Belegungstag × belegt mit Tagessatz × "
    "Tage des Monats.",
    (_Z["stichtag"], _JA, Col("angebot", "Angebot", "schluessel"), _n("einrichtungen", "Einrichtungen"),
     _n("genehmigt", "Plätze genehmigt"), _n("gesperrt", "gesperrt"), _n("nutzbar", "nutzbar"), _n("belegt", "belegt"),
     _v("auslastung_pct", "Auslastung in %", 1), _v("gesperrt_anteil_pct", "gesperrt in %", 1),
     _n("belegt_mit_tagessatz", "belegt (mit Tagessatz)"), _eur("kosten_je_belegtag", "Kosten je Belegungstag in EUR"),
     _eur("kosten_monat", "Kosten im Monat in EUR (Schätzung)")),
    "stichtag", personenbezogen=False,
    notes=("Kosten nur aus Einrichtungen, die einen Tagessatz liefern; die Monatskosten unterstellen die Belegung "
           "des Stichtags für den ganzen Monat.",),
))
_add(TableDef(
    "lieferstatus", "Lieferstatus", "Monat × Jugendamt × Datensatz (× Status bei Verbundzeilen)",
    ("jugendamt", "datensatz", "status"),
    "Urteil der neuesten gelieferten Version: fehlt, abgelehnt, angenommen, angenommen mit Hinweisen.",
    (_Z["monat"], _JA, Col("datensatz", "Datensatz", "schluessel"), Col("status", "Status", "text"),
     _n("anzahl", "Anzahl Jugendämter"), Col("version_in_kraft", "Version in Kraft", "anzahl", INT, 0),
     Col("tage_verspaetet", "Tage nach Fälligkeit", "anzahl", INT, 0)),
    "monat", personenbezogen=False, extra_footnotes=_lieferstatus_footnotes,
))
assert list(TABLE_DEFS) == list(st.TABLE_NAMES)


def table(name: str) -> TableDef:
    return TABLE_DEFS[name]


_BEENDETE_LISTS = {"massnahme": "massnahme", "anlass": "anlass", "angeregt_durch": "angeregt_durch",
                   "aufenthalt_vorher": "aufenthalt_vorher", "unterbringung": "unterbringung",
                   "ende_grund": "ende_grund_massnahme", "anschluss": "anschluss"}
MERKMAL_LABELS = {
    "insgesamt": "Insgesamt", "massnahme": "Maßnahme", "unbegleitet": "Unbegleitete Einreise", "geschlecht": "Geschlecht",
    "altersgruppe": "Alter bei Beginn", "anlass": "Anlass", "angeregt_durch": "Angeregt durch",
    "aufenthalt_vorher": "Aufenthalt vorher", "unterbringung": "Unterbringung", "dauerklasse": "Dauer",
    "ende_grund": "Grund der Beendigung", "anschluss": "Anschluss", "staatsangehoerigkeit": "Staatsangehörigkeit",
    "altersjahre": "Alter in Jahren", "hilfeart": "Hilfeart", "ausserhalb": "außerhalb des Bezirks untergebracht",
}


def _yes_no(v: str) -> str:
    return {"1": "ja", "0": "nein", "insgesamt": "insgesamt"}.get(v, v)


def _country(code: str) -> str:
    from inobhut.countries import country_name

    special = {stat_further.SONSTIGE: "Sonstige", "insgesamt": "insgesamt"}
    return special.get(code) or country_name(code)


def _auspraegung_label(merkmal: str, value: str) -> str:
    if merkmal in _BEENDETE_LISTS:
        return label(_BEENDETE_LISTS[merkmal], value)
    if merkmal in ("unbegleitet", "ausserhalb"):
        return _yes_no(value)
    if merkmal == "geschlecht":
        return label("geschlecht", value)
    if merkmal == "hilfeart":
        return label("hilfeart", value)
    if merkmal == "staatsangehoerigkeit":
        return _country(value)
    if merkmal in ("altersgruppe", "altersjahre", "dauerklasse"):
        v = value.replace("-", "–")
        if v.endswith("+"):
            return f"{v[:-1]} und mehr" + (" Tage" if merkmal == "dauerklasse" else " Jahre")
        if v.startswith("0–") and merkmal == "altersjahre":
            return f"bis {v[2:]} Jahre"
        return v + (" Tage" if merkmal == "dauerklasse" else " Jahre")
    return value


_CODE_LABELS: dict[str, dict[str, object]] = {
    "bewegung": {"massnahme": "massnahme"},
    "plaetze": {"angebot": "angebot"},
    "kapazitaet": {"angebot": lambda v: "insgesamt" if v == "insgesamt" else label("angebot", v)},
    "personal": {"bereich": lambda v: "insgesamt" if v == "insgesamt" else label("bereich", v)},
    "dauer": {"massnahme": lambda v: "insgesamt" if v == "insgesamt" else label("massnahme", v), "unbegleitet": _yes_no},
    "zuweisungen_42a": {"aufnehmend": jugendamt_label},
}


def merkmal_labels(df: pd.DataFrame) -> pd.DataFrame:
    """For long tables (``beendete``, ``uma_struktur``): German labels of merkmal and auspraegung."""
    out = df.copy()
    out["auspraegung"] = [_auspraegung_label(m, a) for m, a in zip(df["merkmal"], df["auspraegung"])]
    out["merkmal"] = out["merkmal"].map(lambda m: MERKMAL_LABELS.get(m, m))
    return out


# ---------------------------------------------------------------------------------------------
# data for a period


def _months_with_data(con: duckdb.DuckDBPyConnection, dataset: str, zr: st.Zeitraum) -> list[str]:
    rows = con.execute(f"SELECT DISTINCT monat FROM {dataset} WHERE monat BETWEEN ? AND ?",
                       [zr.months[0], zr.months[-1]]).fetchall()
    return sorted(r[0] for r in rows)


_STOCK_DATASET = {"uma_quote": "uma", "uma_struktur": "uma", "plaetze": "plaetze", "kapazitaet": "plaetze",
                  "personal": "personal"}


def _compute(name: str, con: duckdb.DuckDBPyConnection, zeitraum: str) -> pd.DataFrame:
    zr = st.zeitraum(zeitraum)
    if zr.kind == "monat":
        return stat_store.MONTHLY[name](con, zr.label)
    if name in stat_store.PERIOD_FUNCTIONS:
        return stat_store.PERIOD_FUNCTIONS[name](con, zr.label)
    if name in _STOCK_DATASET:
        months = _months_with_data(con, _STOCK_DATASET[name], zr)
        return stat_store.MONTHLY[name](con, months[-1] if months else zr.last_month)
    if name == "lieferstatus":
        return pd.concat([stat_further.compute_lieferstatus(con, m) for m in zr.months], ignore_index=True)
    if name == "bewegung":
        months = _months_with_data(con, "massnahmen", zr)
        parts = [st.compute_bewegung(con, m) for m in months]
        parts = [p for p in parts if len(p)]
        if not parts:
            return st.compute_bewegung(con, zr.last_month).assign(monat=zr.label)
        allm = pd.concat(parts, ignore_index=True)
        flows = allm.groupby(["jugendamt", "massnahme"], as_index=False)[["zugaenge", "abgaenge"]].sum()
        last = allm[allm["monat"] == months[-1]][["jugendamt", "massnahme", "bestand"]]
        df = flows.merge(last, on=["jugendamt", "massnahme"], how="outer").fillna({"zugaenge": 0, "abgaenge": 0, "bestand": 0})
        df = df.assign(monat=zr.label)
        df = st._sort(df, ["jugendamt", "massnahme"])
        return st._finish(df, "bewegung")
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# disclosure layout: the counts of each table as wide tables with shown totals


@dataclass
class WideTable:
    """One publishable block of a table: office rows + the network total row."""

    key: str  # e.g. "beendete/anlass"
    frame: pd.DataFrame  # first column "jugendamt", last row = network total
    value_cols: list[str]
    total_col: bool
    derived: dict[str, str] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)


def _office_grid(df: pd.DataFrame, verbund: str, value_cols: list[str]) -> pd.DataFrame:
    """Office rows in member order (missing offices: counts 0), then the network total row:
    counts summed over the office rows, other columns (derived values) from the network's row."""
    offices = [o.ags for o in config.network_offices(verbund)]
    d = df.drop(columns=[c for c in ("monat", "zeitraum", "stichtag") if c in df.columns])
    wide = d[d["jugendamt"] != verbund].set_index("jugendamt").reindex(offices)
    for c in value_cols:
        if c not in wide.columns:
            wide[c] = 0
    wide[value_cols] = wide[value_cols].fillna(0).astype("int64")
    wide = wide.reset_index()
    net = d[d["jugendamt"] == verbund]
    tot_row = {c: (net.iloc[0][c] if len(net) else np.nan) for c in wide.columns}
    tot_row.update({"jugendamt": verbund, **{c: int(wide[c].sum()) for c in value_cols}})
    return pd.concat([wide, pd.DataFrame([tot_row])], ignore_index=True)


def wide_tables(name: str, df: pd.DataFrame, verbund: str) -> list[WideTable]:
    """The count blocks of table ``name`` for ``verbund`` (input: :meth:`TableDef.data` with
    ``verbund``): office rows plus the network total row, counts computed from the unprotected
    office values."""
    out: list[WideTable] = []
    if df.empty:
        return out
    if name in ("beendete", "uma_struktur"):
        ins = df[df["merkmal"] == "insgesamt"].set_index("jugendamt")["anzahl"]
        for merkmal, grp in df[df["merkmal"] != "insgesamt"].groupby("merkmal", sort=False):
            piv = grp.pivot_table(index="jugendamt", columns="auspraegung", values="anzahl", aggfunc="sum")
            vals = [str(c) for c in piv.columns]
            piv.columns = vals
            grid = _office_grid(piv.reset_index(), verbund, vals)
            if merkmal == "anlass":  # multiple answer: no row total, number of measures beside it
                grid["massnahmen"] = [int(ins.get(j, 0)) for j in grid["jugendamt"]]
                grid.loc[grid.index[-1], "massnahmen"] = int(grid["massnahmen"].iloc[:-1].sum())
                out.append(WideTable(f"{name}/{merkmal}", grid, [*vals, "massnahmen"], False))
            else:
                grid["zusammen"] = grid[vals].sum(axis=1)
                out.append(WideTable(f"{name}/{merkmal}", grid, [*vals, "zusammen"], True))
        return out
    if name == "bewegung":
        piv = df.pivot_table(index="jugendamt", columns="massnahme", values=["zugaenge", "abgaenge", "bestand"], aggfunc="sum")
        piv.columns = [f"{a}_{b}" for a, b in piv.columns]
        vals = list(piv.columns)
        out.append(WideTable(name, _office_grid(piv.reset_index(), verbund, vals), vals, False))
    elif name == "uma_quote":
        d = df[["jugendamt", "uma_ist", "junge_volljaehrige", "erfuellungsquote_pct", "differenz"]]
        out.append(WideTable(name, _office_grid(d, verbund, ["uma_ist", "junge_volljaehrige"]), ["uma_ist", "junge_volljaehrige"],
                             False, {"erfuellungsquote_pct": "uma_ist", "differenz": "uma_ist"},
                             {"erfuellungsquote_pct": 1, "differenz": 2}))
    elif name == "fristen_42a":
        vals = ["fristgerecht", "verspaetet", "ohne_meldung", "begonnen"]
        grid = _office_grid(df, verbund, vals)
        grid["gemeldet"] = grid["fristgerecht"] + grid["verspaetet"]
        out.append(WideTable(name, grid, vals, True, {"anteil_fristgerecht_pct": "begonnen", "median_werktage": "gemeldet"}))
    elif name == "verteilung_42a":
        d = df.assign(ohne_entscheidung=df["beendet"] - df["entschieden"])
        ent = [f"entscheidung_{c}" for c in codes("verteilentscheidung")]
        vals = [*ent, "ohne_entscheidung", "beendet"]
        grid = _office_grid(d, verbund, vals)
        grid["entschieden"] = grid[ent].sum(axis=1)
        out.append(WideTable(name, grid, vals, True, {"tage_mittel": "entschieden", "tage_median": "entschieden"}))
    elif name == "zuweisungen_42a":
        piv = df.pivot_table(index="jugendamt", columns="aufnehmend", values="anzahl", aggfunc="sum")
        vals = [str(c) for c in piv.columns]
        piv.columns = vals
        grid = _office_grid(piv.reset_index(), verbund, vals)
        grid["zusammen"] = grid[vals].sum(axis=1)
        out.append(WideTable(name, grid, [*vals, "zusammen"], True))
    elif name == "dauer":
        d = df[(df["massnahme"] != "insgesamt") & (df["unbegleitet"] != "insgesamt")]
        if d.empty:
            return out
        d = d.assign(k=d["massnahme"] + "_" + d["unbegleitet"])
        piv = d.pivot_table(index="jugendamt", columns="k", values=["anzahl", "dauer_mittel", "dauer_median"], aggfunc="first")
        piv.columns = [f"{a}_{b}" for a, b in piv.columns]
        cnt = [c for c in piv.columns if c.startswith("anzahl_")]
        grid = _office_grid(piv.reset_index(), verbund, cnt)
        grid["anzahl_insgesamt"] = grid[cnt].sum(axis=1)
        derived = {f"{v}_{c[len('anzahl_'):]}": c for c in cnt for v in ("dauer_mittel", "dauer_median")}
        out.append(WideTable(name, grid, [*cnt, "anzahl_insgesamt"], True, derived))
    return out


def protected_blocks(con: duckdb.DuckDBPyConnection, zeitraum: str, verbund: str, method: str, *,
                     min_cases: int | None = None) -> list[tuple[WideTable, ProtectedTable]]:
    """Every count block of every case-based table of ``verbund`` for the period with its
    protected form (``method``)."""
    if min_cases is None:
        min_cases = int(config.settings()["geheimhaltung"].get("mindestfallzahl", 3))
    out: list[tuple[WideTable, ProtectedTable]] = []
    for name, tdef in TABLE_DEFS.items():
        if not tdef.personenbezogen:
            continue
        df = tdef.data(con, zeitraum, verbund=verbund)
        for w in wide_tables(name, df, verbund):
            for c in w.derived:
                if c not in w.frame.columns:
                    w.frame[c] = np.nan
            out.append((w, protect(w.frame, method, value_cols=w.value_cols, total_row=True, total_col=w.total_col,
                                   min_cases=min_cases, derived=w.derived, decimals=w.decimals or 1)))
    return out


def protected_tables(con: duckdb.DuckDBPyConnection, zeitraum: str, verbund: str, method: str, *,
                     min_cases: int | None = None) -> dict[str, ProtectedTable]:
    """Every count block of every case-based table of ``verbund`` for the period, protected
    with ``method`` -- what a report for the Landesebene may show by office."""
    return {w.key: pt for w, pt in protected_blocks(con, zeitraum, verbund, method, min_cases=min_cases)}
