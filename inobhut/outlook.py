"""Five-year outlook ("UMA care in five years"): entries, places, staff and cost by scenario.

Belongs here: the projection of monthly entries (Zugänge) per network and measure type from the
history in the statistics tables, the three scenarios of the settings ``[prognose]``, places
needed by Little's law per Angebot against usable places, the FTE gap from
``prognose.vzae_je_platz``, cost from the mean Tagessatz, uncertainty bands, the backtest and the
German description of method and assumptions for the report's notes. The method is documented
in ``docs/prognose.md``.

Not here: computing the monthly tables (:mod:`inobhut.statistics`, :mod:`inobhut.stat_store`), charts and report layout
(:mod:`inobhut.reports`).

Method (numpy only):
* Model per network and Massnahme: ``log(1 + Zugänge_t) = a + b·t + s_(Kalendermonat) + e_t``,
  fitted by least squares; the seasonal terms only with at least 24 months of history.
* Projection: the trend is damped (factor ``PHI`` per month, so that a short-lived rise or fall
  is not extrapolated for five years), seasonal terms repeat; scenario factor
  ``(1 + r)^(h/12)`` with r = ``szenario_niedrig|mittel|hoch`` (change per year against trend).
* Uncertainty: 80 % band ``exp(± 1.2816 · σ · sqrt(1 + h/n))`` around the projection, σ = residual
  standard deviation on the log scale, n = months fitted.
* Places (Little's law): mean stock = entries per day × mean duration in days, split over
  Angebote by the shares (entries × duration) of the measures that ended in the last 12 months.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from inobhut import config
from inobhut.calendar import add_months, month_end, month_range, parse_month
from schemas.datasets import codes, label

PHI = 0.97  # monthly damping of the trend
Z80 = 1.2816
SZENARIEN = ("niedrig", "mittel", "hoch")
MIN_MONTHS = 12
MIN_SEASONAL = 24


@dataclass
class Fit:
    """Fitted log-linear trend with optional monthly seasonal terms."""

    a: float
    b: float
    season: np.ndarray  # 12 additive terms on the log scale (mean 0)
    sigma: float
    n: int
    last_t: int
    last_month: str

    def predict_log(self, h: np.ndarray) -> np.ndarray:
        """Log-scale mean for h = 1, 2, ... months after the last fitted month (damped trend)."""
        h = np.asarray(h, dtype=float)
        damp = np.array([PHI * (1 - PHI ** k) / (1 - PHI) for k in h])
        months = [(parse_month(add_months(self.last_month, int(k))).month - 1) for k in h]
        return self.a + self.b * (self.last_t + damp) + self.season[months]


def fit_series(months: list[str], values: np.ndarray) -> Fit:
    """Least-squares fit of ``log1p(values)`` on trend (+ calendar-month dummies if ≥ 24 months)."""
    y = np.log1p(np.asarray(values, dtype=float))
    n = len(y)
    if n < MIN_MONTHS:
        raise ValueError(f"Für eine Vorausschau sind mindestens {MIN_MONTHS} Monate nötig (vorhanden: {n}).")
    t = np.arange(n, dtype=float)
    cal = np.array([parse_month(m).month - 1 for m in months])
    cols = [np.ones(n), t]
    seasonal = n >= MIN_SEASONAL
    if seasonal:  # sum-to-zero coding of the 12 calendar months
        for k in range(11):
            cols.append((cal == k).astype(float) - (cal == 11).astype(float))
    x = np.column_stack(cols)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = max(n - x.shape[1], 1)
    season = np.zeros(12)
    if seasonal:
        season[:11] = beta[2:]
        season[11] = -beta[2:].sum()
    return Fit(float(beta[0]), float(beta[1]), season, float(np.sqrt((resid ** 2).sum() / dof)), n, n - 1, months[-1])


def project(fit: Fit, horizon: int, rate: float = 0.0) -> pd.DataFrame:
    """Monthly projection with an 80 % band; ``rate`` = scenario change per year against trend."""
    h = np.arange(1, horizon + 1)
    mu = fit.predict_log(h) + np.log1p(rate) * h / 12.0
    half = Z80 * fit.sigma * np.sqrt(1.0 + h / fit.n)
    return pd.DataFrame({
        "monat": [add_months(fit.last_month, int(k)) for k in h],
        "zugaenge": np.expm1(mu).clip(min=0), "unter": np.expm1(mu - half).clip(min=0),
        "ober": np.expm1(mu + half).clip(min=0),
    })


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error in % (months with 0 actual entries are left out)."""
    a, p = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    ok = a > 0
    return float(100.0 * np.mean(np.abs(p[ok] - a[ok]) / a[ok])) if ok.any() else float("nan")


