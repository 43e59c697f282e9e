"""The §42a deadline list of one office: the cases whose report to the Land distribution office
(§ 42a Abs. 4 SGB VIII, ``[fristen] meldefrist_werktage`` Werktage) is overdue or was late.

Belongs here: choosing and classifying the cases at a Stichtag, the reference into the office's
own files (file name, version, row and Beginn of the delivery row the case comes from -- the
pseudonym is useless to the office), the report model and the file layout
``<out>/jugendaemter/<ags>/fristen/fristenliste_<ags>_<stichtag>.{html,xlsx,csv}``. The case
rule (latest known state, Werktage) is :func:`inobhut.statistics.faelle_42a`, shared with the
table ``fristen_42a``.

These lists go to the office only: never write them below ``<out>/berichte`` or into any
output for the Land level (test ``test_fristen_never_in_land_outputs``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

import inobhut
from inobhut import config
from inobhut import statistics as st
from inobhut.calendar import add_workdays, as_dates, month_end
from inobhut.reports import DeliveryStatus, ReportModel, ReportTable, texts
from inobhut.reports.common import office_label
from inobhut.reports.fmt import fmt_date
from inobhut.reports.model import status_created_at

KIND = "fristenliste"
VERSPAETET = "verspätet gemeldet"
UEBERFAELLIG = "überfällig, nicht gemeldet"
BEENDET_OHNE = "nicht gemeldet, Maßnahme beendet"
STATUSES = (UEBERFAELLIG, BEENDET_OHNE, VERSPAETET)

# tidy CSV: one row per listed case (no pseudonym: the office cannot use it)
COLUMNS = ["stichtag", "jugendamt", "status", "datei", "version", "zeile", "berichtsmonat", "beginn", "frist_bis",
           "meldung_landesstelle", "ende", "werktage"]
LABELS = {"datei": "Lieferdatei", "version": "Version", "zeile": "Zeile", "berichtsmonat": "Berichtsmonat",
          "beginn": "Beginn", "frist_bis": "Meldefrist bis", "meldung_landesstelle": "Meldung an die Landesstelle",
          "ende": "Ende", "werktage": "Werktage", "status": "Status"}


class KeineDaten(ValueError):
    """The office has no Maßnahmen data up to the Stichtag (German message)."""


def data_ends(con: duckdb.DuckDBPyConnection) -> dict[str, dt.date]:
    """Each office's data state: the last day of its newest month with Maßnahmen data (one query
    for all offices; offices without such data are missing)."""
    rows = con.execute("SELECT jugendamt, max(monat) FROM massnahmen GROUP BY jugendamt").fetchall()
    return {ags: month_end(m) for ags, m in rows if m}


def data_end(con: duckdb.DuckDBPyConnection, ags: str) -> dt.date | None:
    """The data state of one office (:func:`data_ends`), None without Maßnahmen data."""
    return data_ends(con).get(ags)


def all_cases(con: duckdb.DuckDBPyConnection, last: dt.date) -> pd.DataFrame:
    """Every member office's §42a cases with Beginn up to ``last`` in their latest known state
    (:func:`inobhut.statistics.faelle_42a` with the columns of the Fundstelle), read once for
    the lists of many offices."""
    return st.faelle_42a(con, dt.date(1900, 1, 1), last, ("monat", "version", "_zeile", "ende"))


def cases(con: duckdb.DuckDBPyConnection, ags: str, stichtag: dt.date, faelle: pd.DataFrame | None = None) -> pd.DataFrame:
    """The office's listed §42a cases at ``stichtag`` (columns :data:`COLUMNS`), as known from
    the deliveries (each case in its latest known state):

    * ``verspätet gemeldet``: reported on or before the Stichtag, more than the deadline's
      Werktage after Beginn (``werktage`` up to the Meldung);
    * ``überfällig, nicht gemeldet``: not reported by the Stichtag, still open, and more than the
      deadline's Werktage passed (``werktage`` up to the Stichtag);
    * ``nicht gemeldet, Maßnahme beendet``: ended on or before the Stichtag without a report, more
      than the deadline's Werktage after Beginn (``werktage`` up to the Ende).

    Cases whose Beginn lies in the Stichtag's calendar year, and overdue open cases of any year."""
    frist = st.meldefrist_werktage()
    df = all_cases(con, stichtag) if faelle is None else faelle
    df = df[df["jugendamt"] == ags]
    # only the cases the loop below can list: begun by the Stichtag, and either in its year or
    # neither reported nor ended by then (overdue); a long history is not walked row by row
    day = pd.Timestamp(stichtag)
    beginn = as_dates(df["beginn"])
    closed = (as_dates(df["meldung_landesstelle"]) <= day) | (as_dates(df["ende"]) <= day)
    df = df[(beginn <= day) & ((beginn.dt.year == stichtag.year) | ~closed)].reset_index(drop=True)
    rows = []
    for r in df.to_dict("records"):
        beginn = pd.Timestamp(r["beginn"]).date()
        meldung = None if pd.isna(r["meldung_landesstelle"]) else pd.Timestamp(r["meldung_landesstelle"]).date()
        ende = None if pd.isna(r["ende"]) else pd.Timestamp(r["ende"]).date()
        if meldung is not None and meldung <= stichtag:
            status, wt = VERSPAETET, int(r["werktage"])
        elif ende is not None and ende <= stichtag:
            status, wt = BEENDET_OHNE, st.werktage(beginn, ende, ags)
        else:
            status, wt = UEBERFAELLIG, st.werktage(beginn, stichtag, ags)
        if wt <= frist:
            continue
        if status != UEBERFAELLIG and beginn.year != stichtag.year:
            continue
        rows.append({"jugendamt": ags, "status": status, "monat": r["monat"], "version": int(r["version"]),
                     "zeile": int(r["_zeile"]), "beginn": beginn, "frist_bis": add_workdays(beginn, frist, config.office(ags).land),
                     "meldung_landesstelle": meldung if meldung is not None and meldung <= stichtag else None,
                     "ende": ende if ende is not None and ende <= stichtag else None, "werktage": wt})
    out = pd.DataFrame(rows, columns=["jugendamt", "status", "monat", "version", "zeile", "beginn", "frist_bis",
                                      "meldung_landesstelle", "ende", "werktage"])
    names = dict(((m, v), f) for m, v, f in con.execute(
        "SELECT monat, version, file_name FROM deliveries WHERE ags = ? AND dataset = 'massnahmen'", [ags]).fetchall())
    out["datei"] = [names.get((m, v), f"{ags}_massnahmen_{m}") for m, v in zip(out["monat"], out["version"])]
    out = out.rename(columns={"monat": "berichtsmonat"}).assign(stichtag=stichtag)
    order = {s: i for i, s in enumerate(STATUSES)}
    out = out.assign(_o=out["status"].map(order)).sort_values(["_o", "beginn", "datei", "zeile"], kind="mergesort")
    return out[COLUMNS].reset_index(drop=True)


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in ("stichtag", "beginn", "frist_bis", "meldung_landesstelle", "ende"):
        out[c] = ["" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in out[c]]
    return out[COLUMNS]


