"""Builder of the Strategiebericht (network, whole history): the time series of movements,
quota, places and staff since the first month, the key findings as German sentences and the
outlook table.

Belongs here: what the Strategiebericht contains, built from DataFrames the caller reads from
the warehouse (see ``inobhut.report_run``); like the other network reports
(:mod:`inobhut.reports.network`), it calls disclosure control through ``protect`` and never
implements it. Does not belong here: SQL, statistics, disclosure algorithms, rendering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

import inobhut
from inobhut import config
from inobhut.calendar import add_months, month_end

from . import registry as reg
from . import texts
from .pieces import MIRROR_NOTE, Protect, _apply_protect, _contact, _disclosure_setting
from .stats_index import _count, _dash_counts, _num
from .common import network_label, office_label
from .fmt import fmt_date, fmt_dec, fmt_int, fmt_month, fmt_month_short
from .model import ChartSpec, DeliveryStatus, ReportModel, ReportTable, in_force, status_created_at

from .network import _at_midnight, _month_of

OUTLOOK_LABELS = {  # documented columns of the outlook frame (inobhut.outlook) -> German header, format
    "jahr": ("Jahr", None), "szenario": ("Szenario", None), "angebot": ("Angebot", None),
    "zugaenge": ("Zugänge je Jahr", "#,##0"), "bestand_mittel": ("Mittlerer Bestand", "#,##0.0"),
    "plaetze_bedarf": ("Benötigte Plätze", "#,##0"), "plaetze_nutzbar": ("Nutzbare Plätze", "#,##0"),
    "plaetze_luecke": ("Lücke Plätze", "#,##0"), "vzae_bedarf": ("Benötigte VZÄ", "#,##0.0"),
    "vzae_luecke": ("Lücke VZÄ", "#,##0.0"), "kosten_eur": ("Kosten in EUR je Jahr", "#,##0"),
    "untere_grenze": ("Untere Grenze", "#,##0"), "obere_grenze": ("Obere Grenze", "#,##0"),
}


def _by_month(df: pd.DataFrame):
    """``(YYYY-MM, rows)`` of a Stichtag table, month by month in order (rows in table order).
    One grouping pass: a selection per month cost 0.13 s per table on ten years of history."""
    months = df["stichtag"].map(_month_of)
    yield from df.groupby(months.to_numpy(dtype=object), sort=True)


def _month_positions(df: pd.DataFrame):
    """``(YYYY-MM, row positions)`` of a Stichtag table, month by month in order (positions in
    table order): :func:`_by_month` without building a frame per month."""
    months = df["stichtag"].map(_month_of).to_numpy(dtype=object)
    groups = pd.Series(np.arange(len(df))).groupby(months, sort=True).indices
    yield from ((m, np.sort(groups[m])) for m in sorted(groups))


def _net_rows(df: pd.DataFrame | None, verbund: str, keys: list[str]) -> pd.DataFrame:
    """The network's rows of a statistics table (its total rows, else the office rows)."""
    if df is None or df.empty:
        return pd.DataFrame(columns=[] if df is None else df.columns)
    if (df["jugendamt"] == verbund).any():
        return df[df["jugendamt"] == verbund]
    return df[df["jugendamt"].isin(keys)]


def _sentence_change(subject: str, verb_plural: bool, cur: float, prev: float, span: str) -> str:
    sind = "sind" if verb_plural else "ist"
    if prev == 0:
        return f"{subject} {sind} {span} von 0 auf {fmt_int(cur)} gestiegen."
    pct = 100 * (cur - prev) / prev
    if abs(pct) < 0.05:
        return f"{subject} {'sind' if verb_plural else 'ist'} {span} gleich geblieben ({fmt_int(cur)})."
    way = "gestiegen" if pct > 0 else "gesunken"
    return f"{subject} {sind} {span} um {fmt_dec(abs(pct), 1)} % {way} (von {fmt_int(prev)} auf {fmt_int(cur)})."


def _compare_span(months: list[str]) -> tuple[list[str], list[str], str] | None:
    """(current months, comparison months, German phrase) for the key findings."""
    if len(months) >= 24:
        return months[-12:], months[-24:-12], "in den letzten zwölf Monaten gegenüber den zwölf Monaten davor"
    last = months[-1]
    prev = add_months(last, -12)
    if prev in months:
        return [last], [prev], f"im {fmt_month(last)} gegenüber dem Vorjahresmonat"
    if len(months) >= 2:
        return [last], [months[0]], f"von {fmt_month(months[0])} bis {fmt_month(last)}"
    return None


