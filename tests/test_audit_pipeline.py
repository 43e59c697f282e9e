"""The audit trail through a real Dagster run on the hand-made fixtures: run start/end, verdict
per version, versions put in force, outputs with sha256, the warehouse table ``audit`` and the
Protokoll report (outside the reproducible outputs), and a failed run's end."""

from __future__ import annotations

import csv
import json
import warnings

import openpyxl
import pytest

from inobhut import audit
from tests.conftest import FIXTURES
from tests.test_pipeline_e2e import MONTHS, ROUND1, _copy_round


@pytest.fixture
def fixture_env(inobhut_env, monkeypatch):
    monkeypatch.setenv("INOBHUT_CONFIG", str(FIXTURES / "settings_test.toml"))
    return inobhut_env


def _run_events(paths, run_id):
    return [e for e in audit.read(paths.archive) if e["lauf"] == run_id]


@pytest.mark.slow
def test_audit_trail_of_pipeline_runs(fixture_env):
    warnings.filterwarnings("ignore")
    from inobhut.warehouse import Warehouse
    from pipelines.runner import run_pipeline

    paths = fixture_env
    _copy_round(ROUND1, paths.landing)
    out1 = run_pipeline(paths, MONTHS)
    assert out1.success, out1.error
    ev = _run_events(paths, out1.run_id)
    kinds = [e["ereignis"] for e in ev]
    assert kinds[0] == "lauf_start" and kinds[-1] == "lauf_ende" and kinds.count("lauf_ende") == 1
    assert json.loads(ev[-1]["detail"])["ergebnis"] == "erfolgreich"
    with Warehouse(paths.warehouse).connect() as con:
        deliveries = con.execute("SELECT ags, dataset, monat, version, sha256, verdict, in_force FROM deliveries").fetchall()
        n_audit = con.execute("SELECT count(*) FROM audit").fetchone()[0]
    # one verdict per version, with its result and checksum
    verdicts = {(e["ags"], e["dataset"], e["monat"], e["version"]): (e["sha256"], json.loads(e["detail"])["ergebnis"])
                for e in ev if e["ereignis"] == "urteil"}
    assert verdicts == {(a, d, m, v): (s, x) for a, d, m, v, s, x, _ in deliveries}
    assert kinds.count("urteil") == len(deliveries)
    # every version in force was put in force in this run
    assert {(e["ags"], e["dataset"], e["monat"], e["version"]) for e in ev if e["ereignis"] == "in_kraft"} == \
        {(a, d, m, v) for a, d, m, v, _, _, f in deliveries if f}
    # every output of the manifest, with its sha256; the Protokoll is not in the manifest
    manifest = json.loads((paths.out / "manifest.json").read_text(encoding="utf-8"))
    # (the yearly federal statistic follows the run as a run of its own and rewrites index and
    # manifest: the newest event of each file, over both runs, is the manifest's version)
    newest = {e["datei"]: e["sha256"] for e in audit.read(paths.archive) if e["ereignis"] == "ausgabe"}
    assert set(newest.items()) == {(o["datei"], o["sha256"]) for o in manifest["ausgaben"]}
    assert {e["datei"] for e in ev if e["ereignis"] == "ausgabe"} >= {
        o["datei"] for o in manifest["ausgaben"] if "/bundesstatistik/" not in o["datei"]}
    assert not any(o["datei"].startswith("protokoll/") for o in manifest["ausgaben"])
    # index page and manifest are written once per `inobhut run`, after the federal statistic's
    # run (before: by both runs, the second write unattributed): one event for the index page,
    # under the main run's id, and the manifest lists the federal statistic's files
    index_events = [e for e in audit.read(paths.archive) if e["ereignis"] == "ausgabe" and e["datei"] == "berichte/index.html"]
    assert [e["lauf"] for e in index_events] == [out1.run_id]
    assert any("/bundesstatistik/" in o["datei"] for o in manifest["ausgaben"])
    # mirrored into the warehouse, up to the run's end (synced again before the Protokoll)
    assert n_audit == len(audit.read(paths.archive))
    # no case data in the journal: no Fallnummer of the fixtures appears in it
    journal = audit.journal_path(paths.archive).read_text(encoding="utf-8")
    fallnummern = {r["Fallnummer"] for f in ROUND1.rglob("*massnahmen*.csv")
                   for r in csv.DictReader(f.read_text(encoding="utf-8-sig").splitlines(), delimiter=";") if r.get("Fallnummer")}
    assert fallnummern and not any(f'"{n}"' in journal or f" {n} " in journal for n in fallnummern)

    # the Protokoll for the Land level: counts per office and event, and the runs
    month = ev[-1]["zeit"][:7]
    books = sorted((paths.out / "protokoll").rglob(f"protokoll_*_{month}.xlsx"))
    assert books and all(b.with_suffix(".html").exists() for b in books)
    totals = {}
    for b in books:
        ws = openpyxl.load_workbook(b)["Ereignisse"]
        rows = [[c.value for c in r] for r in ws.iter_rows()]
        head = next(r for r in rows if r and r[0] == "Jugendamt")
        total = next(r for r in rows if r and r[0] == "Insgesamt")
        for h, v in zip(head[1:], total[1:]):
            totals[(b.name, h)] = v
    n_by_kind = {k: kinds.count(k) for k in set(kinds) - {"lauf_ende"}}
    bw = next(b.name for b in books if "_BW_" in b.name)
    sh = next(b.name for b in books if "_SH-KOOP_" in b.name)
    assert totals[(bw, "Prüfergebnisse")] + totals[(sh, "Prüfergebnisse")] == n_by_kind["urteil"]
    assert totals[(bw, "Läufe gestartet")] == 1 and totals[(bw, "Läufe beendet")] == 1

    # the same data again: a new run, but nothing new to judge, put in force or write
    out2 = run_pipeline(paths, MONTHS)
    assert out2.success, out2.error
    assert [e["ereignis"] for e in _run_events(paths, out2.run_id)] == ["lauf_start", "lauf_ende"]

    # a run that fails records its end as failed (in-process: the runner; daemon: run-failure sensor)
    (paths.out / "manifest.json").unlink()
    (paths.out / "manifest.json").mkdir()
    out3 = run_pipeline(paths, MONTHS)
    assert not out3.success
    end = [e for e in _run_events(paths, out3.run_id) if e["ereignis"] == "lauf_ende"]
    assert len(end) == 1 and json.loads(end[0]["detail"])["ergebnis"] == "fehlgeschlagen"
