"""German standard texts of the reports: definitions (from statistics.md, in plain German),
labels of the characteristics of ended measures, source and default contact.

Belongs here: wording only. Does not belong here: numbers, layout.
"""

from __future__ import annotations

from inobhut.naming import is_ascii_digits
from schemas.datasets import codes, label

SOURCE = ("Monatliche Lieferungen der Mitglieds-Jugendämter (Datensätze Maßnahmen, UMA, Plätze, Personal), "
          "geprüft und ausgewertet mit inobhut.")
CONTACT_DEFAULT = "Geschäftsstelle des Verbunds (Ansprechpartner siehe Verbundvereinbarung)"

DEFINITIONS: dict[str, str] = {
    "Stichtag": "Der letzte Tag des Berichtsmonats.",
    "Zugang": "Eine Maßnahme, die im Berichtsmonat begonnen hat.",
    "Abgang": "Eine Maßnahme, die im Berichtsmonat geendet hat.",
    "Bestand": "Maßnahmen, die am Stichtag liefen: begonnen am oder vor dem Stichtag und nicht vor dem Stichtag beendet.",
    "Beendete Maßnahmen": "Maßnahmen, deren letzter Tag im Zeitraum liegt; jede Maßnahme zählt einmal "
                          "(maßgeblich ist die neueste angenommene Lieferung).",
    "Anlass": "Mehrfachnennung: Eine Maßnahme zählt bei jedem ihrer Anlässe. Die Anlässe ergeben deshalb "
              "zusammen mehr als die Zahl der Maßnahmen.",
    "Geschlecht": "Maßnahmen mit den Angaben „divers“ und „ohne Angabe“ sind wie in der Bundesstatistik "
                  "unter „männlich“ gezählt.",
    "Alter": "Vollendete Lebensjahre bei Beginn der Maßnahme; als Geburtstag gilt der Erste des Geburtsmonats.",
    "Dauer": "Tage vom ersten bis zum letzten Tag der Maßnahme.",
    "Werktage": "Montag bis Freitag ohne die gesetzlichen Feiertage des Landes des Jugendamts.",
    "Fristgerecht gemeldet": "Vorläufige Inobhutnahme (§42a), die spätestens am 7. Werktag nach Beginn an die "
                             "Landesverteilstelle gemeldet wurde.",
    "UMA-Ist": "Unbegleitete Minderjährige in Zuständigkeit des Jugendamts am Stichtag, unter 18 Jahre, "
               "ohne Personen in vorläufiger Inobhutnahme (deren Verteilung steht noch aus).",
    "Junge Volljährige": "Frühere UMA ab 18 Jahren in Zuständigkeit des Jugendamts; gesondert ausgewiesen.",
    "Aufnahmesoll": "Anteil des Jugendamts an allen UMA des Verbunds nach seinem Anteil an der Einwohnerzahl.",
    "Erfüllungsquote": "UMA-Ist geteilt durch Aufnahmesoll, in Prozent; über 100 % heißt: mehr aufgenommen als das Soll.",
    "Differenz": "UMA-Ist minus Aufnahmesoll; positiv heißt: über dem Soll.",
    "Auslastung": "Belegte Plätze geteilt durch belegbare Plätze (genehmigt minus gesperrt), in Prozent.",
    "Freie Plätze": "Genehmigte minus belegte minus gesperrte Plätze; negativ bei Überbelegung.",
    "VZÄ": "Vollzeitäquivalente: Stellenanteile umgerechnet auf volle Stellen.",
}


def definitions(*terms: str) -> list[tuple[str, str]]:
    return [(t, DEFINITIONS[t]) for t in terms]


_FIXED = {
    "insgesamt": [("insgesamt", "Beendete Maßnahmen insgesamt")],
    "unbegleitet": [("1", "unbegleitet eingereist"), ("0", "nicht unbegleitet eingereist")],
    "geschlecht": [("m", "männlich"), ("w", "weiblich")],
    "altersgruppe": [("0-2", "unter 3 Jahre"), ("3-5", "3 bis 5 Jahre"), ("6-8", "6 bis 8 Jahre"),
                     ("9-11", "9 bis 11 Jahre"), ("12-13", "12 bis 13 Jahre"), ("14-15", "14 bis 15 Jahre"),
                     ("16-17", "16 bis 17 Jahre")],
    "dauerklasse": [("0-1", "bis 1 Tag"), ("2-7", "2 bis 7 Tage"), ("8-14", "8 bis 14 Tage"),
                    ("15-30", "15 Tage bis unter 1 Monat"), ("31-90", "1 bis unter 3 Monate"),
                    ("91+", "3 Monate und mehr")],
}

#: merkmal -> (German label, code list name or None)
MERKMALE: dict[str, tuple[str, str | None]] = {
    "insgesamt": ("Insgesamt", None),
    "massnahme": ("Art der Maßnahme", "massnahme"),
    "unbegleitet": ("Unbegleitete Einreise", None),
    "geschlecht": ("Geschlecht", None),
    "altersgruppe": ("Alter bei Beginn", None),
    "anlass": ("Anlass (Mehrfachnennung)", "anlass"),
    "angeregt_durch": ("Angeregt durch", "angeregt_durch"),
    "aufenthalt_vorher": ("Aufenthalt vor der Maßnahme", "aufenthalt_vorher"),
    "unterbringung": ("Unterbringung", "unterbringung"),
    "dauerklasse": ("Dauer", None),
    "ende_grund": ("Grund der Beendigung", "ende_grund_massnahme"),
    "anschluss": ("Im Anschluss", "anschluss"),
}


def merkmal_values(merkmal: str) -> list[tuple[str, str]]:
    """All values (code, German label) of a characteristic in table order."""
    if merkmal in _FIXED:
        return list(_FIXED[merkmal])
    lst = MERKMALE[merkmal][1]
    return [(c, label(lst, c)) for c in codes(lst)]


def normalise_code(merkmal: str, value: object) -> str:
    """Code as in the code list: restores a lost leading zero of two-digit codes."""
    s = str(value).strip()
    if s.endswith(".0") and is_ascii_digits(s[:-2]):
        s = s[:-2]
    lst = MERKMALE.get(merkmal, ("", None))[1]
    if lst and is_ascii_digits(s):
        width = max(len(c) for c in codes(lst))
        s = s.zfill(width)
    return s
