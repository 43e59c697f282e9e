"""Builders of the reports that are not per office × month: Lieferstatus (network × month),
Platzübersicht (network, latest Stichtag) and Jahresbericht (network × year); the
Strategiebericht (network, whole history) is in :mod:`inobhut.reports.strategie`.

Belongs here: which tables these reports contain (rows, columns, German labels, symbols,
notes, charts, key findings as German sentences), built from DataFrames that the caller
reads from the warehouse (see ``inobhut.report_run``). Disclosure control is *called* through
the ``protect`` callable (see :mod:`.builders`) for counts of cases by office; the protected
tables are kept in the model for the release check. Does not belong here: SQL, statistics,
disclosure algorithms, rendering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

import inobhut
from inobhut import config
from inobhut.calendar import month_end
from schemas.datasets import codes, label

from . import registry as reg
from . import texts
from .pieces import (
    BEENDETE_BY_OFFICE, BEENDETE_GROUPS, MIRROR_NOTE, Protect, _apply_protect, _contact, _disclosure_setting,
    _merkmal_rows, _num_shown, _rounded,
)
from .stats_index import DATASETS, _count, _dash_counts, _num, _Status, _status_note
from .common import dataset_label, network_label, office_label
from .fmt import fmt_date, fmt_month
from .model import DeliveryStatus, ReportModel, ReportTable, in_force, status_created_at

DEFAULT_PLATZ_ALTER = 15  # age of the first table of the Platzübersicht


def _at_midnight(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(0, 0))


def _change_pct(cur: float, prev: float | None):
    """Change in % (1 decimal); 'x' when the previous value is 0 (not meaningful)."""
    if prev is None:
        return "..."
    if prev == 0:
        return "x"
    return round(100 * (cur - prev) / prev, 1)


def _month_of(v: object) -> str:
    ts = pd.Timestamp(v)
    return f"{ts.year:04d}-{ts.month:02d}"


# ================================================================ Lieferstatus
# labels and formats of the registry table "lieferstatus" (inobhut.tables); the other columns
# (versions delivered, first delivery, findings) exist only in this report
LS_JUGENDAMT, LS_DATENSATZ, LS_STATUS, LS_ANZAHL, LS_IN_KRAFT, LS_TAGE = (
    reg.label("lieferstatus", c) for c in ("jugendamt", "datensatz", "status", "anzahl", "version_in_kraft",
                                           "tage_verspaetet"))
STATUS_FORMATS = {**reg.columns("lieferstatus", ["version_in_kraft", "tage_verspaetet"]),
                  "Gelieferte Versionen": "#,##0", "Fehler": "#,##0", "Hinweise": "#,##0"}


def build_lieferstatus(status: pd.DataFrame, verbund: str, month: str, due: dt.date, *,
                       contact: str | None = None, unassignable: Sequence = (),
                       today: dt.date | None = None) -> ReportModel:
    """Delivery status of a network's offices for a month (no case data, no disclosure control).

    ``status``: :func:`inobhut.status.delivery_status` for the month and network (columns ags,
    dataset, monat, status, version, in_kraft, erste_lieferung, letzte_lieferung, n_fehler,
    n_hinweise, tage_verspaetet); ``due``: the due date of the month's deliveries;
    ``unassignable``: the files of the landing zone that could not be assigned
    (:class:`inobhut.landing.Unassignable`) and belong to this report (see
    :func:`inobhut.report_run.unassignable_for`); ``today``: the day of the run -- after the due
    date a missing delivery is shown as „überfällig“."""
    from inobhut.status import OVERDUE

    overdue = today is not None and today > due

    def shown(verdict: object) -> str:
        return OVERDUE if overdue and verdict == "fehlt" else str(verdict)
    offices = config.network_offices(verbund)
    net = network_label(verbund)
    df = status[(status["monat"] == month) & status["ags"].isin([o.ags for o in offices])]
    by = {(r["ags"], r["dataset"]): r for r in df.to_dict("records")}

    def get(ags: str, ds: str) -> dict:
        return by.get((ags, ds), {"status": "fehlt"})

    matrix = [{LS_JUGENDAMT: office_label(o.ags), **{dataset_label(d): shown(get(o.ags, d)["status"]) for d in DATASETS}}
              for o in offices]
    late_rows = []
    for o in offices:
        row = {LS_JUGENDAMT: office_label(o.ags)}
        for d in DATASETS:
            v = _num(get(o.ags, d).get("tage_verspaetet"))
            row[dataset_label(d)] = "..." if v is None else _count(v)
        late_rows.append(row)
    summary = []
    for verdict in ("angenommen", "angenommen mit Hinweisen", "abgelehnt", "fehlt"):
        row = {LS_STATUS: shown(verdict)}
        for d in DATASETS:
            row[dataset_label(d)] = _count(sum(1 for o in offices if get(o.ags, d)["status"] == verdict))
        summary.append(row)
    summary.append({LS_STATUS: "Jugendämter insgesamt", **{dataset_label(d): len(offices) for d in DATASETS}})
    detail = []
    for o in offices:
        for d in DATASETS:
            r = get(o.ags, d)
            first = r.get("erste_lieferung")
            late = _num(r.get("tage_verspaetet"))
            detail.append({
                LS_JUGENDAMT: office_label(o.ags), LS_DATENSATZ: dataset_label(d), LS_STATUS: shown(r["status"]),
                "Gelieferte Versionen": _count(r.get("version")) if _num(r.get("version")) else "–",
                LS_IN_KRAFT: int(_num(r.get("in_kraft"))) if _num(r.get("in_kraft")) else "–",
                "Erste Lieferung": fmt_date(first) if _num(late) is not None and not pd.isna(first) else "–",
                LS_TAGE: "..." if late is None else _count(late),
                "Fehler": _count(r.get("n_fehler")) if _num(r.get("n_fehler")) is not None else "–",
                "Hinweise": _count(r.get("n_hinweise")) if _num(r.get("n_hinweise")) is not None else "–",
            })
    ds_cols = [dataset_label(d) for d in DATASETS]
    notes = reg.footnotes("lieferstatus")
    late_note = (f"Fällig am {fmt_date(due)}. „–“: rechtzeitig geliefert; „...“: noch nicht geliefert "
                 "(oder ohne Eingangszeit erfasst).")
    tables = [
        ReportTable(id="status", title=reg.title("lieferstatus", f" nach Jugendamt und Datensatz, {fmt_month(month)}"),
                    data=pd.DataFrame(matrix), sheet="Status",
                    # no day in the text: the page changes when a delivery turns overdue, not every night
                    description=(f"Die Lieferfrist ({fmt_date(due)}) ist abgelaufen; „{OVERDUE}“ = bis zum Lauf, "
                                 "der diesen Bericht erzeugt hat, nicht geliefert.") if overdue else "",
                    notes=[*notes, "Eine abgelehnte Korrektur lässt die zuvor angenommene Version in Kraft (siehe "
                                   "Tabelle Lieferungen)."]),
        ReportTable(id="verspaetung",
                    title=reg.title("lieferstatus", f": {LS_TAGE} nach Jugendamt und Datensatz, {fmt_month(month)}"),
                    data=pd.DataFrame(late_rows),
                    number_formats={c: reg.number_format("lieferstatus", "tage_verspaetet") for c in ds_cols},
                    sheet="Verspätung", description=f"Lieferfrist für {fmt_month(month)}: {fmt_date(due)}.",
                    notes=[*notes, late_note]),
        ReportTable(id="uebersicht",
                    title=reg.title("lieferstatus", f": {LS_ANZAHL} nach Status und Datensatz, {fmt_month(month)}"),
                    data=pd.DataFrame(summary),
                    number_formats={c: reg.number_format("lieferstatus", "anzahl") for c in ds_cols},
                    total_rows=[len(summary) - 1], sheet="Übersicht", notes=notes),
        ReportTable(id="lieferungen", title=reg.title("lieferstatus", f": Lieferungen im Einzelnen, {fmt_month(month)}"),
                    data=pd.DataFrame(detail), number_formats=STATUS_FORMATS, sheet="Lieferungen",
                    notes=[*notes, late_note]),
    ]
    if unassignable:
        tables.append(_unassignable_table(unassignable, month))
    statuses = []
    for o in offices:
        for d in DATASETS:
            r = get(o.ags, d)
            ver = _num(r.get("version"))
            rec = r.get("letzte_lieferung")
            statuses.append(DeliveryStatus(o.ags, d, month, str(r["status"]), int(ver) if ver else None,
                                           None if rec is None or pd.isna(rec) else pd.Timestamp(rec).to_pydatetime()))
    st = _Status(statuses, month)
    return ReportModel(
        kind="lieferstatus", title=f"Lieferstatus – {net}", period=fmt_month(month), scope=net,
        audience="Landesebene und Mitglieds-Jugendämter",
        disclosure_method="keine",
        disclosure_note="Der Bericht enthält keine Fallzahlen, nur den Eingang und das Prüfergebnis der Lieferungen; "
                        "eine Geheimhaltung ist daher nicht nötig.",
        data_status=statuses, product_version=inobhut.__version__,
        created_at=status_created_at(statuses, _at_midnight(month_end(month))), source=texts.SOURCE,
        contact=_contact(contact), tables=tables, data_status_note=_status_note(st, offices, month, "Datenstand"),
        definitions=[("Lieferfrist", "Die Lieferung eines Monats ist bis zum eingestellten Tag des Folgemonats fällig."),
                     ("angenommen mit Hinweisen", "Die Lieferung ist gültig; die Prüfung hat Auffälligkeiten gemeldet, "
                      "die das Jugendamt prüfen sollte."),
                     ("abgelehnt", "Die Lieferung enthält Fehler und wird nicht verwendet; eine Korrektur ist nötig."),
                     *([(OVERDUE, "Die Lieferfrist ist abgelaufen und die Lieferung fehlt noch.")] if overdue else [])],
        period_key=month, scope_key=verbund, network=verbund,
    )


def _unassignable_table(items: Sequence, month: str) -> ReportTable:
    from inobhut.landing import KINDS

    rows = [{"Datei im Eingang": u.path, LS_JUGENDAMT: office_label(u.ags) if u.ags else "–",
             "Art": KINDS.get(u.kind, u.kind), "Grund": u.reason, "Was zu tun ist": u.hinweis or "–"}
            for u in sorted(items, key=lambda u: u.path)]
    return ReportTable(
        id="nicht_zuordenbar", title=f"Nicht zuordenbare Dateien im Eingang, Stand {fmt_month(month)}",
        data=pd.DataFrame(rows), sheet="Nicht zuordenbar",
        description="Diese Dateien wurden nicht als Lieferung verarbeitet. Sie liegen unverändert im Eingang; "
                    "eine Kopie jeder Datei ist im Archiv (Bereich _nicht_zuordenbar) aufbewahrt.",
        notes=["Dateien, deren Jugendamt oder Monat nicht erkennbar ist, erscheinen im Lieferstatus jedes Verbunds "
               "bzw. des neuesten Monats."])


# ================================================================ Platzübersicht
def _age_range(a: object, b: object) -> str:
    a, b = _num(a), _num(b)
    if a is None or b is None:
        return "."
    return f"{int(a)} bis {int(b)} Jahre"


def build_platzuebersicht(facilities: pd.DataFrame, verbund: str, data_status: Sequence[DeliveryStatus], *,
                          alter: int = DEFAULT_PLATZ_ALTER, contact: str | None = None) -> ReportModel:
    """Free places per facility at the latest Stichtag, for the coordination office (places
    are not case data: no disclosure control).

    ``facilities``: one row per facility at its latest Stichtag (see
    ``inobhut.report_run.read_facilities``): jugendamt, einrichtung, stichtag, angebot,
    alter_von, alter_bis, genehmigt, belegt, gesperrt, frei, vorher_stichtag, vorher_frei,
    vorher_gesperrt (previous Stichtag of the facility, empty if none)."""
    offices = config.network_offices(verbund)
    net = network_label(verbund)
    keys = [o.ags for o in offices]
    f = facilities[facilities["jugendamt"].isin(keys)].copy()
    if f.empty:
        latest = None
    else:
        f["angebot"] = f["angebot"].astype(str)
        latest = max(pd.Timestamp(v).date() for v in f["stichtag"])
    ang_order = {c: i for i, c in enumerate(codes("angebot"))}
    off_order = {a: i for i, a in enumerate(keys)}

    def change(cur: object, prev: object):
        p = _num(prev)
        return "x" if p is None else int((_num(cur) or 0) - p)

    # labels and formats of the registry table "plaetze" (inobhut.tables); change, age range and
    # Stand exist only in this report
    h_ja, h_ang = reg.label("plaetze", "jugendamt"), reg.label("plaetze", "angebot")
    h_gen, h_bel, h_ges, h_frei = (reg.label("plaetze", c) for c in ("genehmigt", "belegt", "gesperrt", "frei"))
    h_dfrei, h_dges = "Veränderung freie Plätze", "Veränderung gesperrte Plätze"
    rows = []
    for r in f.to_dict("records"):
        rows.append({
            "_a": ang_order.get(r["angebot"], 99), "_o": off_order.get(r["jugendamt"], 99),
            "_alt_ok": (_num(r["alter_von"]) or 0) <= alter <= (_num(r["alter_bis"]) or -1),
            "Einrichtung": str(r["einrichtung"]), h_ja: office_label(r["jugendamt"]),
            h_ang: label("angebot", r["angebot"]),
            "Aufnahmealter": _age_range(r["alter_von"], r["alter_bis"]),
            h_gen: int(_num(r["genehmigt"]) or 0), h_bel: int(_num(r["belegt"]) or 0),
            h_ges: int(_num(r["gesperrt"]) or 0), h_frei: int(_num(r["frei"]) or 0),
            h_dfrei: change(r["frei"], r.get("vorher_frei")),
            h_dges: change(r["gesperrt"], r.get("vorher_gesperrt")),
            "Stand": fmt_date(r["stichtag"]),
        })
    counts = [h_gen, h_bel, h_ges]
    fmts = {**reg.columns("plaetze", ["genehmigt", "belegt", "gesperrt", "frei"]),
            h_dfrei: reg.number_format("plaetze", "frei"), h_dges: reg.number_format("plaetze", "gesperrt")}
    reg_notes = reg.footnotes("plaetze")
    change_note = ("Veränderung: gegenüber dem vorigen gemeldeten Stichtag der Einrichtung; „x“: erster Stichtag "
                   "der Einrichtung.")
    stand_note = "Stand: letzter gemeldeter Stichtag der Einrichtung (ältere Angaben, wenn die neueste Lieferung fehlt)."

    def frame(sel: list[dict], cols: list[str], empty_label: str) -> pd.DataFrame:
        if not sel:
            return pd.DataFrame([{c: (empty_label if i == 0 else "–") for i, c in enumerate(cols)}])
        return _dash_counts(pd.DataFrame(sel)[cols], [c for c in [*counts, h_frei] if c in cols])

    # 1. free places for the age
    sel = sorted([r for r in rows if r["_alt_ok"] and r[h_frei] > 0],
                 key=lambda r: (-r[h_frei], r["_a"], r["_o"], r["Einrichtung"]))
    cols1 = ["Einrichtung", h_ja, h_ang, "Aufnahmealter", h_frei, h_dfrei, "Stand"]
    t1 = ReportTable(
        id="frei_alter", title=f"Freie Plätze für {alter}-Jährige, {net}", data=frame(sel, cols1, "keine freien Plätze"),
        number_formats={c: fmts[c] for c in cols1 if c in fmts}, sheet=f"Frei für {alter}-Jährige",
        description=f"Einrichtungen, die {alter}-Jährige aufnehmen und freie Plätze haben; die meisten freien Plätze zuerst.",
        notes=[*reg_notes, change_note, stand_note],
    )
    # 2. by Angebot (the registry table "plaetze" for the network at the latest Stichtage)
    arows = []
    for code in codes("angebot"):
        part = [r for r in rows if r[h_ang] == label("angebot", code)]
        if part:
            arows.append({h_ang: label("angebot", code), "Einrichtungen": len(part),
                          **{c: sum(r[c] for r in part) for c in [*counts, h_frei]},
                          h_dfrei: sum(r[h_dfrei] for r in part if r[h_dfrei] != "x")})
    arows.append({h_ang: f"{net} insgesamt", "Einrichtungen": len(rows),
                  **{c: sum(r[c] for r in rows) for c in [*counts, h_frei]},
                  h_dfrei: sum(r[h_dfrei] for r in rows if r[h_dfrei] != "x")})
    adf = _dash_counts(pd.DataFrame(arows), ["Einrichtungen", *counts])
    t2 = ReportTable(
        id="angebote", title=reg.title("plaetze", f", {net}"), data=adf,
        number_formats={"Einrichtungen": "#,##0", **{c: fmts[c] for c in [*counts, h_frei, h_dfrei]}},
        total_rows=[len(adf) - 1], sheet="Nach Angebot",
        notes=[*reg_notes, "Veränderung: Summe über die Einrichtungen mit einem vorigen Stichtag.", stand_note],
    )
    # 3. every facility, by Angebot, most free places first
    allr = sorted(rows, key=lambda r: (r["_a"], -r[h_frei], r["_o"], r["Einrichtung"]))
    cols3 = [h_ang, "Einrichtung", h_ja, "Aufnahmealter", *counts, h_frei, h_dfrei, "Stand"]
    t3 = ReportTable(
        id="einrichtungen", title=reg.title("plaetze", f" und Einrichtung, {net}"),
        data=frame(allr, cols3, "keine Einrichtungen gemeldet"),
        number_formats={c: fmts[c] for c in cols3 if c in fmts}, sheet="Einrichtungen", row_header="Einrichtung",
        description="Je Angebot die Einrichtungen mit den meisten freien Plätzen zuerst.",
        notes=[*reg_notes, change_note, stand_note],
    )
    # 4. blocked places
    blk = sorted([r for r in rows if r[h_ges] > 0], key=lambda r: (-r[h_ges], r["_a"], r["_o"]))
    cols4 = ["Einrichtung", h_ja, h_ang, h_gen, h_ges, h_dges, "Stand"]
    t4 = ReportTable(
        id="gesperrt", title=f"Gesperrte Plätze je Einrichtung, {net}", data=frame(blk, cols4, "keine gesperrten Plätze"),
        number_formats={c: fmts[c] for c in cols4 if c in fmts}, sheet="Gesperrte Plätze",
        description="Plätze, die wegen Personal- oder Gebäudeproblemen nicht belegt werden können.",
        notes=[change_note + " Negative Werte: weniger gesperrte Plätze.", stand_note],
    )
    st_list = [s for s in in_force(data_status) if s.dataset == "plaetze" and s.jugendamt in keys]
    last_month = _month_of(latest) if latest else ""
    shown_status = [s for s in st_list if not last_month or s.monat == last_month] or st_list
    fallback = _at_midnight(latest) if latest else dt.datetime(2000, 1, 1)
    period = f"Stichtag {fmt_date(latest)}" if latest else "kein Stichtag gemeldet"
    return ReportModel(
        kind="platzuebersicht", title=f"Platzübersicht – {net}", period=period, scope=net,
        audience="Koordinierungsstelle des Verbunds", disclosure_method="keine",
        disclosure_note="Platzzahlen beschreiben Einrichtungen, nicht Kinder; innerhalb des Verbunds werden sie "
                        "ungesperrt gezeigt.",
        data_status=shown_status, product_version=inobhut.__version__,
        created_at=status_created_at(st_list, fallback), source=texts.SOURCE, contact=_contact(contact),
        tables=[t1, t2, t3, t4],
        data_status_note=(f"Platzmeldungen von {len({s.jugendamt for s in shown_status if s.verdict != 'fehlt'})} "
                          f"von {len(keys)} Jugendämtern für {fmt_month(last_month)}." if last_month else ""),
        definitions=texts.definitions("Freie Plätze", "Auslastung") + [
            ("Aufnahmealter", "Altersspanne, für die die Einrichtung Kinder und Jugendliche aufnimmt (laut Lieferung).")],
        period_key="", scope_key=verbund, network=verbund,
    )


# ================================================================ Jahresbericht
JAHR_GROUPS = (  # (table id, sheet, title after the registry title of "beendete", merkmale)
    ("ueberblick", "Überblick", "Art, Einreise und Geschlecht", ("insgesamt", "massnahme", "unbegleitet", "geschlecht")),
    ("anlass", "Anlass", "Anlass (Mehrfachnennung)", ("insgesamt", "anlass")),
    ("unterbringung", "Unterbringung", "Unterbringung", ("unterbringung",)),
    ("angeregt", "Angeregt durch", "anregende Stelle", ("angeregt_durch",)),
    ("aufenthalt", "Aufenthalt vorher", "Aufenthalt vor der Maßnahme", ("aufenthalt_vorher",)),
    ("dauer", "Dauer", "Dauer", ("dauerklasse",)),
    ("ende", "Ende und Anschluss", "Grund der Beendigung und Anschluss", ("ende_grund", "anschluss")),
)


def _beendete_dict(df: pd.DataFrame | None, who: str) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    if df is None:
        return out
    for r in df[df["jugendamt"] == who].itertuples(index=False):
        m = str(r.merkmal)
        k = (m, texts.normalise_code(m, r.auspraegung))
        out[k] = out.get(k, 0.0) + (_num(r.anzahl) or 0.0)
    return out


def _network_dict(df: pd.DataFrame | None, verbund: str, keys: list[str]) -> dict[tuple[str, str], float]:
    if df is None:
        return {}
    if (df["jugendamt"] == verbund).any():
        return _beendete_dict(df, verbund)
    acc: dict[tuple[str, str], float] = {}
    for a in keys:
        for k, v in _beendete_dict(df, a).items():
            acc[k] = acc.get(k, 0.0) + v
    return acc


def build_jahresbericht(beendete: pd.DataFrame, beendete_vorjahr: pd.DataFrame | None,
                        alter_geschlecht: pd.DataFrame, verbund: str, year: str,
                        data_status: Sequence[DeliveryStatus], protect: Protect, *,
                        contact: str | None = None) -> ReportModel:
    """Ended measures of a year in the layout of the federal statistic, with the change to the
    previous year when ``beendete_vorjahr`` is given.

    ``beendete``: statistics ``beendete`` for zeitraum ``year`` (offices and network rows);
    ``alter_geschlecht``: jahr, altersgruppe, geschlecht (m/w), anzahl of the network for the
    year (and the previous year, if any); ``protect``: disclosure for counts by office."""
    offices = config.network_offices(verbund)
    keys = [o.ags for o in offices]
    net = network_label(verbund)
    total_label = f"{net} insgesamt"
    prev_year = str(int(year) - 1)
    cur = _network_dict(beendete, verbund, keys)
    prev = _network_dict(beendete_vorjahr, verbund, keys) if beendete_vorjahr is not None else None
    # labels, formats and footnotes of the registry table "beendete" (inobhut.tables)
    c_cur, c_prev = reg.label("beendete", "anzahl", year), reg.label("beendete", "anzahl", prev_year)
    h_ja, h_m, h_a = (reg.label("beendete", c) for c in ("jugendamt", "merkmal", "auspraegung"))
    n_fmt = reg.number_format("beendete", "anzahl")
    reg_notes = reg.footnotes("beendete")
    fmts = {c_cur: n_fmt, **({c_prev: n_fmt, "Veränderung in %": "0.0"} if prev is not None else {})}
    yoy_note = ("Veränderung gegenüber dem Vorjahr in Prozent; „x“: im Vorjahr keine Fälle." if prev is not None else
                f"Für {prev_year} liegen keine Daten vor; die Veränderung zum Vorjahr entfällt.")
    tables: list[ReportTable] = []
    released: dict = {}

    count_cols = [c_cur] + ([c_prev] if prev is not None else [])
    min_cases = int(config.settings().get("geheimhaltung", {}).get("mindestfallzahl", 3))
    notes_disc: list[str] = []

    # by office (values by office -> disclosure control)
    heads = [h for h, _, _ in BEENDETE_BY_OFFICE]
    rows = []
    for a in keys:
        d = _beendete_dict(beendete, a)
        rows.append({h_ja: office_label(a), **{h: d.get((m, c), 0.0) for h, m, c in BEENDETE_BY_OFFICE}})
    rows.append({h_ja: total_label, **{h: sum(r[h] for r in rows) for h in heads}})
    by_office = pd.DataFrame(rows)

    def merkmal_block(m: str, hidden_net: set) -> tuple[list[dict], set]:
        """Rows of one characteristic, protected with its total ("insgesamt") as the sum line;
        an "ohne Angabe" row keeps the sum exact where values are missing. Network values hidden
        in another table (``hidden_net``: (merkmal, code)) are hidden here too; returns the rows
        and the (merkmal, code) hidden here in the current year."""
        vals = [(c, ml, vl) for mm, c, ml, vl in _merkmal_rows(cur, prev or {}) if mm == m]
        raw = [{h_a: vl, c_cur: cur.get((m, c), 0.0),
                **({c_prev: prev.get((m, c), 0.0)} if prev is not None else {})} for c, _, vl in vals]
        forced = {(vl, c_cur) for c, _, vl in vals if (m, c) in hidden_net}
        ml = texts.MERKMALE[m][0]
        has_sum = False
        if m == "insgesamt":
            shown, fn_ = _apply_protect(protect, pd.DataFrame(raw), count_cols, None, released, f"{ml}",
                                        forced=forced)
        else:
            tot = {c_cur: cur.get(("insgesamt", "insgesamt"), 0.0),
                   **({c_prev: prev.get(("insgesamt", "insgesamt"), 0.0)} if prev is not None else {})}
            multiple = m == "anlass"
            if not multiple:
                rest = {c: tot[c] - sum(r[c] for r in raw) for c in count_cols}
                if any(v > 0 for v in rest.values()):
                    raw.append({h_a: "ohne Angabe", **{c: max(v, 0.0) for c, v in rest.items()}})
                raw.append({h_a: "zusammen", **tot})
                has_sum = True
                if ("insgesamt", "insgesamt") in hidden_net:
                    forced.add(("zusammen", c_cur))
            shown, fn_ = _apply_protect(protect, pd.DataFrame(raw), count_cols, "zusammen" if has_sum else None,
                                        released, ml, forced=forced)
        hidden_here = {(m, c) for (c, _, _), r in zip(vals, shown.to_dict("records")) if r[c_cur] == "."}
        if has_sum:
            if shown.iloc[-1][c_cur] == ".":
                hidden_here.add(("insgesamt", "insgesamt"))
            shown = shown.iloc[:-1]  # the sum line is the "insgesamt" row of the overview
        if fn_ and fn_ not in notes_disc:
            notes_disc.append(fn_)
        out = []
        for r_raw, r in zip(raw, shown.to_dict("records")):
            row = {h_m: ml, h_a: r[h_a], c_cur: _count(r[c_cur])}
            if prev is not None:
                row[c_prev] = _count(r[c_prev])
                hidden = "." in (r[c_cur], r[c_prev]) or r_raw[c_prev] < min_cases or r_raw[c_cur] < min_cases
                # rundung3: from the shown (rounded) counts, else the change would undo the rounding
                base = (_num_shown(r[c_cur]), _num_shown(r[c_prev])) if _rounded(released, ml) else \
                    (r_raw[c_cur], r_raw[c_prev])
                row["Veränderung in %"] = "." if hidden and r_raw[c_prev] > 0 else _change_pct(*base)
            out.append(row)
        return out, hidden_here

    # The network values of the table by office's total row appear again in the overview and in
    # Alter × Geschlecht: what one table hides, the others hide too (with their own secondary
    # suppression), repeated until no table hides anything new.
    merkmale_all = list(dict.fromkeys(m for _, _, _, ms in JAHR_GROUPS for m in ms))
    forced_office: set[tuple[str, str]] = set()
    for _ in range(10):
        shown, fn = _apply_protect(protect, by_office, heads, total_label, released, "Beendete nach Jugendamt",
                                   BEENDETE_GROUPS, forced_office)
        net_row = shown[shown[h_ja] == total_label].iloc[0]
        hidden_net = {(m, c) for h, m, c in BEENDETE_BY_OFFICE if net_row[h] == "."}
        notes_disc.clear()
        blocks = {m: merkmal_block(m, hidden_net) for m in merkmale_all}
        ag_table, ag_hidden = _alter_geschlecht(alter_geschlecht, year, net, released, hidden_net)
        back = set().union(*(h for _, h in blocks.values()), ag_hidden)
        new = {(total_label, h) for h, m, c in BEENDETE_BY_OFFICE if (m, c) in back - hidden_net} - forced_office
        if not new:
            break
        forced_office |= new
    else:  # cannot happen: each round forces at least one more of six linked cells
        raise RuntimeError("Geheimhaltung: Tabellen des Jahresberichts ohne gemeinsames Sperrmuster")
    tables.append(ReportTable(
        id="nach_jugendamt", title=reg.title("beendete", f" und Jugendamt, {net}, {year}"),
        data=_dash_counts(shown, heads), number_formats={h: n_fmt for h in heads}, total_rows=[len(shown) - 1],
        sheet="Nach Jugendamt", notes=[n for n in (fn, *reg_notes, MIRROR_NOTE if forced_office else "") if n],
    ))

    for tid, sheet, title, merkmale in JAHR_GROUPS:
        df = pd.DataFrame([row for m in merkmale for row in blocks[m][0]])
        if len(merkmale) == 1:
            df = df.drop(columns=[h_m])
        notes = [*notes_disc[:1], *reg_notes, yoy_note]
        if set(merkmale) & {m for m, _ in hidden_net}:
            notes.append(MIRROR_NOTE)
        if prev is not None:
            notes.append(f"Veränderungen aus weniger als {min_cases} Fällen oder zu gesperrten Werten sind durch „.“ ersetzt.")
            if any(_rounded(released, k) for k in released):
                notes.append("Veränderungen sind aus den gerundeten Fallzahlen berechnet, damit sie die Rundung nicht "
                             "aufheben.")
        tables.append(ReportTable(
            id=tid, title=reg.title("beendete", f": {title}, {net}, {year}"), data=df, number_formats=fmts, sheet=sheet,
            total_rows=[0] if merkmale[0] == "insgesamt" else None, row_header=h_a, notes=notes,
        ))
        if tid == "anlass":  # federal order: Anlass, then Alter × Geschlecht
            tables.append(ag_table)
    return ReportModel(
        kind="jahresbericht", title=f"Jahresbericht Inobhutnahmen – {net}", period=f"Jahr {year}", scope=net,
        audience="Landesebene (Verbund, Ministerium, kommunale Landesverbände)",
        disclosure_method=_disclosure_setting("jahresbericht"),
        disclosure_note=(fn or "Fallzahlen sind nach § 103 SGB VIII geheim gehalten.")
                        + " Gesperrt wird in allen Tabellen, auch in denen für den ganzen Verbund.",
        data_status=list(data_status), product_version=inobhut.__version__,
        created_at=status_created_at([s for s in data_status if s.monat <= f"{year}-12"],
                                     _at_midnight(dt.date(int(year), 12, 31))),
        source=texts.SOURCE, contact=_contact(contact), tables=tables,
        data_status_note=f"Maßnahmen-Lieferungen für {year}, die in die Auswertung eingegangen sind.",
        definitions=texts.definitions("Beendete Maßnahmen", "Anlass", "Geschlecht", "Alter", "Dauer"),
        period_key=year, scope_key=verbund, network=verbund, protected=released,
    )


def _alter_geschlecht(df: pd.DataFrame, year: str, net: str, released: dict,
                      hidden_net: set | None = None) -> tuple[ReportTable, set]:
    """Age group × sex of the year, with row and column totals, protected as one two-way table
    (disclosure method of the Jahresbericht; the protected table goes to the release check).
    Its total row repeats network values of the table by office: those hidden there
    (``hidden_net``: (merkmal, code)) are hidden here too. Returns the table and the
    (merkmal, code) of the network values it hides in its total row."""
    from inobhut import disclosure

    d = df[df["jahr"].astype(str) == year]
    groups = texts.merkmal_values("altersgruppe")
    rows = []
    for code, lbl in groups:
        s = d[d["altersgruppe"] == code]
        m, w = float(s.loc[s["geschlecht"] == "m", "anzahl"].sum()), float(s.loc[s["geschlecht"] == "w", "anzahl"].sum())
        rows.append({"Alter bei Beginn": lbl, "Männlich": m, "Weiblich": w, "Zusammen": m + w})
    rows.append({"Alter bei Beginn": "Insgesamt", **{c: sum(r[c] for r in rows) for c in ("Männlich", "Weiblich", "Zusammen")}})
    raw = pd.DataFrame(rows)
    cols = ["Männlich", "Weiblich", "Zusammen"]
    linked = {("geschlecht", "m"): "Männlich", ("geschlecht", "w"): "Weiblich", ("insgesamt", "insgesamt"): "Zusammen"}
    forced = np.zeros((len(raw), len(cols)), dtype=bool)
    for key, col in linked.items():
        if key in (hidden_net or set()):
            forced[-1, cols.index(col)] = True
    method = _disclosure_setting("jahresbericht")
    min_cases = int(config.settings().get("geheimhaltung", {}).get("mindestfallzahl", 3))
    pt = disclosure.protect(raw, method, value_cols=cols, total_row=True, total_col=True, min_cases=min_cases,
                            forced=forced if forced.any() else None)
    released["Alter und Geschlecht"] = pt
    hidden_here = {key for key, col in linked.items() if pt.suppressed[col].iloc[-1]}
    shown = raw.copy().astype(object)
    for c in cols:
        shown[c] = ["." if sup else _count(v) for v, sup in zip(pt.values[c].tolist(), pt.suppressed[c].tolist())]
    shown = pd.concat([shown.iloc[[-1]], shown.iloc[:-1]], ignore_index=True)  # Insgesamt first (federal layout)
    return ReportTable(
        id="alter_geschlecht", title=reg.title("beendete", f": Alter und Geschlecht, {net}, {year}"), data=shown,
        number_formats={c: reg.number_format("beendete", "anzahl") for c in cols}, total_rows=[0],
        sheet="Alter und Geschlecht",
        notes=[pt.footnote, *reg.footnotes("beendete"), *([MIRROR_NOTE] if forced.any() else [])],
    ), hidden_here
