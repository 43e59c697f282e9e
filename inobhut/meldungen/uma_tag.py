"""The working-day UMA report to the Land distribution office (§ 42a Abs. 4, § 42b Abs. 6 SGB VIII).

Belongs here: the figures of one network on any day covered by the deliveries (per office and
as the network total), the choice of days (one day, or the Werktage of a range with the Land's
holidays), the report model (Excel/HTML through :mod:`inobhut.reports`), the tidy CSV and the
file layout ``<out>/berichte/uma_tagesmeldung/<verbund>/uma_tagesmeldung_<verbund>_<tag>[_<bis>]``.
Counting rules come from :mod:`inobhut.statistics` (one definition with the monthly tables:
:func:`~inobhut.statistics.uma_quote_at`, :func:`~inobhut.statistics.uma_counted_persons`,
the Bestand rule and the ended-measures rule); documented in ``docs/meldungen.md``.

Not here: case lists (the report has counts only), Dagster, the command line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

import inobhut
from inobhut import config
from inobhut import statistics as st
from inobhut.calendar import month_end, month_key, previous_workday, workdays
from inobhut.reports import DeliveryStatus, ReportModel, ReportTable, texts
from inobhut.reports.common import network_label, office_label
from inobhut.reports.fmt import fmt_date
from inobhut.reports.model import in_force, status_created_at
from inobhut.tables import Col, TableDef, table

KIND = "uma_tagesmeldung"
NOT_YET = "..."  # delivery of the day's month missing or rejected
DISCLOSURE = "keine_landesstelle"  # see docs/meldungen.md: the recipient is entitled to the cases

_Q = {c.name: c for c in table("uma_quote").columns}
COUNTS = ("vorlaeufig_42a", "gemeldet_ausstehend", "uma_inobhutnahme", "uma_anschluss", "junge_volljaehrige",
          "entscheidungen", "verteilung_angeordnet")
QUOTE = ("einwohner", "uma_ist", "uma_soll", "differenz", "erfuellungsquote_pct")
INOBHUTNAHME = ("1", "2")  # Hilfearten counted as Inobhutnahme (§42a, §42); the others are Anschlussmaßnahmen


def _n(name: str, lbl: str) -> Col:
    return Col(name, lbl, "anzahl", "#,##0", 0)


def _footnotes() -> list[str]:
    excluded, adults = st.uma_quote_settings()
    frist = st.meldefrist_werktage()
    return [
        "Stand je Tag aus der angenommenen Monatslieferung des Jugendamts für den Monat des Tages (Maßnahmen und "
        "UMA); „...“: diese Lieferung fehlt oder wurde abgelehnt.",
        "Vorläufige Inobhutnahme: §42a-Maßnahmen mit Beginn am oder vor dem Tag und ohne Ende am oder vor dem Tag; "
        "davon gemeldet: Meldung an die Landesverteilstelle am oder vor dem Tag (die Maßnahme endet mit der "
        f"Verteilentscheidung, die Entscheidung steht also aus). Meldefrist: {frist} Werktage.",
        "UMA unter 18: am Tag zuständige Personen der UMA-Lieferung, Alter am Tag (Geburtstag = 1. des "
        f"Geburtsmonats); Inobhutnahme = Hilfeart {' oder '.join(h for h in INOBHUTNAHME if h not in excluded)}, "
        "Anschlussmaßnahmen = die übrigen Hilfearten"
        + (f"; Hilfeart {', '.join(sorted(excluded))} zählt wie beim UMA-Ist nicht (Einstellung uma_quote, "
           "vorläufige Inobhutnahmen stehen in der ersten Spalte)." if excluded else "."),
        "Verteilentscheidungen seit dem vorigen Werktag: beendete §42a-Maßnahmen mit Verteilentscheidung, deren "
        "Ende nach dem vorigen Werktag und spätestens am Tag liegt (aus der Lieferung des Monats ihres Endes).",
        *table("uma_quote").footnotes()[1:],
        ("Junge Volljährige zählen zum UMA-Ist." if adults else
         "UMA-Ist = UMA unter 18 in Inobhutnahme und Anschlussmaßnahmen; junge Volljährige zählen nicht zum Ist."),
    ]


UMA_TAG = TableDef(
    KIND, "UMA-Werktagsmeldung an die Landesverteilstelle", "Tag × Jugendamt", ("jugendamt",),
    "Bestand am Tag nach den Zählregeln der UMA-Quote, je Jugendamt und Verbund.",
    (Col("tag", "Tag", "zeit"), Col("jugendamt", "Jugendamt", "schluessel"),
     _n("vorlaeufig_42a", "in vorläufiger Inobhutnahme (§42a)"),
     _n("gemeldet_ausstehend", "davon gemeldet, Verteilentscheidung ausstehend"),
     _n("uma_inobhutnahme", "UMA unter 18 in Inobhutnahme"),
     _n("uma_anschluss", "UMA unter 18 in Anschlussmaßnahmen"),
     _Q["junge_volljaehrige"],
     _n("entscheidungen", "Verteilentscheidungen seit dem vorigen Werktag"),
     _n("verteilung_angeordnet", "davon Verteilung angeordnet"),
     *[_Q[c] for c in QUOTE]),
    "tag", extra_footnotes=_footnotes,
)
COLUMNS = [c.name for c in UMA_TAG.columns]
TIDY_COLUMNS = ["tag", "verbund", *COLUMNS[1:]]


class KeineDaten(ValueError):
    """No delivery covers the requested day(s) (German message)."""


# ---------------------------------------------------------------- days


def land_of(verbund: str) -> str:
    """The Land whose holidays count for the network (the Land of its first member office)."""
    return config.network_offices(verbund)[0].land


def _months_delivered(con: duckdb.DuckDBPyConnection, verbund: str) -> list[str]:
    keys = [o.ags for o in config.network_offices(verbund)]
    marks = ", ".join("?" for _ in st.ACCEPTED_VERDICTS)
    rows = con.execute(
        f"""SELECT DISTINCT monat FROM deliveries WHERE dataset IN ('massnahmen', 'uma') AND verdict IN ({marks})
            AND ags IN (SELECT unnest(?)) ORDER BY monat""", [*st.ACCEPTED_VERDICTS, keys]).fetchall()
    return [r[0] for r in rows]


def covered(con: duckdb.DuckDBPyConnection, verbund: str, day: dt.date) -> bool:
    """Whether some office of the network has an accepted Maßnahmen or UMA delivery for the day's month."""
    return month_key(day) in _months_delivered(con, verbund)


