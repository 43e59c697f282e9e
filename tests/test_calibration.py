"""Calibration: a generated year 2023 for all BW offices, counted by the statistics, comes out
within a few per cent of the published figures the generator is calibrated to (Destatis,
vorläufige Schutzmaßnahmen 2023, Baden-Württemberg: 10,828 ended measures, 4,997 of them §42a,
6,837 after unaccompanied entry).

The files are read with the real ingest (:func:`inobhut.ingest.read_delivery`: every delivery
style of the generator -- CSV dialects, encodings, XLSX), pseudonymised and loaded into a real
warehouse; full validation of 540 files is left to the pipeline's own tests (time budget).
"""

from __future__ import annotations

import pytest

TARGETS = {"insgesamt": 10_828, "massnahme_2": 4_997, "unbegleitet": 6_837}
TOLERANCE = 0.05  # "within a few per cent"


@pytest.fixture(scope="module")
def beendete_2023(tmp_path_factory):
    from inobhut import statistics as st
    from tests.helpers_fixtures import ingested_network_warehouse

    with ingested_network_warehouse(tmp_path_factory.mktemp("kalibrierung"), "BW", "2023-01", "2023-12", seed=42,
                             datasets=("massnahmen",), key=b"kalibrierung") as (wh, n):
        assert n == 45 * 12
        with wh.connect() as con:
            yield st.compute_beendete(con, "2023")


def _bw(df, merkmal: str, auspraegung: str) -> int:
    hit = df[(df["jugendamt"] == "BW") & (df["merkmal"] == merkmal) & (df["auspraegung"] == auspraegung)]
    return int(hit["anzahl"].sum())


def test_bw_2023_ended_measures_match_published_figures(beendete_2023):
    got = {
        "insgesamt": _bw(beendete_2023, "insgesamt", "insgesamt"),
        "massnahme_2": _bw(beendete_2023, "massnahme", "2"),
        "unbegleitet": _bw(beendete_2023, "unbegleitet", "1"),
    }
    for key, target in TARGETS.items():
        assert abs(got[key] - target) <= TOLERANCE * target, (key, got[key], target)
    # shares, too (the generator could hit totals with a wrong mix)
    assert abs(got["massnahme_2"] / got["insgesamt"] - 4_997 / 10_828) < 0.02
    assert abs(got["unbegleitet"] / got["insgesamt"] - 6_837 / 10_828) < 0.02
    # the network row is the sum of the 45 offices
    offices = beendete_2023[(beendete_2023["jugendamt"] != "BW") & (beendete_2023["merkmal"] == "insgesamt")]
    assert offices["jugendamt"].nunique() == 45
    assert int(offices["anzahl"].sum()) == got["insgesamt"]
