"""The audit report ("Protokoll") for the Land level: what happened in a month, from the
warehouse table ``audit`` — counts per office and event, and the runs. No case data (the audit
trail carries none). Written to ``<out>/protokoll/<verbund>/protokoll_<verbund>_<YYYY-MM>.{html,xlsx}``.

The audit trail holds real wall-clock times, so this report is NOT byte-reproducible: it lies
outside the reproducible outputs (not in ``manifest.json``, like the GX Data Docs; see
docs/entscheidungen.md). Rendered with the same report model and renderers as every report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

import inobhut
from inobhut import audit, config
from inobhut.config import Paths
from inobhut.warehouse import Warehouse

PROTOKOLL_DIR = "protokoll"
BERLIN = ZoneInfo("Europe/Berlin")

# column headers of the event kinds (order of audit.EVENTS)
SHORT = {
    "abgerufen": "Abgerufen", "abruf_abgelehnt": "Abruf abgelehnt", "archiviert": "Archiviert",
    "nicht_zuordenbar": "Nicht zuordenbar", "quarantaene": "Quarantäne", "urteil": "Prüfergebnisse",
    "in_kraft": "In Kraft gesetzt", "lauf_start": "Läufe gestartet", "lauf_ende": "Läufe beendet",
    "ausgabe": "Ausgaben geschrieben", "bestaetigung": "Bestätigungen", "loeschung": "Löschungen",
    "schluesselwechsel": "Schlüsselwechsel", "reparatur": "Reparaturen",
}
NO_OFFICE = "ohne Jugendamtsbezug (Läufe, Ausgaben)"

# the queries are the ones documented for analysts in docs/betrieb.md
COUNTS_SQL = """SELECT coalesce(ags, '') AS ags, ereignis, count(*) AS anzahl
FROM audit WHERE strftime(zeit, '%Y-%m') = ? GROUP BY ALL"""
RUNS_SQL = """SELECT lauf, min(zeit) FILTER (WHERE ereignis = 'lauf_start') AS beginn,
       max(zeit) FILTER (WHERE ereignis = 'lauf_ende') AS ende,
       max(json_extract_string(detail, '$.ergebnis')) FILTER (WHERE ereignis = 'lauf_ende') AS ergebnis
FROM audit WHERE ereignis IN ('lauf_start', 'lauf_ende') AND lauf IS NOT NULL
GROUP BY lauf HAVING strftime(coalesce(min(zeit), max(zeit)), '%Y-%m') = ? ORDER BY coalesce(beginn, ende), lauf"""


def _local(ts) -> str:
    if ts is None or pd.isna(ts):
        return "–"
    return pd.Timestamp(ts).tz_localize("UTC").tz_convert(BERLIN).strftime("%d.%m.%Y %H:%M:%S")


def build_protokoll(counts: pd.DataFrame, runs: pd.DataFrame, verbund: str, month: str, created: dt.datetime):
    """The report model of one network and month (``counts``/``runs``: results of the SQL above)."""
    from inobhut.reports import ReportModel, ReportTable, texts
    from inobhut.reports.common import network_label, office_label
    from inobhut.reports.fmt import fmt_month

    offices = config.network_offices(verbund)
    keys = [o.ags for o in offices]
    df = counts[counts["ags"].isin(keys) | (counts["ags"] == "")]
    kinds = [k for k in audit.EVENTS if k in set(df["ereignis"])]
    by = {(r.ags, r.ereignis): int(r.anzahl) for r in df.itertuples()}
    rows = [{"Jugendamt": office_label(a), **{SHORT[k]: by.get((a, k), 0) for k in kinds}} for a in keys]
    rows.append({"Jugendamt": NO_OFFICE, **{SHORT[k]: by.get(("", k), 0) for k in kinds}})
    rows.append({"Jugendamt": "Insgesamt", **{SHORT[k]: sum(r[SHORT[k]] for r in rows) for k in kinds}})
    fmt = {SHORT[k]: "#,##0" for k in kinds}
    net = network_label(verbund)
    tables = [ReportTable(
        id="ereignisse", title=f"Protokoll: Ereignisse nach Jugendamt und Art, {fmt_month(month)}", data=pd.DataFrame(rows),
        number_formats=fmt, total_rows=[len(rows) - 1], sheet="Ereignisse",
        notes=["Gezählt werden die Ereignisse des Prüfpfads (Tabelle audit im Data Warehouse), deren Zeitpunkt "
               "(UTC) im Berichtsmonat liegt. Einzelheiten je Ereignis: Abfragen in docs/betrieb.md."])]
    if len(runs):
        run_rows = [{"Lauf": str(r.lauf), "Beginn": _local(r.beginn), "Ende": _local(r.ende),
                     "Ergebnis": r.ergebnis if isinstance(r.ergebnis, str) and r.ergebnis else "nicht beendet"}
                    for r in runs.itertuples()]
        tables.append(ReportTable(
            id="laeufe", title=f"Protokoll: Läufe, {fmt_month(month)}", data=pd.DataFrame(run_rows), sheet="Läufe",
            notes=["Zeiten in deutscher Ortszeit. „nicht beendet“: der Lauf läuft noch oder wurde abgebrochen "
                   "(z. B. Stromausfall); ein Folgelauf holt die Verarbeitung nach."]))
    return ReportModel(
        kind="protokoll", title=f"Protokoll der Verarbeitung – {net}", period=fmt_month(month), scope=net,
        audience="Landesebene", disclosure_method="keine",
        disclosure_note="Das Protokoll enthält keine Fallzahlen und keine Falldaten, nur Verarbeitungsereignisse; "
                        "eine Geheimhaltung ist daher nicht nötig.",
        data_status=[], product_version=inobhut.__version__, created_at=created,
        source="Prüfpfad von inobhut (Journal beim Archiv, Tabelle audit im Data Warehouse)",
        contact=config.settings().get("berichte", {}).get("kontakt") or texts.CONTACT_DEFAULT, tables=tables, period_key=month, scope_key=verbund, network=verbund,
        data_status_note="Stand: letztes Ereignis des Monats. Nicht byte-reproduzierbar (enthält echte Zeitpunkte).",
    )


def write_audit_reports(paths: Paths, wh: Warehouse) -> list[Path]:
    """Mirror the journal into the warehouse, then write the Protokoll of every network for the
    two newest months with events (the previous month may have got events after its last
    rendering) and for every month whose Protokoll does not exist yet."""
    from inobhut.reports import render_report

    written: list[Path] = []
    with wh.connect() as con:
        audit.sync_to_warehouse(con, paths.archive)
        months = [r[0] for r in con.execute("SELECT DISTINCT strftime(zeit, '%Y-%m') FROM audit ORDER BY 1").fetchall()]
        data = {m: (con.execute(COUNTS_SQL, [m]).df(), con.execute(RUNS_SQL, [m]).df(),
                    con.execute("SELECT max(zeit) FROM audit WHERE strftime(zeit, '%Y-%m') = ?", [m]).fetchone()[0])
                for m in months}
    for m in months:
        counts, runs, last = data[m]
        for v in config.networks():
            base = paths.out / PROTOKOLL_DIR / v / f"protokoll_{v}_{m}"
            if m not in months[-2:] and base.with_name(base.name + ".html").exists():
                continue  # a month before last gets no new events any more
            base.parent.mkdir(parents=True, exist_ok=True)
            created = pd.Timestamp(last).tz_localize("UTC").tz_convert(BERLIN).tz_localize(None).to_pydatetime()
            written += render_report(build_protokoll(counts, runs, v, m, created), base)
    return written
