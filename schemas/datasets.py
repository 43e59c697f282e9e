"""The four delivery datasets, defined once.

Every column of ``shared/spec/delivery.md`` is a :class:`Column` here. The parser maps
delivered headers onto ``Column.name`` (the canonical internal name), the pandera schemas,
the Excel template and the docs are generated from these definitions.

Canonical in-memory types after parsing (the contract between ingest and everything else):

========== ============================ ==============================================
kind       pandas dtype                 notes
========== ============================ ==============================================
text       ``string``                   stripped; empty -> <NA>
ags        ``string``                   zero-padded to 5 or 8 digits
code       ``string``                   exactly the code of the code list ("01", "m")
codes      ``string``                   sorted unique codes joined by "," ("01,08")
iso3       ``string``                   upper case ISO 3166-1 alpha-3 (or XXA/XXX)
date       ``datetime64[ns]``           day precision
month      ``datetime64[ns]``           first day of the month
bool       ``boolean``                  1/0, ja/nein, j/n, x/empty
int        ``Int64``
decimal    ``Float64``
========== ============================ ==============================================

Every parsed frame also has ``_zeile`` (``Int64``): the row number as in the delivered file,
header = row 1. After validation ``fallnummer`` is replaced by ``fall_id`` (HMAC-SHA-256,
see :mod:`inobhut.pseudonym`) before anything is written outside the archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

KINDS = ("text", "ags", "code", "codes", "iso3", "date", "month", "bool", "int", "decimal")


@dataclass(frozen=True)
class Column:
    name: str  # canonical internal name
    header: str  # header as written in delivery.md
    kind: str
    required: bool  # unconditionally required; conditional rules live in the rule catalogue
    description: str  # German, for template and docs
    codelist: str | None = None
    max_len: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind


@dataclass(frozen=True)
class Dataset:
    name: str
    row_unit: str  # German: one row per ...
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # uniqueness key within one delivery
    title: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column

MASSNAHMEN = Dataset(
    name="massnahmen",
    title="Maßnahmen (Inobhutnahmen §42 und vorläufige Inobhutnahmen §42a)",
    row_unit="Schutzmaßnahme, die an mindestens einem Tag des Monats bestand",
    key=("fallnummer",),
    columns=(
        C("fallnummer", "Fallnummer", "text", True, "Aktenzeichen/Fallnummer des Jugendamts, je Maßnahme eindeutig", max_len=40),
        C("jugendamt", "Jugendamt", "ags", True, "Schlüssel des liefernden Jugendamts"),
        C("massnahme", "Massnahme", "code", True, "Art der Maßnahme", codelist="massnahme", aliases=("Maßnahme",)),
        C("traeger", "Traeger", "code", True, "Träger der Maßnahme", codelist="traeger", aliases=("Träger",)),
        C("beginn", "Beginn", "date", True, "erster Tag der Maßnahme"),
        C("ende", "Ende", "date", False, "letzter Tag der Maßnahme; leer, solange sie andauert"),
        C("geburtsmonat", "Geburtsmonat", "month", True, "Geburtsmonat (MM.JJJJ), kein Tag"),
        C("geschlecht", "Geschlecht", "code", True, "Geschlecht", codelist="geschlecht"),
        C("staatsangehoerigkeit", "Staatsangehoerigkeit", "iso3", False, "Staatsangehörigkeit (ISO 3166-1 alpha-3; XXA staatenlos, XXX ungeklärt); Pflicht bei unbegleiteter Einreise", aliases=("Staatsangehörigkeit",)),
        C("unbegleitet", "Unbegleitet", "bool", True, "unbegleitete Einreise aus dem Ausland (1/0)"),
        C("anlaesse", "Anlaesse", "codes", True, "ein oder mehrere Anlässe, getrennt durch , oder |", codelist="anlass", aliases=("Anlässe", "Anlass")),
        C("angeregt_durch", "Angeregt_durch", "code", True, "Anregung der Maßnahme durch", codelist="angeregt_durch"),
        C("aufenthalt_vorher", "Aufenthalt_vorher", "code", True, "Aufenthalt vor der Maßnahme", codelist="aufenthalt_vorher"),
        C("unterbringung", "Unterbringung", "code", True, "Art der Unterbringung", codelist="unterbringung"),
        C("einrichtung", "Einrichtung", "text", False, "Kennung der Einrichtung wie in plaetze; Pflicht bei Unterbringung 2", max_len=40),
        C("gefaehrdungseinschaetzung", "Gefaehrdungseinschaetzung", "bool", True, "Gefährdungseinschätzung nach §8a vorausgegangen (1/0)", aliases=("Gefährdungseinschätzung",)),
        C("wiederholt", "Wiederholt", "bool", True, "wiederholte Inobhutnahme im Kalenderjahr (1/0)"),
        C("widerspruch", "Widerspruch", "bool", False, "Widerspruch der Sorgeberechtigten (1/0)"),
        C("familiengericht", "Familiengericht", "bool", False, "Familiengericht angerufen (§42 Abs. 3) (1/0)"),
        C("ende_grund", "Ende_Grund", "code", False, "Grund der Beendigung; Pflicht, wenn Ende gesetzt", codelist="ende_grund_massnahme"),
        C("anschluss", "Anschluss", "code", False, "Aufenthalt/Hilfe im Anschluss; Pflicht, wenn Ende gesetzt", codelist="anschluss"),
        C("meldung_landesstelle", "Meldung_Landesstelle", "date", False, "Tag der Meldung an die Landesverteilstelle (§42a Abs. 4); nur Maßnahme 2"),
        C("verteilentscheidung", "Verteilentscheidung", "code", False, "Entscheidung über die Verteilung; nur Maßnahme 2", codelist="verteilentscheidung"),
        C("zuweisung_jugendamt", "Zuweisung_Jugendamt", "ags", False, "aufnehmendes Jugendamt; Pflicht bei Verteilentscheidung 1"),
        # optional features of the federal statistic (§ 99 Abs. 2 SGB VIII), not collected by every office yet:
        # files without these columns stay valid; the federal export marks them "nicht erhoben"
        C("herkunft_eltern", "Herkunft_Eltern", "code", False, "ausländische Herkunft mindestens eines Elternteils (Bundesstatistik; freiwillig, leer = nicht erhoben)", codelist="herkunft_eltern"),
        C("familiensprache", "Familiensprache", "code", False, "in der Familie vorrangig gesprochene Sprache (Bundesstatistik; freiwillig, leer = nicht erhoben)", codelist="familiensprache"),
    ),
)

UMA = Dataset(
    name="uma",
    title="Unbegleitete minderjährige Ausländer (UMA) und junge Volljährige",
    row_unit="Person in Zuständigkeit des Jugendamts an mindestens einem Tag des Monats",
    key=("fallnummer",),
    columns=(
        C("fallnummer", "Fallnummer", "text", True, "Fallnummer (gleicher Nummernkreis wie massnahmen)", max_len=40),
        C("jugendamt", "Jugendamt", "ags", True, "zuständiges Jugendamt"),
        C("zustaendig_seit", "Zustaendig_seit", "date", True, "Beginn der Zuständigkeit", aliases=("Zuständig_seit",)),
        C("zustaendig_bis", "Zustaendig_bis", "date", False, "Ende der Zuständigkeit; leer, solange sie andauert", aliases=("Zuständig_bis",)),
        C("geburtsmonat", "Geburtsmonat", "month", True, "Geburtsmonat (MM.JJJJ)"),
        C("geschlecht", "Geschlecht", "code", True, "Geschlecht", codelist="geschlecht"),
        C("staatsangehoerigkeit", "Staatsangehoerigkeit", "iso3", True, "Staatsangehörigkeit (ISO 3166-1 alpha-3; XXA staatenlos, XXX ungeklärt)", aliases=("Staatsangehörigkeit",)),
        C("hilfeart", "Hilfeart", "code", True, "aktuelle Hilfe", codelist="hilfeart"),
        C("unterbringung_ausserhalb", "Unterbringung_ausserhalb", "bool", True, "außerhalb des eigenen Bezirks untergebracht (1/0)", aliases=("Unterbringung_außerhalb",)),
        C("ende_grund", "Ende_Grund", "code", False, "Grund des Zuständigkeitsendes; Pflicht, wenn Zustaendig_bis gesetzt", codelist="ende_grund_uma"),
    ),
)

PLAETZE = Dataset(
    name="plaetze",
    title="Plätze (Kapazitäten der Einrichtungen und Angebote)",
    row_unit="Einrichtung/Angebot und Stichtag im Monat",
    key=("einrichtung", "stichtag"),
    columns=(
        C("einrichtung", "Einrichtung", "text", True, "Kennung der Einrichtung, zeitlich stabil, im Jugendamt eindeutig", max_len=40),
        C("jugendamt", "Jugendamt", "ags", True, "Jugendamt, in dessen Bezirk das Angebot liegt"),
        C("stichtag", "Stichtag", "date", True, "Stichtag im Berichtsmonat (mindestens der Monatsletzte)"),
        C("angebot", "Angebot", "code", True, "Art des Angebots", codelist="angebot"),
        C("traeger_art", "Traeger_Art", "code", True, "Art des Trägers", codelist="traeger_art", aliases=("Träger_Art",)),
        C("alter_von", "Alter_von", "int", True, "Aufnahmealter von (Jahre)", min_value=0, max_value=27),
        C("alter_bis", "Alter_bis", "int", True, "Aufnahmealter bis (Jahre)", min_value=0, max_value=27),
        C("plaetze_genehmigt", "Plaetze_genehmigt", "int", True, "Plätze laut Betriebserlaubnis", min_value=0, aliases=("Plätze_genehmigt",)),
        C("plaetze_belegt", "Plaetze_belegt", "int", True, "belegte Plätze am Stichtag", min_value=0, aliases=("Plätze_belegt",)),
        C("plaetze_gesperrt", "Plaetze_gesperrt", "int", True, "nicht belegbare Plätze (Personal, Gebäude)", min_value=0, aliases=("Plätze_gesperrt",)),
        C("plaetze_frei", "Plaetze_frei", "int", False, "freie Plätze = genehmigt − belegt − gesperrt (negativ bei Überbelegung)", aliases=("Plätze_frei",)),
        C("vzae_soll", "VZAE_Soll", "decimal", True, "Vollzeitäquivalente Soll", min_value=0, aliases=("VZÄ_Soll",)),
        C("vzae_ist", "VZAE_Ist", "decimal", True, "Vollzeitäquivalente Ist", min_value=0, aliases=("VZÄ_Ist",)),
        C("tagessatz", "Tagessatz", "decimal", False, "Tagessatz in EUR", min_value=0),
    ),
)

PERSONAL = Dataset(
    name="personal",
    title="Personal des Jugendamts",
    row_unit="Jugendamt, Bereich und Stichtag (Monatsletzter)",
    key=("bereich", "stichtag"),
    columns=(
        C("jugendamt", "Jugendamt", "ags", True, "Schlüssel des Jugendamts"),
        C("stichtag", "Stichtag", "date", True, "letzter Tag des Monats"),
        C("bereich", "Bereich", "code", True, "Bereich/Dienst", codelist="bereich"),
        C("vzae_soll", "VZAE_Soll", "decimal", True, "Vollzeitäquivalente Soll", min_value=0, aliases=("VZÄ_Soll",)),
        C("vzae_ist", "VZAE_Ist", "decimal", True, "Vollzeitäquivalente Ist", min_value=0, aliases=("VZÄ_Ist",)),
        C("stellen_unbesetzt", "Stellen_unbesetzt", "decimal", True, "unbesetzte Stellen (VZÄ)", min_value=0),
        C("faelle", "Faelle", "int", False, "offene Fälle des Bereichs", min_value=0, aliases=("Fälle",)),
    ),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (MASSNAHMEN, UMA, PLAETZE, PERSONAL)}
DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)


@lru_cache(maxsize=1)
def codelists() -> dict[str, dict[str, str]]:
    """All code lists: list name -> {code: German label}."""
    text = resources.files("schemas.codelists").joinpath("codelists.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {k: {str(c): str(lbl) for c, lbl in v.items()} for k, v in data.items()}


def codes(listname: str) -> list[str]:
    return list(codelists()[listname])


def label(listname: str, code: str) -> str:
    return codelists()[listname].get(code, code)
