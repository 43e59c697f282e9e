"""The federal statistic of provisional protective measures (§§ 98–103 SGB VIII) of one office
and year, computed from the warehouse.

Belongs here: which measures count (those whose Ende lies in the calendar year, exactly as the
Jahresbericht's ``beendete``: :func:`inobhut.statistics.ended_measures`), the mapping of the
delivery codes onto the federal categories (data: ``schemas/bundesstatistik.yaml``), the
plausibility checks of the federal kind before export (rules ``B…`` of ``schemas/rules.yaml``),
the record frame (one row per exported measure, the pseudonym ``fall_id`` as Kenn-Nummer) and
the summary counts. Does not belong here: writing files (:mod:`inobhut.meldungen.bund_ausgabe`),
the command line, Dagster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import duckdb
import pandas as pd
import yaml

from inobhut.statistics import ended_measures, zeitraum
from inobhut.validation.rules import Finding, make_finding
from schemas.datasets import MASSNAHMEN

#: features the federal statistic requires for every ended measure (B005): merkmal -> column
REQUIRED: dict[str, str] = {
    "Art der Maßnahme": "massnahme", "Träger der Maßnahme": "traeger", "Form der Unterbringung": "unterbringung",
    "Anregung der Maßnahme durch": "angeregt_durch", "Gefährdungseinschätzung": "gefaehrdungseinschaetzung",
    "Geschlecht": "geschlecht", "Geburtsmonat": "geburtsmonat", "Beginn": "beginn",
    "Unbegleitete Einreise": "unbegleitet", "Aufenthalt vor Beginn": "aufenthalt_vorher",
    "Beendigung": "ende_grund", "Anschließende Hilfe": "anschluss",
}
KENN_NUMMER = "Kenn-Nummer"
SUMMARY_COLUMNS = ("insgesamt", "§ 42", "§ 42a", "männlich", "weiblich")

_COLUMNS = ("fall_id, monat, version, _zeile, " + ", ".join(
    c.name for c in MASSNAHMEN.columns if c.name not in ("fallnummer", "jugendamt")))


@lru_cache(maxsize=1)
def mapping() -> dict:
    """``schemas/bundesstatistik.yaml``: ``{"stand": …, "merkmale": {merkmal: {titel, spalte|abgeleitet,
    codes: {code: {bund, tabelle?, von?, bis?}}, …}}}`` with codes as strings."""
    text = resources.files("schemas").joinpath("bundesstatistik.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for m in data["merkmale"].values():
        m["codes"] = {str(k): v for k, v in m["codes"].items()}
    return data


def merkmale() -> dict[str, dict]:
    return mapping()["merkmale"]


def _header(col: str) -> str:
    return MASSNAHMEN.column(col).header


def _classes(merkmal: str) -> list[tuple[str, int, int]]:
    return list(_class_table(merkmal))


@lru_cache(maxsize=None)
def _class_table(merkmal: str) -> tuple[tuple[str, int, int], ...]:
    """The classes of a derived feature (the mapping is read once per process, :func:`mapping`)."""
    return tuple((c, int(v["von"]), int(v["bis"])) for c, v in merkmale()[merkmal]["codes"].items())


def _classify(value: float | None, merkmal: str) -> str | None:
    if value is None or pd.isna(value):
        return None
    for code, lo, hi in _class_table(merkmal):
        if lo <= value <= hi:
            return code
    return None


def _code_text(v: object) -> str | None:
    """A warehouse value as the code of the mapping ("1"/"0" for booleans), None when empty."""
    if type(v) is str:  # the common case first (some 400,000 calls a year's statistic on ten years)
        return v.strip() or None
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, (bool,)) or type(v).__name__ == "bool_":
        return "1" if bool(v) else "0"
    text = str(v).strip()
    return text or None


def _date(v: object) -> dt.date | None:
    if v is None or v is pd.NaT or (not isinstance(v, dt.date) and pd.isna(v)):
        return None
    return pd.Timestamp(v).date()


@dataclass
class Bundesstatistik:
    """The federal statistic of one office and year: exported records, refused records with their
    findings, and the code-level counts of the exported records (comparable to ``beendete``)."""

    ags: str
    jahr: str
    beendet: int  # ended measures of the year (= "insgesamt" of the Jahresbericht)
    codes: pd.DataFrame  # one row per exported measure: fall_id, merkmal codes, dauer, lieferung
    zurueckgewiesen: pd.DataFrame  # one row per finding: fall_id, lieferung, zeile, beginn, ende, regel, …
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # fall_id -> findings

    @property
    def exportiert(self) -> int:
        return len(self.codes)

    @property
    def n_zurueckgewiesen(self) -> int:
        return len(self.findings)


def check_measure(r: dict, jahr: str) -> list[Finding]:
    """The federal plausibility checks (rules B001–B008) of one ended measure (a warehouse row)."""
    out: list[Finding] = []
    zeile = r.get("_zeile")
    zeile = None if zeile is None or pd.isna(zeile) else int(zeile)
    for name, col in REQUIRED.items():
        if _code_text(r.get(col)) is None:
            out.append(make_finding("B005", zeile=zeile, spalte=_header(col), merkmal=name))
    for m, spec in merkmale().items():
        col = spec.get("spalte")
        if not col:
            continue
        text = _code_text(r.get(col))
        if text is None:
            continue
        values = [v.strip() for v in text.split(",") if v.strip()] if spec.get("mehrfach") else [text]
        for v in values:
            if v not in spec["codes"]:
                out.append(make_finding("B006", zeile=zeile, spalte=_header(col), wert=v))
    beginn, ende, geb = _date(r.get("beginn")), _date(r.get("ende")), _date(r.get("geburtsmonat"))
    if beginn is not None and geb is not None:
        alter = (beginn.year - geb.year) - (beginn.month < geb.month)
        if _classify(alter, "altersgruppe") is None:
            out.append(make_finding("B001", zeile=zeile, spalte=_header("geburtsmonat"), wert=geb.strftime("%m.%Y"),
                                    beginn=beginn.strftime("%d.%m.%Y"), alter=alter))
    if beginn is not None and ende is not None and ende < beginn:
        out.append(make_finding("B002", zeile=zeile, spalte=_header("ende"), wert=ende.strftime("%d.%m.%Y"),
                                beginn=beginn.strftime("%d.%m.%Y"), tage=(ende - beginn).days))
    anlaesse = [v for v in (_code_text(r.get("anlaesse")) or "").split(",") if v.strip()]
    if not anlaesse:
        out.append(make_finding("B003", zeile=zeile, spalte=_header("anlaesse")))
    massnahme, unbegleitet = _code_text(r.get("massnahme")), _code_text(r.get("unbegleitet"))
    if massnahme == "2" and unbegleitet != "1":
        out.append(make_finding("B004", zeile=zeile, spalte=_header("unbegleitet"), wert=unbegleitet or "leer"))
    if _code_text(r.get("ende_grund")) == "4" and massnahme not in (None, "2"):
        out.append(make_finding("B007", zeile=zeile, spalte=_header("ende_grund"), wert=massnahme))
    if unbegleitet == "1" and anlaesse and "08" not in [a.strip() for a in anlaesse]:
        out.append(make_finding("B008", zeile=zeile, spalte=_header("anlaesse"), wert=",".join(anlaesse)))
    return out


def _codes_of(r: dict) -> dict:
    """The mapping codes of one measure that passed the checks (derived features included)."""
    beginn, ende, geb = _date(r["beginn"]), _date(r["ende"]), _date(r["geburtsmonat"])
    alter = (beginn.year - geb.year) - (beginn.month < geb.month)
    dauer = (ende - beginn).days
    out = {"fall_id": r["fall_id"], "lieferung": r["monat"], "version": int(r["version"]),
           "zeile": None if pd.isna(r.get("_zeile")) else int(r["_zeile"]), "beginn": beginn, "ende": ende,
           "dauer": dauer}
    for m, spec in merkmale().items():
        if m == "altersgruppe":
            out[m] = _classify(alter, m)
        elif m == "dauerklasse":
            out[m] = _classify(dauer, m)
        else:
            out[m] = _code_text(r.get(spec["spalte"]))
    return out


def ended(con: duckdb.DuckDBPyConnection, ags: str, jahr: str, of_all: pd.DataFrame | None = None) -> pd.DataFrame:
    """The measures of ``ags`` whose Ende lies in ``jahr`` (one row each, as in ``beendete``);
    ``of_all``: those of every office, read before (:func:`compute_all`)."""
    m = ended_measures(con, zeitraum(jahr), _COLUMNS) if of_all is None else of_all
    return m[m["jugendamt"] == ags].sort_values(["ende", "beginn", "fall_id"], kind="stable").reset_index(drop=True)


def compute_all(con: duckdb.DuckDBPyConnection, offices: list[str], jahr: str) -> dict[str, Bundesstatistik]:
    """:func:`compute` for each of ``offices``, the year's ended measures read once (not once per office)."""
    of_all = ended_measures(con, zeitraum(jahr), _COLUMNS)
    return {a: compute(con, a, jahr, of_all) for a in offices}


