"""Writing the federal statistic of an office and year: the record file (CSV), the list of refused
records (CSV) and the workbook (Excel, through the project's report machinery) and the audit
events. The run's front page finds the files by name (registry ``inobhut.reports.kinds``).

Belongs here: file names and layout under ``<out>/jugendaemter/<ags>/bundesstatistik/<JJJJ>/``,
one small writer per output format (:data:`WRITERS`; a writer for an official transmission
format such as IDEV or eSTATISTIK.core is added here, fed by the same record frame and the
mapping file), the report model of the workbook. Not here: which measures count and the checks
(:mod:`inobhut.meldungen.bund`), Dagster, the command line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import pandas as pd

import inobhut
from inobhut import config
from inobhut.meldungen import bund
from inobhut.reports.model import DeliveryStatus, ReportModel, ReportTable, in_force, status_created_at
from inobhut import atomic

KIND = "bundesstatistik"
FOLDER = "bundesstatistik"

IDEV_NOTE = ("Das amtliche Übermittlungsformat (IDEV-Formular oder Datei für eSTATISTIK.core) ist mit dem "
             "Statistischen Landesamt abzustimmen; diese Satzdatei enthält die Merkmale nach § 99 Abs. 2 SGB VIII "
             "in den Kategorien der Bundesstatistik und lässt sich über die Zuordnungsdatei "
             "schemas/bundesstatistik.yaml und einen kleinen Schreiber je Format anpassen.")
KENN_NOTE = ("Kenn-Nummer: das Pseudonym des Falls (HMAC), nie das Aktenzeichen; das Jugendamt findet den Fall über "
             "Lieferung (Berichtsmonat), Zeile, Beginn und Ende im Blatt Zurückgewiesen bzw. in seinem Fachverfahren.")
NICHT_ERHOBEN_NOTE = ("„nicht erhoben“: das Jugendamt liefert die freiwilligen Spalten Herkunft_Eltern bzw. "
                      "Familiensprache (noch) nicht; die Angabe ist für die Meldung aus der Akte nachzutragen.")
JB_NOTE = ("Die Spalte „insgesamt“ ergibt für Art der Maßnahme, Geschlecht, Alter, Anlass, Anregung, Aufenthalt vorher, "
           "Unterbringung, Dauer, Beendigung und Anschluss dieselben Zahlen wie der Jahresbericht des Verbunds für "
           "dieses Jugendamt, solange kein Datensatz zurückgewiesen ist.")
SEX_NOTE = "Geschlecht: „divers“ und „ohne Angabe“ sind in den Übersichten wie im Jahresbericht unter „männlich“ gezählt."
ANLASS_NOTE = "Anlass: Mehrfachnennung – die Summe der Anlässe ist größer als die Zahl der Maßnahmen."


def folder(out: Path, ags: str, jahr: str) -> Path:
    return Path(out) / "jugendaemter" / ags / FOLDER / str(jahr)


def base_name(ags: str, jahr: str) -> str:
    return f"bundesstatistik_{ags}_{jahr}"


# ---------------------------------------------------------------- writers per format
def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """CSV for German spreadsheet programs: UTF-8 with BOM, ``;``, ``\\n``; atomic."""
    with atomic.replacing(path, keep_unchanged=True) as tmp:
        df.to_csv(tmp, index=False, sep=";", encoding="utf-8-sig", lineterminator="\n")
    return path


def write_records_csv(b: bund.Bundesstatistik, model: ReportModel, target: Path) -> Path:
    """The record file: one row per exported measure (federal labels)."""
    return write_csv(bund.records(b), target.with_name(target.name + ".csv"))


def write_refused_csv(b: bund.Bundesstatistik, model: ReportModel, target: Path) -> Path:
    """The refused records with rule, message and fix (header only when none)."""
    return write_csv(_refused_frame(b, empty_row=False), target.with_name(target.name + "_zurueckgewiesen.csv"))


def write_workbook(b: bund.Bundesstatistik, model: ReportModel, target: Path) -> Path:
    from inobhut.reports.excel import write_xlsx

    return write_xlsx(model, target.with_name(target.name + ".xlsx"))


#: output format -> writer(Bundesstatistik, workbook model, base path without suffix) -> path
WRITERS: dict[str, Callable[[bund.Bundesstatistik, ReportModel, Path], Path]] = {
    "satzdatei": write_records_csv, "zurueckgewiesen": write_refused_csv, "excel": write_workbook,
}


# ---------------------------------------------------------------- workbook model
def _refused_frame(b: bund.Bundesstatistik, empty_row: bool) -> pd.DataFrame:
    cols = [bund.KENN_NUMMER, "Lieferung", "Version", "Zeile", "Beginn", "Ende", "Regel", "Spalte", "Wert",
            "Meldung", "Korrekturhinweis"]
    rows = []
    for r in b.zurueckgewiesen.to_dict("records"):
        rows.append({bund.KENN_NUMMER: r["fall_id"], "Lieferung": f"{b.ags}_massnahmen_{r['lieferung']}",
                     "Version": int(r["version"]), "Zeile": "–" if r["zeile"] is None or pd.isna(r["zeile"]) else int(r["zeile"]),
                     "Beginn": r["beginn"].strftime("%d.%m.%Y") if r["beginn"] else "–",
                     "Ende": r["ende"].strftime("%d.%m.%Y") if r["ende"] else "–", "Regel": r["regel"],
                     "Spalte": r["spalte"] or "–", "Wert": r["wert"] or "–", "Meldung": r["meldung"],
                     "Korrekturhinweis": r["hinweis"]})
    if not rows and empty_row:
        rows.append({c: "–" for c in cols} | {bund.KENN_NUMMER: "keine"})
    return pd.DataFrame(rows, columns=cols)


def _zero_dash(df: pd.DataFrame, cols: Iterable[str]) -> pd.DataFrame:
    """``df`` as objects, with "–" for a zero count in ``cols`` (built column by column at once:
    an assignment per column cost more than the counting of a summary)."""
    cols = set(cols)
    data = {c: ["–" if v == 0 else int(v) for v in df[c].tolist()] if c in cols else pd.Series(df[c], dtype=object)
            for c in df.columns}
    return pd.DataFrame(data, columns=df.columns, index=df.index)


def build_model(b: bund.Bundesstatistik, data_status: list[DeliveryStatus]) -> ReportModel:
    """The workbook: cover, notes, reconciliation, records, one summary per feature, refused records."""
    o = config.office(b.ags)
    jahr = b.jahr
    where = f"{o.label}, {jahr}"
    tables: list[ReportTable] = []
    abgleich = pd.DataFrame([
        {"Position": "Beendete Maßnahmen im Berichtsjahr (wie Jahresbericht)", "Anzahl": b.beendet},
        {"Position": "davon in der Satzdatei (Prüfungen bestanden)", "Anzahl": b.exportiert},
        {"Position": "davon zurückgewiesen (Prüfregeln B001–B008)", "Anzahl": b.n_zurueckgewiesen},
    ])
    tables.append(ReportTable(
        id="abgleich", title=f"Abgleich: beendete, gemeldete und zurückgewiesene Maßnahmen, {where}",
        data=_zero_dash(abgleich, ["Anzahl"]), number_formats={"Anzahl": "#,##0"}, sheet="Abgleich",
        description="Gemeldet werden alle Maßnahmen, deren Ende im Berichtsjahr liegt (§ 101 SGB VIII).",
        notes=[IDEV_NOTE, JB_NOTE],
    ))
    rec = bund.records(b)
    if len(rec):
        rec = rec.astype(object)
    else:
        rec = pd.DataFrame([{c: "–" for c in rec.columns}])
        rec[bund.KENN_NUMMER] = "keine"
    tables.append(ReportTable(
        id="datensaetze", title=f"Datensätze der Bundesstatistik (beendete vorläufige Schutzmaßnahmen), {where}",
        data=rec, number_formats={"Dauer in Tagen": "#,##0"}, sheet="Datensätze",
        description="Eine Zeile je beendeter Maßnahme, Merkmale in den Kategorien der Bundesstatistik.",
        notes=[KENN_NOTE, NICHT_ERHOBEN_NOTE, ANLASS_NOTE], row_header=bund.KENN_NUMMER,
    ))
    for m, spec in bund.merkmale().items():
        # built from the rows at once, the feature's title as the first header, "–" for a zero count
        rows = bund.summary_rows(b, m)
        df = pd.DataFrame({spec["titel"]: [r["Kategorie"] for r in rows],
                           **{c: ["–" if r[c] == 0 else r[c] for r in rows] for c in bund.SUMMARY_COLUMNS}})
        notes = [SEX_NOTE]  # every summary has the columns männlich/weiblich
        if spec.get("mehrfach"):
            notes.append(ANLASS_NOTE)
        if "fehlt" in spec:
            notes.append(NICHT_ERHOBEN_NOTE)
        if spec.get("abgeleitet"):
            notes.append(f"{spec['titel']}: {spec['abgeleitet']}.")
        total = None if spec.get("mehrfach") else [len(df) - 1]
        tables.append(ReportTable(
            id=f"t_{m}", title=f"Beendete Schutzmaßnahmen nach {spec['titel']}, {where}",
            data=df, number_formats={c: "#,##0" for c in bund.SUMMARY_COLUMNS},
            total_rows=total, sheet=_sheet(spec), notes=notes,
        ))
    tables.append(ReportTable(
        id="zurueckgewiesen", title=f"Zurückgewiesene Datensätze mit Prüfregel und Korrekturhinweis, {where}",
        data=_refused_frame(b, empty_row=True), number_formats={"Version": "0", "Zeile": "0"}, sheet="Zurückgewiesen",
        description=("Diese Maßnahmen sind nicht in der Satzdatei. Bitte in der Akte prüfen, die Lieferung des "
                     "genannten Monats korrigieren und die Meldung neu erzeugen."),
        row_header=bund.KENN_NUMMER,
    ))
    stand = bund.mapping().get("stand", "")
    return ReportModel(
        kind=KIND, title=f"Bundesstatistik vorläufige Schutzmaßnahmen – {o.label}", period=f"Jahr {jahr}",
        scope=o.label, audience="nur das Jugendamt (Einzeldatensätze für die Meldung an das Statistische Landesamt)",
        disclosure_method="keine",
        disclosure_note="Einzeldaten des Jugendamts; nicht zur Weitergabe an die Landesebene oder zur Veröffentlichung.",
        data_status=data_status, product_version=inobhut.__version__,
        created_at=status_created_at(data_status, dt.datetime(int(jahr), 12, 31)),
        source=("Lieferungen Maßnahmen des Jugendamts, geprüft mit inobhut; Zuordnung zur Bundesstatistik: "
                f"schemas/bundesstatistik.yaml (Stand {stand})."),
        contact=config.settings().get("berichte", {}).get("kontakt") or "Koordinierungsstelle des Verbunds",
        tables=tables,
        data_status_note=f"Maßnahmen-Lieferungen des Jugendamts mit Berichtsmonat in {jahr}.",
        definitions=[
            ("Beendete Maßnahme", "Eine Inobhutnahme (§ 42) oder vorläufige Inobhutnahme (§ 42a), deren Ende im "
                                  "Berichtsjahr liegt; gezählt aus der Lieferung des Monats ihres Endes."),
            ("Kenn-Nummer", "Pseudonym des Falls (Hilfsmerkmal nach § 100 SGB VIII), nicht das Aktenzeichen."),
            ("Alter", "Vollendete Lebensjahre bei Beginn; Geburtstag = 1. des Geburtsmonats."),
            ("Dauer", "Ende − Beginn in Tagen."),
            ("Meldefrist", "Nach Vorgabe des Statistischen Landesamts (Erhebungsbogen: 1. Februar des Folgejahres)."),
        ],
        period_key=jahr, scope_key=b.ags, network=o.verbund,
    )


def _sheet(spec: dict) -> str:
    """Sheet name of a feature's summary (mapping key ``blatt``, else its title; Excel: <= 31)."""
    return str(spec.get("blatt", spec["titel"]))[:31]


