"""A correction re-evaluates exactly what depends on it: the corrected office-month, the next
month's cross-delivery checks of that office, the tables and reports whose inputs changed --
and nothing else (unchanged outputs keep their files: same inode, mtime and ctime). The result
equals a fresh full run on the same archive, byte for byte."""

from __future__ import annotations

import json
import shutil
import warnings

import dagster as dg
import pytest

from tests.conftest import FIXTURES

MONTHS = ["2024-03", "2024-04", "2024-05"]
ROUND1 = FIXTURES / "lieferungen" / "runde1"
ROUND2 = FIXTURES / "lieferungen" / "runde2"


def _copy_round(src, landing):
    for f in src.rglob("*.csv"):
        target = landing / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)


# outside this mechanism: the GX Data Docs (an analyst aid with run times), the Protokoll (real
# run times by design) and the operator's log of failed runs
NOT_COMPARED = ("gx_data_docs/", "protokoll/", "betrieb/")


def _outputs(out):
    """Every output under <out> that the incremental mechanism governs."""
    snap = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_file() and not rel.startswith(NOT_COMPARED):
            st = p.stat()
            snap[rel] = (p.read_bytes(), st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return snap


@pytest.fixture
def fixture_env(inobhut_env, monkeypatch):
    warnings.filterwarnings("ignore")
    monkeypatch.setenv("INOBHUT_CONFIG", str(FIXTURES / "settings_test.toml"))
    monkeypatch.setenv("INOBHUT_STICHTAG", "2024-06-15")
    return inobhut_env


@pytest.mark.slow
def test_correction_rewrites_exactly_what_depends_on_it(fixture_env, tmp_path, monkeypatch):
    from inobhut import archive as arc
    from inobhut.config import Paths, office_keys
    from inobhut.processing import read_sidecar
    from pipelines.definitions import build_definitions
    from pipelines.runner import prepare_dagster_home, run_pipeline
    from pipelines.sensors import landing_state, newest_month, run_requests_for_changes

    paths = fixture_env
    _copy_round(ROUND1, paths.landing)
    assert run_pipeline(paths, MONTHS).success
    # a rerun on the same inputs touches nothing at all
    first = _outputs(paths.out)
    assert run_pipeline(paths, MONTHS).success
    assert {k: v[1:] for k, v in _outputs(paths.out).items()} == {k: v[1:] for k, v in first.items()}

    before = _outputs(paths.out)
    may05 = arc.list_versions(paths.archive, "01060063", "massnahmen", "2024-05")[0]
    assert read_sidecar(paths, may05)["kontext"] == {"vormonat": None, "plaetze": _plaetze_id(paths, "2024-05")}

    # the correction of ONE office-month (the rejected April delivery of 01060063), run as the
    # sensor requests it
    old_state = landing_state(paths.landing)
    shutil.copyfile(ROUND2 / "01060063" / "01060063_massnahmen_2024-04.csv",
                    paths.landing / "01060063" / "01060063_massnahmen_2024-04.csv")
    (req,) = run_requests_for_changes(old_state, landing_state(paths.landing), set(office_keys()), newest_month(paths))
    assert req.tags["dagster/asset_partition_range_start"] == "2024-04"
    assert req.tags["dagster/asset_partition_range_end"] == "2024-05"
    prepare_dagster_home()
    with dg.DagsterInstance.get() as instance:
        defs = build_definitions()
        result = defs.resolve_job_def("inobhut").execute_in_process(
            instance=instance, asset_selection=list(req.asset_selection), tags=dict(req.tags), raise_on_error=False)
        assert result.success
        # what the sensor "bundesstatistik_nach_lauf" starts under the daemon: the year of the run
        from pipelines.runner import _run_bundesstatistik

        yearly = _run_bundesstatistik(defs, instance, req.tags["dagster/asset_partition_range_start"],
                                      req.tags["dagster/asset_partition_range_end"])
        assert yearly is None or yearly.success

    after = _outputs(paths.out)
    rewritten = {k for k, v in after.items() if k not in before or v[1:] != before[k][1:]}
    changed = {k for k, v in after.items() if k not in before or v[0] != before[k][0]}
    assert set(before) <= set(after)
    # May's massnahmen of that office were checked again against the now accepted April version
    assert read_sidecar(paths, may05)["kontext"]["vormonat"].startswith("2:")
    rechecked = {f"pruefberichte/01060063/massnahmen_2024-05_v1.{s}" for s in ("html", "xlsx", "json")}
    assert rechecked <= rewritten
    # nothing is rewritten that did not change, except the re-checked Prüfbericht
    assert rewritten - changed <= rechecked, sorted(rewritten - changed)
    # what must change did change ...
    for rel in ("jugendaemter/01060063/jugendamtsbericht/jugendamtsbericht_01060063_2024-04.html",
                "berichte/landesbericht/SH-KOOP/2024-04/landesbericht_SH-KOOP_2024-04.html",
                "berichte/lieferstatus/SH-KOOP/2024-04/lieferstatus_SH-KOOP_2024-04.html",
                "pruefberichte/01060063/massnahmen_2024-04_v2.html", "manifest.json", "tabellen/bewegung.csv"):
        assert rel in rewritten, (rel, sorted(rewritten))
    # ... and the other network, the months before and the other offices stay untouched
    untouched = [k for k in before if "BW" in k or "_2024-03" in k or "08111" in k or "08335043" in k]
    assert untouched and not (set(untouched) & rewritten), sorted(set(untouched) & rewritten)
    assert any("landesbericht_BW_2024-04" in k for k in untouched)

    # the outputs equal a fresh full run on the same archive
    fresh = Paths(paths.landing, tmp_path / "fresh_archive", tmp_path / "fresh_staging",
                  tmp_path / "fresh_warehouse.duckdb", tmp_path / "fresh_out")
    shutil.copytree(paths.archive, fresh.archive, ignore=shutil.ignore_patterns(".*.lock"))
    import os

    for var in ("INOBHUT_LANDING", "INOBHUT_ARCHIVE", "INOBHUT_STAGING", "INOBHUT_WAREHOUSE", "INOBHUT_OUT"):
        monkeypatch.setenv(var, os.environ.get(var, ""))  # run_pipeline exports the fresh paths: restored after the test
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "fresh_dagster"))
    assert run_pipeline(fresh, MONTHS).success
    # (the front page's section "Änderungen seit dem vorigen Datenstand" depends on the previous data
    # state by design -- a fresh run has none --, so berichte/index.html is left out here; the rerun
    # and reproducibility tests compare it)
    history = ("manifest.json", "berichte/index.html")
    got = {k: v[0] for k, v in after.items() if k not in history}
    want = {k: v[0] for k, v in _outputs(fresh.out).items() if k not in history}
    # the manifest agrees on every compared output and on every delivery version
    mine, theirs = (json.loads((p / "manifest.json").read_text(encoding="utf-8")) for p in (paths.out, fresh.out))
    compared = [lambda d: {(o["datei"], o["sha256"]) for o in d["ausgaben"]
                           if not o["datei"].startswith(NOT_COMPARED) and o["datei"] not in history},
                lambda d: d["lieferungen"]]
    for f in compared:
        a, b = f(mine), f(theirs)
        assert a == b, sorted(set(map(str, a)) ^ set(map(str, b)))[:12] if isinstance(a, set) else "lieferungen"
    assert got.keys() == want.keys()
    differ = sorted(k for k in got if got[k] != want[k])
    assert differ == [], differ
    manifest = json.loads((paths.out / "manifest.json").read_text(encoding="utf-8"))
    assert {(x["jugendamt"], x["monat"], x["version"]) for x in manifest["lieferungen"]
            if x["datensatz"] == "massnahmen" and x["jugendamt"] == "01060063"} >= {("01060063", "2024-04", 2)}