def latest_workday(con: duckdb.DuckDBPyConnection, verbund: str) -> dt.date | None:
    """The latest Werktag covered by the network's deliveries (last Werktag of the newest month
    with an accepted Maßnahmen or UMA delivery), None without deliveries."""
    months = _months_delivered(con, verbund)
    if not months:
        return None
    last = month_end(months[-1])
    return last if workdays(last, last, land_of(verbund)) else previous_workday(last, land_of(verbund))


def days_of(con: duckdb.DuckDBPyConnection, verbund: str, von: dt.date, bis: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """(covered Werktage, uncovered Werktage) from ``von`` to ``bis``. One day (von == bis) is
    taken as given, also on a weekend or holiday."""
    days = [von] if von == bis else workdays(von, bis, land_of(verbund))
    months = set(_months_delivered(con, verbund))
    return [d for d in days if month_key(d) in months], [d for d in days if month_key(d) not in months]


# ---------------------------------------------------------------- figures


def compute_day(con: duckdb.DuckDBPyConnection, day: dt.date, verbund: str) -> pd.DataFrame:
    """The figures of ``verbund`` on ``day``: one row per member office, then the network row
    (sums over the offices with data; quota columns from :func:`inobhut.statistics.uma_quote_at`).
    Counts are ``Int64`` (missing where the office's delivery for the month is missing), quota
    columns unrounded ``float``."""
    month = month_key(day)
    offices = [o.ags for o in config.network_offices(verbund)]
    has_m = st._offices_with_delivery(con, "massnahmen", month)
    has_u = st._offices_with_delivery(con, "uma", month)
    m = con.execute(
        """SELECT jugendamt, count(*) AS vorlaeufig_42a,
                  count_if(coalesce(meldung_landesstelle <= $2, FALSE)) AS gemeldet_ausstehend
           FROM massnahmen WHERE monat = $1 AND massnahme = '2' AND beginn <= $2 AND (ende IS NULL OR ende > $2)
           GROUP BY jugendamt""", [month, day]).df().set_index("jugendamt")
    prev = previous_workday(day, land_of(verbund))
    window = st.Zeitraum(f"{prev + dt.timedelta(days=1)}..{day}", "tage", prev + dt.timedelta(days=1), day)
    e = st._ended_measures(con, window, "massnahme, verteilentscheidung")
    e = e[(e["massnahme"] == "2") & e["verteilentscheidung"].notna()]
    dec = e.groupby("jugendamt").size()
    dist = e[e["verteilentscheidung"] == "1"].groupby("jugendamt").size()
    p = st.uma_counted_persons(con, day)
    minors = p[p["minderjaehrig"]]
    inob = minors[minors["hilfeart"].isin(INOBHUTNAHME)].groupby("jugendamt").size()
    ansch = minors[~minors["hilfeart"].isin(INOBHUTNAHME)].groupby("jugendamt").size()
    q = st.uma_quote_at(con, day).set_index("jugendamt")
    rows = []
    for ags in offices:
        r: dict = {"jugendamt": ags}
        if ags in has_m:
            r.update(vorlaeufig_42a=int(m["vorlaeufig_42a"].get(ags, 0)),
                     gemeldet_ausstehend=int(m["gemeldet_ausstehend"].get(ags, 0)),
                     entscheidungen=int(dec.get(ags, 0)), verteilung_angeordnet=int(dist.get(ags, 0)))
        if ags in has_u:
            r.update(uma_inobhutnahme=int(inob.get(ags, 0)), uma_anschluss=int(ansch.get(ags, 0)))
        rows.append(r)
    df = pd.DataFrame(rows, columns=["jugendamt", *[c for c in COUNTS if c != "junge_volljaehrige"]])
    df = df.merge(q.loc[offices, ["junge_volljaehrige", *QUOTE]].reset_index(), on="jugendamt", how="left")
    tot = {"jugendamt": verbund}
    for c in [*COUNTS, "einwohner", "uma_ist"]:
        vals = pd.to_numeric(df[c], errors="coerce").dropna()
        tot[c] = int(vals.sum()) if len(vals) else None
    tot["einwohner"] = int(q.at[verbund, "einwohner"])
    for c in ("uma_soll", "differenz", "erfuellungsquote_pct"):
        tot[c] = q.at[verbund, c]
    df = pd.concat([df, pd.DataFrame([tot])], ignore_index=True)
    for c in [*COUNTS, "einwohner", "uma_ist"]:
        df[c] = pd.array([None if pd.isna(v) else int(v) for v in df[c]], dtype="Int64")
    for c in ("uma_soll", "differenz", "erfuellungsquote_pct"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df.insert(0, "tag", pd.Timestamp(day))
    return df[COLUMNS]


def compute_days(con: duckdb.DuckDBPyConnection, days: list[dt.date], verbund: str) -> pd.DataFrame:
    return pd.concat([compute_day(con, d, verbund) for d in days], ignore_index=True)


def tidy(df: pd.DataFrame, verbund: str) -> pd.DataFrame:
    """Export text as in ``<out>/tabellen`` (ISO dates, ``.`` decimals with the published
    decimals of ``uma_quote``, empty = not available)."""
    out = pd.DataFrame({"tag": [pd.Timestamp(v).date().isoformat() for v in df["tag"]], "verbund": verbund})
    for c in COLUMNS[1:]:
        if c == "jugendamt":
            out[c] = list(df[c])
        elif c in st.DECIMALS:
            d = st.DECIMALS[c]
            vals = st._round_half_up(df[c], d)
            out[c] = ["" if pd.isna(v) else f"{float(v):.{d}f}" for v in vals]
        else:
            out[c] = ["" if pd.isna(v) else str(int(v)) for v in df[c]]
    return out[TIDY_COLUMNS]


# ---------------------------------------------------------------- report model


def _cnt(v):
    if v is None or pd.isna(v):
        return NOT_YET
    return "–" if int(v) == 0 else int(v)


def _dec(v, d: int, missing: str):
    if v is None or pd.isna(v):
        return missing
    return float(st._round_half_up(pd.Series([v]), d).iloc[0])


def _label(ags: str, verbund: str) -> str:
    return f"{network_label(verbund)} insgesamt" if ags == verbund else office_label(ags)


def _tables_of_day(df: pd.DataFrame, verbund: str, day: dt.date, notes: list[str]) -> list[ReportTable]:
    lab = UMA_TAG.column_labels
    ja = lab["jugendamt"]
    counts = pd.DataFrame({ja: [_label(a, verbund) for a in df["jugendamt"]],
                           **{lab[c]: [_cnt(v) for v in df[c]] for c in COUNTS}})
    complete = not pd.isna(df["uma_soll"].iloc[-1])
    miss_q = NOT_YET if not complete else "x"
    quote = pd.DataFrame({
        ja: [_label(a, verbund) for a in df["jugendamt"]],
        lab["einwohner"]: [int(v) for v in df["einwohner"]],
        lab["uma_ist"]: [_cnt(v) for v in df["uma_ist"]],
        lab["uma_soll"]: [_dec(v, 2, NOT_YET) for v in df["uma_soll"]],
        lab["differenz"]: [_dec(v, 2, NOT_YET) for v in df["differenz"]],
        lab["erfuellungsquote_pct"]: [_dec(v, 1, miss_q) for v in df["erfuellungsquote_pct"]],
    })
    missing = [office_label(a) for a, v in zip(df["jugendamt"][:-1], df["uma_ist"][:-1]) if pd.isna(v)]
    qnotes = [notes[0], *notes[4:]]
    if missing:
        qnotes.append("Aufnahmesoll, Differenz und Erfüllungsquote stehen aus („...“), bis alle Jugendämter des "
                      f"Verbunds die UMA-Lieferung für {fmt_date(day)[3:]} abgegeben haben. Es fehlen: "
                      + ", ".join(missing) + ".")
    total = [len(df) - 1]
    return [
        ReportTable(id="bestand", title=f"UMA und vorläufige Inobhutnahmen nach Jugendamt am {fmt_date(day)}",
                    data=counts, number_formats={lab[c]: "#,##0" for c in COUNTS}, total_rows=total,
                    sheet="Bestand", notes=notes[:4]),
        ReportTable(id="quote", title=f"Aufnahmequote nach Jugendamt am {fmt_date(day)}", data=quote,
                    number_formats={lab["einwohner"]: "#,##0", lab["uma_ist"]: "#,##0", lab["uma_soll"]: "0.00",
                                    lab["differenz"]: "0.00", lab["erfuellungsquote_pct"]: "0.0"},
                    total_rows=total, sheet="Quote", notes=qnotes),
    ]


def _verlauf(df: pd.DataFrame, verbund: str, notes: list[str]) -> ReportTable:
    lab = UMA_TAG.column_labels
    net = df[df["jugendamt"] == verbund]
    cols = [*COUNTS, "uma_ist"]
    data = pd.DataFrame({"Tag": [fmt_date(t) for t in net["tag"]], **{lab[c]: [_cnt(v) for v in net[c]] for c in cols}})
    return ReportTable(id="verlauf", title=f"{network_label(verbund)} je Werktag", data=data,
                       number_formats={lab[c]: "#,##0" for c in cols}, sheet="Verlauf", notes=notes,
                       description="Verbundsummen über die Jugendämter mit Lieferung; je Jugendamt in der CSV-Datei.")


def _statuses(con: duckdb.DuckDBPyConnection, verbund: str, months: list[str]) -> list[DeliveryStatus]:
    keys = [o.ags for o in config.network_offices(verbund)]
    df = con.execute(
        """SELECT ags AS jugendamt, dataset, monat, verdict, version, received_at AS eingegangen FROM deliveries
           WHERE dataset IN ('massnahmen', 'uma') AND verdict IS NOT NULL AND monat IN (SELECT unnest(?))
           AND ags IN (SELECT unnest(?))""", [months, keys]).df()
    found = in_force(DeliveryStatus.from_frame(df))
    have = {(s.jugendamt, s.dataset, s.monat) for s in found}
    missing = [DeliveryStatus(a, ds, m, "fehlt") for m in months for a in keys for ds in ("massnahmen", "uma")
               if (a, ds, m) not in have]
    return sorted([*found, *missing], key=lambda s: (s.monat, keys.index(s.jugendamt), s.dataset))


def period_key(days: list[dt.date]) -> str:
    return days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}_{days[-1].isoformat()}"


def build_model(con: duckdb.DuckDBPyConnection, verbund: str, days: list[dt.date],
                df: pd.DataFrame | None = None) -> tuple[ReportModel, pd.DataFrame]:
    """The report model and the figures (:func:`compute_days`) of ``verbund`` for ``days``."""
    df = compute_days(con, days, verbund) if df is None else df
    notes = UMA_TAG.footnotes()
    last = days[-1]
    tables = _tables_of_day(df[df["tag"] == pd.Timestamp(last)].reset_index(drop=True), verbund, last, notes)
    if len(days) > 1:
        tables.append(_verlauf(df, verbund, notes[:1] + notes[2:4]))
    months = sorted({month_key(d) for d in days} | {month_key(previous_workday(days[0], land_of(verbund)))})
    statuses = _statuses(con, verbund, months)
    net = network_label(verbund)
    if len(days) == 1:
        period = fmt_date(last) + ("" if workdays(last, last, land_of(verbund)) else " (kein Werktag)")
    else:
        period = f"{fmt_date(days[0])} bis {fmt_date(last)} ({len(days)} Werktage)"
    fallback = dt.datetime.combine(last, dt.time())
    model = ReportModel(
        kind=KIND, title=f"UMA-Werktagsmeldung – {net}", period=period, scope=net,
        audience="Landesverteilstelle (§ 42a Abs. 4, § 42b SGB VIII) und Mitglieds-Jugendämter des Verbunds",
        disclosure_method=DISCLOSURE,
        disclosure_note="Die Meldung enthält nur Zahlen je Jugendamt, keine Einzelfälle. Sie geht an die "
                        "Landesverteilstelle, der jedes Jugendamt jede vorläufige Inobhutnahme ohnehin einzeln meldet "
                        "(§ 42a Abs. 4 SGB VIII) und die für die Verteilung genaue Zahlen braucht; kleine Fallzahlen "
                        "werden deshalb nicht gesperrt. Für eine Veröffentlichung oder Weitergabe an andere Stellen ist "
                        "der Landesbericht (mit Geheimhaltung) bestimmt.",
        data_status=statuses, product_version=inobhut.__version__,
        created_at=status_created_at(statuses, fallback), source=texts.SOURCE,
        contact=config.settings().get("berichte", {}).get("kontakt") or texts.CONTACT_DEFAULT,
        tables=tables,
        data_status_note=("Jeder Tag wird aus den Monatslieferungen seines Monats berechnet; Verteilentscheidungen "
                          "am Monatsanfang auch aus der Lieferung des Vormonats."),
        definitions=[
            ("Werktage", "Montag bis Freitag ohne die gesetzlichen Feiertage des Landes "
                         f"({land_of(verbund)}, aus der Bibliothek holidays)."),
            ("Vorläufige Inobhutnahme", "Maßnahme nach §42a SGB VIII bis zur Entscheidung über die Verteilung."),
            ("Verteilentscheidung", "Entscheidung der Landesverteilstelle über Verteilung oder Ausschluss; die "
                                    "vorläufige Inobhutnahme endet mit ihr."),
            ("Anschlussmaßnahmen", "Hilfen nach der Inobhutnahme: Heimerziehung, Vollzeitpflege, betreutes "
                                   "Jugendwohnen, Hilfe für junge Volljährige, Eingliederungshilfe, Sonstige."),
            ("Aufnahmesoll", texts.DEFINITIONS["Aufnahmesoll"]),
            ("Erfüllungsquote", texts.DEFINITIONS["Erfüllungsquote"]),
        ],
        period_key=period_key(days), scope_key=verbund, network=verbund,
    )
    return model, df


def base_path(out: Path, verbund: str, days: list[dt.date]) -> Path:
    """``<out>/berichte/uma_tagesmeldung/<verbund>/uma_tagesmeldung_<verbund>_<tag>[_<bis>]``."""
    return Path(out) / "berichte" / KIND / verbund / f"{KIND}_{verbund}_{period_key(days)}"


def write(con: duckdb.DuckDBPyConnection, verbund: str, days: list[dt.date], out: Path, *,
          archive: Path | None = None, lauf: str | None = None) -> list[Path]:
    """Compute, render and write the report of ``verbund`` for ``days`` (covered days only;
    raises :class:`KeineDaten` if none is covered). Returns the files (HTML, xlsx, CSV)."""
    from inobhut.meldungen.schreiben import write_output

    if not days:
        raise KeineDaten(f"{network_label(verbund)}: keine Werktage im gewählten Zeitraum.")
    ok, missing = days_of(con, verbund, days[0], days[-1]) if len(days) > 1 else days_of(con, verbund, days[0], days[0])
    ok = [d for d in ok if d in set(days)]
    if not ok:
        raise KeineDaten(f"{network_label(verbund)}: Für {', '.join(fmt_date(d) for d in missing[:3])}"
                         f"{' …' if len(missing) > 3 else ''} liegen keine angenommenen Lieferungen vor "
                         "(Maßnahmen oder UMA des Monats).")
    model, df = build_model(con, verbund, ok)
    return write_output(model, tidy(df, verbund), base_path(out, verbund, ok), archive=archive, lauf=lauf,
                        monat=month_key(ok[-1]))


__all__ = ["UMA_TAG", "KeineDaten", "build_model", "compute_day", "compute_days", "covered", "days_of",
           "latest_workday", "tidy", "write"]