def compute(con: duckdb.DuckDBPyConnection, ags: str, jahr: str, of_all: pd.DataFrame | None = None) -> Bundesstatistik:
    """Check every measure of the office that ended in the year; the ones that pass become records."""
    m = ended(con, ags, jahr, of_all)
    rows, refused, findings = [], [], {}
    for r in m.to_dict("records"):
        fs = check_measure(r, jahr)
        if fs:
            findings[r["fall_id"]] = fs
            for f in fs:
                refused.append({"fall_id": r["fall_id"], "lieferung": r["monat"], "version": int(r["version"]),
                                "zeile": f.zeile, "beginn": _date(r.get("beginn")), "ende": _date(r.get("ende")),
                                "regel": f.rule_id, "spalte": f.spalte or "", "wert": f.wert or "",
                                "meldung": f.meldung, "hinweis": f.hinweis})
        else:
            rows.append(_codes_of(r))
    cols = ["fall_id", "lieferung", "version", "zeile", "beginn", "ende", "dauer", *merkmale()]
    refused_cols = ["fall_id", "lieferung", "version", "zeile", "beginn", "ende", "regel", "spalte", "wert",
                    "meldung", "hinweis"]
    return Bundesstatistik(ags=ags, jahr=str(jahr), beendet=len(m), codes=pd.DataFrame(rows, columns=cols),
                           zurueckgewiesen=pd.DataFrame(refused, columns=refused_cols), findings=findings)


