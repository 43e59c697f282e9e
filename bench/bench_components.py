"""Benchmark of the parts that dominate a run, with their targets. Prints figures, asserts nothing.

    .venv/bin/python bench/bench_components.py

Targets (2 cores, idle machine): one typical delivery file (100 rows) through file and row level
< 40 ms; Great Expectations once per batch of 24 files < 2 s and far cheaper than once per file;
all statistics tables of one month for 50 offices < 1 s (the five fixed < 0.5 s); a Prüfbericht
with 10,000 findings < 10 s; one Jugendamtsbericht (xlsx + html) < 0.2 s.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
warnings.filterwarnings("ignore")


def best_of(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    from inobhut.config import settings
    from inobhut.validation import finish, prepare, run_expectations
    from inobhut.validation.rules import make_finding
    from tests.bad_input.builders import massnahme, write_csv

    tmp = Path(tempfile.mkdtemp(prefix="inobhut-bench-"))
    key = b"bench"
    figures: dict[str, float | str] = {}

    rows = [massnahme(Fallnummer=f"F{i}", Beginn=f"{1 + i % 28:02d}.03.2025", Anlaesse="01|02") for i in range(100)]
    path = write_csv(tmp / "m.csv", "massnahmen", rows)
    finish(prepare(path, ags="08335", dataset="massnahmen", month="2025-03", key=key))  # warm-up
    figures["datei_100_zeilen_ms"] = round(1000 * best_of(
        lambda: finish(prepare(path, ags="08335", dataset="massnahmen", month="2025-03", key=key)), 5), 1)

    preps = [prepare(write_csv(tmp / f"f{i}.csv", "massnahmen", rows), ags="08335", dataset="massnahmen",
                     month="2025-03", key=key) for i in range(24)]
    run_expectations([preps[0].item], settings())  # import GX
    figures["gx_stapel_24_dateien_s"] = round(best_of(lambda: run_expectations([p.item for p in preps], settings()), 2), 2)
    figures["gx_je_datei_s"] = round(best_of(lambda: run_expectations([preps[1].item], settings()), 3), 2)

    from inobhut import statistics as st
    from inobhut import stat_store
    from tests.test_statistics import _synthetic_warehouse

    os.environ.pop("INOBHUT_CONFIG", None)
    wh = _synthetic_warehouse(tmp / "perf.duckdb")
    with wh.connect() as con:
        stat_store.compute_month(con, "2024-05")
        fixed = [stat_store.MONTHLY[n] for n in st.FIXED_TABLES]
        figures["statistik_fuenf_feste_50_aemter_s"] = round(best_of(lambda: [fn(con, "2024-05") for fn in fixed]), 3)
        figures["statistik_alle_50_aemter_s"] = round(best_of(lambda: stat_store.compute_month(con, "2024-05")), 3)

    from inobhut.pruefbericht import write_pruefbericht

    res = finish(prepare(path, ags="08335", dataset="massnahmen", month="2025-03", key=key))
    res.findings = [make_finding("Z001", i + 2, "Beginn", None) for i in range(9_000)] + \
                   [make_finding("Z002", i + 2, "Geschlecht", "q") for i in range(1_000)]
    meta = {"ags": "08335", "office_name": "Konstanz", "dataset": "massnahmen", "month": "2025-03", "version": 1,
            "file_name": "m.csv", "sha256": "0" * 64, "received_at": None, "base_name": "bench"}
    figures["pruefbericht_10000_befunde_s"] = round(best_of(lambda: write_pruefbericht(res, meta, tmp / "pb"), 1), 2)

    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
