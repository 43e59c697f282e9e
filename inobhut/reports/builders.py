"""Report builders: statistics tables -> :class:`~inobhut.reports.model.ReportModel`.

Belongs here: what the Landesbericht and the Jugendamtsbericht contain (which tables, rows,
columns, German labels, symbols for missing values, notes) — read from the five fixed
statistics tables of statistics.md (``bewegung``, ``beendete``, ``uma_quote``, ``plaetze``,
``fristen_42a``) as DataFrames. Disclosure control is *called* (a ``protect`` callable for
counts by office), never implemented here. Does not belong here: computing statistics,
rendering, the statistics index and delivery status (:mod:`inobhut.reports.stats_index`), the
table pieces these reports share with the network reports (:mod:`inobhut.reports.pieces`).

``protect(df, value_cols, total_row_label) -> (display_df, footnote)``: ``df`` has the row
label in its first column and integer counts in ``value_cols``; the row whose label equals
``total_row_label`` is the total of the other rows. ``display_df`` has the same shape, with
suppressed cells replaced by ``"."``.

Many reports are built from the same tables in one run: call
:func:`~inobhut.reports.stats_index.prepare` once and pass the returned
:class:`~inobhut.reports.stats_index.StatsIndex` instead of the dict of DataFrames (a dict is accepted too;
the last one prepared is reused while the same DataFrame objects are passed).
"""

from __future__ import annotations

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

import inobhut
from inobhut import config
from inobhut.calendar import add_months, month_end
from schemas.datasets import codes, label

from . import registry as reg
from . import texts
from .common import dataset_label, network_label, office_label
from .fmt import fmt_date, fmt_month
from .model import DeliveryStatus, ReportModel, ReportTable
from .stats_index import (
    DATASETS, NOT_YET, NOT_YET_NOTE, STATUS_MONTHS, StatsIndex, _Status, _count, _created_at, _dash_counts, _dec,
    _month_status, _num, _status_note, prepare,
)
from .pieces import (
    H_BEGONNEN, H_DIFF, H_EINWOHNER, H_FRISTGERECHT, H_JV, H_QUOTE, H_SOLL, H_UMA_IST, H_VERSPAETET,
    ALL_DEFINITIONS, BEENDETE_BY_OFFICE, BEENDETE_GROUPS, BEWEGUNG_HEADERS, BEWEGUNG_VALUES, FRISTEN_COLS,
    FRISTEN_DESC, FRISTEN_FORMATS, FRISTEN_GROUPS, FRISTEN_MEDIAN, FRISTEN_SHARE, JA, MIRROR_NOTE, PERSONAL_FORMATS,
    PLAETZE_COLS, PLAETZE_FORMATS, Protect, ROUNDED_DERIVED_NOTE, UMA_FORMATS, _apply_protect, _bewegung_row,
    _confirmed_table, _contact, _disclosure_setting, _merkmal_rows, _method_of, _min_cases, _network_personal,
    _network_plaetze, _network_ytd, _num_shown, _personal_table, _personal_values, _plaetze_sum, _quality_table,
    _reinsert, _rounded, _time_series, _uma_from_rounded, _uma_missing_note, _uma_values,
)


