"""Tests of :mod:`inobhut.outlook`: the model on known series, the scenarios, Little's law
against the capacity, and the backtest on a generated three-year history of SH-KOOP."""

from __future__ import annotations

import numpy as np
import pytest

from inobhut import outlook as ol
from inobhut.calendar import month_range


def test_fit_recovers_trend_and_season():
    months = month_range("2019-01", "2023-12")
    t = np.arange(len(months))
    season = np.array([0.2, 0.1, 0, -0.1, -0.2, -0.2, -0.1, 0, 0.1, 0.2, 0.1, -0.1])
    cal = np.array([int(m[5:]) - 1 for m in months])
    y = np.expm1(3.0 + 0.01 * t + season[cal])
    fit = ol.fit_series(months, y)
    assert fit.b == pytest.approx(0.01, abs=1e-9)
    assert fit.season == pytest.approx(season - season.mean(), abs=1e-9)
    assert fit.sigma == pytest.approx(0.0, abs=1e-9)
    pr = ol.project(fit, 24)
    # damped: the projected trend grows less than the undamped one, the season repeats
    undamped = np.expm1(3.0 + 0.01 * (len(months) - 1 + 24) + season[11])
    assert pr["zugaenge"].iloc[-1] < undamped
    assert pr["monat"].iloc[0] == "2024-01" and len(pr) == 24
    assert np.allclose(pr["unter"], pr["zugaenge"]) and np.allclose(pr["ober"], pr["zugaenge"])  # no spread, no band


def test_scenarios_order_and_band_widens():
    rng = np.random.default_rng(3)
    months = month_range("2021-01", "2023-12")
    y = rng.poisson(40, len(months)).astype(float)
    fit = ol.fit_series(months, y)
    lo, mid, hi = (ol.project(fit, 60, r) for r in (-0.15, 0.0, 0.25))
    assert (lo["zugaenge"] < mid["zugaenge"]).all() and (mid["zugaenge"] < hi["zugaenge"]).all()
    # after 5 years the scenario factor is (1 + r)^5
    assert hi["zugaenge"].iloc[-1] + 1 == pytest.approx((mid["zugaenge"].iloc[-1] + 1) * 1.25 ** 5, rel=1e-9)
    width = mid["ober"] - mid["unter"]
    assert width.iloc[-1] > width.iloc[0] > 0


def test_too_short_history_is_refused():
    with pytest.raises(ValueError, match="mindestens 12 Monate"):
        ol.fit_series(month_range("2023-01", "2023-06"), np.ones(6))


def test_mape():
    assert ol.mape(np.array([10, 20, 0]), np.array([11, 18, 5])) == pytest.approx(10.0)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """SH-KOOP, 2021-01 to 2023-12, generated and read with the real ingest into a warehouse."""
    from inobhut import stat_store
    from tests.helpers_fixtures import ingested_network_warehouse

    with ingested_network_warehouse(tmp_path_factory.mktemp("prognose"), "SH-KOOP", "2021-01", "2023-12", seed=5,
                             datasets=("massnahmen", "plaetze"), key=b"prognose") as (wh, _):
        with wh.connect() as con:
            for m in month_range("2021-01", "2023-12"):
                stat_store.write_month(con, m, {n: stat_store.MONTHLY[n](con, m) for n in ("bewegung", "plaetze", "kapazitaet")})
        yield wh