def key_findings(zeitreihe: dict[str, dict[str, float]], uma: dict[str, float], kap: dict | None,
                 pers: dict | None, hide_months: set[str] | None = None) -> list[str]:
    """Plain German sentences from the numbers. ``zeitreihe``: month -> {"z1", "z2", "bestand"};
    ``uma``: month -> UMA-Ist; ``kap``/``pers``: latest capacity / staff values of the network;
    ``hide_months``: months whose Zugänge are secret (disclosure control): no sentence about them."""
    out = []
    months = sorted(zeitreihe)
    span = _compare_span(months) if months else None
    hide = hide_months or set()
    if span:
        cur_m, prev_m, phrase = span
        if not hide & {*cur_m, *prev_m}:
            for key, subject in (("z2", "Die Zugänge nach §42a"), ("z1", "Die Zugänge nach §42")):
                cur = sum(zeitreihe[m][key] for m in cur_m)
                prev = sum(zeitreihe[m][key] for m in prev_m)
                out.append(_sentence_change(subject, True, cur, prev, phrase))
        last, first = months[-1], prev_m[-1]
        out.append(_sentence_change("Der Bestand am Monatsende", False, zeitreihe[last]["bestand"],
                                    zeitreihe[first]["bestand"],
                                    f"vom {fmt_date(month_end(first))} bis zum {fmt_date(month_end(last))}"))
    elif months and months[-1] not in hide:
        m = months[-1]
        out.append(f"Im {fmt_month(m)} gab es {fmt_int(zeitreihe[m]['z1'])} Zugänge nach §42 und "
                   f"{fmt_int(zeitreihe[m]['z2'])} nach §42a; für einen Vergleich fehlen weitere Monate.")
    um = sorted(uma)
    if len(um) >= 2:
        ref = add_months(um[-1], -12) if add_months(um[-1], -12) in uma else um[0]
        out.append(_sentence_change("Die Zahl der UMA in Zuständigkeit des Verbunds", False, uma[um[-1]], uma[ref],
                                    f"vom {fmt_date(month_end(ref))} bis zum {fmt_date(month_end(um[-1]))}"))
    if kap:
        a = kap.get("auslastung")
        txt = (f"Am {fmt_date(kap['stichtag'])} waren {fmt_int(kap['belegt'])} von {fmt_int(kap['nutzbar'])} belegbaren "
               f"Plätzen belegt" + (f" (Auslastung {fmt_dec(a, 1)} %)" if a is not None else ""))
        txt += f"; {fmt_int(kap['gesperrt'])} Plätze waren gesperrt." if kap["gesperrt"] else "; kein Platz war gesperrt."
        out.append(txt)
    if pers and pers.get("soll"):
        out.append(f"Von {fmt_dec(pers['soll'], 1)} geplanten Vollzeitstellen waren am {fmt_date(pers['stichtag'])} "
                   f"{fmt_dec(pers['ist'], 1)} besetzt ({fmt_dec(100 * pers['ist'] / pers['soll'], 1)} %).")
    return out or ["Für Kernaussagen liegen noch keine Daten vor."]


