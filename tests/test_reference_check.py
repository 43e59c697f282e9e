"""Reference check: an independent, deliberately simple recomputation of the five fixed tables
in plain Python over the delivery rows, compared cell for cell with the production tidy export.

The reference reads the in-force delivery versions from staging (the validated, pseudonymised
rows -- not the warehouse, no SQL, nothing from :mod:`inobhut.statistics`), loops over rows as
dictionaries and counts with ``datetime.date`` arithmetic. Working days come straight from the
``holidays`` library. The data set is generated (:func:`inobhut.generate.generate`) for several
offices of both networks over a year boundary, with delivery mistakes, and taken through the
real pipeline steps (intake, validation, load).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics as pystat
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

import holidays
import pandas as pd
import pytest

from tests.helpers_fixtures import MULTI_BIS, MULTI_OFFICE, MULTI_VON, multi_office_warehouse


@pytest.fixture(scope="module")
def data():
    old = os.environ.pop("INOBHUT_CONFIG", None)
    try:
        from inobhut import config
        from inobhut import stat_store
        from inobhut.calendar import month_range
        from inobhut.processing import in_force_frame

        wh, paths, summary = multi_office_warehouse()
        out = paths.out / "tabellen_referenz"
        with wh.connect() as con:
            stat_store.export_tidy(con, out)
        months = month_range(MULTI_VON, MULTI_BIS)
        rows: dict[tuple[str, str, str], list[dict] | None] = {}
        for ags in MULTI_OFFICE:
            for m in months:
                for ds in ("massnahmen", "uma", "plaetze"):
                    f = in_force_frame(paths, ags, ds, m)
                    rows[(ags, ds, m)] = None if f is None else [_plain(r) for r in f.to_dict("records")]
        offices = {o.ags: o for o in config.offices()}
        yield {"out": out, "rows": rows, "months": months, "offices": offices, "summary": summary}
    finally:
        if old is not None:
            os.environ["INOBHUT_CONFIG"] = old


def _plain(rec: dict) -> dict:
    out = {}
    for k, v in rec.items():
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out[k] = None
        elif isinstance(v, pd.Timestamp):
            out[k] = v.date()
        else:
            out[k] = v
    return out


def _first(m: str) -> dt.date:
    return dt.date(int(m[:4]), int(m[5:]), 1)


def _last(m: str) -> dt.date:
    f = _first(m)
    nxt = dt.date(f.year + (f.month == 12), f.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - (1 if day.month < birth.month else 0)


def _r(x: float | None, d: int) -> str:
    if x is None:
        return ""
    return str(Decimal(repr(x)).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP))


def _network_order(data) -> list[str]:
    nets = []
    for o in data["offices"].values():
        if o.verbund not in nets:
            nets.append(o.verbund)
    return nets


def _members(data):
    return list(data["offices"])


# ---------------------------------------------------------------------------------------------
# reference computations (each returns {key tuple: {column: text}})


def ref_bewegung(data) -> dict:
    out = {}
    for m in data["months"]:
        f, s = _first(m), _last(m)
        net = defaultdict(lambda: [0, 0, 0])
        for ags in MULTI_OFFICE:
            recs = data["rows"][(ags, "massnahmen", m)]
            if recs is None:
                continue
            per = defaultdict(lambda: [0, 0, 0])
            for r in recs:
                c = per[r["massnahme"]]
                c[0] += f <= r["beginn"] <= s
                c[1] += r["ende"] is not None and f <= r["ende"] <= s
                c[2] += r["beginn"] <= s and (r["ende"] is None or r["ende"] > s)
            for mk, c in per.items():
                n = net[(data["offices"][ags].verbund, mk)]
                for i in range(3):
                    n[i] += c[i]
                if any(c):
                    out[(m, ags, mk)] = c
        for (v, mk), c in net.items():
            if any(c):
                out[(m, v, mk)] = c
    return {k: dict(zugaenge=str(c[0]), abgaenge=str(c[1]), bestand=str(c[2])) for k, c in out.items()}


GROUPS = ((0, 2, "0-2"), (3, 5, "3-5"), (6, 8, "6-8"), (9, 11, "9-11"), (12, 13, "12-13"), (14, 15, "14-15"),
          (16, 17, "16-17"))
DAUER = ((0, 1, "0-1"), (2, 7, "2-7"), (8, 14, "8-14"), (15, 30, "15-30"), (31, 90, "31-90"), (91, 10**9, "91+"))


def _cls(v: int, classes) -> str | None:
    for lo, hi, lbl in classes:
        if lo <= v <= hi:
            return lbl
    return None


def ref_beendete(data) -> dict:
    periods = {m: (_first(m), _last(m)) for m in data["months"]}
    for y in sorted({m[:4] for m in data["months"]}):
        periods[y] = (dt.date(int(y), 1, 1), dt.date(int(y), 12, 31))
    out = {}
    for label, (f, l) in periods.items():
        ended: dict[tuple[str, str], tuple[str, dict]] = {}
        for (ags, ds, m), recs in data["rows"].items():
            if ds != "massnahmen" or recs is None:
                continue
            for r in recs:
                e = r["ende"]
                if e is None or f"{e.year:04d}-{e.month:02d}" != m or not f <= e <= l:
                    continue
                key = (ags, r["fall_id"])
                if key not in ended or ended[key][0] < m:
                    ended[key] = (m, r)
        cnt: Counter = Counter()
        for (ags, _), (_, r) in ended.items():
            vals = [("insgesamt", "insgesamt"), ("massnahme", r["massnahme"]),
                    ("unbegleitet", None if r["unbegleitet"] is None else ("1" if r["unbegleitet"] else "0")),
                    ("geschlecht", "w" if r["geschlecht"] == "w" else ("m" if r["geschlecht"] else None)),
                    ("altersgruppe", _cls(_age(r["geburtsmonat"], r["beginn"]), GROUPS)),
                    ("angeregt_durch", r["angeregt_durch"]), ("aufenthalt_vorher", r["aufenthalt_vorher"]),
                    ("unterbringung", r["unterbringung"]),
                    ("dauerklasse", _cls((r["ende"] - r["beginn"]).days, DAUER)),
                    ("ende_grund", r["ende_grund"]), ("anschluss", r["anschluss"])]
            vals += [("anlass", a) for a in (r["anlaesse"] or "").split(",") if a]
            for mk, au in vals:
                if au is None:
                    continue
                cnt[(label, ags, mk, au)] += 1
                cnt[(label, data["offices"][ags].verbund, mk, au)] += 1
        out.update({k: {"anzahl": str(v)} for k, v in cnt.items() if v})
    return out


def ref_uma_quote(data) -> dict:
    out = {}
    for m in data["months"]:
        s = _last(m)
        for net in _network_order(data):
            members = [a for a, o in data["offices"].items() if o.verbund == net]
            ist, jv = {}, {}
            for ags in members:
                recs = data["rows"].get((ags, "uma", m))
                if recs is None:
                    continue
                ist[ags] = jv[ags] = 0
                for r in recs:
                    if not (r["zustaendig_seit"] <= s and (r["zustaendig_bis"] is None or r["zustaendig_bis"] > s)):
                        continue
                    if r["hilfeart"] == "1":
                        continue
                    if _age(r["geburtsmonat"], s) < 18:
                        ist[ags] += 1
                    else:
                        jv[ags] += 1
            complete = len(ist) == len(members)
            total_e = sum(data["offices"][a].einwohner for a in members)
            total = sum(ist.values())
            for ags in members:
                row = {"einwohner": str(data["offices"][ags].einwohner), "uma_ist": str(ist[ags]) if ags in ist else "",
                       "junge_volljaehrige": str(jv[ags]) if ags in jv else "", "uma_soll": "",
                       "erfuellungsquote_pct": "", "differenz": ""}
                if complete:
                    soll = total * data["offices"][ags].einwohner / total_e
                    row.update(uma_soll=_r(soll, 2), differenz=_r(ist[ags] - soll, 2),
                               erfuellungsquote_pct=_r(100 * ist[ags] / soll, 1) if soll > 0 else "")
                out[(s.isoformat(), ags)] = row
            out[(s.isoformat(), net)] = {
                "einwohner": str(total_e), "uma_ist": str(total) if ist else "",
                "junge_volljaehrige": str(sum(jv.values())) if jv else "",
                "uma_soll": _r(float(total), 2) if complete else "", "differenz": "0.00" if complete else "",
                "erfuellungsquote_pct": ("100.0" if total > 0 else "") if complete else ""}
    return out


def ref_plaetze(data) -> dict:
    out = {}
    for m in data["months"]:
        f, s = _first(m), _last(m)
        sums: dict = {}
        for ags in MULTI_OFFICE:
            recs = data["rows"][(ags, "plaetze", m)]
            if recs is None:
                continue
            latest: dict[str, dict] = {}
            for r in recs:
                if f <= r["stichtag"] <= s and (r["einrichtung"] not in latest or latest[r["einrichtung"]]["stichtag"] < r["stichtag"]):
                    latest[r["einrichtung"]] = r
            for r in latest.values():
                for key in ((ags, r["angebot"]), (data["offices"][ags].verbund, r["angebot"])):
                    a = sums.setdefault(key, {"stichtag": r["stichtag"], "g": 0, "b": 0, "s": 0, "vs": 0.0, "vi": 0.0})
                    a["stichtag"] = max(a["stichtag"], r["stichtag"])
                    a["g"] += r["plaetze_genehmigt"]
                    a["b"] += r["plaetze_belegt"]
                    a["s"] += r["plaetze_gesperrt"]
                    a["vs"] += r["vzae_soll"]
                    a["vi"] += r["vzae_ist"]
        for (ja, ang), a in sums.items():
            usable = a["g"] - a["s"]
            out[(a["stichtag"].isoformat(), ja, ang)] = {
                "genehmigt": str(a["g"]), "belegt": str(a["b"]), "gesperrt": str(a["s"]),
                "frei": str(a["g"] - a["b"] - a["s"]),
                "auslastung_pct": _r(100 * a["b"] / usable, 1) if usable > 0 else "",
                "vzae_soll": _r(a["vs"], 2), "vzae_ist": _r(a["vi"], 2)}
    return out


def _workdays(start: dt.date, end: dt.date, land: str) -> int:
    hol = holidays.country_holidays("DE", subdiv=land, years=range(start.year, end.year + 1))
    n, d = 0, start
    while d < end:
        d += dt.timedelta(days=1)
        n += d.weekday() < 5 and d not in hol
    return n


def ref_fristen(data) -> dict:
    latest: dict[tuple[str, str], tuple[str, dict]] = {}
    for (ags, ds, m), recs in data["rows"].items():
        if ds != "massnahmen" or recs is None:
            continue
        for r in recs:
            key = (ags, r["fall_id"])
            if key not in latest or latest[key][0] < m:
                latest[key] = (m, r)
    out = {}
    for m in data["months"]:
        f, s = _first(m), _last(m)
        groups = defaultdict(list)
        for (ags, _), (_, r) in latest.items():
            if r["massnahme"] != "2" or not f <= r["beginn"] <= s:
                continue
            land = data["offices"][ags].land
            w = None if r["meldung_landesstelle"] is None else _workdays(r["beginn"], r["meldung_landesstelle"], land)
            groups[ags].append(w)
            groups[data["offices"][ags].verbund].append(w)
        for ja, ws in groups.items():
            rep = [w for w in ws if w is not None]
            fg = sum(w <= 7 for w in rep)
            out[(m, ja)] = {"begonnen": str(len(ws)), "fristgerecht": str(fg), "verspaetet": str(len(rep) - fg),
                            "ohne_meldung": str(len(ws) - len(rep)), "anteil_fristgerecht_pct": _r(100 * fg / len(ws), 1),
                            "median_werktage": _r(float(pystat.median(rep)), 1) if rep else ""}
    return out


KEYS = {"bewegung": ["monat", "jugendamt", "massnahme"], "beendete": ["zeitraum", "jugendamt", "merkmal", "auspraegung"],
        "uma_quote": ["stichtag", "jugendamt"], "plaetze": ["stichtag", "jugendamt", "angebot"],
        "fristen_42a": ["monat", "jugendamt"]}
REFS = {"bewegung": ref_bewegung, "beendete": ref_beendete, "uma_quote": ref_uma_quote, "plaetze": ref_plaetze,
        "fristen_42a": ref_fristen}


@pytest.mark.parametrize("name", list(REFS))
def test_production_equals_reference(data, name):
    prod = pd.read_csv(data["out"] / f"{name}.csv", dtype=str, keep_default_na=False)
    got = {tuple(r[k] for k in KEYS[name]): {c: r[c] for c in prod.columns if c not in KEYS[name]}
           for r in prod.to_dict("records")}
    assert len(got) == len(prod), "duplicate keys in the production table"
    ref = REFS[name](data)
    assert sorted(got) == sorted(ref)
    diffs = [(k, c, got[k][c], ref[k][c]) for k in ref for c in ref[k] if got[k][c] != ref[k][c]]
    assert not diffs, diffs[:10]
    assert len(ref) > 5


def test_data_set_is_meaningful(data):
    """The comparison covers rejected versions, §42a cases, both networks and a year boundary."""
    assert data["summary"]["errors"], "the generated set should contain delivery mistakes"
    ref = ref_bewegung(data)
    assert {k[1] for k in ref} >= {"BW", "SH-KOOP"}
    assert any(k[2] == "2" for k in ref)
    assert {k[0] for k in ref_beendete(data)} >= {"2023", "2024", "2023-12", "2024-01"}
    assert any(v["fristgerecht"] != "0" for v in ref_fristen(data).values())
