"""Tests of :mod:`inobhut.statistics` against the hand-computed tables in
``tests/fixtures/erwartet`` (see ``tests/fixtures/README.md``), plus storage, settings and
performance checks."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inobhut import statistics as st
from inobhut import stat_store
from inobhut.warehouse import Warehouse, replace_partition
from tests.helpers_fixtures import ERWARTET, FIXTURES, activate_test_settings, fixture_statistics
from tests.helpers_fixtures import FIXTURE_MONTHS as MONTHS


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Fixture warehouse after both delivery rounds, all months written, tidy export done."""
    d = tmp_path_factory.mktemp("stat")
    with fixture_statistics(d) as wh:
        with wh.connect() as con:
            tables = {m: stat_store.compute_month(con, m) for m in MONTHS}
            paths = stat_store.export_tidy(con, d / "tabellen")
        yield {"dir": d, "wh": wh, "tables": tables, "paths": paths}


@pytest.mark.parametrize("name", st.FIXED_TABLES)
def test_export_equals_hand_computed(built, name):
    got_path = built["dir"] / "tabellen" / f"{name}.csv"
    assert got_path in built["paths"]
    exp = pd.read_csv(ERWARTET / f"{name}.csv", dtype=str, keep_default_na=False)
    got = pd.read_csv(got_path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(got, exp)
    # and byte-equal (UTF-8, "\n", no BOM)
    assert got_path.read_bytes() == (ERWARTET / f"{name}.csv").read_bytes()


def test_compute_month_fixed_columns(built):
    for m, tables in built["tables"].items():
        assert list(tables) == list(st.TABLE_NAMES)
        assert list(tables)[:5] == list(st.FIXED_TABLES)
        for name, df in tables.items():
            assert list(df.columns) == st.COLUMNS[name], name
        assert set(tables["beendete"]["zeitraum"]) == {m}
        for name in st.FLOW_TABLES:
            assert set(tables[name]["zeitraum"]) <= {m}, name


def test_write_month_idempotent(built):
    with built["wh"].connect() as con:
        before = {n: con.execute(f"SELECT count(*) FROM stat_{n}").fetchone()[0] for n in st.TABLE_NAMES}
        stat_store.write_month(con, "2024-04", stat_store.compute_month(con, "2024-04"))
        stat_store.write_month(con, "2024-04", stat_store.compute_month(con, "2024-04"))
        after = {n: con.execute(f"SELECT count(*) FROM stat_{n}").fetchone()[0] for n in st.TABLE_NAMES}
        assert before == after
        # another month's rows are untouched by deleting April
        stat_store.write_month(con, "2024-04", {})
        n_may = con.execute("SELECT count(*) FROM stat_plaetze WHERE stichtag = DATE '2024-05-31'").fetchone()[0]
        assert n_may == 6
        assert con.execute("SELECT count(*) FROM stat_bewegung WHERE monat = '2024-04'").fetchone()[0] == 0
        stat_store.write_month(con, "2024-04", stat_store.compute_month(con, "2024-04"))


def test_yearly_beendete_is_sum_of_months(built):
    """In the fixture every measure ends in one month only, so year = sum of months."""
    with built["wh"].connect() as con:
        year = st.compute_beendete(con, "2024").set_index(["jugendamt", "merkmal", "auspraegung"])["anzahl"]
        months = pd.concat([st.compute_beendete(con, m) for m in MONTHS])
    summed = months.groupby(["jugendamt", "merkmal", "auspraegung"])["anzahl"].sum()
    pd.testing.assert_series_equal(year.sort_index(), summed.sort_index(), check_names=False)


def test_rejected_version_not_used_and_network_rows_are_sums(built):
    bew = built["tables"]["2024-03"]["bewegung"].set_index(["jugendamt", "massnahme"])
    # Stormarn's broken round-2 correction (3 Zugänge) must not be in force
    assert bew.loc[("01062", "1"), "zugaenge"] == 1
    net = bew.loc[("SH-KOOP", "1")]
    offices = bew.loc[[("01060063", "1"), ("01062", "1")]].sum()
    assert (net[["zugaenge", "abgaenge", "bestand"]] == offices[["zugaenge", "abgaenge", "bestand"]]).all()


def _settings_variant(tmp_path: Path, extra: str) -> None:
    activate_test_settings(tmp_path)
    path = Path(os.environ["INOBHUT_CONFIG"])
    text = path.read_text(encoding="utf-8").split("[uma_quote]")[0] + extra
    path.write_text(text, encoding="utf-8")


def test_uma_quote_settings(built, tmp_path, monkeypatch):
    monkeypatch.setenv("INOBHUT_CONFIG", os.environ.get("INOBHUT_CONFIG", ""))
    _settings_variant(tmp_path, '[uma_quote]\nhilfearten_ausgenommen = []\njunge_volljaehrige_im_ist = true\n')
    with built["wh"].connect() as con:
        q = st.compute_uma_quote(con, "2024-04").set_index("jugendamt")
    # Stuttgart 30.04.: U-1 (Ist) + S-24-003 (Hilfeart 1, now counted) + U-2, U-4 (18+, now in Ist)
    assert q.loc["08111", "uma_ist"] == 4
    assert q.loc["08111", "junge_volljaehrige"] == 2
    assert q.loc["BW", "uma_soll"] == q.loc["BW", "uma_ist"]


def test_fristen_uses_latest_state(built):
    """April's §42a case was not yet reported in the April file; the May file's Meldung counts."""
    with built["wh"].connect() as con:
        april_file = con.execute(
            "SELECT meldung_landesstelle FROM massnahmen WHERE jugendamt='08111' AND monat='2024-04' AND massnahme='2'"
        ).fetchall()
        assert april_file == [(None,)]
        f = st.compute_fristen_42a(con, "2024-04").set_index("jugendamt")
    assert f.loc["08111", "fristgerecht"] == 1 and f.loc["08111", "ohne_meldung"] == 0
    assert f.loc["08111", "median_werktage"] == 7.0


def test_round_half_up():
    s = pd.Series([2.675, -0.645, 112.25, np.nan, -0.001])
    assert list(st._round_half_up(s, 2).fillna(-99)) == [2.68, -0.65, 112.25, -99, 0.0]
    assert list(st._round_half_up(s, 1).fillna(-99)) == [2.7, -0.6, 112.3, -99, 0.0]


# ---------------------------------------------------------------------------------------------
# performance: 50 offices, ~2,500 massnahmen rows and ~6,000 uma rows in the month


def _synthetic_warehouse(path: Path) -> Warehouse:
    from inobhut import config

    rng = np.random.default_rng(7)
    wh = Warehouse(path)
    offices = config.offices()
    month, first = "2024-05", pd.Timestamp("2024-05-01")
    with wh.connect() as con:
        con.execute("BEGIN")
        for i, o in enumerate(offices):
            n = 50
            beginn = first - pd.to_timedelta(rng.integers(-30, 120, n), unit="D")
            ende = beginn + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
            ende = pd.Series(ende).where((ende >= first) & (ende <= pd.Timestamp("2024-05-31")))
            massn = rng.choice(["1", "2"], n)
            m = pd.DataFrame({
                "fall_id": [f"{o.ags}-{k}" for k in range(n)], "massnahme": massn, "traeger": "1",
                "beginn": beginn, "ende": ende.values,
                "geburtsmonat": beginn - pd.to_timedelta(rng.integers(400, 6000, n), unit="D"),
                "geschlecht": rng.choice(["m", "w", "d"], n), "unbegleitet": massn == "2",
                "anlaesse": rng.choice(["01", "01,02", "08", "03,05,14"], n),
                "angeregt_durch": rng.choice(list("12345678"), n), "aufenthalt_vorher": "01",
                "unterbringung": "1", "ende_grund": np.where(ende.notna(), "1", None),
                "anschluss": np.where(ende.notna(), "01", None),
                "meldung_landesstelle": pd.Series(beginn + pd.to_timedelta(rng.integers(0, 15, n), unit="D")).where(
                    (massn == "2") & (rng.random(n) < 0.8)).values,
            })
            m["geburtsmonat"] = m["geburtsmonat"].dt.to_period("M").dt.to_timestamp()
            replace_partition(con, "massnahmen", o.ags, month, 1, m)
            k = 120
            u = pd.DataFrame({
                "fall_id": [f"{o.ags}-u{j}" for j in range(k)],
                "zustaendig_seit": first - pd.to_timedelta(rng.integers(-20, 900, k), unit="D"),
                "zustaendig_bis": pd.NaT,
                "geburtsmonat": (first - pd.to_timedelta(rng.integers(3000, 8000, k), unit="D")).to_period("M").to_timestamp(),
                "geschlecht": "m", "staatsangehoerigkeit": "AFG", "hilfeart": rng.choice(list("12345678"), k),
                "unterbringung_ausserhalb": False,
            })
            replace_partition(con, "uma", o.ags, month, 1, u)
            p = pd.DataFrame({
                "einrichtung": [f"E{j}" for j in range(4)], "stichtag": pd.Timestamp("2024-05-31"),
                "angebot": ["1", "2", "3", "3"], "traeger_art": "01", "alter_von": 0, "alter_bis": 17,
                "plaetze_genehmigt": 10, "plaetze_belegt": rng.integers(0, 12, 4), "plaetze_gesperrt": 1,
                "vzae_soll": 5.0, "vzae_ist": 4.5,
            })
            replace_partition(con, "plaetze", o.ags, month, 1, p)
            con.execute("INSERT INTO deliveries (ags, dataset, monat, version, verdict, in_force) VALUES (?, 'uma', ?, 1, 'angenommen', TRUE)", [o.ags, month])
        con.execute("COMMIT")
    return wh


def test_compute_month_on_fifty_offices(tmp_path, monkeypatch):
    """All tables for 50 offices (timing: bench/bench_components.py)."""
    monkeypatch.delenv("INOBHUT_CONFIG", raising=False)  # the 50 real member offices
    wh = _synthetic_warehouse(tmp_path / "perf.duckdb")
    with wh.connect() as con:
        n_m = con.execute("SELECT count(*) FROM massnahmen").fetchone()[0]
        n_u = con.execute("SELECT count(*) FROM uma").fetchone()[0]
        assert n_m == 2500 and n_u == 6000
        tables = stat_store.compute_month(con, "2024-05")
    assert len(tables["uma_quote"]) == 52
    assert tables["bewegung"]["bestand"].sum() > 0


def test_fixture_member_list_is_real_subset():
    """Test offices carry the same keys, names and populations as the shipped reference."""
    test = pd.read_csv(FIXTURES / "jugendaemter_test.csv", dtype=str)
    ref = pd.read_csv(Path(__file__).parents[1] / "schemas/reference/jugendaemter.csv", dtype=str)
    merged = test.merge(ref, on="ags", suffixes=("", "_ref"))
    assert len(merged) == len(test) == 4
    for col in ("name", "art", "land", "verbund", "einwohner"):
        assert (merged[col] == merged[f"{col}_ref"]).all(), col


def test_beendete_rejects_bad_period(built):
    with built["wh"].connect() as con, pytest.raises(ValueError):
        st.compute_beendete(con, "2024-13x")


def test_dates_in_tables_are_stichtage(built):
    q = built["tables"]["2024-05"]["uma_quote"]
    assert set(q["stichtag"].dt.date) == {dt.date(2024, 5, 31)}