def _date(v) -> str:
    return "–" if v is None or pd.isna(v) else fmt_date(v)


def build_model(con: duckdb.DuckDBPyConnection, ags: str, stichtag: dt.date, df: pd.DataFrame) -> ReportModel:
    frist = st.meldefrist_werktage()
    name = office_label(ags)
    if len(df):
        data = pd.DataFrame({
            LABELS["datei"]: list(df["datei"]), LABELS["zeile"]: [int(v) for v in df["zeile"]],
            LABELS["beginn"]: [_date(v) for v in df["beginn"]], LABELS["status"]: list(df["status"]),
            LABELS["werktage"]: [int(v) for v in df["werktage"]], LABELS["frist_bis"]: [_date(v) for v in df["frist_bis"]],
            LABELS["meldung_landesstelle"]: [_date(v) for v in df["meldung_landesstelle"]],
            LABELS["ende"]: [_date(v) for v in df["ende"]], LABELS["version"]: [int(v) for v in df["version"]],
        })
    else:
        data = pd.DataFrame([{LABELS["datei"]: "keine Fälle", LABELS["zeile"]: "–", LABELS["beginn"]: "–",
                              LABELS["status"]: "–", LABELS["werktage"]: "–", LABELS["frist_bis"]: "–",
                              LABELS["meldung_landesstelle"]: "–", LABELS["ende"]: "–", LABELS["version"]: "–"}])
    summary = pd.DataFrame({"Status": [*STATUSES, "zusammen"],
                            "Fälle": [int((df["status"] == s).sum()) or "–" for s in STATUSES] + [len(df) or "–"]})
    notes = [
        f"Meldefrist: {frist} Werktage nach Beginn (§ 42a Abs. 4 SGB VIII; Werktage = Montag bis Freitag ohne die "
        f"Feiertage des Landes {config.office(ags).land}). Werktage: nach Beginn bis einschließlich Meldung, bei "
        "nicht gemeldeten Fällen bis zum Stichtag bzw. bis zum Ende der Maßnahme.",
        "Fundstelle: Jeder Fall steht in der genannten Lieferdatei (Version = wievielte Lieferung dieser Datei) in "
        "der genannten Zeile (Zeile 1 = Kopfzeile); maßgeblich ist die neueste angenommene Lieferung, die den Fall "
        "enthält. Die Fallnummer selbst wird in inobhut nicht gespeichert (Pseudonymisierung).",
        f"Aufgeführt: verspätet gemeldete und ohne Meldung beendete Fälle mit Beginn im Jahr {stichtag.year}, "
        "dazu alle noch offenen, nicht gemeldeten Fälle nach Fristablauf.",
    ]
    tables = [
        ReportTable(id="faelle", title=f"Vorläufige Inobhutnahmen mit versäumter Meldefrist, Stand {fmt_date(stichtag)}",
                    data=data, number_formats={LABELS["zeile"]: "0", LABELS["werktage"]: "#,##0", LABELS["version"]: "0"},
                    sheet="Fälle", notes=notes, row_header=LABELS["datei"]),
        ReportTable(id="uebersicht", title=f"Fälle nach Status, Stand {fmt_date(stichtag)}", data=summary,
                    number_formats={"Fälle": "#,##0"}, total_rows=[len(STATUSES)], sheet="Übersicht", notes=notes[:1]),
    ]
    files = con.execute(
        """SELECT ags AS jugendamt, dataset, monat, verdict, version, received_at AS eingegangen FROM deliveries
           WHERE ags = ? AND dataset = 'massnahmen' AND in_force AND monat <= ? ORDER BY monat""",
        [ags, f"{stichtag:%Y-%m}"]).df()
    statuses: list[DeliveryStatus] = DeliveryStatus.from_frame(files)
    return ReportModel(
        kind=KIND, title=f"Fristenliste §42a – {name}", period=f"Stand {fmt_date(stichtag)}", scope=name,
        audience=f"nur {name} (intern: Fundstellen in den eigenen Lieferungen)", disclosure_method="keine",
        disclosure_note="Liste des Jugendamts über die eigenen Fälle; sie wird nicht weitergegeben.",
        data_status=statuses, product_version=inobhut.__version__,
        created_at=status_created_at(statuses, dt.datetime.combine(stichtag, dt.time())), source=texts.SOURCE,
        contact=config.settings().get("berichte", {}).get("kontakt") or texts.CONTACT_DEFAULT, tables=tables,
        definitions=[("Meldefrist", texts.DEFINITIONS["Fristgerecht gemeldet"]),
                     ("Werktage", texts.DEFINITIONS["Werktage"])],
        period_key=stichtag.isoformat(), scope_key=ags, network=config.office(ags).verbund,
    )


