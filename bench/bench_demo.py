"""Benchmark: the demo (generate + one Dagster run + reports) and its parts, with peak memory.

Prints its figures; it asserts nothing (speed and memory targets are read from its output,
not enforced by unit tests).

    .venv/bin/python bench/bench_demo.py [--monate 24] [--jugendamt AGS ...] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd: list[str], env: dict, cwd: Path) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
    return dt, max(peak, before), proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--monate", type=int, default=24)
    ap.add_argument("--jugendamt", action="append", default=[])
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="inobhut-bench-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = {**os.environ, "DAGSTER_HOME": str(work / ".dagster"), "GX_ANALYTICS_ENABLED": "false"}
    exe = [sys.executable, "-m", "pipelines.cli"]
    scope = ["--monate", str(args.monate)] + [x for a in args.jugendamt for x in ("--jugendamt", a)]
    secs, peak_kb, rc = run([*exe, "demo", "--daten", str(work / "demo"), "--out", str(work / "out"), *scope], env, Path.cwd())
    out = work / "out"
    n_reports = len(list((out / "berichte").rglob("*.xlsx"))) if out.exists() else 0
    n_pb = len(list((out / "pruefberichte").rglob("*.html"))) if out.exists() else 0
    figures = {
        "szenario": f"demo, {args.jugendamt or 'alle 50'} Jugendämter, {args.monate} Monate",
        "exit_code": rc,
        "sekunden_gesamt": round(secs, 1),
        "spitzen_speicher_mb": round(peak_kb / 1024, 1),
        "berichte_xlsx": n_reports,
        "pruefberichte_html": n_pb,
        "cpu_kerne": os.cpu_count(),
    }
    # a second run on unchanged inputs: the idempotent rerun (nothing new to validate)
    env2 = {**env, "INOBHUT_PSEUDONYM_KEY": "inobhut-demo-schluessel-nicht-produktiv",
            "INOBHUT_LANDING": str(work / "demo" / "landing"), "INOBHUT_ARCHIVE": str(work / "demo" / "archive"),
            "INOBHUT_STAGING": str(work / "demo" / "staging"), "INOBHUT_WAREHOUSE": str(work / "demo" / "warehouse.duckdb"),
            "INOBHUT_OUT": str(out)}
    secs2, _, rc2 = run([*exe, "run"], env2, Path.cwd())
    figures["sekunden_wiederholung_unveraendert"] = round(secs2, 1)
    figures["exit_code_wiederholung"] = rc2
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
