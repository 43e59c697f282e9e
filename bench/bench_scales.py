"""Benchmark at the scales of issue 12: wall time and peak memory per stage, the floor, and the
side-by-side comparisons. Prints its figures and (with --docs) writes them into docs/leistung.md.
It asserts nothing: targets are read from its output, not enforced by unit tests.

    .venv/bin/python bench/bench_scales.py S M            # CI-friendly scales
    .venv/bin/python bench/bench_scales.py L XL inkrement # by hand (long)
    .venv/bin/python bench/bench_scales.py vergleich      # pandera vs pandera+GX, openpyxl vs calamine

Scales (generated with inobhut.generate, fixed seed, fehlerquote 1 %):
  S           one month, the 50 member offices (the nightly run)
  M           24 months, 50 offices (the demo), then the unchanged rerun ("wiederholung")
  L           10 years, 50 offices (an analyst's full backfill), then one new month ("inkrement")
  XL          one year, 560 SYNTHETIC offices (a Germany-wide office list made up here, clearly
              marked synthetic; ten years are projected from XL and L)

Per stage (from the Dagster event log of the run: STEP_START … STEP_SUCCESS of each step, mapped
to stages) wall time and peak memory (PSS of the run's process tree, sampled every 0.2 s, taken
over the stage's interval); "Dagster-Buchführung" is measured alone: writing the run's number of
events into a fresh instance of the same storage kind. The floor ("Boden") is measured in the
same invocation: reading the same delivery files with plain pandas and loading them into DuckDB,
without any check.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SEED = 20240101
KEY = "benchmark-schluessel-nur-fuer-synthetische-daten-0123456789"
STAGES = {  # step-key prefix -> stage label (German, as printed)
    "raw__fetch": "Abruf/Eingang",
    "raw__intake": "Abruf/Eingang",
    "pruefung_": "Prüfung + Staging",  # the office assets of a network: one op pruefung_<verbund>
    "validated__gx_data_docs": "Prüfung + Staging",
    "warehouse__": "Warehouse-Laden",
    "statistics__": "Statistik",
    "reports__": "Berichte",
    "statutory__": "Berichte",
}
OUTSIDE = "außerhalb der Schritte"
SCALES = {"S": (1, 50), "M": (24, 50), "L": (120, 50), "XL": (12, 560)}


# --- process-tree memory sampling -------------------------------------------------------------

def _tree_rss_kb(pid: int) -> int:
    """Memory of the process tree as PSS (proportional set size): pages shared by forked
    workers with their parent are counted once, not once per process as RSS would."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


class Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples, self._halt = pid, every, [], threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.time(), _tree_rss_kb(self.pid)))
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak_mb(self, t0: float = 0.0, t1: float = float("inf")) -> float:
        """Peak between t0 and t1; an interval shorter than the sampling step that holds no
        sample takes the larger of the two samples around it (not 0)."""
        vals = [kb for t, kb in self.samples if t0 <= t <= t1]
        if not vals:
            before = [kb for t, kb in self.samples if t < t0][-1:]
            after = [kb for t, kb in self.samples if t > t1][:1]
            vals = before + after
        return round(max(vals, default=0) / 1024, 1)


# --- one pipeline run -------------------------------------------------------------------------