# ---------------------------------------------------------------- Landesbericht
def build_landesbericht(tables: Mapping[str, pd.DataFrame] | StatsIndex, verbund: str, month: str,
                        data_status: Sequence[DeliveryStatus], protect: Protect, *,
                        findings: pd.DataFrame | None = None, contact: str | None = None) -> ReportModel:
    """The Landesbericht of a network for a month: tables by office and network total, with
    disclosure control (``protect``) on counts of cases by office; delivery status matrix;
    data-quality summary (``findings``: rule_id, severity, anzahl; ``None`` = not yet available)."""
    ix = prepare(tables)
    offices = config.network_offices(verbund)
    if not offices:
        raise ValueError(f"Unbekannter Verbund „{verbund}“")
    st = _Status(data_status, month)
    net = network_label(verbund)
    total_label = f"{net} insgesamt"
    labels = {o.ags: office_label(o.ags) for o in offices}
    order = [labels[o.ags] for o in offices] + [total_label]
    footnotes: list[str] = []
    out: list[ReportTable] = []
    released: dict = {}

    def protected(rows: list[dict], value_cols: list[str], missing: dict[str, dict], name: str,
                  groups: list[tuple[list[str], str]] | None = None) -> tuple[pd.DataFrame, str]:
        shown, fn = _apply_protect(protect, pd.DataFrame(rows), value_cols, total_label, released, name, groups)
        if fn and fn not in footnotes:
            footnotes.append(fn)
        return _dash_counts(_reinsert(shown, order, missing, JA), value_cols), fn

    def by_office(dataset: str, values, heads: list[str]) -> tuple[list[dict], dict[str, dict]]:
        rows, missing = [], {}
        for o in offices:
            lab = labels[o.ags]
            if st.has_data(o.ags, dataset):
                rows.append({JA: lab, **values(o.ags)})
            else:
                missing[lab] = {JA: lab, **{h: NOT_YET for h in heads}}
        return rows, missing

    def total_row(rows: list[dict], heads: list[str], has_total: bool, values) -> dict:
        if has_total:
            return {JA: total_label, **values(verbund)}
        return {JA: total_label, **{h: sum(r[h] for r in rows) for h in heads}}

    # Bewegung by office and Maßnahme
    heads = [h for h, _, _ in BEWEGUNG_HEADERS]
    vals = lambda a: _bewegung_row(ix, a, month)  # noqa: E731
    rows, missing = by_office("massnahmen", vals, heads)
    rows.append(total_row(rows, heads, verbund in ix.bew_agss, vals))
    df, fn = protected(rows, heads, missing, "Bewegung nach Jugendamt")
    out.append(ReportTable(
        id="bewegung", title=reg.title("bewegung", f" nach Jugendamt und Maßnahme, {fmt_month(month)}"),
        data=df, number_formats={h: reg.number_format("bewegung", BEWEGUNG_VALUES[i]) for h, _, i in BEWEGUNG_HEADERS},
        total_rows=[len(df) - 1], sheet="Bewegung",
        description=f"Bestand am {fmt_date(month_end(month))}.",
        notes=[n for n in (fn, *reg.footnotes("bewegung"), NOT_YET_NOTE if missing else "") if n],
    ))

    suppressing = _method_of(released, "Bewegung nach Jugendamt", "landesbericht") == "sperrung"
    ts = _time_series(ix, verbund, month, None, reg.title("bewegung", f" im Zeitverlauf, {net}"), net,
                      hide_below=_min_cases() if suppressing else None)
    if ts is not None:
        out.append(ts)

    # Beendete (year to date) by office, and by characteristic for the network
    heads_b = [h for h, _, _ in BEENDETE_BY_OFFICE]
    vals = lambda a: {h: ix.ytd(a, month)[0].get((m, c), 0.0) for h, m, c in BEENDETE_BY_OFFICE}  # noqa: E731
    rows, missing = by_office("massnahmen", vals, heads_b)
    rows.append(total_row(rows, heads_b, verbund in ix.beendete_agss, vals))
    df, fn = protected(rows, heads_b, missing, "Beendete nach Jugendamt", BEENDETE_GROUPS)
    net_ytd, period = _network_ytd(ix, verbund, offices, month)
    out.append(ReportTable(
        id="beendete_ja", title=reg.title("beendete", f" und Jugendamt, {period}"), data=df,
        number_formats={h: reg.number_format("beendete", "anzahl") for h in heads_b}, total_rows=[len(df) - 1],
        sheet="Beendete nach Jugendamt",
        notes=[n for n in (fn, *reg.footnotes("beendete"),
                           "„...“: Lieferung Maßnahmen des Berichtsmonats fehlt oder wurde abgelehnt; frühere Monate "
                           "sind in der Verbundsumme enthalten." if missing else "") if n],
    ))
    h_m, h_a, h_n = (reg.label("beendete", c) for c in ("merkmal", "auspraegung", "anzahl"))
    # the network values hidden in the total row of the table by office stay hidden here, with
    # the other values of the same Merkmal (their sum is the shown total); all if the total is hidden
    net_row = df[df[JA] == total_label].iloc[0]
    hidden = {m for h, m, _ in BEENDETE_BY_OFFICE if net_row[h] == "."}
    hide_all = "insgesamt" in hidden
    mrows = [{h_m: ml, h_a: vl, h_n: "." if hide_all or m in hidden else _count(net_ytd.get((m, c), 0.0))}
             for m, c, ml, vl in _merkmal_rows(net_ytd)]
    out.append(ReportTable(
        id="beendete_merkmal", title=reg.title("beendete", f", {net}, {period}"),
        data=pd.DataFrame(mrows), number_formats=reg.columns("beendete", ["anzahl"]), total_rows=[0],
        sheet="Beendete nach Merkmal", row_header=h_a,
        notes=reg.footnotes("beendete") + ([MIRROR_NOTE] if hidden else []),
    ))

    # UMA quota by office
    counts = [H_UMA_IST, H_JV]
    rows, missing = [], {}
    for o in offices:
        lab = labels[o.ags]
        r = _uma_values(ix.uma.get((o.ags, month))) if st.has_data(o.ags, "uma") else None
        if r is None:
            missing[lab] = {JA: lab, **{h: NOT_YET for h in UMA_FORMATS}, H_EINWOHNER: o.einwohner}
        else:
            rows.append({JA: lab, **r})
    tot = _uma_values(ix.uma.get((verbund, month))) or {
        H_EINWOHNER: sum(o.einwohner for o in offices), H_UMA_IST: sum(r[H_UMA_IST] for r in rows),
        H_SOLL: NOT_YET, H_QUOTE: NOT_YET, H_DIFF: NOT_YET, H_JV: sum(r[H_JV] for r in rows)}
    rows.append({JA: total_label, **tot})
    raw_uma = pd.DataFrame(rows)
    shown, fn = _apply_protect(protect, raw_uma, counts, total_label, released, "UMA-Quote nach Jugendamt")
    if fn and fn not in footnotes:
        footnotes.append(fn)
    for i in range(len(shown)):  # a suppressed Ist must not be recomputable from quota or difference
        if shown.at[i, H_UMA_IST] == ".":
            shown.at[i, H_QUOTE] = "."
            shown.at[i, H_DIFF] = "."
    rounded = _rounded(released, "UMA-Quote nach Jugendamt")
    if rounded:
        shown = _uma_from_rounded(shown, raw_uma)
    df = _dash_counts(_reinsert(shown, order, missing, JA), counts)
    out.append(ReportTable(
        id="uma_quote", title=reg.title("uma_quote", f" nach Jugendamt, Stichtag {fmt_date(month_end(month))}"),
        data=df, number_formats=UMA_FORMATS, total_rows=[len(df) - 1], sheet="UMA-Quote",
        notes=[n for n in (fn, *reg.footnotes("uma_quote"), ROUNDED_DERIVED_NOTE if rounded else "",
                           _uma_missing_note(st, offices) if (df[H_SOLL] == NOT_YET).any() else "") if n],
    ))

    # §42a deadlines by office
    heads_f = [h for h, _ in FRISTEN_COLS]
    vals = lambda a: {h: _num((ix.fristen.get((a, month)) or {}).get(c)) or 0.0 for h, c in FRISTEN_COLS}  # noqa: E731
    rows, missing = by_office("massnahmen", vals, heads_f)
    rows.append(total_row(rows, heads_f, (verbund, month) in ix.fristen, vals))
    raw = {r[JA]: r for r in rows}
    df, fn = protected(rows, heads_f, missing, "Fristen §42a nach Jugendamt", FRISTEN_GROUPS)
    f_rounded = _rounded(released, "Fristen §42a nach Jugendamt")
    key_of = {labels[o.ags]: o.ags for o in offices} | {total_label: verbund}
    share, median = [], []
    for rec in df.to_dict("records"):
        lab = rec[JA]
        if lab in missing:
            share.append(NOT_YET)
            median.append(NOT_YET)
            continue
        r, src = raw[lab], ix.fristen.get((key_of[lab], month)) or {}
        beg, reported = r[H_BEGONNEN], r[H_FRISTGERECHT] + r[H_VERSPAETET]
        hidden = rec[H_BEGONNEN] == "." or rec[H_FRISTGERECHT] == "."
        if beg == 0:
            share.append("x")
        elif hidden or beg < _min_cases():
            share.append(".")
        elif f_rounded:  # from the shown (rounded) counts: the exact share would undo the rounding
            beg_r, ok_r = _num_shown(rec[H_BEGONNEN]), _num_shown(rec[H_FRISTGERECHT])
            share.append(round(100 * ok_r / beg_r, 1) if beg_r else ".")
        else:
            share.append(_dec(src.get("anteil_fristgerecht_pct"), 1, ".") if src else
                         round(100 * r[H_FRISTGERECHT] / beg, 1))
        if reported == 0:
            median.append("x")
        elif reported < _min_cases():
            median.append(".")
        else:
            median.append(_dec(src.get("median_werktage"), 1, "."))
    df[FRISTEN_SHARE] = share
    df[FRISTEN_MEDIAN] = median
    out.append(ReportTable(
        id="fristen_42a", title=reg.title("fristen_42a", f" nach Jugendamt, {fmt_month(month)}"),
        data=df, number_formats=FRISTEN_FORMATS, total_rows=[len(df) - 1], sheet="Fristen 42a", description=FRISTEN_DESC,
        notes=[n for n in (fn, *reg.footnotes("fristen_42a"), f"Anteile und Mediane aus weniger als {_min_cases()} Fällen sind durch „.“ ersetzt; "
                               "„x“: keine Fälle, Aussage nicht sinnvoll.", ROUNDED_DERIVED_NOTE if f_rounded else "",
                           NOT_YET_NOTE if missing else "") if n],
    ))

    # Places by office (capacity of facilities, not case data: not suppressed)
    rows = []
    for o in offices:
        part = ix.plaetze.get((o.ags, month), [])
        if not part and not st.has_data(o.ags, "plaetze"):
            rows.append({JA: labels[o.ags], **{h: NOT_YET for h in PLAETZE_FORMATS}})
        else:
            rows.append({JA: labels[o.ags], **_plaetze_sum(part)})
    rows.append({JA: total_label, **_plaetze_sum(_network_plaetze(ix, verbund, offices, month))})
    df = _dash_counts(pd.DataFrame(rows), [h for h, _ in PLAETZE_COLS])
    out.append(ReportTable(
        id="plaetze", title=reg.title("plaetze", f": alle Angebote zusammen, nach Jugendamt, {fmt_month(month)}"), data=df,
        number_formats=PLAETZE_FORMATS, total_rows=[len(df) - 1], sheet="Plätze",
        description="Letzter gelieferter Stichtag des Monats je Einrichtung; alle Angebote zusammen.",
        notes=[*reg.footnotes("plaetze"),
               "Platzzahlen beschreiben Einrichtungen, nicht Kinder; sie werden deshalb nicht gesperrt.",
               "„x“: keine belegbaren Plätze, Auslastung nicht sinnvoll."],
    ))

    # Delivery status matrix
    mrows = [{JA: labels[o.ags],
              **{dataset_label(d): ("fehlt" if (v := st.verdict(o.ags, d)) == "unbekannt" else v) for d in DATASETS}}
             for o in offices]
    out.append(ReportTable(
        id="lieferstatus", title=reg.title("lieferstatus", f" nach Jugendamt und Datensatz, {fmt_month(month)}"),
        data=pd.DataFrame(mrows), sheet="Lieferstatus",
        notes=[*reg.footnotes("lieferstatus"), "Maßgeblich ist je Datensatz die neueste angenommene Version; „fehlt“: bis zum Datenstand nicht geliefert."],
    ))
    if ix.has_personal:
        out.append(_personal_table(ix, st, verbund, offices, month, total_label))
    out.append(_quality_table(findings))
    conf = _confirmed_table(findings)
    if conf is not None:
        out.append(conf)

    return ReportModel(
        kind="landesbericht", title=f"Landesbericht Inobhutnahmen – {net}", period=fmt_month(month),
        scope=net, audience="Landesebene (Verbund, Ministerium, kommunale Landesverbände)",
        disclosure_method=_disclosure_setting("landesbericht"),
        disclosure_note=(footnotes[0] if footnotes else
                         "Fallzahlen nach Jugendämtern sind nach § 103 SGB VIII geheim gehalten: kleine Fallzahlen "
                         "und Werte, aus denen sie sich errechnen ließen, sind durch „.“ ersetzt."),
        data_status=_month_status(st, offices, month), product_version=inobhut.__version__,
        created_at=_created_at(data_status, month, verbund), source=texts.SOURCE, contact=_contact(contact),
        tables=out, data_status_note=_status_note(st, offices, month, "Datenstand"),
        definitions=texts.definitions(*ALL_DEFINITIONS), period_key=month, scope_key=verbund, network=verbund,
        protected=released,
    )