def data_status(con: duckdb.DuckDBPyConnection, ags: str, jahr: str) -> list[DeliveryStatus]:
    """The office's massnahmen deliveries that feed the year (months of the year; in force)."""
    df = con.execute(
        "SELECT ags AS jugendamt, dataset, monat, verdict, version, received_at AS eingegangen FROM deliveries "
        "WHERE ags = ? AND dataset = 'massnahmen' AND substr(monat, 1, 4) = ? ORDER BY monat, version",
        [ags, str(jahr)]).df()
    return in_force(DeliveryStatus.from_frame(df))


# ---------------------------------------------------------------- one office-year
def write_office_year(con: duckdb.DuckDBPyConnection, out: Path, ags: str, jahr: str, *,
                      archive: Path | None = None, lauf: str | None = None) -> tuple[bund.Bundesstatistik, list[Path]]:
    """Compute, check and write the federal statistic of ``ags`` for ``jahr``; returns the result
    and the written files (workbook, record file, refused records). With ``archive`` an audit event
    ``ausgabe`` (sha256, counts, no case data) is recorded per file."""
    return write_year(con, out, jahr, [ags], archive=archive, lauf=lauf)[ags]


def _write_files(job: tuple) -> tuple[list[Path], dict[Path, str]]:
    """Worker: the files of one office-year (workbook, record file, refused records) and the
    checksums of what was there before."""
    from inobhut.archive import sha256_file

    b, status, target = job
    target.parent.mkdir(parents=True, exist_ok=True)
    before = {p: sha256_file(p) for p in target.parent.glob(f"{target.name}*") if p.is_file()}
    model = build_model(b, status)
    return [WRITERS[k](b, model, target) for k in ("excel", "satzdatei", "zurueckgewiesen")], before