def backtest(months: list[str], values: np.ndarray, holdout: int = 12) -> dict:
    """Fit on all but the last ``holdout`` months, project them (scenario mittel = trend) and
    compare: MAPE, error of the 12-month sum, share of months inside the 80 % band."""
    values = np.asarray(values, dtype=float)
    fit = fit_series(months[:-holdout], values[:-holdout])
    pr = project(fit, holdout)
    actual = values[-holdout:]
    inside = float(np.mean((actual >= pr["unter"].to_numpy()) & (actual <= pr["ober"].to_numpy())))
    total_err = float(100.0 * (pr["zugaenge"].sum() - actual.sum()) / actual.sum()) if actual.sum() else float("nan")
    return {"mape_pct": mape(actual, pr["zugaenge"].to_numpy()), "summenfehler_pct": total_err,
            "anteil_im_band": inside, "monate_angepasst": fit.n, "monate_geprueft": holdout}


# ---------------------------------------------------------------------------------------------
# inputs from the warehouse


def entry_history(con: duckdb.DuckDBPyConnection, verbund: str) -> pd.DataFrame:
    """Monthly entries of the network per Massnahme from ``stat_bewegung`` (months without a row
    within the observed range count 0): columns monat, massnahme, zugaenge."""
    from inobhut.stat_store import ensure_tables

    ensure_tables(con)
    df = con.execute("SELECT monat, massnahme, zugaenge FROM stat_bewegung WHERE jugendamt = ?", [verbund]).df()
    if df.empty:
        return pd.DataFrame(columns=["monat", "massnahme", "zugaenge"])
    months = month_range(df["monat"].min(), df["monat"].max())
    grid = pd.MultiIndex.from_product([months, codes("massnahme")], names=["monat", "massnahme"])
    s = df.set_index(["monat", "massnahme"])["zugaenge"].astype("float64").reindex(grid, fill_value=0.0)
    return s.reset_index()


def duration_by_angebot(con: duckdb.DuckDBPyConnection, verbund: str, last_month: str) -> pd.DataFrame:
    """Per Massnahme and Angebot: share of entries and mean duration (days) of the measures of the
    network that ended in the 12 months up to ``last_month``. Angebot: that of the measure's
    Einrichtung in ``plaetze``; without one, Unterbringung 1 -> Angebot 2 (Bereitschaftspflege),
    otherwise 7 (Sonstige)."""
    members = [o.ags for o in config.network_offices(verbund)]
    first = parse_month(add_months(last_month, -11))
    last = month_end(last_month)
    df = con.execute(
        """WITH ended AS (
               SELECT jugendamt, massnahme, beginn, ende, unterbringung, einrichtung FROM massnahmen
               WHERE ende IS NOT NULL AND strftime(ende, '%Y-%m') = monat AND ende BETWEEN $1 AND $2
                 AND jugendamt IN (SELECT unnest($3::VARCHAR[]))
               QUALIFY row_number() OVER (PARTITION BY jugendamt, fall_id ORDER BY monat DESC) = 1),
           fac AS (SELECT jugendamt, einrichtung, arg_max(angebot, stichtag) AS angebot FROM plaetze GROUP BY ALL)
           SELECT e.massnahme, coalesce(f.angebot, CASE WHEN e.unterbringung = '1' THEN '2' ELSE '7' END) AS angebot,
                  count(*) AS n, avg(date_diff('day', e.beginn, e.ende)) AS dauer
           FROM ended e LEFT JOIN fac f ON f.jugendamt = e.jugendamt AND f.einrichtung = e.einrichtung
           GROUP BY ALL""",
        [first, last, members],
    ).df()
    if df.empty:
        return pd.DataFrame(columns=["massnahme", "angebot", "anteil", "dauer"])
    df["anteil"] = df["n"] / df.groupby("massnahme")["n"].transform("sum")
    return df[["massnahme", "angebot", "anteil", "dauer", "n"]]