def base_path(out: Path, ags: str, stichtag: dt.date) -> Path:
    return Path(out) / "jugendaemter" / ags / "fristen" / f"{KIND}_{ags}_{stichtag.isoformat()}"


def write(con: duckdb.DuckDBPyConnection, ags: str, out: Path, stichtag: dt.date | None = None, *,
          archive: Path | None = None, lauf: str | None = None, faelle: pd.DataFrame | None = None) -> list[Path]:
    """Write the office's list at ``stichtag`` (default: its data state). Raises
    :class:`KeineDaten` without Maßnahmen data or for a Stichtag after the data state.
    ``faelle``: :func:`all_cases` up to the Stichtag or later, read once for many offices."""
    from inobhut.meldungen.schreiben import write_outputs

    return write_outputs([output(con, ags, out, stichtag, faelle)], archive=archive, lauf=lauf)[0]


def output(con: duckdb.DuckDBPyConnection, ags: str, out: Path, stichtag: dt.date | None = None,
            faelle: pd.DataFrame | None = None, end: dt.date | None = None):
    """What :func:`write` writes for ``ags`` (an :class:`inobhut.meldungen.schreiben.Output`;
    :func:`inobhut.meldungen.schreiben.write_outputs` writes many on all cores). ``faelle``:
    :func:`all_cases` up to the Stichtag or later, ``end``: the office's :func:`data_end`, where known."""
    from inobhut.meldungen.schreiben import Output

    end = end or data_end(con, ags)
    if end is None:
        raise KeineDaten(f"{office_label(ags)} ({ags}): keine angenommenen Maßnahmen-Lieferungen.")
    stichtag = stichtag or end
    if stichtag > end:
        raise KeineDaten(f"{office_label(ags)} ({ags}): Stichtag {fmt_date(stichtag)} liegt nach dem Datenstand "
                         f"({fmt_date(end)}, letzte Maßnahmen-Lieferung); ob Fälle inzwischen gemeldet wurden, ist "
                         "nicht bekannt.")
    df = cases(con, ags, stichtag, faelle)
    return Output(build_model(con, ags, stichtag, df), tidy(df), base_path(out, ags, stichtag), ags=ags,
                  monat=f"{stichtag:%Y-%m}")


