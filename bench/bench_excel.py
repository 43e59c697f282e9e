"""Excel report writing alone: every workbook kind the reports write (Landes-, Jugendamtsbericht,
network reports, statutory outputs, Bundesstatistik, Protokoll), rendered from the test fixtures,
then each model written again N times with ``inobhut.reports.excel.write_xlsx``.

    .venv/bin/python bench/bench_excel.py [N]

Prints milliseconds per workbook (best of three rounds) per kind and in total.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def collect_models(tmp: Path) -> list:
    """The models of every report written by ``render_every_kind`` (captured on the way)."""
    import inobhut.reports.excel as excel

    models, original = [], excel.write_xlsx

    def capture(model, path):
        models.append(model)
        return original(model, path)

    excel.write_xlsx = capture
    try:
        import inobhut.meldungen.bund_ausgabe  # noqa: F401  (imports write_xlsx lazily)
        import inobhut.reports.render as render
        render.write_xlsx = capture
        from tests.helpers_outputs import render_every_kind

        render_every_kind(tmp)
    finally:
        excel.write_xlsx = original
        render.write_xlsx = original
    return models


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    from inobhut.reports.excel import write_xlsx

    tmp = Path(tempfile.mkdtemp(prefix="inobhut-bench-excel-"))
    models = collect_models(tmp / "render")
    out = tmp / "out"
    out.mkdir()
    per_kind: dict[str, list[float]] = {}
    for i, m in enumerate(models):
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for k in range(n):
                write_xlsx(m, out / f"{i}_{k}.xlsx")
            best = min(best, (time.perf_counter() - t0) / n)
        per_kind.setdefault(m.kind, []).append(best)
    figures = {k: round(1000 * sum(v) / len(v), 1) for k, v in sorted(per_kind.items())}
    figures["mappen"] = len(models)
    figures["summe_ms"] = round(1000 * sum(sum(v) for v in per_kind.values()), 1)
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