def _env(work: Path, config: Path | None) -> dict:
    env = {**os.environ, "DAGSTER_HOME": str(work / ".dagster"), "GX_ANALYTICS_ENABLED": "false",
           "INOBHUT_PSEUDONYM_KEY": KEY, "INOBHUT_LANDING": str(work / "landing"),
           "INOBHUT_ARCHIVE": str(work / "archive"), "INOBHUT_STAGING": str(work / "staging"),
           "INOBHUT_WAREHOUSE": str(work / "warehouse.duckdb"), "INOBHUT_OUT": str(work / "out"),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if config:
        env["INOBHUT_CONFIG"] = str(config)
    return env


def run_pipeline(work: Path, env: dict, months: list[str] | None = None) -> dict:
    cmd = [sys.executable, "-m", "pipelines.cli", "run", *[x for m in months or [] for x in ("--monat", m)]]
    before = _run_ids(work / ".dagster")
    t0 = time.time()
    proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    sampler.stop()
    wall = time.time() - t0
    if proc.returncode != 0:  # the figures of a failed run say nothing: stop instead of reporting them
        print(out[-4000:], file=sys.stderr)
        raise SystemExit(f"Messung abgebrochen: `inobhut run` endete in {work} mit Exit-Code {proc.returncode} "
                         "(Ausgabe oben); die Zahlen eines fehlgeschlagenen Laufs wären keine Messung.")
    stages, n_events, run_ids = _stage_times(work / ".dagster", sampler, before)
    # the steps run one after another (in-process executor): the rest of the wall time is the
    # command's start (imports, definitions), run planning and Dagster between the steps
    rest = wall - sum(v["sekunden"] for v in stages.values())
    stages[OUTSIDE] = {"sekunden": round(max(rest, 0.0), 1), "spitze_mb": sampler.peak_mb()}
    return {"exit": proc.returncode, "sekunden": round(wall, 1), "spitze_mb": sampler.peak_mb(),
            "stufen": stages, "ereignisse": n_events, "laeufe": run_ids}


def _run_ids(home: Path) -> set[str]:
    if not (home / "dagster.yaml").exists():
        return set()
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as inst:
        return {r.run_id for r in inst.get_runs()}


def _stage_times(home: Path, sampler: Sampler, before: set[str]) -> tuple[dict, int, list[str]]:
    """Stage times over ALL Dagster runs the command started (the main run and the yearly
    Bundesstatistik run that follows it)."""
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as inst:
        runs = [r for r in inst.get_runs() if r.run_id not in before]
        logs = [e for r in runs for e in inst.all_logs(r.run_id)]
    starts: dict[str, float] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    for e in logs:
        ev = e.dagster_event
        if ev is None or not ev.step_key:
            continue
        if ev.event_type_value == "STEP_START":
            starts[(e.run_id, ev.step_key)] = e.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and (e.run_id, ev.step_key) in starts:
            label = next((v for k, v in STAGES.items() if ev.step_key.startswith(k)), "Sonstiges")
            spans.setdefault(label, []).append((starts[(e.run_id, ev.step_key)], e.timestamp))
    out = {}
    for label, ss in spans.items():
        secs = sum(b - a for a, b in ss)
        peak = max(sampler.peak_mb(a, b) for a, b in ss)
        out[label] = {"sekunden": round(secs, 1), "spitze_mb": peak}
    return out, len(logs), [r.run_id for r in runs]


def bookkeeping_alone(n_events: int, storage_home: Path) -> float:
    """Seconds to store ``n_events`` asset-materialization events into a fresh instance of the
    same storage kind (SQLite here): Dagster's per-event cost alone, without any of our work."""
    import dagster as dg
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData  # private: bench only
    from dagster._core.events.log import EventLogEntry

    from pipelines import sqlite_tuning

    sqlite_tuning.install()  # as in the pipeline's processes
    storage_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", storage_home / "dagster.yaml")
    n = max(1, min(n_events, 20_000))
    with dg.DagsterInstance.from_config(str(storage_home)) as inst:
        t0 = time.perf_counter()
        for i in range(n):
            mat = dg.AssetMaterialization(asset_key=["bench", f"a{i % 50}"], partition=f"2025-{1 + i % 12:02d}")
            ev = DagsterEvent(DagsterEventType.ASSET_MATERIALIZATION.value, "bench",
                              event_specific_data=StepMaterializationData(mat))
            inst.store_event(EventLogEntry(error_info=None, level=20, user_message="", run_id="bench",
                                           timestamp=time.time(), dagster_event=ev))
        secs = time.perf_counter() - t0
    return round(secs * n_events / n, 1)


# --- the floor and the comparisons ------------------------------------------------------------

def _delivery_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".xlsx"))


