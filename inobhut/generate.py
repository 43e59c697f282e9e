"""Synthetic delivery files for demos, tests and benchmarks.

Belongs here: simulating measures (Inobhutnahmen §42/§42a), UMA responsibilities, facilities and
staff for the member offices, calibrated to published figures (see ``docs/synthetische_daten.md``),
and writing them as delivery files exactly in the format of ``shared/spec/delivery.md`` -- every
office with its own stable "delivery style" (CSV dialect/encoding or XLSX; the styles, the
formatting of values in them and the writing of files are in :mod:`inobhut.generate_delivery`)
-- plus optional realistic delivery mistakes (``fehlerquote``; the mistakes themselves are in
:mod:`inobhut.generate_mistakes`). Everything is deterministic for a seed.

Does not belong here: reading or validating deliveries (``inobhut.ingest``/``inobhut.validation``),
the command line (``pipelines.cli`` wires ``inobhut generate`` to :func:`generate`).

Determinism: every random draw comes from a generator seeded with ``(seed, office, year|month,
stream)``, so an office's data does not depend on which other offices or which months are
requested; generating 2023 and 2024 separately yields the same files as generating both at once.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from inobhut.calendar import add_workdays, month_end, month_range, parse_month
from inobhut.config import Office, offices
from inobhut.generate_delivery import (DeliveryStyle, _ags_int, _blank, _fmt_bool, _fmt_boolstr, _fmt_dates,
                                       _fmt_decimal, _fmt_int, _fmt_months, _rng, _rows, _text, _write,
                                       delivery_style)
from inobhut.generate_mistakes import _maybe_inject
from schemas.datasets import DATASETS

# ---------------------------------------------------------------------------------------------
# Calibration figures (sources in docs/synthetische_daten.md)
# ---------------------------------------------------------------------------------------------

#: Destatis, Statistik der Kinder- und Jugendhilfe: vorläufige Schutzmaßnahmen 2023, Baden-Württemberg.
BW_2023 = {"insgesamt": 10_828, "massnahme_2": 4_997, "massnahme_1": 5_831, "unbegleitet": 6_837}
#: Anlässe among the ended measures BW 2023 (03+04 reported together, split 60:40 here).
BW_2023_ANLAESSE = {
    "01": 1_774, "02": 713, "03": 715, "04": 477, "05": 112, "06": 127, "07": 314,
    "09": 531, "10": 395, "11": 317, "12": 200, "13": 328, "14": 1_758,
}
#: SH-KOOP network: about 800 measures a year in total.
SH_KOOP_MASSNAHMEN = 800
#: Federal UMA stock on 30.12.2024 (minors, young adults) and the BW share (~13 %).
UMA_BUND = {"minderjaehrig": 29_015, "volljaehrig": 15_503}
UMA_BW = {"minderjaehrig": 3_770, "volljaehrig": 2_015}
EINWOHNER_DE = 84_700_000

#: Measures per year and network: (non-UMA §42, unaccompanied §42, §42a).
_UMA42 = BW_2023["unbegleitet"] - BW_2023["massnahme_2"]
_NETWORK_FLOWS = {
    "BW": (BW_2023["massnahme_1"] - _UMA42, _UMA42, BW_2023["massnahme_2"]),
}
_f = SH_KOOP_MASSNAHMEN / BW_2023["insgesamt"]
_NETWORK_FLOWS["SH-KOOP"] = tuple(x * _f for x in _NETWORK_FLOWS["BW"])
#: Share of §42a measures that end with the young person staying in the office (no distribution);
#: tuned per network so that the simulated UMA stock matches the targets above.
_P_STAY = {"BW": 0.25, "SH-KOOP": 0.40}

BURN_IN_YEARS = 7  # simulate this many years before ``von`` so the first month has a real stock

# Monthly entry weights (unaccompanied arrivals peak in autumn; other measures fairly flat).
_SEASON_UMA = np.array([0.8, 0.7, 0.8, 0.85, 0.9, 0.95, 1.05, 1.15, 1.2, 1.25, 1.2, 1.15])
_SEASON_OTHER = np.array([1.0, 1.0, 1.05, 1.0, 1.05, 1.0, 0.95, 0.9, 1.0, 1.05, 1.0, 0.95])

_NATIONALITIES_UMA = (
    ["AFG", "SYR", "TUR", "GIN", "SOM", "ERI", "DZA", "MAR", "UKR", "IRQ", "GMB", "PAK", "EGY", "TUN",
     "NGA", "BGD", "IRN", "XXX", "XXA"],
    [30, 20, 10, 6, 6, 4, 3, 3, 4, 4, 2, 2, 1, 1, 1, 0.5, 0.5, 1.5, 0.5],
)
_NATIONALITIES_OTHER = (
    ["DEU", "TUR", "SYR", "UKR", "ROU", "POL", "ITA", "BGR", "HRV", "AFG", ""],
    [70, 4, 4, 4, 3, 2, 2, 2, 1, 1, 7],
)

# Some keys of other German Jugendämter (receiving offices after distribution nach §42b).
_OTHER_OFFICES = [
    "09162", "05315", "11000", "02000", "06412", "03241", "14612", "16053", "12054", "15003",
    "13003", "07315", "10041", "04011", "09564", "05111", "06414", "03404", "14713", "05913",
]

ANGEBOT_PREFIX = {"1": "KSS", "2": "BP", "3": "CLR", "4": "WG-UMA", "5": "BJW", "6": "MVK", "7": "SON"}

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

_D = "datetime64[D]"
_NAT = np.datetime64("NaT", "D")


def _month_index(d: np.ndarray) -> np.ndarray:
    """datetime64[D] -> months since 1970-01."""
    return d.astype("datetime64[M]").astype(np.int64)


def _month_first(mi: np.ndarray) -> np.ndarray:
    return mi.astype("datetime64[M]").astype(_D)


def _add_years(d: np.ndarray, years: int) -> np.ndarray:
    """First-of-month dates plus whole years (exact, month arithmetic)."""
    return _month_first(_month_index(d) + 12 * years)


def _choice(r: np.random.Generator, values, weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.asarray(values, dtype=object)[r.choice(len(values), size=n, p=w / w.sum())]


def _days_in_year(year: int) -> np.ndarray:
    return np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"), dtype=_D)


def _draw_days(r: np.random.Generator, year: int, n: int, season: np.ndarray) -> np.ndarray:
    days = _days_in_year(year)
    months = days.astype("datetime64[M]").astype(int) % 12
    w = season[months]
    return np.sort(r.choice(days, size=n, p=w / w.sum()))


# ---------------------------------------------------------------------------------------------
# Facilities (plaetze): stable per office
# ---------------------------------------------------------------------------------------------

_PLACES = {"1": (6, 12), "2": (4, 15), "3": (10, 30), "4": (8, 12), "5": (6, 20), "6": (6, 12), "7": (5, 10)}
_AGES = {"1": [(0, 17), (12, 17), (6, 17)], "2": [(0, 6), (0, 3)], "3": [(12, 17), (14, 17)],
         "4": [(14, 21), (15, 20)], "5": [(16, 21), (16, 20)], "6": [(14, 27), (16, 27)], "7": [(6, 17), (10, 20)]}
_STAFF = {"1": 0.9, "2": 0.1, "3": 0.6, "4": 0.5, "5": 0.25, "6": 0.5, "7": 0.4}
_RATE = {"1": (280, 400), "2": (150, 200), "3": (250, 350), "4": (200, 300), "5": (150, 220), "6": (180, 260), "7": (180, 300)}


def _facilities(o: Office, seed: int) -> pd.DataFrame:
    r = _rng(seed, _ags_int(o.ags), 2)
    n = int(np.clip(round(3 + o.einwohner / 50_000), 3, 15))
    mix = ["1", "3", "4"]  # every office has a protective place and UMA clearing/group
    rest = _choice(r, ["1", "2", "4", "5", "6", "7", "3"], [2, 2, 3, 2, 1, 1, 1], n - len(mix))
    angebot = sorted(mix + list(rest), key=int)
    rows, count = [], {}
    short = o.name.replace(" im Breisgau", "")
    for a in angebot:
        count[a] = count.get(a, 0) + 1
        lo, hi = _PLACES[a]
        places = int(r.integers(lo, hi + 1))
        ages = _AGES[a][int(r.integers(len(_AGES[a])))]
        traeger = "01" if (a in ("1", "2") and r.random() < 0.3) else str(
            _choice(r, ["05", "06", "07", "08", "09", "12", "13", "14"], [2, 2, 1, 3, 3, 1, 3, 1], 1)[0])
        lo_r, hi_r = _RATE[a]
        rows.append({
            "einrichtung": f"{ANGEBOT_PREFIX[a]} {short} {count[a]}",
            "angebot": a, "traeger_art": traeger, "alter_von": ages[0], "alter_bis": ages[1],
            "basis": places, "p_gesperrt": float(r.uniform(0.03, 0.12)), "occ": float(r.uniform(0.88, 1.0)),
            "phase": float(r.uniform(0, 12)), "vzae": max(0.5, round(places * _STAFF[a] * 2) / 2),
            "tagessatz": round(float(r.uniform(lo_r, hi_r)), 2),
        })
    return pd.DataFrame(rows)


def _facility_month(fac: pd.DataFrame, o: Office, seed: int, month: str) -> dict[str, np.ndarray]:
    y, m = int(month[:4]), int(month[5:7])
    ry = _rng(seed, _ags_int(o.ags), 3, y)
    rm = _rng(seed, _ags_int(o.ags), 4, y * 12 + m)
    n = len(fac)
    delta = ry.choice([-1, 0, 0, 0, 1, 2], size=n)
    gen = np.maximum(fac["basis"].to_numpy() + delta, 2)
    gesp = rm.binomial(gen, fac["p_gesperrt"].to_numpy())
    occ = fac["occ"].to_numpy() + 0.05 * np.sin(2 * np.pi * (m + fac["phase"].to_numpy()) / 12) + rm.normal(0, 0.03, n)
    bel = np.minimum(np.round(np.clip(occ, 0.8, 1.08) * (gen - gesp)), gen).astype(int)
    soll = fac["vzae"].to_numpy() * (1 + 0.02 * (y - 2023))
    soll = np.round(soll * 2) / 2
    ist = np.round(soll * rm.uniform(0.82, 1.0, n), 1)
    rate = np.round(fac["tagessatz"].to_numpy() * 1.03 ** (y - 2023), 2)
    return {"gen": gen, "bel": bel, "gesp": gesp, "frei": gen - bel - gesp, "soll": soll, "ist": ist, "rate": rate}


# ---------------------------------------------------------------------------------------------
# Measures (massnahmen) and UMA persons
# ---------------------------------------------------------------------------------------------


def _network_share(o: Office) -> tuple[tuple[float, float, float], float]:
    pops = {}
    for x in offices():
        pops[x.verbund] = pops.get(x.verbund, 0) + x.einwohner
    flows = _NETWORK_FLOWS.get(o.verbund)
    if flows is None:  # an unknown network: BW rates per inhabitant
        flows, share = _NETWORK_FLOWS["BW"], o.einwohner / pops["BW"]
        return flows, share
    return flows, o.einwohner / pops[o.verbund]


def _measures_year(o: Office, seed: int, year: int, fac: pd.DataFrame) -> pd.DataFrame:
    r = _rng(seed, _ags_int(o.ags), 5, year)
    flows, share = _network_share(o)
    n_other, n_uma42, n_42a = (int(r.poisson(f * share)) for f in flows)
    kinds, days = [], []
    for kind, k in (("other", n_other), ("uma42", n_uma42), ("42a", n_42a)):
        season = _SEASON_OTHER if kind == "other" else _SEASON_UMA
        days.append(_draw_days(r, year, k, season))
        kinds.append(np.full(k, kind, dtype=object))
    days_a, kinds_a = np.concatenate(days), np.concatenate(kinds)
    order = np.argsort(days_a, kind="stable")
    df: dict[str, np.ndarray] = {}
    kind = kinds_a[order]
    beginn = days_a[order].astype(_D)
    n = len(beginn)
    df["kind"], df["beginn"] = kind, beginn
    uma = kind != "other"
    m2 = kind == "42a"
    df["fallnummer"] = [f"IO-{year}-{i + 1:06d}" for i in range(n)]
    df["massnahme"] = np.where(m2, "2", "1")
    df["unbegleitet"] = uma

    # age at Beginn in completed months (birthday = 1st of Geburtsmonat), always < 18 years
    grp_years = [(0, 2), (3, 5), (6, 8), (9, 11), (12, 13), (14, 15), (16, 17)]
    g = r.choice(7, size=n, p=[0.10, 0.05, 0.06, 0.09, 0.15, 0.28, 0.27])
    lo = np.array([a for a, _ in grp_years])[g]
    hi = np.array([b for _, b in grp_years])[g]
    years_other = r.integers(lo, hi + 1)
    years_uma = r.choice([12, 13, 14, 15, 16, 17], size=n, p=[0.01, 0.02, 0.10, 0.25, 0.35, 0.27])
    age_m = np.where(uma, years_uma, years_other) * 12 + r.integers(0, 12, n)
    bmi = _month_index(beginn) - age_m
    df["geburtsmonat"] = _month_first(bmi)
    gebm = df["geburtsmonat"]
    baby = age_m < 12

    df["geschlecht"] = np.where(uma, _choice(r, list("mwdo"), [90, 9.5, 0, 0.5], n), _choice(r, list("wmdo"), [52, 47, 0.5, 0.5], n))
    df["staatsangehoerigkeit"] = np.where(uma, _choice(r, *_NATIONALITIES_UMA, n), _choice(r, *_NATIONALITIES_OTHER, n))

    # Anlässe: independent inclusion with the BW frequencies among non-UMA measures, at least one
    codes_ = list(BW_2023_ANLAESSE)
    n_other_bw = _NETWORK_FLOWS["BW"][0]
    q = np.array([BW_2023_ANLAESSE[c] / n_other_bw for c in codes_]) * 0.93
    inc = r.random((n, len(codes_))) < q
    none = ~inc.any(axis=1)
    inc[none, r.choice(len(codes_), size=none.sum(), p=q / q.sum())] = True
    extra_uma = r.random(n) < 0.10
    extra_code = _choice(r, ["09", "10", "14", "13"], [3, 3, 3, 1], n)
    anl = []
    for i in range(n):
        if uma[i]:
            anl.append(["08", extra_code[i]] if extra_uma[i] else ["08"])
        else:
            anl.append([codes_[j] for j in np.flatnonzero(inc[i])])
    df["anlaesse"] = anl

    ang = np.where(uma, _choice(r, ["4", "3", "1", "8"], [50, 25, 15, 10], n),
                   _choice(r, ["1", "2", "3", "4", "5", "6", "7", "8"], [22, 10, 30, 20, 8, 4, 3, 3], n))
    ang = np.where(baby & (ang == "1"), "6", ang)
    df["angeregt_durch"] = ang
    auf = np.where(uma, _choice(r, ["10", "11", "06", "04"], [55, 35, 5, 5], n),
                   _choice(r, ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"],
                           [30, 8, 30, 6, 3, 2, 10, 1, 1, 5, 2], n))
    auf = np.where(baby & (age_m < 1) & (r.random(n) < 0.3), "12", auf)
    df["aufenthalt_vorher"] = auf

    age_y = age_m // 12
    u = r.random(n)
    unterbringung = np.where(uma, np.where(u < 0.80, "2", np.where(u < 0.95, "3", "1")),
                             np.where(age_y < 6, np.where(u < 0.65, "1", "2"),
                                      np.where(age_y < 12, np.where(u < 0.40, "1", np.where(u < 0.95, "2", "3")),
                                               np.where(u < 0.10, "1", np.where(u < 0.85, "2", "3")))))
    df["unterbringung"] = unterbringung
    ids_prot = fac.loc[fac["angebot"].isin(["1"]), "einrichtung"].to_numpy()
    ids_uma = fac.loc[fac["angebot"].isin(["3", "4"]), "einrichtung"].to_numpy()
    pick_prot = ids_prot[r.integers(0, len(ids_prot), n)]
    pick_uma = ids_uma[r.integers(0, len(ids_uma), n)]
    df["einrichtung"] = np.where(unterbringung == "2", np.where(uma, pick_uma, pick_prot), "")
    df["traeger"] = np.where(r.random(n) < 0.55, "1", "2")
    df["gefaehrdungseinschaetzung"] = np.where(uma, r.random(n) < 0.10, r.random(n) < 0.60)
    df["wiederholt"] = np.where(uma, r.random(n) < 0.02, r.random(n) < 0.12)
    w = r.random(n)
    widerspruch = np.where(uma, np.where(w < 0.8, "", "0"), np.where(w < 0.15, "1", np.where(w < 0.75, "0", "")))
    df["widerspruch"] = widerspruch
    df["familiengericht"] = np.where(widerspruch == "1", np.where(r.random(n) < 0.8, "1", "0"), widerspruch)

    # duration in days
    cls = r.choice(5, size=n, p=[0.33, 0.23, 0.13, 0.11, 0.20])
    lo = np.array([0, 2, 8, 15, 31])[cls]
    hi = np.array([1, 7, 14, 30, 364])[cls]
    d_other = np.where(cls < 4, r.integers(lo, hi + 1), np.clip(r.lognormal(np.log(120), 0.7, n), 31, 364))
    d_42a = np.clip(r.lognormal(np.log(32), 0.8, n), 3, 300)
    d_uma42 = np.clip(r.lognormal(np.log(75), 0.8, n), 3, 360)
    dur = np.where(kind == "other", d_other, np.where(m2, d_42a, d_uma42)).astype(int)
    ende = beginn + dur.astype("timedelta64[D]")
    bday18 = _add_years(gebm, 18)
    adult = bday18 <= ende
    ende = np.where(adult, bday18 - np.timedelta64(1, "D"), ende)
    df["ende"] = ende
    dur = (ende - beginn).astype(int)

    # end reason and follow-up
    eg = np.where(
        dur <= 7,
        _choice(r, ["1", "2", "6", "3", "8"], [65, 20, 8, 4, 3], n),
        _choice(r, ["1", "2", "3", "6", "8"], [30, 55, 5, 5, 5], n),
    )
    eg = np.where(kind == "uma42", _choice(r, ["2", "6", "3", "5", "1"], [65, 15, 12, 5, 3], n), eg)
    p_stay = _P_STAY.get(o.verbund, _P_STAY["BW"])
    eg_42a = _choice(r, ["4", "2", "5", "6", "3", "1", "8"],
                     [0.93 - p_stay - 0.23, p_stay, 0.06, 0.10, 0.03, 0.02, 0.02], n)
    # never reported to the Land distribution office: only the ones who ran away
    melde_k = _choice(r, list(range(1, 16)) + [0], [15, 20, 18, 12, 10, 7, 5, 3, 2, 1.5, 1, 1, 0.8, 0.4, 0.3, 3], n)
    eg_42a = np.where(melde_k == 0, "6", eg_42a)
    eg = np.where(m2, eg_42a, eg)
    eg = np.where(adult, "7", eg)
    anschl = np.empty(n, dtype=object)
    table = {
        "1": (["01", "02"], [60, 40]), "2": (["04", "03", "02", "06", "07"], [55, 25, 10, 5, 5]),
        "3": (["08"], [1]), "4": (["08"], [1]), "5": (["10", "09"], [80, 20]), "6": (["09"], [1]),
        "7": (["05", "09"], [90, 10]), "8": (["10", "07"], [70, 30]),
    }
    for code, (vals, wts) in table.items():
        sel = eg == code
        if sel.any():
            anschl[sel] = _choice(r, vals, wts, int(sel.sum()))
    anschl = np.where(uma & (eg == "2"), np.where(r.random(n) < 0.9, "04", "03"), anschl)
    df["ende_grund"] = eg
    df["anschluss"] = anschl

    # §42a: report to the Land distribution office, distribution decision
    melde = np.full(n, _NAT)
    for i in np.flatnonzero(m2 & (melde_k > 0)):
        b = beginn[i].astype(dt.date)
        melde[i] = np.datetime64(add_workdays(b, int(melde_k[i]), o.land), "D")
    melde = np.where(m2 & (melde > ende), ende, melde)
    df["meldung_landesstelle"] = melde
    vt = np.full(n, "", dtype=object)
    vt[m2 & (eg == "4")] = "1"
    excl = m2 & (eg == "2")
    vt[excl] = np.where(dur[excl] > 30, _choice(r, ["5", "2", "3", "4"], [40, 35, 15, 10], int(excl.sum())),
                        _choice(r, ["2", "3", "4"], [60, 25, 15], int(excl.sum())))
    vt[m2 & (eg == "5")] = "6"
    df["verteilentscheidung"] = vt
    members = [x.ags for x in offices() if x.verbund == o.verbund and x.ags != o.ags]
    targets = _choice(r, members + _OTHER_OFFICES, [1.5] * len(members) + [1.0] * len(_OTHER_OFFICES), n)
    df["zuweisung_jugendamt"] = np.where(vt == "1", targets, "")

    # UMA responsibility following the measure
    cont = uma & np.isin(eg, ["2", "7"])
    early = r.random(n) < 0.30
    early_days = r.exponential(300, n).astype(int) + 1
    short = r.random(n) < 0.35
    after18 = np.where(short, r.integers(0, 61, n), r.integers(180, 1001, n))
    planned = bday18 + after18.astype("timedelta64[D]")
    early_end = ende + early_days.astype("timedelta64[D]")
    use_early = early & (early_end < planned)
    bis = np.where(cont, np.where(use_early, early_end, planned), ende)
    bis = np.maximum(bis, ende)
    eg_uma = np.where(use_early, _choice(r, ["5", "2", "1", "6"], [40, 25, 25, 10], n), "3")
    map_end = {"4": "1", "3": "1", "5": "4", "6": "5", "1": "2", "8": "6", "2": "6", "7": "3"}
    eg_uma = np.where(cont, eg_uma, np.vectorize(map_end.get, otypes=[object])(eg))
    df["uma_bis"] = bis
    df["uma_ende_grund"] = eg_uma
    df["hilfe_minor"] = _choice(r, ["3", "5", "4", "7", "8"], [60, 20, 7, 5, 8], n)
    df["hilfe_adult"] = _choice(r, ["6", "5", "8"], [80, 10, 10], n)
    df["ausserhalb"] = r.random(n) < 0.2
    df["bday18"] = bday18
    return pd.DataFrame(df)


def _office_measures(o: Office, seed: int, first_year: int, last_year: int, fac: pd.DataFrame) -> pd.DataFrame:
    parts = [_measures_year(o, seed, y, fac) for y in range(first_year, last_year + 1)]
    df = pd.concat(parts, ignore_index=True)
    for c in ("beginn", "ende", "geburtsmonat", "meldung_landesstelle", "uma_bis", "bday18"):
        df[c] = df[c].to_numpy().astype(_D)
    return df


# ---------------------------------------------------------------------------------------------
# Building the monthly tables (rows as lists in delivery column order)
# ---------------------------------------------------------------------------------------------


class _OfficeData:
    """All simulated data of one office, pre-formatted in its style; sliced per month."""

    def __init__(self, o: Office, seed: int, von: str, bis: str):
        self.o, self.seed = o, seed
        self.style = delivery_style(o.ags, seed)
        self.fac = _facilities(o, seed)
        y0, y1 = int(von[:4]) - BURN_IN_YEARS, int(bis[:4])
        m = _office_measures(o, seed, y0, y1, self.fac)
        # keep what touches the requested months (measures or UMA responsibilities)
        last_day = np.datetime64(month_end(bis), "D")
        first_day = np.datetime64(parse_month(von), "D")
        until = np.where(m["unbegleitet"].to_numpy(), m["uma_bis"].to_numpy(), m["ende"].to_numpy())
        keep = (m["beginn"].to_numpy() <= last_day) & (until >= first_day)
        self.m = m = m.loc[keep].reset_index(drop=True)
        st = self.style
        bl = _blank(st)
        n = len(m)
        self.beginn = m["beginn"].to_numpy()
        self.ende = m["ende"].to_numpy()
        self.melde = m["meldung_landesstelle"].to_numpy()
        self.uma = m["unbegleitet"].to_numpy()
        self.uma_bis = m["uma_bis"].to_numpy()
        self.bday18 = m["bday18"].to_numpy()
        ags = np.full(n, o.ags, dtype=object)
        anl = np.array([st.anlass_sep.join(a) for a in m["anlaesse"]], dtype=object)
        # massnahmen columns in delivery order; None marks state-dependent columns filled per month
        self.mcols = {
            "fallnummer": m["fallnummer"].to_numpy(dtype=object), "jugendamt": ags,
            "massnahme": m["massnahme"].to_numpy(dtype=object), "traeger": m["traeger"].to_numpy(dtype=object),
            "beginn": _fmt_dates(self.beginn, st), "ende": _fmt_dates(self.ende, st),
            "geburtsmonat": _fmt_months(m["geburtsmonat"].to_numpy(), st),
            "geschlecht": m["geschlecht"].to_numpy(dtype=object),
            "staatsangehoerigkeit": _text(m["staatsangehoerigkeit"].to_numpy(dtype=object), st),
            "unbegleitet": _fmt_bool(self.uma, st), "anlaesse": anl,
            "angeregt_durch": m["angeregt_durch"].to_numpy(dtype=object),
            "aufenthalt_vorher": m["aufenthalt_vorher"].to_numpy(dtype=object),
            "unterbringung": m["unterbringung"].to_numpy(dtype=object),
            "einrichtung": _text(m["einrichtung"].to_numpy(dtype=object), st),
            "gefaehrdungseinschaetzung": _fmt_bool(m["gefaehrdungseinschaetzung"].to_numpy(), st),
            "wiederholt": _fmt_bool(m["wiederholt"].to_numpy(), st),
            "widerspruch": _fmt_boolstr(m["widerspruch"].to_numpy(dtype=object), st),
            "familiengericht": _fmt_boolstr(m["familiengericht"].to_numpy(dtype=object), st),
            "ende_grund": m["ende_grund"].to_numpy(dtype=object), "anschluss": m["anschluss"].to_numpy(dtype=object),
            "meldung_landesstelle": _fmt_dates(self.melde, st),
            "verteilentscheidung": _text(m["verteilentscheidung"].to_numpy(dtype=object), st),
            "zuweisung_jugendamt": _text(m["zuweisung_jugendamt"].to_numpy(dtype=object), st),
            **_herkunft_sprache(o, seed, self.uma, st),
        }
        self.ucols = {
            "fallnummer": self.mcols["fallnummer"], "jugendamt": ags, "zustaendig_seit": self.mcols["beginn"],
            "zustaendig_bis": _fmt_dates(self.uma_bis, st), "geburtsmonat": self.mcols["geburtsmonat"],
            "geschlecht": self.mcols["geschlecht"], "staatsangehoerigkeit": self.mcols["staatsangehoerigkeit"],
            "hilfeart": None, "unterbringung_ausserhalb": _fmt_bool(m["ausserhalb"].to_numpy(), st),
            "ende_grund": m["uma_ende_grund"].to_numpy(dtype=object),
        }
        self.massnahme = m["massnahme"].to_numpy(dtype=object)
        self.hilfe_minor = m["hilfe_minor"].to_numpy(dtype=object)
        self.hilfe_adult = m["hilfe_adult"].to_numpy(dtype=object)
        self._bl = bl

    def massnahmen(self, month: str) -> list[list]:
        first = np.datetime64(parse_month(month), "D")
        last = np.datetime64(month_end(month), "D")
        idx = np.flatnonzero((self.beginn <= last) & (self.ende >= first))
        ended = self.ende[idx] <= last
        reported = self.melde[idx] <= last  # NaT compares False
        cols = []
        bl = self._bl
        for c in DATASETS["massnahmen"].columns:
            v = self.mcols[c.name][idx]
            if c.name in ("ende", "ende_grund", "anschluss", "verteilentscheidung", "zuweisung_jugendamt"):
                v = np.where(ended, v, bl)
            elif c.name == "meldung_landesstelle":
                v = np.where(reported, v, bl)
            cols.append(v)
        return _rows(cols, len(idx))

    def uma_persons(self, month: str) -> tuple[list[list], int]:
        first = np.datetime64(parse_month(month), "D")
        last = np.datetime64(month_end(month), "D")
        idx = np.flatnonzero(self.uma & (self.beginn <= last) & (self.uma_bis >= first))
        ended = self.uma_bis[idx] <= last
        at = np.where(ended, self.uma_bis[idx], last)  # state at the month's end or the end of responsibility
        in_measure = at <= self.ende[idx]
        minor = at < self.bday18[idx]
        hilfe = np.where(in_measure, np.where(self.massnahme[idx] == "2", "1", "2"),
                         np.where(minor, self.hilfe_minor[idx], self.hilfe_adult[idx]))
        bl = self._bl
        cols = []
        for c in DATASETS["uma"].columns:
            if c.name == "hilfeart":
                cols.append(hilfe.astype(object))
                continue
            v = self.ucols[c.name][idx]
            if c.name in ("zustaendig_bis", "ende_grund"):
                v = np.where(ended, v, bl)
            cols.append(v)
        stock = int((~ended & (hilfe != "1")).sum())
        return _rows(cols, len(idx)), stock

    def plaetze(self, month: str) -> list[list]:
        st, fac = self.style, self.fac
        v = _facility_month(fac, self.o, self.seed, month)
        n = len(fac)
        stichtag = _fmt_dates(np.full(n, np.datetime64(month_end(month), "D")), st)
        frei = np.full(n, self._bl, dtype=object) if st.frei_leer else _fmt_int(v["frei"], st)
        rate = np.full(n, self._bl, dtype=object) if st.tagessatz_leer else _fmt_decimal(v["rate"], st)
        cols = [fac["einrichtung"].to_numpy(dtype=object), np.full(n, self.o.ags, dtype=object), stichtag,
                fac["angebot"].to_numpy(dtype=object), fac["traeger_art"].to_numpy(dtype=object),
                _fmt_int(fac["alter_von"].to_numpy(), st), _fmt_int(fac["alter_bis"].to_numpy(), st),
                _fmt_int(v["gen"], st), _fmt_int(v["bel"], st), _fmt_int(v["gesp"], st), frei,
                _fmt_decimal(v["soll"], st), _fmt_decimal(v["ist"], st), rate]
        return _rows(cols, n)

    def personal(self, month: str, uma_stock: int) -> list[list]:
        st, o = self.style, self.o
        y, m = int(month[:4]), int(month[5:7])
        r = _rng(self.seed, _ags_int(o.ags), 6, y * 12 + m)
        pop = o.einwohner
        soll = np.array([pop / 5_500, max(1.0, uma_stock / 45), pop / 20_000, pop / 15_000, pop / 25_000])
        soll = np.round(soll * (1 + 0.015 * (y - 2023)) * 2) / 2
        ist = np.round(soll * r.uniform(0.82, 0.99, 5), 1)
        unbesetzt = np.round(soll - ist, 1)
        faelle = np.array([pop / 170 * r.uniform(0.95, 1.05), uma_stock, pop / 900 * r.uniform(0.97, 1.03),
                           pop / 400 * r.uniform(0.95, 1.05), pop / 1_500 * r.uniform(0.9, 1.1)]).round()
        n = 5
        cols = [np.full(n, o.ags, dtype=object), _fmt_dates(np.full(n, np.datetime64(month_end(month), "D")), st),
                np.array(["1", "2", "3", "4", "5"], dtype=object), _fmt_decimal(soll, st), _fmt_decimal(ist, st),
                _fmt_decimal(unbesetzt, st), _fmt_int(faelle, st)]
        return _rows(cols, n)


def collects_herkunft(ags: str) -> bool:
    """Whether the simulated office delivers the optional columns Herkunft_Eltern and
    Familiensprache (about half of the offices; the others leave them empty = nicht erhoben)."""
    return int(ags) % 2 == 0


def _herkunft_sprache(o: Office, seed: int, uma: np.ndarray, st: DeliveryStyle) -> dict[str, np.ndarray]:
    """The optional federal features (own random stream: the other columns stay as before)."""
    n = len(uma)
    if not collects_herkunft(o.ags):
        blank = np.full(n, _blank(st), dtype=object)
        return {"herkunft_eltern": blank, "familiensprache": blank.copy()}
    r = _rng(seed, _ags_int(o.ags), 9901)
    u = r.random(n)
    herkunft = np.where(uma, np.where(u < 0.97, "1", "9"), np.where(u < 0.38, "1", np.where(u < 0.95, "2", "9")))
    v = r.random(n)
    sprache = np.where(herkunft == "1", np.where(v < 0.7, "2", np.where(v < 0.95, "1", "9")),
                       np.where(herkunft == "2", np.where(v < 0.97, "1", "9"), np.where(v < 0.5, "9", "1")))
    return {"herkunft_eltern": herkunft.astype(object), "familiensprache": sprache.astype(object)}


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def generate(landing: Path, von: str, bis: str, seed: int = 42, fehlerquote: float = 0.0,
             jugendaemter: Sequence[str] | None = None, *, workers: int | None = None,
             heute: dt.date | None = None) -> dict:
    """Write synthetic deliveries ``<landing>/<ags>/<ags>_<dataset>_<YYYY-MM>.<csv|xlsx>``.

    All four datasets for every office in ``jugendaemter`` (default: all member offices) and every
    month ``von``..``bis`` (``YYYY-MM``, inclusive). ``fehlerquote`` is the share of files that get
    one or two realistic delivery mistakes. ``workers``: processes to use (default: up to 2;
    the output does not depend on it). ``heute`` (default: today's date, UTC): no file is dated
    after its start; the output depends on it only for months whose usual receipt (5th of the
    following month) is not yet past. Returns a summary::

        {"files": int (files written), "paths": [paths relative to landing], "rows": {dataset: int},
         "errors": [{"file", "row", "column", "kind", "severity"}], "seed", "von", "bis",
         "fehlerquote", "jugendaemter": [ags], "styles": {ags: style kind/encoding}}
    """
    try:
        parse_month(von), parse_month(bis)
    except (ValueError, AttributeError):
        raise ValueError(f"Ungültiger Monat „{von}“ oder „{bis}“; erwartet wird JJJJ-MM.") from None
    if len(von) != 7 or len(bis) != 7 or von > bis:
        raise ValueError(f"Ungültiger Zeitraum {von} bis {bis}: erwartet JJJJ-MM und von ≤ bis.")
    if not 0.0 <= fehlerquote <= 1.0:
        raise ValueError(f"Die Fehlerquote muss zwischen 0 und 1 liegen (angegeben: {fehlerquote}).")
    known = {o.ags: o for o in offices()}
    keys = list(jugendaemter) if jugendaemter else list(known)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"Unbekannte Jugendamtsschlüssel: {', '.join(unknown)}.")
    landing = Path(landing)
    summary = {"files": 0, "paths": [], "rows": {d: 0 for d in DATASETS}, "errors": [],
               "seed": seed, "von": von, "bis": bis, "fehlerquote": fehlerquote, "jugendaemter": keys,
               "styles": {}}
    heute = heute or dt.datetime.now(dt.timezone.utc).date()
    tasks = [(str(landing), ags, von, bis, seed, fehlerquote, heute) for ags in keys]
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers > 1 and len(tasks) > 2 and "fork" in multiprocessing.get_all_start_methods():
        # offices are independent (own random streams); map() keeps their order -> same summary.
        # "fork" (not spawn) so that callers need no __main__ guard; use workers=1 inside
        # heavily threaded hosts.
        ctx = multiprocessing.get_context("fork")
        # the slow ones (Excel, large offices) first, for an even load
        order = sorted(range(len(tasks)), key=lambda i: (delivery_style(keys[i], seed).kind != "xlsx",
                                                         -{o.ags: o.einwohner for o in offices()}[keys[i]]))
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
            done = list(ex.map(_generate_office, [tasks[i] for i in order], chunksize=1))
        parts = [None] * len(tasks)
        for i, part in zip(order, done):
            parts[i] = part
    else:
        parts = [_generate_office(t) for t in tasks]
    for part in parts:
        summary["files"] += part["files"]
        summary["paths"].extend(part["paths"])
        for d, n in part["rows"].items():
            summary["rows"][d] += n
        summary["errors"].extend(part["errors"])
        summary["styles"].update(part["styles"])
    return summary


def _generate_office(task: tuple) -> dict:
    """Simulate and write all files of one office (runs in a worker process)."""
    landing, ags, von, bis, seed, fehlerquote, heute = task
    o = {x.ags: x for x in offices()}[ags]
    data = _OfficeData(o, seed, von, bis)
    st = data.style
    out = {"files": 0, "paths": [], "rows": {d: 0 for d in DATASETS}, "errors": [],
           "styles": {ags: f"{st.kind}/{st.encoding}" if st.kind != "xlsx" else "xlsx"}}
    folder = Path(landing) / ags
    folder.mkdir(parents=True, exist_ok=True)
    for month in month_range(von, bis):
        uma_rows, uma_stock = data.uma_persons(month)
        tables = {
            "massnahmen": data.massnahmen(month), "uma": uma_rows,
            "plaetze": data.plaetze(month), "personal": data.personal(month, uma_stock),
        }
        for ds, rows in tables.items():
            name = f"{ags}_{ds}_{month}.{st.ext}"
            out["rows"][ds] += len(rows)
            out["errors"].extend(_maybe_inject(ds, rows, st, month, o, seed, fehlerquote, f"{ags}/{name}"))
            _write(folder / name, ds, rows, st, month, heute)
            out["paths"].append(f"{ags}/{name}")
            out["files"] += 1
    return out
