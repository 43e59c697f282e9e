"""End to end through Dagster on the hand-made fixtures: two delivery rounds, exact tables.

Round 1 has a rejected file, round 2 corrections (one of them itself broken, so the earlier
accepted version must stay in force). After both rounds every fixed table must equal the
hand-computed CSV in tests/fixtures/erwartet/ byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings

import dagster as dg
import openpyxl
import pytest

from tests.conftest import FIXTURES
from tests.helpers_postgres import pg_env, pg_server, pg_url  # noqa: F401  (fixtures)

MONTHS = ["2024-03", "2024-04", "2024-05"]
ROUND1 = FIXTURES / "lieferungen" / "runde1"
ROUND2 = FIXTURES / "lieferungen" / "runde2"
FIXED = ["bewegung", "beendete", "uma_quote", "plaetze", "fristen_42a"]


def _copy_round(src, landing):
    for f in src.rglob("*.csv"):
        target = landing / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)


def _check_status(instance, ags, month, check="datensatzpruefung"):
    key = dg.AssetCheckKey(dg.AssetKey(["validated", f"office_{ags}"]), check)
    recs = instance.event_log_storage.get_asset_check_execution_history(key, limit=200)
    recs = [r for r in recs if r.partition == month]
    return recs[0] if recs else None


@pytest.fixture
def fixture_env(inobhut_env, monkeypatch):
    monkeypatch.setenv("INOBHUT_CONFIG", str(FIXTURES / "settings_test.toml"))
    return inobhut_env


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request, monkeypatch):
    """Dagster instance storage: the repository's dagster.yaml (SQLite) or the production
    deploy/dagster.yaml on a real PostgreSQL server (fresh database)."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        monkeypatch.setenv("INOBHUT_DAGSTER_YAML", str(FIXTURES.parent.parent / "deploy" / "dagster.yaml"))
        for var, val in pg_env(url).items():
            monkeypatch.setenv(var, val)
        return url
    monkeypatch.delenv("INOBHUT_DAGSTER_YAML", raising=False)
    return None


