"""``bench/bench_scales.py`` works end to end, on small versions of its scales, so that the
benchmark behind docs/leistung.md does not rot between the measurements made by hand.

The figures themselves are not checked (speed targets are the benchmark's business, not a unit
test's); checked is that every number the docs page shows is there and consistent: each run
succeeded, files and rows match what was generated, the stages add up to the run, the unchanged
rerun started no Dagster run, the increment after the history did, and the docs block is
replaced between its markers and nowhere else."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SMALL = {"M": (1, 50), "L": (2, 50)}  # M: one month and its rerun; L: two months and one more
FILES_PER_MONTH = 4 * 50  # four datasets, 50 offices
STAGES = {"Abruf/Eingang", "Prüfung + Staging", "Warehouse-Laden", "Statistik", "Berichte", "außerhalb der Schritte"}


def _bench():
    spec = importlib.util.spec_from_file_location("bench_scales", REPO / "bench" / "bench_scales.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_the_scale_benchmark_measures_every_figure_and_writes_its_docs_block(tmp_path):
    work, out = tmp_path / "arbeit", tmp_path / "ergebnisse.json"
    code = ("import sys; sys.path.insert(0, 'bench'); import bench_scales as b; "
            f"b.SCALES.update({SMALL!r}); "
            f"sys.argv = ['bench_scales.py', 'M', 'L', 'vergleich', '--work', {str(work)!r}, '--json', {str(out)!r}]; "
            "b.main()")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INOBHUT_", "DAGSTER_"))}
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**env, "GX_ANALYTICS_ENABLED": "false"},
                         capture_output=True, text=True, timeout=1100)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert "Kerne" in results["rechner"]
    by = {r["skala"]: r for r in results["skalen"]}
    assert set(by) == {"M", "L"}
    for name, r in by.items():
        months = SMALL[name][0]
        lauf = r["lauf"]
        assert lauf["exit"] == 0
        assert len(lauf["laeufe"]) == 2  # the main run and the yearly Bundesstatistik run
        assert r["dateien"] == FILES_PER_MONTH * months
        assert r["zeilen"] == r["boden"]["zeilen"] > 0
        assert STAGES <= set(lauf["stufen"]), lauf["stufen"]
        stage_sum = sum(v["sekunden"] for v in lauf["stufen"].values())
        assert abs(stage_sum - lauf["sekunden"]) <= 0.1 * len(lauf["stufen"]), (stage_sum, lauf["sekunden"])
        assert all(v["sekunden"] >= 0 and 0 < v["spitze_mb"] <= lauf["spitze_mb"] for v in lauf["stufen"].values())
        assert lauf["ereignisse"] > r["dateien"]  # per office-month: planned and done materializations, two checks
        assert r["buchfuehrung_allein_s"] > 0
        assert r["verhaeltnis_zum_boden"] == round(lauf["sekunden"] / r["boden"]["sekunden"], 1)
    rerun = by["M"]["wiederholung"]
    assert rerun["exit"] == 0 and rerun["laeufe"] == []  # nothing new delivered: no Dagster run at all
    increment = by["L"]["inkrement"]
    assert increment["exit"] == 0 and len(increment["laeufe"]) == 2
    v = results["vergleich"]
    for key in ("pandera_allein_gebuendelt_zeilen_je_s", "gx_allein_gebuendelt_zeilen_je_s", "zeilen_je_s_pandera",
                "zeilen_je_s_pandera_gebuendelt", "zeilen_je_s_pandera_gx", "openpyxl_zeilen_je_s",
                "calamine_zeilen_je_s", "lieferleser_xlsx_openpyxl_zeilen_je_s", "lieferleser_xlsx_calamine_zeilen_je_s"):
        assert v[key] > 0, key

    bench = _bench()
    page = tmp_path / "leistung.md"
    page.write_text(f"# Leistung\n\nDavor.\n\n{bench.BEGIN}\nalter Block\n{bench.END}\n\nDanach.\n", encoding="utf-8")
    bench.write_docs(results, page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Leistung\n\nDavor.\n\n" + bench.BEGIN) and text.endswith(bench.END + "\n\nDanach.\n")
    assert "alter Block" not in text and text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
    for line in ("| M (1 Monate × 50 Ämter) | 200 |", "| L (2 Monate × 50 Ämter) | 400 |",
                 "| unveränderte Wiederholung | | |", "| ein neuer Monat nach L | | |",
                 "| massnahmen: alle Zeilenregeln allein, gebündelt (Median von 7 Durchläufen; Zeilen/s) |",
                 "| XLSX-Blatt lesen mit python-calamine (Zeilen/s) |", "Dagsters Buchführung allein gemessen"):
        assert line in text, line