def offices_with_ended(con: duckdb.DuckDBPyConnection, jahr: str) -> list[str]:
    """Member offices with at least one delivery of ``massnahmen`` in ``jahr`` (their federal export
    is written even when nothing ended: a Fehlanzeige)."""
    from inobhut import config

    keys = set(config.office_keys())
    rows = con.execute("SELECT DISTINCT jugendamt FROM massnahmen WHERE substr(monat, 1, 4) = ? ORDER BY 1",
                       [str(jahr)]).fetchall()
    return [r[0] for r in rows if r[0] in keys]


# ---------------------------------------------------------------- federal categories
def label(merkmal: str, code: str | None, table: bool = False) -> str:
    """Federal label of ``code`` (``table``: the category of the summary tables); the mapping's
    ``fehlt`` text (e.g. "nicht erhoben") for an empty optional feature."""
    spec = merkmale()[merkmal]
    if code is None:
        return spec.get("fehlt", "–")
    entry = spec["codes"][code]
    return entry.get("tabelle", entry["bund"]) if table else entry["bund"]


def table_categories(merkmal: str) -> list[str]:
    """Categories of a summary table in mapping order (each once)."""
    cats = [v.get("tabelle", v["bund"]) for v in merkmale()[merkmal]["codes"].values()]
    out = list(dict.fromkeys(cats))
    if "fehlt" in merkmale()[merkmal]:
        out.append(merkmale()[merkmal]["fehlt"])
    return out


def code_rows(b: Bundesstatistik) -> list[dict]:
    """``b.codes`` as one dict per exported measure, built once per object (the record file and
    some twenty summary tables all walk these rows; a pandas operation per table cost more than
    the counting)."""
    rows = b.__dict__.get("_code_rows")
    if rows is None or rows[0] is not b.codes:
        rows = (b.codes, b.codes.to_dict("records"))
        b.__dict__["_code_rows"] = rows
    return rows[1]


