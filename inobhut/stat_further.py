"""The further statistics tables of ``shared/spec/statistics.md``, whose columns are the project's
choice (docs/tabellen.md): ``uma_struktur``, ``verteilung_42a``, ``zuweisungen_42a``, ``dauer``,
``personal``, ``kapazitaet``, ``lieferstatus``.

Belongs here: their computation from the warehouse, with the conventions and helpers of
:mod:`inobhut.statistics` (dtypes, totals rows, rounding half up). Not here: the table
definitions (``statistics.TABLES``), which function fills which table, storing and exporting
them (:mod:`inobhut.stat_store`).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from inobhut import config
from inobhut.calendar import days_between, month_end, parse_month
from inobhut.statistics import (
    COLUMNS, _age_years, _classify, _ended_measures, _finish, _member_rows, _sort, _verbund_map, _with_totals, zeitraum,
)
from schemas.datasets import DATASET_NAMES, codes

ALTERSJAHRE: tuple[tuple[str, int, int], ...] = (
    ("0-13", 0, 13), ("14", 14, 14), ("15", 15, 15), ("16", 16, 16), ("17", 17, 17), ("18-20", 18, 20),
    ("21+", 21, 10**6),
)
UMA_MERKMALE: tuple[str, ...] = ("insgesamt", "staatsangehoerigkeit", "altersjahre", "hilfeart", "ausserhalb")
SONSTIGE = "sonstige"
TOP_STAATSANGEHOERIGKEITEN = 10


def _uma_rank(merkmal: str, auspraegung: str) -> int:
    if merkmal == "altersjahre":
        return [a for a, _, _ in ALTERSJAHRE].index(auspraegung) if auspraegung in [a for a, _, _ in ALTERSJAHRE] else 99
    if merkmal == "hilfeart":
        return codes("hilfeart").index(auspraegung) if auspraegung in codes("hilfeart") else 99
    if merkmal == "ausserhalb":
        return {"1": 0, "0": 1}.get(auspraegung, 99)
    return 0


def compute_uma_struktur(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """UMA and former UMA responsible at the month's Stichtag (every Hilfeart, minors and young
    adults) by Staatsangehörigkeit (the network's 10 largest + ``sonstige``), age in years,
    Hilfeart and placement outside the district. Staatsangehörigkeit rows are ordered by the
    network's count (descending), ``sonstige`` last."""
    s = month_end(month)
    p = con.execute(
        """SELECT jugendamt, geburtsmonat, hilfeart, staatsangehoerigkeit, unterbringung_ausserhalb FROM uma
           WHERE monat = $1 AND zustaendig_seit <= $2 AND (zustaendig_bis IS NULL OR zustaendig_bis > $2)""",
        [month, s],
    ).df()
    p = _member_rows(p)
    if p.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["uma_struktur"]), "uma_struktur")
    vm = _verbund_map()
    p = p.assign(verbund=p["jugendamt"].map(vm), sa=p["staatsangehoerigkeit"].fillna("XXX"))
    # the network's largest 10 (ties: code order), same classes for every office of the network
    top: dict[str, list[str]] = {}
    for net, grp in p.groupby("verbund"):
        vc = grp["sa"].value_counts()
        order = sorted(vc.index, key=lambda c: (-vc[c], c))
        top[net] = order[:TOP_STAATSANGEHOERIGKEITEN]
    sa_class = [c if c in top[n] else SONSTIGE for c, n in zip(p["sa"], p["verbund"])]
    age = _age_years(p["geburtsmonat"], s)
    derived = {
        "insgesamt": pd.Series("insgesamt", index=p.index),
        "staatsangehoerigkeit": pd.Series(sa_class, index=p.index),
        "altersjahre": _classify(age, ALTERSJAHRE),
        "hilfeart": p["hilfeart"],
        "ausserhalb": p["unterbringung_ausserhalb"].map({True: "1", False: "0"}),
    }
    long = pd.concat([pd.DataFrame({"jugendamt": p["jugendamt"], "merkmal": k, "auspraegung": v})
                      for k, v in derived.items()], ignore_index=True).dropna(subset=["auspraegung"])
    counts = long.groupby(["jugendamt", "merkmal", "auspraegung"], as_index=False).size().rename(columns={"size": "anzahl"})
    counts = _with_totals(counts, ["merkmal", "auspraegung"], ["anzahl"])
    counts = counts[counts["anzahl"] > 0].assign(stichtag=pd.Timestamp(s))
    # ranks: staatsangehörigkeit by the network's count, others by code order
    net_of = {**vm, **{n: n for n in config.networks()}}
    sa_rank = {n: {c: i for i, c in enumerate(t)} for n, t in top.items()}
    rank = []
    for ja, mk, au in zip(counts["jugendamt"], counts["merkmal"], counts["auspraegung"]):
        if mk == "staatsangehoerigkeit":
            rank.append(sa_rank.get(net_of.get(ja), {}).get(au, 98))
        else:
            rank.append(_uma_rank(mk, au))
    counts = counts.assign(_ar=pd.array(rank, dtype="int64"))
    orders = {"merkmal": {k: i for i, k in enumerate(UMA_MERKMALE)}}
    return _finish(_sort(counts, ["jugendamt", "merkmal", "_ar", "auspraegung"], orders), "uma_struktur")