def floor(landing: Path, work: Path) -> dict:
    """Plain pandas reading + DuckDB loading of the same files, no checks at all."""
    import duckdb
    import pandas as pd

    files = _delivery_files(landing)
    t0 = time.perf_counter()
    rows = 0
    frames: dict[str, list] = {}
    for p in files:
        ds = p.stem.split("_")[1]
        if p.suffix.lower() == ".xlsx":
            df = pd.read_excel(p, dtype=str, engine="calamine")
        else:
            raw = p.read_bytes()
            sep = ";" if raw[:2000].count(b";") >= raw[:2000].count(b",") else ","
            df = pd.read_csv(p, sep=sep, dtype=str, encoding="utf-8-sig", encoding_errors="replace", on_bad_lines="skip")
        rows += len(df)
        frames.setdefault(ds, []).append(df)
    con = duckdb.connect(str(work / "boden.duckdb"))
    for ds, fs in frames.items():
        df = pd.concat(fs, ignore_index=True)
        con.register("x", df)
        con.execute(f"CREATE OR REPLACE TABLE {ds} AS SELECT * FROM x")
        con.unregister("x")
    con.close()
    return {"sekunden": round(time.perf_counter() - t0, 2), "dateien": len(files), "zeilen": rows}


def compare(landing: Path) -> dict:
    """pandera alone vs pandera + GX on the same massnahmen frames; openpyxl vs calamine on the
    same XLSX files."""
    from inobhut.config import settings
    from inobhut.validation import prepare, run_expectations

    files = [p for p in _delivery_files(landing) if "_massnahmen_" in p.name][:400]
    t0 = time.perf_counter()
    preps = [prepare(p, ags=p.parent.name, dataset="massnahmen", month=p.stem.rsplit("_", 1)[1], key=KEY.encode())
             for p in files]
    t_pandera = time.perf_counter() - t0
    rows = sum(p.n for p in preps)
    items = [p.item for p in preps if p.item is not None]
    from inobhut.validation.checks import prepare_many

    by_office: dict[str, list] = {}
    for p in files:
        by_office.setdefault(p.parent.name, []).append((p, p.stem.rsplit("_", 1)[1]))
    t0 = time.perf_counter()
    for ags, fs in by_office.items():
        prepare_many(fs, ags=ags, dataset="massnahmen", key=KEY.encode())
    t_batched = time.perf_counter() - t0
    # the row rules alone, in batch, over the already read frames (one pass per group of equal
    # column types: pandera checks the structure, the rules are evaluated directly): the median
    # of seven passes after a first one (a single pass of ~20 ms scatters with the machine),
    # then Great Expectations over the same versions
    from inobhut import ingest
    from inobhut.validation.pandera_rows import _pandera_batched
    from schemas.datasets import DATASETS

    reads = [ingest.read_delivery(p, "massnahmen", max_bytes=50 << 20, max_rows=200_000) for p in files]
    parts = [(r.frame, r.raw, set()) for r in reads if r.frame is not None and len(r.frame)]
    _pandera_batched(parts, DATASETS["massnahmen"])
    passes = []
    for _ in range(7):
        t0 = time.perf_counter()
        _pandera_batched(parts, DATASETS["massnahmen"])
        passes.append(time.perf_counter() - t0)
    t_rules = sorted(passes)[3]
    rule_rows = sum(len(p[0]) for p in parts)
    run_expectations(items[:1], settings())  # import GX and create its context first (once per process)
    t0 = time.perf_counter()
    run_expectations(items, settings())
    t_gx = time.perf_counter() - t0
    out = {"massnahmen_dateien": len(files), "massnahmen_zeilen": rows,
           "lesen_und_pandera_s": round(t_pandera, 2), "gx_zusaetzlich_s": round(t_gx, 2),
           "zeilen_je_s_pandera": round(rows / t_pandera) if t_pandera else None,
           "zeilen_je_s_pandera_gx": round(rows / (t_pandera + t_gx)) if t_pandera + t_gx else None,
           "pandera_allein_gebuendelt_zeilen_je_s": round(rule_rows / t_rules) if t_rules else None,
           "gx_allein_gebuendelt_zeilen_je_s": round(rows / t_gx) if t_gx else None,
           "lesen_und_pandera_gebuendelt_je_jugendamt_s": round(t_batched, 2),
           "zeilen_je_s_pandera_gebuendelt": round(rows / t_batched) if t_batched else None}
    xlsx = [p for p in _delivery_files(landing) if p.suffix.lower() == ".xlsx"][:200]
    if xlsx:
        import openpyxl
        from python_calamine import CalamineWorkbook

        t0 = time.perf_counter()
        n = 0
        for p in xlsx:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
            n += sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
            wb.close()
        t_op = time.perf_counter() - t0
        t0 = time.perf_counter()
        m = 0
        for p in xlsx:
            wb = CalamineWorkbook.from_path(str(p))
            m += len(wb.get_sheet_by_index(0).to_python())
        t_ca = time.perf_counter() - t0
        out.update({"xlsx_dateien": len(xlsx), "xlsx_zeilen": n, "openpyxl_zeilen_je_s": round(n / t_op),
                    "calamine_zeilen_je_s": round(m / t_ca)})
        # the delivery reader itself (inobhut.ingest: header mapping, parsing, file-level checks)
        from inobhut import ingest, ingest_xlsx

        def read_all() -> tuple[int, float]:
            t0, rows = time.perf_counter(), 0
            for p in xlsx:
                rr = ingest.read_delivery(p, p.stem.split("_")[1], max_bytes=50 << 20, max_rows=200_000)
                rows += len(rr.frame) if rr.frame is not None else 0
            return rows, time.perf_counter() - t0
        rows_c, t_c = read_all()
        calamine_book = ingest_xlsx._CalamineBook
        ingest_xlsx._CalamineBook = lambda p, parts: ingest_xlsx._OpenpyxlBook(p)
        try:
            rows_o, t_o = read_all()
        finally:
            ingest_xlsx._CalamineBook = calamine_book
        out.update({"lieferleser_xlsx_calamine_zeilen_je_s": round(rows_c / t_c),
                    "lieferleser_xlsx_openpyxl_zeilen_je_s": round(rows_o / t_o)})
    return out