def capacity_now(con: duckdb.DuckDBPyConnection, verbund: str, last_month: str) -> pd.DataFrame:
    """Usable places, filled FTE and cost per occupied place-day per Angebot of the network at
    the latest Stichtag up to ``last_month`` (from ``stat_kapazitaet`` and ``stat_plaetze``)."""
    from inobhut.stat_store import ensure_tables

    ensure_tables(con)
    k = con.execute(
        """SELECT angebot, nutzbar, kosten_je_belegtag FROM stat_kapazitaet
           WHERE jugendamt = $1 AND angebot <> 'insgesamt' AND stichtag = (
               SELECT max(stichtag) FROM stat_kapazitaet WHERE jugendamt = $1 AND strftime(stichtag, '%Y-%m') <= $2)""",
        [verbund, last_month]).df()
    p = con.execute(
        """SELECT angebot, vzae_ist FROM stat_plaetze WHERE jugendamt = $1 AND stichtag = (
               SELECT max(stichtag) FROM stat_plaetze WHERE jugendamt = $1 AND strftime(stichtag, '%Y-%m') <= $2)""",
        [verbund, last_month]).df()
    return k.merge(p, on="angebot", how="outer")


# ---------------------------------------------------------------------------------------------
# the outlook


@dataclass
class Outlook:
    verbund: str
    letzter_monat: str
    zugaenge: pd.DataFrame  # monat, massnahme, szenario, zugaenge, unter, ober (+ observed history)
    plaetze: pd.DataFrame  # jahr, szenario, angebot, benoetigt, unter, ober, nutzbar, luecke, vzae_*, kosten_jahr
    backtest: dict = field(default_factory=dict)  # massnahme -> backtest result
    methode: str = ""  # German description for the report's notes
    annahmen: list[str] = field(default_factory=list)