# ---------------------------------------------------------------- Jugendamtsbericht
def build_jugendamtsbericht(tables: Mapping[str, pd.DataFrame] | StatsIndex, ags: str, month: str,
                            data_status: Sequence[DeliveryStatus], *, contact: str | None = None) -> ReportModel:
    """The report for one office and month about its own data (no disclosure control), with
    the network totals for comparison, its place in the UMA quota, its own delivery status and
    a time series of up to 24 months when the history is in the tables."""
    ix = prepare(tables)
    off = config.office(ags)
    verbund = off.verbund
    offices = config.network_offices(verbund)
    st = _Status(data_status, month)
    name = office_label(ags)
    net = network_label(verbund)
    net_total = f"{net} insgesamt"
    own = st.has_data(ags, "massnahmen")
    out: list[ReportTable] = []

    def net_bewegung(code: str | None) -> list[float]:
        if verbund in ix.bew_agss:
            return ix.bewegung(verbund, month, code)
        parts = [ix.bewegung(o.ags, month, code) for o in offices]
        return [sum(p[i] for p in parts) for i in range(3)]

    # Bewegung: office and network by Maßnahme
    rows = []
    h_mn = reg.label("bewegung", "massnahme")
    bew_fmts = {reg.label("bewegung", c, who): reg.number_format("bewegung", c)
                for who in ("Jugendamt", "Verbund") for c in BEWEGUNG_VALUES}
    for code, lbl in [("1", "Inobhutnahme §42"), ("2", "vorläufige Inobhutnahme §42a"), (None, "Zusammen")]:
        mine = ix.bewegung(ags, month, code) if own else [NOT_YET] * 3
        theirs = net_bewegung(code)
        row = {h_mn: lbl}
        for who, vals in (("Jugendamt", mine), ("Verbund", theirs)):
            for i, c in enumerate(BEWEGUNG_VALUES):
                row[reg.label("bewegung", c, who)] = _count(vals[i])
        rows.append(row)
    df = pd.DataFrame(rows)
    out.append(ReportTable(
        id="bewegung", title=reg.title("bewegung", f", {name} und {net}, {fmt_month(month)}"), data=df,
        number_formats=bew_fmts, total_rows=[2], sheet="Bewegung",
        description=f"Bestand am {fmt_date(month_end(month))}. Spalten „Verbund“: alle Jugendämter des Verbunds zusammen ({net}).",
        notes=reg.footnotes("bewegung") + ([] if own else [NOT_YET_NOTE]),
    ))

    ts = _time_series(ix, ags, month, st, reg.title("bewegung", f" im Zeitverlauf, {name}"), name)
    if ts is not None:
        out.append(ts)

    # Beendete (year to date) by characteristic
    mine, period = ix.ytd(ags, month)
    theirs, _ = _network_ytd(ix, verbund, offices, month)
    h_m, h_a = reg.label("beendete", "merkmal"), reg.label("beendete", "auspraegung")
    h_own, h_net = reg.label("beendete", "anzahl", "Jugendamt"), reg.label("beendete", "anzahl", "Verbund")
    mrows = [{h_m: ml, h_a: vl, h_own: _count(mine.get((m, c), 0.0)), h_net: _count(theirs.get((m, c), 0.0))}
             for m, c, ml, vl in _merkmal_rows(mine, theirs)]
    out.append(ReportTable(
        id="beendete", title=reg.title("beendete", f", {name} und {net}, {period}"),
        data=pd.DataFrame(mrows), number_formats={**reg.columns("beendete", ["anzahl"], "Jugendamt"),
                                                  **reg.columns("beendete", ["anzahl"], "Verbund")},
        total_rows=[0], sheet="Beendete", row_header=h_a, notes=reg.footnotes("beendete"),
    ))

    # UMA quota with the office's place in the network
    empty = {h: NOT_YET for h in UMA_FORMATS}
    quotas = {o.ags: _num((ix.uma.get((o.ags, month)) or {}).get("erfuellungsquote_pct")) for o in offices}
    rank: object = NOT_YET
    desc = ""
    if quotas and all(v is not None for v in quotas.values()):
        ordered = sorted(quotas.values(), reverse=True)
        rank = ordered.index(quotas[ags]) + 1
        desc = (f"{name} steht mit seiner Erfüllungsquote auf Platz {rank} von {len(ordered)} Jugendämtern "
                "des Verbunds (Platz 1 = höchste Quote).")
    r_own = _uma_values(ix.uma.get((ags, month))) if st.has_data(ags, "uma") else None
    r_net = _uma_values(ix.uma.get((verbund, month)))
    rows = [
        {"Gebiet": name, **(r_own or {**empty, H_EINWOHNER: off.einwohner}), "Platz im Verbund": rank},
        {"Gebiet": net_total, **(r_net or {**empty, H_EINWOHNER: sum(o.einwohner for o in offices)}),
         "Platz im Verbund": "x"},
    ]
    df = _dash_counts(pd.DataFrame(rows), [H_UMA_IST, H_JV])
    out.append(ReportTable(
        id="uma_quote", title=reg.title("uma_quote", f", Stichtag {fmt_date(month_end(month))}"),
        data=df, number_formats={**UMA_FORMATS, "Platz im Verbund": "0"}, total_rows=[1], sheet="UMA-Quote",
        description=desc,
        notes=[n for n in (*reg.footnotes("uma_quote"),
                           _uma_missing_note(st, offices) if (df[H_SOLL] == NOT_YET).any() else "") if n],
    ))

    # §42a deadlines
    rows = []
    for who, lab in ((ags, name), (verbund, net_total)):
        if who == ags and not own:
            rows.append({"Gebiet": lab, **{h: NOT_YET for h in FRISTEN_FORMATS}})
            continue
        r = ix.fristen.get((who, month))
        if r is None and who == verbund:
            parts = [ix.fristen.get((o.ags, month)) or {} for o in offices]
            r = {c: sum(_num(p.get(c)) or 0.0 for p in parts) for _, c in FRISTEN_COLS}
            r["anteil_fristgerecht_pct"] = 100 * r["fristgerecht"] / r["begonnen"] if r["begonnen"] else None
            r["median_werktage"] = None  # a median cannot be combined from medians
        r = r or {}
        vals = {h: _count(r.get(c, 0)) for h, c in FRISTEN_COLS}
        beg = _num(r.get("begonnen")) or 0
        vals[FRISTEN_SHARE] = _dec(r.get("anteil_fristgerecht_pct"), 1, ".") if beg else "x"
        reported = (_num(r.get("fristgerecht")) or 0) + (_num(r.get("verspaetet")) or 0)
        vals[FRISTEN_MEDIAN] = _dec(r.get("median_werktage"), 1, ".") if reported else "x"
        rows.append({"Gebiet": lab, **vals})
    out.append(ReportTable(
        id="fristen_42a", title=reg.title("fristen_42a", f", {fmt_month(month)}"),
        data=pd.DataFrame(rows), number_formats=FRISTEN_FORMATS, total_rows=[1], sheet="Fristen 42a",
        description=FRISTEN_DESC,
        notes=[*reg.footnotes("fristen_42a"), "„x“: keine Fälle, Aussage nicht sinnvoll."]
              + ([] if own else [NOT_YET_NOTE]),
    ))

    # Places by Angebot
    mine_pl = ix.plaetze.get((ags, month), [])
    own_pl = st.has_data(ags, "plaetze")
    rows, totals = [], []
    h_ang = reg.label("plaetze", "angebot")
    for code in codes("angebot"):
        part = [r for r in mine_pl if r["angebot"] == code]
        if part:
            rows.append({h_ang: label("angebot", code), **_plaetze_sum(part)})
    if rows:
        rows.append({h_ang: f"{name} zusammen", **_plaetze_sum(mine_pl)})
        totals.append(len(rows) - 1)
    elif own_pl:
        rows.append({h_ang: f"{name}: keine Plätze gemeldet", **_plaetze_sum([])})
    else:
        rows.append({h_ang: f"{name}: Lieferung fehlt", **{h: NOT_YET for h in PLAETZE_FORMATS}})
    rows.append({h_ang: net_total, **_plaetze_sum(_network_plaetze(ix, verbund, offices, month))})
    totals.append(len(rows) - 1)
    df = _dash_counts(pd.DataFrame(rows), [h for h, _ in PLAETZE_COLS])
    out.append(ReportTable(
        id="plaetze", title=reg.title("plaetze", f", {name}, {fmt_month(month)}"), data=df,
        number_formats=PLAETZE_FORMATS, total_rows=totals, sheet="Plätze",
        description="Letzter gelieferter Stichtag des Monats je Einrichtung.",
        notes=[*reg.footnotes("plaetze"), "„x“: keine belegbaren Plätze, Auslastung nicht sinnvoll."]
              + ([] if own_pl else [NOT_YET_NOTE]),
    ))

    # Staff, all Bereiche together: the office and the network
    if ix.has_personal:
        mine = ix.personal.get((ags, month))
        if mine is None and not st.has_data(ags, "personal"):
            own_row = {"Gebiet": name, **{h: NOT_YET for h in PERSONAL_FORMATS}}
        else:
            own_row = {"Gebiet": name, **_personal_values(mine)}
        df = pd.DataFrame([own_row, {"Gebiet": net_total,
                                     **_personal_values(_network_personal(ix, verbund, offices, month))}])
        out.append(ReportTable(
            id="personal", title=reg.title("personal", f", {name} und {net}, {fmt_month(month)}"), data=df,
            number_formats=PERSONAL_FORMATS, total_rows=[1], sheet="Personal",
            description="Alle Bereiche zusammen (ASD, UMA-Fachdienst, Pflegekinderdienst, Wirtschaftliche "
                        "Jugendhilfe, Sonstige); letzter gelieferter Stichtag des Monats.",
            notes=reg.footnotes("personal") + ([NOT_YET_NOTE] if own_row[reg.label("personal", "vzae_soll")] == NOT_YET
                                               else []),
        ))

    first = add_months(month, -(STATUS_MONTHS - 1))
    own_status = ([s for s in st.by_office.get(ags, []) if first <= s.monat < month]
                  + _month_status(st, [off], month))
    rank_ds = {d: i for i, d in enumerate(DATASETS)}
    own_status.sort(key=lambda s: (s.monat, -rank_ds.get(s.dataset, 9)), reverse=True)
    return ReportModel(
        kind="jugendamtsbericht", title=f"Jugendamtsbericht Inobhutnahmen – {name}", period=fmt_month(month),
        scope=name, audience=f"Jugendamt {name} (eigene Daten)", disclosure_method="keine",
        disclosure_note=("Der Bericht zeigt die eigenen Daten des Jugendamts ungesperrt; er ist nur für das "
                         "Jugendamt selbst bestimmt. Verbundwerte sind Summen über alle Jugendämter."),
        data_status=own_status, product_version=inobhut.__version__,
        created_at=_created_at(data_status, month, verbund), source=texts.SOURCE, contact=_contact(contact),
        tables=out,
        data_status_note=(_status_note(st, [off], month, "Eigene Lieferungen") + " "
                          + _status_note(st, offices, month, f"Verbund {net}")),
        definitions=texts.definitions(*ALL_DEFINITIONS), period_key=month, scope_key=ags, network=verbund,
    )