def _mean_median(values: pd.Series) -> tuple[float, float]:
    v = pd.to_numeric(values, errors="coerce").dropna().astype("float64")
    if v.empty:
        return np.nan, np.nan
    return float(v.mean()), float(v.median())


def compute_verteilung_42a(con: duckdb.DuckDBPyConnection, zeitraum_: str) -> pd.DataFrame:
    """§42a measures ended in the period (as in ``beendete``): decisions by code and days from
    ``Beginn`` to the decision (= ``Ende`` of the §42a measure, which ends with the decision)."""
    zr = zeitraum(zeitraum_)
    m = _ended_measures(con, zr, "massnahme, beginn, ende, verteilentscheidung")
    m = m[m["massnahme"] == "2"]
    if m.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["verteilung_42a"]), "verteilung_42a")
    m = m.assign(tage=days_between(m["beginn"], m["ende"]),
                 verbund=m["jugendamt"].map(_verbund_map()))
    both = pd.concat([m, m.assign(jugendamt=m["verbund"])], ignore_index=True)
    dec = both["verteilentscheidung"]
    both = both.assign(entschieden=dec.notna().astype(int), tage_e=both["tage"].where(dec.notna()),
                       **{f"entscheidung_{c}": (dec == c).astype(int) for c in codes("verteilentscheidung")})
    g = both.groupby("jugendamt", as_index=False)
    rows = g.agg(beendet=("tage", "size"), entschieden=("entschieden", "sum"), tage_mittel=("tage_e", "mean"),
                 tage_median=("tage_e", "median"),
                 **{f"entscheidung_{c}": (f"entscheidung_{c}", "sum") for c in codes("verteilentscheidung")})
    out = rows.assign(zeitraum=zr.label)
    return _finish(_sort(out, ["jugendamt"]), "verteilung_42a")


def compute_zuweisungen_42a(con: duckdb.DuckDBPyConnection, zeitraum_: str) -> pd.DataFrame:
    """Receiving offices: ended §42a measures with Verteilentscheidung 1 by (distributing
    office, ``Zuweisung_Jugendamt``); without a receiving office: ``aufnehmend`` = ``unbekannt``."""
    zr = zeitraum(zeitraum_)
    m = _ended_measures(con, zr, "massnahme, verteilentscheidung, zuweisung_jugendamt")
    m = m[(m["massnahme"] == "2") & (m["verteilentscheidung"] == "1")]
    if m.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["zuweisungen_42a"]), "zuweisungen_42a")
    m = m.assign(aufnehmend=m["zuweisung_jugendamt"].fillna("unbekannt"))
    counts = m.groupby(["jugendamt", "aufnehmend"], as_index=False).size().rename(columns={"size": "anzahl"})
    counts = _with_totals(counts, ["aufnehmend"], ["anzahl"]).assign(zeitraum=zr.label)
    return _finish(_sort(counts, ["jugendamt", "aufnehmend"]), "zuweisungen_42a")