# --- scales -----------------------------------------------------------------------------------

def synthetic_germany(work: Path, n: int = 560) -> Path:
    """A SYNTHETIC Germany-wide office list (made up: keys 99xxx, names 'Synthetisches Jugendamt
    N', population drawn from the BW list) and a settings file that uses it."""
    from inobhut.config import offices

    real = list(offices())
    path = work / "jugendaemter_synthetisch.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ags", "name", "art", "land", "verbund", "einwohner"])
        for i in range(n):
            o = real[i % len(real)]
            w.writerow([f"99{i:03d}", f"Synthetisches Jugendamt {i + 1} (SYNTHETISCH)", o.art, "BW", "BW", o.einwohner])
    cfg = work / "einstellungen_synthetisch.toml"
    cfg.write_text(f'[stammdaten]\njugendaemter_datei = "{path}"\n', encoding="utf-8")
    return cfg


def generate(work: Path, months: int, config: Path | None, bis: str | None = None) -> tuple[str, str]:
    from inobhut.calendar import add_months, last_complete_month

    bis = bis or last_complete_month()
    von = add_months(bis, -(months - 1))
    env = _env(work, config)
    subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--landing", str(work / "landing"),
                    "--von", von, "--bis", bis, "--seed", str(SEED), "--fehlerquote", "0.01"],
                   env=env, cwd=work, check=True, capture_output=True)
    return von, bis