def test_outlook_on_generated_history(history):
    with history.connect() as con:
        o = ol.outlook(con, "SH-KOOP")
        hist = ol.entry_history(con, "SH-KOOP")
    assert o.letzter_monat == "2023-12"
    assert len(hist) == 36 * 2
    proj = o.zugaenge[o.zugaenge["szenario"] == "mittel"]
    assert proj["monat"].min() == "2024-01" and proj["monat"].max() == "2028-12"
    assert set(o.zugaenge["szenario"]) == {"beobachtet", "niedrig", "mittel", "hoch"}
    # projected yearly entries of the middle scenario stay in the range of the history (damped trend)
    hist_year = hist["zugaenge"].sum() / 3
    first_year = proj[proj["monat"] <= "2024-12"]["zugaenge"].sum()
    assert 0.5 * hist_year < first_year < 1.5 * hist_year
    # Little's law per Angebot; gaps and FTE are consistent
    p = o.plaetze
    assert set(p["jahr"]) == {1, 2, 3, 4, 5}
    assert (p["benoetigt"] >= 0).all() and (p["unter"] <= p["benoetigt"]).all() and (p["benoetigt"] <= p["ober"]).all()
    assert np.allclose(p["luecke"], p["benoetigt"] - p["nutzbar"])
    assert np.allclose(p["vzae_luecke"], p["vzae_benoetigt"] - p["vzae_ist"])
    y1 = p[(p["jahr"] == 1) & (p["szenario"] == "mittel")]
    # total places needed ~ the observed mean stock (Little's law on the same history)
    with history.connect() as con:
        stock = con.execute("SELECT avg(s) FROM (SELECT monat, sum(bestand) s FROM stat_bewegung "
                            "WHERE jugendamt = 'SH-KOOP' AND monat >= '2023-01' GROUP BY monat)").fetchone()[0]
    assert 0.6 * stock < y1["benoetigt"].sum() < 1.6 * stock
    hi = p[(p["jahr"] == 5) & (p["szenario"] == "hoch")]["benoetigt"].sum()
    lo = p[(p["jahr"] == 5) & (p["szenario"] == "niedrig")]["benoetigt"].sum()
    assert hi > lo
    costed = y1[y1["kosten_je_belegtag"].notna()]
    assert len(costed) and np.allclose(costed["kosten_jahr"], costed["benoetigt"] * 365 * costed["kosten_je_belegtag"])
    assert (costed[costed["benoetigt"] > 0]["kosten_jahr"] > 0).all()
    # German method text and assumptions from the settings
    assert "Little" in o.methode and "Saisonkomponente" in o.methode
    assert any("niedrig −15 %" in a or "niedrig -15 %" in a for a in o.annahmen)
    assert any("Rückblicktest" in a for a in o.annahmen)


def test_backtest_error_on_generated_history(history):
    """Backtest: fit without the last 12 months; the error is stated in docs/prognose.md."""
    with history.connect() as con:
        o = ol.outlook(con, "SH-KOOP")
    for mk, r in o.backtest.items():
        assert r["monate_geprueft"] == 12 and r["monate_angepasst"] == 24
        assert r["mape_pct"] < 35, (mk, r)
        assert abs(r["summenfehler_pct"]) < 25, (mk, r)
        assert r["anteil_im_band"] >= 0.5, (mk, r)
    print({mk: {k: round(v, 2) for k, v in r.items()} for mk, r in o.backtest.items()})


def test_report_frame_for_the_strategiebericht(history):
    """The columns the Strategiebericht documents (inobhut.reports.strategie.OUTLOOK_LABELS)."""
    from inobhut.reports.strategie import OUTLOOK_LABELS

    with history.connect() as con:
        rf = ol.report_frame(con, "SH-KOOP")
        o = ol.outlook(con, "SH-KOOP")
    assert list(rf.columns) == list(OUTLOOK_LABELS)
    assert set(rf["jahr"]) == {2024, 2025, 2026, 2027, 2028}
    assert (rf["plaetze_bedarf"] >= rf["bestand_mittel"]).all()
    assert (rf["plaetze_luecke"] == rf["plaetze_bedarf"] - rf["plaetze_nutzbar"]).all()
    assert (rf["untere_grenze"] <= rf["plaetze_bedarf"]).all() and (rf["plaetze_bedarf"] <= rf["obere_grenze"]).all()
    # yearly entries over the Angebote = projected entries of the year (all measures share an Angebot)
    y1 = rf[(rf["jahr"] == 2024) & (rf["szenario"] == "mittel")]["zugaenge"].sum()
    proj = o.zugaenge[(o.zugaenge["szenario"] == "mittel") & o.zugaenge["monat"].str.startswith("2024")]["zugaenge"].sum()
    assert abs(y1 - proj) <= len(rf["angebot"].unique())


def test_report_frame_without_history(tmp_path):
    from inobhut.warehouse import Warehouse

    with Warehouse(tmp_path / "leer.duckdb").connect() as con:
        assert ol.report_frame(con, "SH-KOOP") is None