def compute_dauer(con: duckdb.DuckDBPyConnection, zeitraum_: str) -> pd.DataFrame:
    """Mean and median duration (Ende − Beginn, days) of the ended measures of the period (as in
    ``beendete``) by Massnahme × Unbegleitet, with ``insgesamt`` margins."""
    zr = zeitraum(zeitraum_)
    m = _ended_measures(con, zr, "massnahme, unbegleitet, beginn, ende")
    if m.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["dauer"]), "dauer")
    m = m.assign(tage=days_between(m["beginn"], m["ende"]),
                 unbegleitet=m["unbegleitet"].map({True: "1", False: "0"}).fillna("unbekannt"),
                 verbund=m["jugendamt"].map(_verbund_map()))
    base = pd.concat([m.assign(jugendamt=m["verbund"]), m], ignore_index=True)[["jugendamt", "massnahme", "unbegleitet", "tage"]]
    expanded = pd.concat([base, base.assign(massnahme="insgesamt"), base.assign(unbegleitet="insgesamt"),
                          base.assign(massnahme="insgesamt", unbegleitet="insgesamt")], ignore_index=True)
    g = expanded.groupby(["jugendamt", "massnahme", "unbegleitet"], as_index=False)["tage"]
    rows = g.agg(anzahl="size", dauer_mittel="mean", dauer_median="median")
    out = rows.assign(zeitraum=zr.label)
    orders = {"massnahme": {"insgesamt": 0, "1": 1, "2": 2}, "unbegleitet": {"insgesamt": 0, "1": 1, "0": 2}}
    return _finish(_sort(out, ["jugendamt", "massnahme", "unbegleitet"], orders), "dauer")


def compute_personal(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """Staff of the offices at their last Stichtag in the month, by Bereich plus ``insgesamt``:
    FTE planned/filled/vacant, filled share (100 × Ist / Soll) and open cases."""
    first, last = parse_month(month), month_end(month)
    df = con.execute(
        """SELECT jugendamt, bereich, stichtag, vzae_soll, vzae_ist, stellen_unbesetzt, faelle FROM personal
           WHERE monat = $3 AND stichtag BETWEEN $1 AND $2
           QUALIFY row_number() OVER (PARTITION BY jugendamt, bereich ORDER BY stichtag DESC) = 1""",
        [first, last, month],
    ).df()
    df = _member_rows(df)
    if df.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["personal"]), "personal")
    agg = dict(stichtag=("stichtag", "max"), vzae_soll=("vzae_soll", "sum"), vzae_ist=("vzae_ist", "sum"),
               stellen_unbesetzt=("stellen_unbesetzt", "sum"), faelle=("faelle", lambda x: x.sum(min_count=1)))
    df["faelle"] = df["faelle"].astype("float64")
    tot = df.groupby("jugendamt", as_index=False).agg(**agg).assign(bereich="insgesamt")
    df = pd.concat([df, tot], ignore_index=True)
    net = df.assign(jugendamt=df["jugendamt"].map(_verbund_map()))
    net = net.groupby(["jugendamt", "bereich"], as_index=False).agg(**agg)
    df = pd.concat([df, net], ignore_index=True)
    soll = df["vzae_soll"].astype("float64")
    df["besetzungsquote_pct"] = np.where(soll > 0, 100.0 * df["vzae_ist"].astype("float64") / soll.where(soll > 0, 1.0), np.nan)
    orders = {"bereich": {"insgesamt": 0, **{c: i + 1 for i, c in enumerate(codes("bereich"))}}}
    return _finish(_sort(df, ["jugendamt", "bereich"], orders), "personal")


