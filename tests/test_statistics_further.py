"""Tests of the seven further tables of :mod:`inobhut.statistics` (``uma_struktur``,
``verteilung_42a``, ``zuweisungen_42a``, ``dauer``, ``personal``, ``kapazitaet``,
``lieferstatus``) against values computed BY HAND from the fixture deliveries.

The expected files ``tests/fixtures/erwartet/<name>.csv`` hold every row of the tidy export
for all three months 2024-03..2024-05 and, for the flow tables, the yearly rows ``2024``; the
derivation of each number is in ``tests/fixtures/README.md`` (section "Weitere Tabellen").
The comparison is cell for cell over the complete export (no filtering), then byte for byte.
"""

from __future__ import annotations


import pandas as pd
import pytest

from inobhut import statistics as st
from inobhut import stat_store
from tests.helpers_fixtures import ERWARTET, fixture_statistics
from tests.helpers_fixtures import FIXTURE_MONTHS as MONTHS
FURTHER = ("uma_struktur", "verteilung_42a", "zuweisungen_42a", "dauer", "personal", "kapazitaet", "lieferstatus")
# Tables whose complete export agrees with the hand values. ``kapazitaet`` is missing: for an
# office whose facilities deliver a Tagessatz but have no occupied place (Norderstedt April, F1:
# 0 belegt, Tagessatz 95,00), docs/tabellen.md gives kosten_monat = Σ belegt × Tagessatz × Tage
# = 0.00, the program leaves the cell empty (reported, not yet decided). Once that is settled,
# add "kapazitaet" here; test_kapazitaet_except_zero_occupancy_cost covers the rest meanwhile.
AGREED = ("uma_struktur", "verteilung_42a", "zuweisungen_42a", "dauer", "personal", "kapazitaet", "lieferstatus")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Fixture warehouse after both delivery rounds, all months written, tidy export done."""
    d = tmp_path_factory.mktemp("stat_weitere")
    with fixture_statistics(d) as wh, wh.connect() as con:
        paths = stat_store.export_tidy(con, d / "tabellen")
    yield {"dir": d / "tabellen", "paths": paths}


def _differences(got: pd.DataFrame, exp: pd.DataFrame) -> list[str]:
    """Readable list of differing rows/cells (rows matched by position)."""
    out = []
    if list(got.columns) != list(exp.columns):
        return [f"Spalten: {list(got.columns)} != {list(exp.columns)}"]
    for i in range(max(len(got), len(exp))):
        if i >= len(got):
            out.append(f"Zeile {i + 2} fehlt: {exp.iloc[i].tolist()}")
            continue
        if i >= len(exp):
            out.append(f"Zeile {i + 2} zu viel: {got.iloc[i].tolist()}")
            continue
        for col in exp.columns:
            if got.iat[i, got.columns.get_loc(col)] != exp.iat[i, exp.columns.get_loc(col)]:
                out.append(f"Zeile {i + 2} {exp.iloc[i, :2].tolist()} {col}: Programm "
                           f"{got.iat[i, got.columns.get_loc(col)]!r} != Hand {exp.iat[i, exp.columns.get_loc(col)]!r}")
    return out


def test_expected_files_cover_all_periods():
    """The hand files really contain every month (and the year for flow tables) they claim to."""
    for name in FURTHER:
        exp = pd.read_csv(ERWARTET / f"{name}.csv", dtype=str, keep_default_na=False)
        assert list(exp.columns) == st.COLUMNS[name], name
        periods = {p[:7] for p in exp[st.PERIOD_COL[name]]}
        want = set(MONTHS) | ({"2024"} if name in st.FLOW_TABLES else set())
        # verteilung/zuweisungen: no §42a measure ended in March
        if name in ("verteilung_42a", "zuweisungen_42a"):
            want.discard("2024-03")
        assert periods == want, name


@pytest.mark.parametrize("name", AGREED)
def test_further_table_equals_hand_computed(exported, name):
    got_path = exported["dir"] / f"{name}.csv"
    assert got_path in exported["paths"]
    exp = pd.read_csv(ERWARTET / f"{name}.csv", dtype=str, keep_default_na=False)
    got = pd.read_csv(got_path, dtype=str, keep_default_na=False)
    diffs = _differences(got, exp)
    assert not diffs, f"{name}:\n" + "\n".join(diffs)
    # and byte-equal (UTF-8, "\n", no BOM, fixed decimals)
    assert got_path.read_bytes() == (ERWARTET / f"{name}.csv").read_bytes()


def test_kapazitaet_cost_of_a_month_without_occupancy_is_zero(exported):
    """The month's cost is Σ belegt × Tagessatz × days (docs/tabellen.md): 0.00, not empty, when a
    facility delivers a Tagessatz but nothing is occupied (Norderstedt, April: 4 places, all blocked)."""
    got = pd.read_csv(exported["dir"] / "kapazitaet.csv", dtype=str, keep_default_na=False)
    rows = got[got["belegt_mit_tagessatz"] == "0"]
    assert len(rows) == 4 and set(rows["jugendamt"]) == {"01060063", "SH-KOOP"}
    assert set(rows["kosten_monat"]) == {"0.00"} and set(rows["kosten_je_belegtag"]) == {""}


def test_network_rows_of_hand_files_are_office_sums():
    """Consistency of the hand files themselves: count columns of the network rows equal the sums
    of their offices' rows (the rule "Verbundzeilen sind Summen")."""
    members = pd.read_csv(ERWARTET.parent / "jugendaemter_test.csv", dtype=str)
    verbund = dict(zip(members["ags"], members["verbund"]))
    count_cols = {
        "uma_struktur": ["anzahl"], "zuweisungen_42a": ["anzahl"], "dauer": ["anzahl"],
        "verteilung_42a": ["beendet", "entschieden", *[f"entscheidung_{k}" for k in range(1, 7)]],
        "kapazitaet": ["einrichtungen", "genehmigt", "gesperrt", "nutzbar", "belegt", "belegt_mit_tagessatz"],
        "personal": ["faelle"], "lieferstatus": ["anzahl"],
    }
    keys = {"uma_struktur": ["merkmal", "auspraegung"], "zuweisungen_42a": ["aufnehmend"],
            "dauer": ["massnahme", "unbegleitet"], "verteilung_42a": [], "kapazitaet": ["angebot"],
            "personal": ["bereich"], "lieferstatus": ["datensatz", "status"]}
    for name, cols in count_cols.items():
        df = pd.read_csv(ERWARTET / f"{name}.csv", dtype=str, keep_default_na=False)
        for c in cols:
            df[c] = df[c].astype(int)
        by = [st.PERIOD_COL[name], *keys[name]]
        offices = df[df["jugendamt"].isin(verbund)].assign(jugendamt=lambda x: x["jugendamt"].map(verbund))
        summed = offices.groupby([*by, "jugendamt"])[cols].sum().sort_index()
        nets = df[~df["jugendamt"].isin(verbund)].set_index([*by, "jugendamt"])[cols].sort_index()
        pd.testing.assert_frame_equal(nets, summed, check_names=False, obj=name)