def outlook(con: duckdb.DuckDBPyConnection, verbund: str, *, horizon: int | None = None) -> Outlook:
    """Five-year outlook of ``verbund`` from the full history in the statistics tables."""
    st = config.settings()["prognose"]
    horizon = int(horizon or st.get("horizont_monate", 60))
    rates = {s: float(st.get(f"szenario_{s}", 0.0)) for s in SZENARIEN}
    ratio = {str(k): float(v) for k, v in st.get("vzae_je_platz", {}).items()}
    hist = entry_history(con, verbund)
    if hist.empty:
        raise ValueError(f"Für {verbund} liegen keine Monatsdaten vor.")
    months = sorted(hist["monat"].unique())
    last = months[-1]
    rows, bt = [], {}
    for mk in codes("massnahme"):
        y = hist[hist["massnahme"] == mk].set_index("monat")["zugaenge"].reindex(months).to_numpy()
        fit = fit_series(months, y)
        for m, v in zip(months, y):
            rows.append({"monat": m, "massnahme": mk, "szenario": "beobachtet", "zugaenge": v, "unter": v, "ober": v})
        for s, r in rates.items():
            pr = project(fit, horizon, r).assign(massnahme=mk, szenario=s)
            rows.extend(pr.to_dict("records"))
        if len(months) >= MIN_MONTHS + 12:
            bt[mk] = backtest(months, y)
    entries = pd.DataFrame(rows)[["monat", "massnahme", "szenario", "zugaenge", "unter", "ober"]]

    dur = duration_by_angebot(con, verbund, last)
    cap = capacity_now(con, verbund, last).set_index("angebot")
    prow = []
    for year in range(1, horizon // 12 + 1):
        window = [add_months(last, k) for k in range(12 * (year - 1) + 1, 12 * year + 1)]
        for s in SZENARIEN:
            e = entries[(entries["szenario"] == s) & entries["monat"].isin(window)]
            per_day = {mk: {c: e[e["massnahme"] == mk][c].sum() / 365.0 for c in ("zugaenge", "unter", "ober")}
                       for mk in codes("massnahme")}
            for ang in codes("angebot"):
                need = {c: 0.0 for c in ("zugaenge", "unter", "ober")}
                entries_year = 0.0
                for d in dur[dur["angebot"] == ang].itertuples():
                    entries_year += per_day[d.massnahme]["zugaenge"] * 365.0 * d.anteil
                    for c in need:
                        need[c] += per_day[d.massnahme][c] * d.anteil * d.dauer
                nutzbar = float(cap["nutzbar"].get(ang, 0) or 0) if "nutzbar" in cap else 0.0
                vz_ist = float(cap["vzae_ist"].get(ang, 0) or 0) if "vzae_ist" in cap else 0.0
                rate = cap["kosten_je_belegtag"].get(ang, np.nan) if "kosten_je_belegtag" in cap else np.nan
                vz_need = need["zugaenge"] * ratio.get(ang, 0.0)
                if need["zugaenge"] == 0 and nutzbar == 0:
                    continue
                prow.append({
                    "jahr": year, "bis_monat": window[-1], "szenario": s, "angebot": ang,
                    "zugaenge": entries_year, "benoetigt": need["zugaenge"], "unter": need["unter"], "ober": need["ober"],
                    "nutzbar": nutzbar, "luecke": need["zugaenge"] - nutzbar,
                    "vzae_benoetigt": vz_need, "vzae_ist": vz_ist, "vzae_luecke": vz_need - vz_ist,
                    "kosten_je_belegtag": rate,
                    "kosten_jahr": need["zugaenge"] * 365.0 * rate if pd.notna(rate) else np.nan,
                })
    places = pd.DataFrame(prow)
    text, assumptions = describe(verbund, months, rates, ratio, bt)
    return Outlook(verbund, last, entries, places, bt, text, assumptions)


def report_frame(con: duckdb.DuckDBPyConnection, verbund: str) -> pd.DataFrame | None:
    """The outlook as the Strategiebericht's table: one row per year × scenario × Angebot with the
    columns of ``inobhut.reports.strategie.OUTLOOK_LABELS`` (``jahr`` as the calendar year of the
    projection's last month, ``angebot`` as German label, places rounded up, cost in EUR per
    year). ``None`` when the history is too short (under 12 months) or missing."""
    try:
        o = outlook(con, verbund)
    except ValueError:
        return None
    p = o.plaetze
    if p.empty:
        return None
    return pd.DataFrame({
        "jahr": [int(m[:4]) for m in p["bis_monat"]], "szenario": p["szenario"],
        "angebot": [label("angebot", a) for a in p["angebot"]], "zugaenge": p["zugaenge"].round(0),
        "bestand_mittel": p["benoetigt"].round(1), "plaetze_bedarf": np.ceil(p["benoetigt"] - 1e-9),
        "plaetze_nutzbar": p["nutzbar"], "plaetze_luecke": np.ceil(p["benoetigt"] - 1e-9) - p["nutzbar"],
        "vzae_bedarf": p["vzae_benoetigt"].round(1), "vzae_luecke": p["vzae_luecke"].round(1),
        "kosten_eur": p["kosten_jahr"].round(0), "untere_grenze": np.ceil(p["unter"] - 1e-9),
        "obere_grenze": np.ceil(p["ober"] - 1e-9),
    })


def describe(verbund: str, months: list[str], rates: dict, ratio: dict, bt: dict) -> tuple[str, list[str]]:
    """Method and assumptions in German for the report's notes."""
    seasonal = len(months) >= MIN_SEASONAL
    pct = {s: f"{100 * r:+.0f} %".replace("+0 %", "±0 %") for s, r in rates.items()}
    text = (
        f"Vorausschau für {verbund} aus {len(months)} Monaten ({months[0]} bis {months[-1]}): Für jede Maßnahmeart "
        "werden die monatlichen Zugänge mit einem log-linearen Trend"
        + (" und einer Saisonkomponente je Kalendermonat" if seasonal else " (ohne Saisonkomponente: weniger als 24 Monate)")
        + f" angepasst; der Trend wird gedämpft fortgeschrieben (Faktor {PHI} je Monat). Der Bedarf an Plätzen folgt "
        "aus Little's Gesetz: mittlerer Bestand = Zugänge je Tag × mittlere Dauer in Tagen, aufgeteilt auf die "
        "Angebote nach den beendeten Maßnahmen der letzten zwölf Monate, verglichen mit den nutzbaren Plätzen "
        "(genehmigt − gesperrt). Das Band umfasst etwa 80 % der zu erwartenden Werte (Streuung der Restabweichungen). "
        "Die Vorausschau ist eine Hilfe für den Strategieprozess, keine Vorhersage."
    )
    assumptions = [
        f"Szenarien (jährliche Veränderung der Zugänge gegenüber dem Trend): niedrig {pct['niedrig']}, "
        f"mittel {pct['mittel']}, hoch {pct['hoch']}.",
        "Mittlere Dauer und Verteilung auf die Angebote bleiben wie in den letzten zwölf Monaten.",
        "Personalbedarf = benötigte Plätze × Betreuungsschlüssel (VZÄ je Platz): "
        + ", ".join(f"{label('angebot', a)} {v:g}".replace(".", ",") for a, v in sorted(ratio.items())) + ".",
        "Kosten = benötigte Plätze × 365 × mittlerer Tagessatz je belegtem Platz (nur Einrichtungen mit Tagessatz).",
    ]
    for mk, r in bt.items():
        assumptions.append(
            f"Rückblicktest {label('massnahme', mk)}: angepasst ohne die letzten {r['monate_geprueft']} Monate, mittlere "
            f"absolute Abweichung (MAPE) {r['mape_pct']:.1f} %".replace(".", ",")
            + f", Abweichung der Jahressumme {r['summenfehler_pct']:+.1f} %".replace(".", ",") + ".")
    return text, assumptions