def outputs_all(con: duckdb.DuckDBPyConnection, out: Path) -> list:
    """The list of every member office with Maßnahmen data at its data state (the nightly run),
    as :class:`inobhut.meldungen.schreiben.Output` s to write; the cases are read once for all."""
    known = data_ends(con)
    ends = {o.ags: known[o.ags] for o in config.offices() if o.ags in known}
    if not ends:
        return []
    faelle = all_cases(con, max(ends.values()))
    # the dates as datetime64 once (per office, ``cases`` converted the Python dates of its whole
    # history three times; each row's date is the same either way)
    faelle = faelle.assign(**{c: as_dates(faelle[c]) for c in ("beginn", "meldung_landesstelle", "ende")})
    by_office = dict(tuple(faelle.groupby("jugendamt", sort=False)))
    return [output(con, a, out, e, by_office.get(a, faelle.iloc[:0]), e) for a, e in ends.items()]


def write_all(con: duckdb.DuckDBPyConnection, out: Path, *, archive: Path | None = None,
              lauf: str | None = None) -> dict[str, list[Path]]:
    """:func:`outputs_all` written (rendered on all cores): office -> files."""
    from inobhut.meldungen.schreiben import write_outputs

    outputs = outputs_all(con, out)
    return {o.ags: files for o, files in zip(outputs, write_outputs(outputs, archive=archive, lauf=lauf))}