@pytest.mark.slow
def test_two_rounds_through_dagster(fixture_env, storage, tmp_path):
    warnings.filterwarnings("ignore")
    from inobhut.config import office_keys
    from inobhut.warehouse import Warehouse
    from pipelines.runner import run_pipeline

    paths = fixture_env
    assert sorted(office_keys()) == ["01060063", "01062", "08111", "08335043"]

    # ---- round 1
    _copy_round(ROUND1, paths.landing)
    outcome = run_pipeline(paths, MONTHS)
    assert outcome.success, outcome.error
    wh = Warehouse(paths.warehouse)
    with wh.connect() as con:
        verdicts = {(a, d, m, v): x for a, d, m, v, x in con.execute(
            "SELECT ags, dataset, monat, version, verdict FROM deliveries").fetchall()}
    assert verdicts[("01060063", "massnahmen", "2024-04", 1)] == "abgelehnt"
    assert verdicts[("08111", "plaetze", "2024-03", 1)] == "angenommen mit Hinweisen"
    assert verdicts[("08335043", "massnahmen", "2024-03", 1)] == "angenommen mit Hinweisen"
    assert verdicts[("01062", "uma", "2024-03", 1)] == "angenommen"  # Fehlanzeige
    assert sum(1 for x in verdicts.values() if x == "abgelehnt") == 1

    with dg.DagsterInstance.get() as instance:
        rec = _check_status(instance, "01060063", "2024-04", "zeilenpruefung")
        assert rec is not None and rec.status.value == "FAILED"
        assert rec.event.dagster_event.event_specific_data.severity == dg.AssetCheckSeverity.ERROR
        ok = _check_status(instance, "08111", "2024-04")
        assert ok is not None and ok.status.value == "SUCCEEDED"
        ok_rows = _check_status(instance, "08111", "2024-04", "zeilenpruefung")
        assert ok_rows is not None and ok_rows.status.value == "SUCCEEDED"
        # Konstanz (city) delivered no plaetze/personal: accepted but incomplete -> WARN
        warn = _check_status(instance, "08335043", "2024-05")
        assert warn.status.value == "FAILED"
        assert warn.event.dagster_event.event_specific_data.severity == dg.AssetCheckSeverity.WARN
        mats = instance.get_materialized_partitions(dg.AssetKey(["validated", "office_08111"]))
        assert set(MONTHS) <= mats
        # every office-month of the three months ran in ONE run (no run per partition)
        assert instance.get_runs_count(filters=dg.RunsFilter(job_name="inobhut")) == 1
        # ... followed by ONE run of the yearly federal statistic (a job of its own: other partitions)
        assert instance.get_runs_count(filters=dg.RunsFilter(job_name="bundesstatistik")) == 1
        assert instance.get_runs_count() == 2
        run_ids = set()
        for ags in office_keys():
            for m in MONTHS:
                recs = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=dg.AssetKey(["validated", f"office_{ags}"]), asset_partitions=[m]), limit=1
                ).records
                run_ids.add(recs[0].run_id)
        assert run_ids == {outcome.run_id}
        if storage:  # the runs and check results really live in PostgreSQL
            from dagster_postgres import PostgresRunStorage

            assert isinstance(instance.run_storage, PostgresRunStorage)
            import psycopg2

            with psycopg2.connect(storage) as con, con.cursor() as cur:
                cur.execute("SELECT count(*) FROM runs WHERE pipeline_name = 'inobhut'")
                assert cur.fetchone()[0] == 1
                cur.execute("SELECT execution_status FROM asset_check_executions WHERE check_name = 'zeilenpruefung' "
                            "AND asset_key LIKE '%office_01060063%' AND partition = '2024-04'")
                assert [r[0] for r in cur.fetchall()] == ["FAILED"]

    # ---- round 2: corrections
    _copy_round(ROUND2, paths.landing)
    outcome = run_pipeline(paths, MONTHS)
    assert outcome.success, outcome.error
    with wh.connect() as con:
        rows = con.execute(
            "SELECT ags, dataset, monat, version, verdict, in_force FROM deliveries ORDER BY ALL").fetchall()
        in_force = {(a, d, m): v for a, d, m, v, _, f in rows if f}
        verdicts = {(a, d, m, v): x for a, d, m, v, x, _ in rows}
        loaded = dict(((a, m), v) for a, m, v in con.execute(
            "SELECT DISTINCT jugendamt, monat, version FROM massnahmen").fetchall())
    assert verdicts[("01060063", "massnahmen", "2024-04", 2)] == "angenommen"
    assert verdicts[("01062", "massnahmen", "2024-03", 2)] == "abgelehnt"
    assert in_force[("01062", "massnahmen", "2024-03")] == 1  # the broken correction changes nothing
    assert in_force[("01060063", "massnahmen", "2024-04")] == 2
    assert in_force[("01060063", "massnahmen", "2024-05")] == 2
    assert in_force[("01062", "massnahmen", "2024-05")] == 2
    assert loaded[("01062", "2024-03")] == 1 and loaded[("01060063", "2024-05")] == 2

    # ---- exact tables
    for name in FIXED:
        got = (paths.out / "tabellen" / f"{name}.csv").read_text(encoding="utf-8")
        want = (FIXTURES / "erwartet" / f"{name}.csv").read_text(encoding="utf-8")
        assert got == want, name

    # ---- reports, index, manifest
    index = paths.out / "berichte" / "index.html"
    html = index.read_text(encoding="utf-8")
    for ags in office_keys():
        for m in MONTHS:
            assert f"jugendamtsbericht_{ags}_{m}.html" in html
    for v in ("BW", "SH-KOOP"):
        assert f"landesbericht_{v}_2024-05.html" in html
    xlsx = next((paths.out / "berichte").rglob("landesbericht_BW_2024-05.xlsx"))
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:3] == ["Deckblatt", "Inhalt", "Erläuterungen"]
    manifest = json.loads((paths.out / "manifest.json").read_text(encoding="utf-8"))
    listed = {o["datei"]: o["sha256"] for o in manifest["ausgaben"]}
    assert "berichte/index.html" in listed and "tabellen/bewegung.csv" in listed
    for rel, digest in listed.items():
        assert hashlib.sha256((paths.out / rel).read_bytes()).hexdigest() == digest, rel
    assert {(x["jugendamt"], x["datensatz"], x["monat"], x["version"]) for x in manifest["lieferungen"]} == set(verdicts)
    # statutory outputs of every run: UMA-Werktagsmeldung for the latest Werktag (Fr 31.05.2024),
    # on the index page; the Fristenliste of every office only below jugendaemter/<ags>/, not on it
    for v in ("BW", "SH-KOOP"):
        name = f"uma_tagesmeldung_{v}_2024-05-31"
        assert f"{name}.html" in html
        assert {f"berichte/uma_tagesmeldung/{v}/{name}.{s}" for s in ("html", "xlsx", "csv")} <= set(listed)
    for ags in office_keys():
        assert f"jugendaemter/{ags}/fristen/fristenliste_{ags}_2024-05-31.csv" in listed
    assert "fristenliste" not in html
    konstanz = (paths.out / "jugendaemter" / "08335043" / "fristen" / "fristenliste_08335043_2024-05-31.csv")
    assert "08335043_massnahmen_2024-04.csv,1,2," in konstanz.read_text(encoding="utf-8")  # K-101, 12 Werktage
    # the federal statistic of 2024 followed the run (yearly job): every office, in manifest and index
    for ags in office_keys():
        for suffix in (".xlsx", ".csv", "_zurueckgewiesen.csv"):
            assert f"jugendaemter/{ags}/bundesstatistik/2024/bundesstatistik_{ags}_2024{suffix}" in listed, (ags, suffix)
        assert f"bundesstatistik_{ags}_2024.xlsx" in html or f"bundesstatistik_{ags}_2024.xlsx" in index.read_text(encoding="utf-8")
    pb = paths.out / "pruefberichte" / "01062" / "massnahmen_2024-03_v2.html"
    assert "abgelehnt" in pb.read_text(encoding="utf-8")

    # ---- privacy: no raw case number outside the archive
    raw_numbers = [b"S-24-001", b"K-101", b"N-2;", b"St-3"]
    for base in (paths.staging, paths.out, paths.warehouse.parent / "warehouse.duckdb"):
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for f in files:
            data = f.read_bytes()
            for raw in raw_numbers:
                assert raw not in data, (f, raw)


def _reproducible(out):
    """Every output file except the Protokoll (audit report), which shows the real times of
    runs by design and lies outside the reproducible outputs (docs/entscheidungen.md)."""
    return {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.relative_to(out).parts[0] != "protokoll"}


@pytest.mark.slow
def test_rerun_is_idempotent(fixture_env):
    """Same inputs, same outputs: a second run changes no output byte (manifest included)."""
    warnings.filterwarnings("ignore")
    from pipelines.runner import run_pipeline

    paths = fixture_env
    _copy_round(ROUND1, paths.landing)
    assert run_pipeline(paths, MONTHS).success
    before = _reproducible(paths.out)
    assert run_pipeline(paths, MONTHS).success
    after = _reproducible(paths.out)
    assert before.keys() == after.keys()
    changed = [str(p) for p in before if before[p] != after[p]]
    assert changed == []