def measure(name: str, base: Path) -> dict:
    months, n_offices = SCALES[name]
    work = base / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    config = synthetic_germany(work) if name == "XL" else None
    if name == "L":  # leave the last month for the increment
        from inobhut.calendar import add_months, last_complete_month

        bis = add_months(last_complete_month(), -1)
        # ten years reach before the default first processed month (zeitraum.erster_monat): without
        # this setting the older months would be reported as unassignable, not processed
        config = work / "einstellungen_zehn_jahre.toml"
        config.write_text(f'[zeitraum]\nerster_monat = "{add_months(bis, -(months - 1))}"\n', encoding="utf-8")
        von, bis = generate(work, months, config, bis=bis)
    else:
        von, bis = generate(work, months, config)
    env = _env(work, config)
    files = _delivery_files(work / "landing")
    res = {"skala": name, "monate": months, "jugendaemter": n_offices, "von": von, "bis": bis}
    res["boden"] = floor(work / "landing", work)
    res["lauf"] = run_pipeline(work, env)
    res["dateien"] = len(files)
    res["zeilen"] = res["boden"]["zeilen"]
    secs = res["lauf"]["sekunden"]
    res["dateien_je_s"] = round(len(files) / secs, 1) if secs else None
    res["zeilen_je_s"] = round(res["zeilen"] / secs) if secs else None
    res["verhaeltnis_zum_boden"] = round(secs / res["boden"]["sekunden"], 1) if res["boden"]["sekunden"] else None
    res["buchfuehrung_allein_s"] = bookkeeping_alone(res["lauf"]["ereignisse"], work / ".dagster-bench")
    if name == "M":
        res["wiederholung"] = run_pipeline(work, env)
    if name == "L":
        from inobhut.calendar import add_months

        new = add_months(bis, 1)
        subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--landing", str(work / "landing"),
                        "--von", new, "--bis", new, "--seed", str(SEED), "--fehlerquote", "0.01"],
                       env=env, cwd=work, check=True, capture_output=True)
        res["inkrement"] = run_pipeline(work, env, [new])
    return res


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f", {round(int(fh.readline().split()[1]) / 1024 / 1024)} GiB"
    except OSError:
        pass
    return f"{platform.machine()}, {os.cpu_count()} Kerne{mem}, Python {platform.python_version()}, {platform.platform()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("skalen", nargs="+", choices=[*SCALES, "vergleich"])
    ap.add_argument("--work", type=Path, default=None, help="Arbeitsverzeichnis (Vorgabe: temporär)")
    ap.add_argument("--json", type=Path, default=None, help="Ergebnisse zusätzlich als JSON hierhin")
    ap.add_argument("--docs", action="store_true", help="die Messwerte in docs/leistung.md eintragen")
    args = ap.parse_args()
    base = args.work or Path(tempfile.mkdtemp(prefix="inobhut-skalen-"))
    base.mkdir(parents=True, exist_ok=True)
    results = {"rechner": machine(), "zeit": time.strftime("%Y-%m-%d %H:%M"), "skalen": []}
    for name in args.skalen:
        if name == "vergleich":
            work = base / "vergleich"
            if not (work / "landing").exists():
                work.mkdir(parents=True, exist_ok=True)
                generate(work, 3, None)
            results["vergleich"] = compare(work / "landing")
            print(json.dumps(results["vergleich"], ensure_ascii=False, indent=1), flush=True)
            continue
        r = measure(name, base)
        results["skalen"].append(r)
        print(json.dumps(r, ensure_ascii=False, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.docs:
        write_docs(results, ROOT / "docs" / "leistung.md")


TARGETS = {"S": "< 20 s", "M": "< 120 s, Spitze < 1 GB", "L": "< 8 min, Spitze < 2 GB",
           "XL": "< 10 min, Spitze < 4 GB"}
BEGIN, END = "<!-- messwerte:anfang (bench/bench_scales.py --docs) -->", "<!-- messwerte:ende -->"


def _de(x, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{x:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def write_docs(results: dict, page: Path) -> None:
    """Replace the block between the markers in docs/leistung.md by the measured figures."""
    lines = [BEGIN, "", f"Gemessen am {results['zeit']} auf: {results['rechner']}.", ""]
    if results["skalen"]:
        lines += ["| Skala | Dateien | Zeilen | Dauer | Spitze | Dateien/s | Zeilen/s | Boden | Verhältnis zum Boden | Ziel |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in results["skalen"]:
            lauf = r["lauf"]
            lines.append(f"| {r['skala']} ({r['monate']} Monate × {r['jugendaemter']} Ämter) | {_de(r['dateien'], 0)} "
                         f"| {_de(r['zeilen'], 0)} | {_de(lauf['sekunden'])} s | {_de(lauf['spitze_mb'], 0)} MB "
                         f"| {_de(r['dateien_je_s'])} | {_de(r['zeilen_je_s'], 0)} | {_de(r['boden']['sekunden'], 2)} s "
                         f"| {_de(r['verhaeltnis_zum_boden'])}× | {TARGETS.get(r['skala'], '')} |")
            for extra, label, target in (("wiederholung", "unveränderte Wiederholung", "< 10 % von M"),
                                         ("inkrement", "ein neuer Monat nach L", "≤ 1,3 × S")):
                if extra in r:
                    lines.append(f"| {label} | | | {_de(r[extra]['sekunden'])} s | {_de(r[extra]['spitze_mb'], 0)} MB "
                                 f"| | | | | {target} |")
        lines += ["", "Je Stufe (Sekunden / Spitzenspeicher in MB; Dagsters Buchführung allein gemessen):", "",
                  "| Skala | " + " | ".join(sorted({k for r in results["skalen"] for k in r["lauf"]["stufen"]})) +
                  " | Ereignisse | Buchführung allein |",
                  "| --- | " + " | ".join("---:" for _ in sorted({k for r in results["skalen"] for k in r["lauf"]["stufen"]})) +
                  " | ---: | ---: |"]
        stages = sorted({k for r in results["skalen"] for k in r["lauf"]["stufen"]})
        for r in results["skalen"]:
            st = r["lauf"]["stufen"]
            cells = [f"{_de(st[k]['sekunden'])} s / {_de(st[k]['spitze_mb'], 0)}" if k in st else "–" for k in stages]
            lines.append(f"| {r['skala']} | " + " | ".join(cells) + f" | {_de(r['lauf']['ereignisse'], 0)}"
                         f" | {_de(r['buchfuehrung_allein_s'])} s |")
    if "vergleich" in results:
        v = results["vergleich"]
        lines += ["", "Vergleiche auf denselben Dateien:", "",
                  "| Messung | Wert |", "| --- | ---: |"]
        labels = {"pandera_allein_gebuendelt_zeilen_je_s": "massnahmen: alle Zeilenregeln allein, gebündelt (Median von 7 Durchläufen; Zeilen/s)",
                  "gx_allein_gebuendelt_zeilen_je_s": "massnahmen: Great Expectations allein, gebündelt (Zeilen/s)",
                  "zeilen_je_s_pandera": "massnahmen: Lesen + pandera, Datei für Datei (Zeilen/s)",
                  "zeilen_je_s_pandera_gebuendelt": "massnahmen: Lesen + pandera gebündelt je Jugendamt (Zeilen/s)",
                  "zeilen_je_s_pandera_gx": "massnahmen: Lesen + pandera + Great Expectations (Zeilen/s)",
                  "openpyxl_zeilen_je_s": "XLSX-Blatt lesen mit openpyxl (Zeilen/s)",
                  "calamine_zeilen_je_s": "XLSX-Blatt lesen mit python-calamine (Zeilen/s)",
                  "lieferleser_xlsx_openpyxl_zeilen_je_s": "Lieferleser XLSX über openpyxl (Zeilen/s)",
                  "lieferleser_xlsx_calamine_zeilen_je_s": "Lieferleser XLSX über calamine (Zeilen/s)"}
        for k, label in labels.items():
            if k in v:
                lines.append(f"| {label} | {_de(v[k], 0)} |")
    lines += ["", END]
    text = page.read_text(encoding="utf-8") if page.exists() else f"# Leistung\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    page.write_text(head + "\n".join(lines) + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