def build_strategiebericht(history: dict[str, pd.DataFrame], verbund: str, data_status: Sequence[DeliveryStatus],
                           protect: Protect, *, outlook: pd.DataFrame | None = None,
                           contact: str | None = None) -> ReportModel:
    """The strategy report of a network over its whole history.

    ``history``: statistics tables over all months (``bewegung``, ``uma_quote``,
    ``kapazitaet``, ``personal``); ``outlook``: the five-year outlook (columns of
    :data:`OUTLOOK_LABELS`, from ``inobhut.outlook``) or ``None`` (placeholder table);
    ``protect``: disclosure for counts by office."""
    offices = config.network_offices(verbund)
    keys = [o.ags for o in offices]
    net = network_label(verbund)
    total_label = f"{net} insgesamt"
    tables: list[ReportTable] = []
    released: dict = {}
    footnote = ""

    # monthly entries by Maßnahme and stock
    bew = history.get("bewegung")
    zr: dict[str, dict[str, float]] = {}
    if bew is not None and not bew.empty:
        b = _net_rows(bew, verbund, keys)
        for r in b.itertuples(index=False):
            m = str(r.monat)[:7]
            d = zr.setdefault(m, {"z1": 0.0, "z2": 0.0, "b1": 0.0, "b2": 0.0, "bestand": 0.0})
            code = str(r.massnahme).removesuffix(".0")
            d["z" + code] = d.get("z" + code, 0.0) + (_num(r.zugaenge) or 0.0)
            d["b" + code] = d.get("b" + code, 0.0) + (_num(r.bestand) or 0.0)
            d["bestand"] += _num(r.bestand) or 0.0
    months = sorted(zr)
    # labels, formats and footnotes of the registry tables bewegung, uma_quote, kapazitaet and
    # personal (inobhut.tables); only counts of offices above/below the Soll are report-specific
    h_monat, h_ja = reg.label("bewegung", "monat"), reg.label("bewegung", "jugendamt")
    h_z1, h_z2 = reg.label("bewegung", "zugaenge", "§42"), reg.label("bewegung", "zugaenge", "§42a")
    h_b1, h_b2 = reg.label("bewegung", "bestand", "§42"), reg.label("bewegung", "bestand", "§42a")
    h_b = reg.label("bewegung", "bestand", "zusammen")
    bew_fmts = {h: reg.number_format("bewegung", c) for h, c in
                ((h_z1, "zugaenge"), (h_z2, "zugaenge"), (h_b1, "bestand"), (h_b2, "bestand"), (h_b, "bestand"))}
    if months:
        rows = [{h_monat: fmt_month_short(m), h_z1: _count(zr[m]["z1"]), h_z2: _count(zr[m]["z2"]),
                 h_b1: _count(zr[m]["b1"]), h_b2: _count(zr[m]["b2"]), h_b: _count(zr[m]["bestand"])} for m in months]
        z = [zr[m]["z1"] + zr[m]["z2"] for m in months]
        chart = ChartSpec("line", h_monat, [h_z1, h_z2, h_b],
                          f"Zugänge und Bestand, {net}",
                          f"Liniendiagramm: Zugänge nach §42 und §42a und Bestand von {net}, {fmt_month(months[0])} bis "
                          f"{fmt_month(months[-1])}. Zugänge zusammen je Monat zwischen {fmt_int(min(z))} und "
                          f"{fmt_int(max(z))}. Alle Werte stehen in der Tabelle.",
                          y_title="Maßnahmen", x_title=h_monat) if len(months) >= 2 else None
    else:
        rows = [{h_monat: "keine Daten", **{h: "..." for h in bew_fmts}}]
        chart = None
    df = pd.DataFrame(rows)
    tables.append(ReportTable(
        id="zeitreihe", title=reg.title("bewegung", f" im Zeitverlauf, {net}"), data=df,
        number_formats=bew_fmts, chart=chart, sheet="Zeitreihe",
        description="Seit Beginn der Aufzeichnung; Zugänge im Monat, Bestand am Monatsende. Alle Jugendämter des "
                    "Verbunds zusammen.",
        notes=reg.footnotes("bewegung"),
    ))

    # entries by office and year (counts by office -> disclosure control)
    years = sorted({m[:4] for m in months})
    hidden_years: set[str] = set()
    if years and bew is not None:
        heads = [reg.label("bewegung", "zugaenge", y) for y in years]
        rows = []
        # counts by office and year in one grouping (a selection per office and year cost 0.5 s on ten years)
        by_year = bew.groupby([bew["jugendamt"], bew["monat"].astype(str).str[:4]])["zugaenge"].sum()
        for a in keys:
            rows.append({h_ja: office_label(a), **{h: float(by_year.get((a, y), 0.0)) for h, y in zip(heads, years)}})
        rows.append({h_ja: total_label, **{h: sum(r[h] for r in rows) for h in heads}})
        shown, footnote = _apply_protect(protect, pd.DataFrame(rows), heads, total_label, released, "Zugänge nach Jugendamt und Jahr")
        # a year's network total hidden here must not be the sum of the time series' months
        hidden_years = {y for h, y in zip(heads, years) if shown.iloc[-1][h] == "."}
        if hidden_years:
            zt = tables[0]
            for c in (h_z1, h_z2):
                zt.data[c] = ["." if m[:4] in hidden_years else v for m, v in zip(months, zt.data[c])]
            zt.notes.append(MIRROR_NOTE.replace("in der Tabelle nach Jugendamt", "in der Tabelle „Zugänge nach "
                                                "Jugendamt und Jahr“ (Verbund insgesamt)"))
        part = [y for y in years if len([m for m in months if m[:4] == y]) < 12]
        tables.append(ReportTable(
            id="zugaenge_jahr", title=reg.title("bewegung", f": Zugänge nach Jugendamt und Jahr, {net}"),
            data=_dash_counts(shown, heads), number_formats={h: reg.number_format("bewegung", "zugaenge") for h in heads},
            total_rows=[len(shown) - 1], sheet="Zugänge nach Jahr",
            description=(f"Unvollständige Jahre (nicht alle Monate geliefert): {', '.join(part)}." if part else ""),
            notes=[n for n in (footnote, *reg.footnotes("bewegung")) if n],
        ))

    # UMA over time
    uq = history.get("uma_quote")
    uma_ist: dict[str, float] = {}
    h_st = reg.label("uma_quote", "stichtag")
    h_ist, h_jv = reg.label("uma_quote", "uma_ist"), reg.label("uma_quote", "junge_volljaehrige")
    h_ueber, h_unter = "Jugendämter über dem Soll", "Jugendämter unter dem Soll"
    rows = []
    if uq is not None and not uq.empty:
        # the columns as arrays once, the months' rows by position (selecting frames per month
        # cost 0.3 s per network on ten years); counts are whole numbers: sums are exact
        ja = uq["jugendamt"].to_numpy(dtype=object)
        is_net, is_off = ja == verbund, uq["jugendamt"].isin(keys).to_numpy()
        ist_v = pd.to_numeric(uq["uma_ist"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        jv_v = pd.to_numeric(uq["junge_volljaehrige"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        q_v = pd.to_numeric(uq["erfuellungsquote_pct"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        for m, idx in _month_positions(uq):
            net_i, off_i = idx[is_net[idx]], idx[is_off[idx]]
            src = net_i if len(net_i) else off_i
            ist, jv = float(np.nansum(ist_v[src])), float(np.nansum(jv_v[src]))
            uma_ist[m] = ist
            q = q_v[off_i]
            complete = len(off_i) == len(keys) and not np.isnan(q).any()
            rows.append({h_st: fmt_date(month_end(m)), h_ist: _count(ist), h_jv: _count(jv),
                         h_ueber: _count(int((q > 100).sum())) if complete else "...",
                         h_unter: _count(int((q < 100).sum())) if complete else "..."})
    if not rows:
        rows = [{h_st: "keine Daten", h_ist: "...", h_jv: "...", h_ueber: "...", h_unter: "..."}]
    df = pd.DataFrame(rows)
    tables.append(ReportTable(
        id="uma", title=reg.title("uma_quote", f" im Zeitverlauf, {net}"), data=df,
        number_formats={**reg.columns("uma_quote", ["uma_ist", "junge_volljaehrige"]), h_ueber: "#,##0", h_unter: "#,##0"},
        sheet="UMA",
        chart=(ChartSpec("line", h_st, [h_ist, h_jv], f"UMA und junge Volljährige, {net}",
                         f"Liniendiagramm: UMA in Zuständigkeit und junge Volljährige von {net} an "
                         f"{len(uma_ist)} Stichtagen. Alle Werte stehen in der Tabelle.", y_title="Personen")
               if len(uma_ist) >= 2 else None),
        description="Erfüllung der Aufnahmequote: Zahl der Jugendämter über und unter ihrem Aufnahmesoll.",
        notes=[*reg.footnotes("uma_quote"),
               "„...“: nicht alle Jugendämter haben für den Stichtag geliefert; das Aufnahmesoll ist nicht berechnet."],
    ))

    # capacity over time: the registry table "kapazitaet" of the network, all Angebote together
    kp = history.get("kapazitaet")
    kap_last = None
    k_counts = ["genehmigt", "gesperrt", "nutzbar", "belegt"]
    k_cols = [*k_counts, "auslastung_pct", "gesperrt_anteil_pct", "kosten_je_belegtag", "kosten_monat"]
    h_kst = reg.label("kapazitaet", "stichtag")
    hk = {c: reg.label("kapazitaet", c) for c in k_cols}
    rows = []
    if kp is not None and not kp.empty:
        k = _net_rows(kp[kp["angebot"].astype(str) == "insgesamt"], verbund, keys)
        for m, s in _by_month(k):
            g, gs, bl = (float(s[c].sum()) for c in ("genehmigt", "gesperrt", "belegt"))
            nutz = g - gs
            one = len(s) == 1  # the network's own row: its cost values hold for the network
            cost = _num(s["kosten_je_belegtag"].iloc[0]) if one else None
            month_cost = _num(s["kosten_monat"].iloc[0]) if one else None
            ausl = round(100 * bl / nutz, 1) if nutz > 0 else None
            rows.append({h_kst: fmt_date(month_end(m)), hk["genehmigt"]: _count(g), hk["gesperrt"]: _count(gs),
                         hk["nutzbar"]: _count(nutz), hk["belegt"]: _count(bl),
                         hk["auslastung_pct"]: "x" if ausl is None else ausl,
                         hk["gesperrt_anteil_pct"]: round(100 * gs / g, 1) if g > 0 else "x",
                         hk["kosten_je_belegtag"]: "." if cost is None else round(cost, 2),
                         hk["kosten_monat"]: "." if month_cost is None else round(month_cost, 2)})
            kap_last = {"stichtag": month_end(m), "belegt": bl, "nutzbar": nutz, "gesperrt": gs, "auslastung": ausl}
    if not rows:
        rows = [{h_kst: "keine Daten", **{hk[c]: "..." for c in k_cols}}]
    df = pd.DataFrame(rows)
    tables.append(ReportTable(
        id="kapazitaet", title=reg.title("kapazitaet", f" im Zeitverlauf, {net}"), data=df,
        number_formats={hk[c]: reg.number_format("kapazitaet", c) for c in k_cols}, sheet="Kapazität",
        chart=(ChartSpec("line", h_kst, [hk["genehmigt"], hk["belegt"]], f"Genehmigte und belegte Plätze, {net}",
                         f"Liniendiagramm: genehmigte und belegte Plätze von {net} an {len(rows)} Stichtagen. "
                         "Alle Werte stehen in der Tabelle.", y_title="Plätze") if len(rows) >= 2 else None),
        description="Letzter Stichtag des Monats je Einrichtung, alle Angebote zusammen.",
        notes=[*reg.footnotes("kapazitaet"), "„x“: keine Plätze, Anteil nicht sinnvoll; „.“: Kosten nicht berechnet "
               "(kein Tagessatz geliefert oder keine Verbundzeile)."],
    ))

    # staff over time: the registry table "personal" of the network, all Bereiche together
    pe = history.get("personal")
    pers_last = None
    p_cols = ["vzae_soll", "vzae_ist", "stellen_unbesetzt", "besetzungsquote_pct"]
    h_pst = reg.label("personal", "stichtag")
    hp = {c: reg.label("personal", c) for c in p_cols}
    rows = []
    if pe is not None and not pe.empty:
        p = _net_rows(pe[pe["bereich"].astype(str) == "insgesamt"], verbund, keys)
        for m, s in _by_month(p):
            soll, ist, unb = (float(pd.to_numeric(s[c], errors="coerce").sum()) for c in ("vzae_soll", "vzae_ist", "stellen_unbesetzt"))
            rows.append({h_pst: fmt_date(month_end(m)), hp["vzae_soll"]: round(soll, 2), hp["vzae_ist"]: round(ist, 2),
                         hp["stellen_unbesetzt"]: round(unb, 2),
                         hp["besetzungsquote_pct"]: round(100 * ist / soll, 1) if soll > 0 else "x"})
            pers_last = {"stichtag": month_end(m), "soll": soll, "ist": ist}
    if not rows:
        rows = [{h_pst: "keine Daten", **{hp[c]: "..." for c in p_cols}}]
    df = pd.DataFrame(rows)
    tables.append(ReportTable(
        id="personal", title=reg.title("personal", f" im Zeitverlauf, {net}"), data=df, sheet="Personal",
        number_formats={hp[c]: reg.number_format("personal", c) for c in p_cols},
        chart=(ChartSpec("line", h_pst, [hp["vzae_soll"], hp["vzae_ist"]], f"Personal (VZÄ Soll und Ist), {net}",
                         f"Liniendiagramm: geplante und besetzte Vollzeitstellen von {net} an {len(rows)} Stichtagen. "
                         "Alle Werte stehen in der Tabelle.", y_title="VZÄ") if len(rows) >= 2 else None),
        description="Alle Bereiche der Jugendämter zusammen; nur Jugendämter, die Personal geliefert haben.",
        notes=reg.footnotes("personal"),
    ))

    tables.append(_outlook_table(outlook, net))
    findings = key_findings(zr, uma_ist, kap_last, pers_last,
                            hide_months={m for m in months if m[:4] in hidden_years})
    tables.insert(0, ReportTable(
        id="kernaussagen", title=f"Kernaussagen, {net}", data=pd.DataFrame({"Nr.": [str(i + 1) for i in range(len(findings))],
                                                                        "Aussage": findings}),
        sheet="Kernaussagen", row_header="Nr.",
        description="Aus den Zahlen dieses Berichts erzeugt; Vergleiche beziehen sich auf den Verbund insgesamt.",
    ))
    last = months[-1] if months else ""
    st_all = in_force(data_status)
    shown_status = [s for s in st_all if s.monat == last and s.jugendamt in keys] if last else []
    fallback = _at_midnight(month_end(last)) if last else dt.datetime(2000, 1, 1)
    return ReportModel(
        kind="strategiebericht", title=f"Strategiebericht Inobhutnahmen – {net}",
        period=f"{fmt_month(months[0])} bis {fmt_month(last)}" if months else "keine Daten", scope=net,
        audience="Strategieprozess des Verbunds (Land, Jugendämter, Träger)",
        disclosure_method=_disclosure_setting("strategiebericht"),
        disclosure_note=(footnote or "Fallzahlen nach Jugendämtern sind nach § 103 SGB VIII geheim gehalten.")
                        + " Zeitreihen und Kernaussagen für den ganzen Verbund liegen oberhalb der Ebene der Jugendämter.",
        data_status=shown_status, product_version=inobhut.__version__,
        created_at=status_created_at([s for s in st_all if s.jugendamt in keys], fallback),
        source=texts.SOURCE, contact=_contact(contact), tables=tables,
        data_status_note=(f"Gezeigt sind die Lieferungen des letzten Monats ({fmt_month(last)}); die Zeitreihen "
                          f"umfassen {len(months)} Monate." if last else ""),
        definitions=texts.definitions("Zugang", "Bestand", "UMA-Ist", "Junge Volljährige", "Aufnahmesoll",
                                      "Erfüllungsquote", "Auslastung", "Freie Plätze", "VZÄ")
                    + [("Szenario", "Annahme über die künftige Entwicklung der Zugänge (niedrig, mittel, hoch); "
                                    "eine Hilfe für den Strategieprozess, keine Vorhersage.")],
        period_key="", scope_key=verbund, network=verbund, protected=released,
    )


def _outlook_table(outlook: pd.DataFrame | None, net: str) -> ReportTable:
    note_method = ("Methode: monatliche Zugänge mit Trend und Saisonkomponente, drei Szenarien für 60 Monate; "
                   "benötigte Plätze nach Little: mittlerer Bestand = Zugänge je Tag × mittlere Dauer; Lücke = "
                   "benötigte minus nutzbare Plätze (genehmigt minus gesperrt); Personal nach Personalschlüssel je "
                   "Angebot; Kosten aus dem mittleren Tagessatz. Eine Hilfe für den Strategieprozess, keine Vorhersage.")
    if outlook is None or outlook.empty:
        df = pd.DataFrame([{"Szenario": s, "Lücke Plätze": "...", "Lücke VZÄ": "...", "Kosten in EUR je Jahr": "..."}
                           for s in ("niedrig", "mittel", "hoch")])
        return ReportTable(
            id="ausblick", title=f"Ausblick auf fünf Jahre: Lücken bei Plätzen, Personal und Kosten, {net}", data=df,
            number_formats={"Lücke Plätze": "#,##0", "Lücke VZÄ": "#,##0.0", "Kosten in EUR je Jahr": "#,##0"},
            sheet="Ausblick", notes=["„...“: Für die Fünfjahresvorausschau reicht die Historie nicht (mindestens 12 Monate mit Lieferungen nötig).", note_method],
        )
    cols = [c for c in OUTLOOK_LABELS if c in outlook.columns]
    df = outlook[cols].copy()
    fmts = {}
    for c in cols:
        lbl, f = OUTLOOK_LABELS[c]
        if f is None:
            df[c] = [str(v) if not pd.isna(v) else "." for v in df[c]]
        else:
            df[c] = [("." if _num(v) is None else _num(v)) for v in df[c]]
            fmts[lbl] = f
    df = df.rename(columns={c: OUTLOOK_LABELS[c][0] for c in cols})
    return ReportTable(
        id="ausblick", title=f"Ausblick auf fünf Jahre nach Szenario, {net}", data=df, number_formats=fmts,
        sheet="Ausblick", notes=[note_method, "Lücke: positiv heißt, es fehlen Plätze oder Stellen."],
    )