def _plaetze_id(paths, month):
    from inobhut.processing import in_force, version_id

    hit = in_force(paths, "01060063", "plaetze", month)
    return None if hit is None else version_id(hit[0])


def test_pruefbericht_excel_is_reproducible(tmp_path):
    """Same version, same Prüfbericht bytes (the workbook carries the receipt time, not the clock)."""
    import time

    from inobhut.pruefbericht import write_pruefbericht
    from tests.test_pruefbericht import META, rejected_result

    res = rejected_result(tmp_path)
    a = [p.read_bytes() for p in write_pruefbericht(res, META, tmp_path / "a")]
    time.sleep(1.1)  # a zip member time or a workbook property from the clock would differ now
    b = [p.read_bytes() for p in write_pruefbericht(res, META, tmp_path / "b")]
    assert a == b


def test_report_fingerprint_follows_every_cell_and_not_the_time_zone():
    """The input fingerprint of a report (it decides whether a report is re-rendered) changes with
    any cell, also a value of another type that prints alike (1 vs 1.0 vs "1"), with the order of
    rows and with column names; a zone-aware time counts as an instant, in any zone."""
    import datetime as dt

    import pandas as pd

    from inobhut.outputs import model_fingerprint

    base = pd.DataFrame({"Jugendamt": ["A", "B"], "Anzahl": [1, 2], "Stand": pd.to_datetime(["2024-05-01 10:00"] * 2, utc=True)})
    fp = model_fingerprint({"t": base})
    assert model_fingerprint({"t": base.copy()}) == fp
    variants = [base.assign(Anzahl=[1.0, 2.0]), base.assign(Anzahl=["1", "2"]), base.assign(Anzahl=[1, 3]),
                base.iloc[::-1], base.rename(columns={"Anzahl": "Zahl"}), base.set_index("Jugendamt")]
    assert len({fp, *(model_fingerprint({"t": v}) for v in variants)}) == len(variants) + 1
    berlin = base.assign(Stand=base["Stand"].dt.tz_convert("Europe/Berlin"))
    assert model_fingerprint({"t": berlin}) == fp
    objs = base.assign(Stand=[dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))), "–"])
    utc = base.assign(Stand=[dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc), "–"])
    assert objs["Stand"].dtype == object and model_fingerprint({"t": objs}) == model_fingerprint({"t": utc})


def test_staging_keeps_findings_only_where_there_are_some(tmp_path):
    """A version without findings has no findings file (it reads as none); a re-validation that
    no longer finds anything removes the file from before, so no old finding reaches the warehouse."""
    from inobhut import staging as stg
    from inobhut.archive import ArchivedVersion
    from inobhut.validation.rules import make_finding

    v = ArchivedVersion("08335", "massnahmen", "2025-03", 1, "m.csv", "0" * 64, 10, "2025-04-01T08:00:00",
                        "08335/massnahmen/2025-03/v0001_000000000000.csv")
    verdict = stg.Verdict("angenommen mit Hinweisen", n_rows=1, n_fehler=0, n_hinweise=1, rules_version="1")
    stg.write_version(tmp_path, v, verdict, None, [make_finding("Z001", 2, "Beginn", None)])
    assert list(stg.read_findings(tmp_path, v)["rule_id"]) == ["Z001"]
    clean = stg.Verdict("angenommen", n_rows=1, n_fehler=0, n_hinweise=0, rules_version="2")
    stg.write_version(tmp_path, v, clean, None, [])
    assert not stg.findings_path(tmp_path, v).exists()
    assert stg.read_findings(tmp_path, v).empty and stg.read_verdict(tmp_path, v).verdict == "angenommen"