def compute_kapazitaet(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """Capacity per office and Angebot (plus ``insgesamt``), each facility at its last Stichtag
    in the month: usable places, utilisation, blocked share and cost per occupied place-day
    (Σ belegt × Tagessatz / Σ belegt over facilities that deliver a Tagessatz) with the
    month's cost estimate (that × days of the month)."""
    first, last = parse_month(month), month_end(month)
    df = con.execute(
        """SELECT jugendamt, angebot, stichtag, plaetze_genehmigt AS genehmigt, plaetze_belegt AS belegt,
                  plaetze_gesperrt AS gesperrt, tagessatz FROM plaetze
           WHERE monat = $3 AND stichtag BETWEEN $1 AND $2
           QUALIFY row_number() OVER (PARTITION BY jugendamt, einrichtung ORDER BY stichtag DESC) = 1""",
        [first, last, month],
    ).df()
    df = _member_rows(df)
    if df.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["kapazitaet"]), "kapazitaet")
    has_rate = df["tagessatz"].notna()
    df = df.assign(einrichtungen=1, belegt_mit_tagessatz=df["belegt"].where(has_rate, 0),
                   _mit_tagessatz=has_rate.astype(int), _kosten=(df["belegt"] * df["tagessatz"]).where(has_rate, 0.0))
    df["angebot"] = df["angebot"].astype(str)
    sums = ["einrichtungen", "genehmigt", "gesperrt", "belegt", "belegt_mit_tagessatz", "_mit_tagessatz", "_kosten"]
    agg = {c: (c, "sum") for c in sums}
    by_off = df.groupby(["jugendamt", "angebot"], as_index=False).agg(stichtag=("stichtag", "max"), **agg)
    by_all = df.groupby(["jugendamt"], as_index=False).agg(stichtag=("stichtag", "max"), **agg).assign(angebot="insgesamt")
    out = pd.concat([by_off, by_all], ignore_index=True)
    net = out.assign(jugendamt=out["jugendamt"].map(_verbund_map()))
    net = net.groupby(["jugendamt", "angebot"], as_index=False).agg(stichtag=("stichtag", "max"), **agg)
    out = pd.concat([out, net], ignore_index=True)
    out["nutzbar"] = out["genehmigt"] - out["gesperrt"]
    f = lambda c: out[c].astype("float64")  # noqa: E731
    out["auslastung_pct"] = np.where(f("nutzbar") > 0, 100.0 * f("belegt") / f("nutzbar").where(f("nutzbar") > 0, 1.0), np.nan)
    out["gesperrt_anteil_pct"] = np.where(f("genehmigt") > 0, 100.0 * f("gesperrt") / f("genehmigt").where(f("genehmigt") > 0, 1.0), np.nan)
    bmt = f("belegt_mit_tagessatz")
    out["kosten_je_belegtag"] = np.where(bmt > 0, f("_kosten") / bmt.where(bmt > 0, 1.0), np.nan)
    # the month's cost is known (possibly 0) as soon as one facility delivers a Tagessatz
    out["kosten_monat"] = np.where(f("_mit_tagessatz") > 0, f("_kosten") * last.day, np.nan)
    orders = {"angebot": {"insgesamt": 0, **{c: i + 1 for i, c in enumerate(codes("angebot"))}}}
    return _finish(_sort(out, ["jugendamt", "angebot"], orders), "kapazitaet")


def compute_lieferstatus(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """Delivery status per office × dataset (``anzahl`` = 1; status of the newest version,
    version in force, days after the due date of the first delivery) and per network × dataset
    × status the number of offices."""
    from inobhut.status import delivery_status

    ds = delivery_status(con, [month])
    if ds.empty:
        return _finish(pd.DataFrame(columns=COLUMNS["lieferstatus"]), "lieferstatus")
    off = pd.DataFrame({"jugendamt": ds["ags"], "datensatz": ds["dataset"], "status": ds["status"], "anzahl": 1,
                        "version_in_kraft": ds["in_kraft"], "tage_verspaetet": ds["tage_verspaetet"]})
    net = ds.groupby(["verbund", "dataset", "status"], as_index=False).size()
    net = net.rename(columns={"verbund": "jugendamt", "dataset": "datensatz", "size": "anzahl"})
    out = pd.concat([off, net], ignore_index=True).assign(monat=month)
    orders = {"datensatz": {d: i for i, d in enumerate(DATASET_NAMES)},
              "status": {k: i for i, k in enumerate(STATUS_ORDER)}}
    return _finish(_sort(out, ["jugendamt", "datensatz", "status"], orders), "lieferstatus")


STATUS_ORDER = ("angenommen", "angenommen mit Hinweisen", "abgelehnt", "fehlt")