def write_year(con: duckdb.DuckDBPyConnection, out: Path, jahr: str, offices: list[str] | None = None, *,
               archive: Path | None = None, lauf: str | None = None) -> dict[str, tuple[bund.Bundesstatistik, list[Path]]]:
    """The federal statistic of every office (default: each member office with a delivery of
    ``massnahmen`` in the year). The warehouse is read here; the files are written on all cores
    (openpyxl is CPU-bound). With ``archive`` an audit event ``ausgabe`` is recorded for every
    file that is new or changed (not for a rewrite with equal bytes)."""
    from inobhut.archive import sha256_file
    from inobhut.parallel import parallel

    jahr = str(jahr)
    keys = offices if offices is not None else bund.offices_with_ended(con, jahr)
    computed = bund.compute_all(con, keys, jahr)
    jobs = [(computed[a], data_status(con, a, jahr), folder(out, a, jahr) / base_name(a, jahr)) for a in keys]
    written = parallel(_write_files, jobs, min_jobs=8, chunksize=2)
    result = {}
    events = []
    for a, (files, before) in zip(keys, written):
        b = computed[a]
        result[a] = (b, files)
        if archive is not None:
            detail = {"meldung": KIND, "beendet": b.beendet, "exportiert": b.exportiert,
                      "zurueckgewiesen": b.n_zurueckgewiesen}
            events += [dict(ereignis="ausgabe", lauf=lauf, ags=a, dataset="massnahmen", monat=jahr,
                            datei=p.relative_to(out).as_posix(), sha256=h, detail=detail)
                       for p in files if (h := sha256_file(p)) != before.get(p)]
    if archive is not None:
        from inobhut import audit

        audit.record_many(archive, events)
    return result