def records(b: Bundesstatistik) -> pd.DataFrame:
    """The record file: one row per exported measure, federal labels, German headers."""
    spec = merkmale()
    rows = []
    for r in code_rows(b):
        row = {KENN_NUMMER: r["fall_id"], "Berichtsjahr": b.jahr, "Jugendamt": b.ags}
        row["Beginn"] = r["beginn"].strftime("%d.%m.%Y")
        row["Ende"] = r["ende"].strftime("%d.%m.%Y")
        row["Dauer in Tagen"] = int(r["dauer"])
        for m, s in spec.items():
            if s.get("mehrfach"):
                codes = [c.strip() for c in (r[m] or "").split(",") if c.strip()]
                row[s["titel"]] = " | ".join(label(m, c) for c in codes)
            else:
                row[s["titel"]] = label(m, r[m])
        rows.append(row)
    cols = [KENN_NUMMER, "Berichtsjahr", "Jugendamt", "Beginn", "Ende", "Dauer in Tagen",
            *[s["titel"] for s in spec.values()]]
    return pd.DataFrame(rows, columns=cols)


def counts(b: Bundesstatistik) -> pd.DataFrame:
    """Exported records counted like the Jahresbericht's ``beendete``: merkmal (its name there),
    auspraegung (delivery code or class), anzahl; geschlecht d/o under m as there."""
    parts = [pd.DataFrame({"merkmal": ["insgesamt"], "auspraegung": ["insgesamt"], "anzahl": [len(b.codes)]})]
    sex = {"m": "m", "w": "w", "d": "m", "o": "m"}
    for m, spec in merkmale().items():
        jb = spec.get("jahresbericht")
        if not jb or not len(b.codes):
            continue
        values = b.codes[m].dropna()
        if spec.get("mehrfach"):
            values = values.str.split(",").explode().str.strip()
        if m == "geschlecht":
            values = values.map(sex)
        c = values.value_counts().rename_axis("auspraegung").reset_index(name="anzahl")
        parts.append(c.assign(merkmal=jb))
    out = pd.concat(parts, ignore_index=True)[["merkmal", "auspraegung", "anzahl"]]
    return out.sort_values(["merkmal", "auspraegung"]).reset_index(drop=True)


def summary_rows(b: Bundesstatistik, merkmal: str) -> list[dict]:
    """Summary table of one feature in the federal layout, as rows (column -> value): one row per
    federal category (mapping order, plus "insgesamt" for single-choice features), columns
    Kategorie, insgesamt, § 42, § 42a, männlich, weiblich. Multiple-choice features (Anlass) count
    once per mentioned category."""
    spec = merkmale()[merkmal]
    many = bool(spec.get("mehrfach"))
    # counted in one pass over the rows (a boolean selection per category cost ~8 ms per table)
    counts: dict[str, list[int]] = {cat: [0, 0, 0, 0, 0] for cat in table_categories(merkmal)}
    total = [0, 0, 0, 0, 0]
    for r in code_rows(b):
        mass = r["massnahme"] if isinstance(r["massnahme"], str) else None
        sx = label("geschlecht", r["geschlecht"], table=True)
        flags = (1, mass == "1", mass == "2", sx == "männlich", sx == "weiblich")
        if many:
            cats = [label(merkmal, v.strip(), table=True) for v in (r[merkmal] or "").split(",") if v.strip()]
        else:
            cats = [label(merkmal, r[merkmal], table=True)]
            total = [t + f for t, f in zip(total, flags)]
        for cat in cats:
            n = counts.get(cat)
            if n is not None:
                for k, f in enumerate(flags):
                    n[k] += f
    rows = [{"Kategorie": cat, "insgesamt": n[0], "§ 42": n[1], "§ 42a": n[2], "männlich": n[3], "weiblich": n[4]}
            for cat, n in counts.items()]
    if not many:
        rows.append({"Kategorie": "insgesamt", "insgesamt": total[0], "§ 42": total[1], "§ 42a": total[2],
                     "männlich": total[3], "weiblich": total[4]})
    return rows
