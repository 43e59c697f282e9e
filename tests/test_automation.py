"""Unattended operation on real Dagster instances: sensor and schedule ticks as the daemon runs
them (runs executed for real), overdue deliveries (check ``lieferfrist``, Lieferstatus), and the
German message of a failed run.
"""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from tests.conftest import FIXTURES
from tests.helpers_daemon import daemon_workspace, schedule_tick, sensor_tick, ticks

ROUND1 = FIXTURES / "lieferungen" / "runde1"
ROUND2 = FIXTURES / "lieferungen" / "runde2"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def env(inobhut_env, monkeypatch):
    warnings.filterwarnings("ignore")
    monkeypatch.setenv("INOBHUT_CONFIG", str(FIXTURES / "settings_test.toml"))
    monkeypatch.setenv("INOBHUT_STICHTAG", "2024-06-15")  # May is due (10.06.), June not yet
    return inobhut_env


def _put(paths, src_round, name):
    ags = name.split("_")[0]
    target = paths.landing / ags / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src_round / ags / name, target)
    return target


def _runs(instance):
    """The pipeline's runs, newest first (other jobs, e.g. the yearly federal statistic that a
    run-status sensor starts after a pipeline run, are not counted)."""
    return [r for r in instance.get_runs() if r.job_name == "inobhut"]


def _check(instance, ags, month, name="lieferfrist"):
    key = dg.AssetCheckKey(dg.AssetKey(["validated", f"office_{ags}"]), name)
    recs = [r for r in instance.event_log_storage.get_asset_check_execution_history(key, limit=500) if r.partition == month]
    return recs[0] if recs else None


@pytest.mark.slow
def test_sensor_ticks_once_per_file_version(env, tmp_path):
    from inobhut.archive import list_versions

    paths = env
    t0 = dt.datetime(2024, 6, 15, 9, 0, tzinfo=BERLIN)
    _put(paths, ROUND1, "01062_massnahmen_2024-03.csv")
    _put(paths, ROUND1, "01062_uma_2024-03.csv")
    with daemon_workspace(tmp_path) as (instance, ctx):
        # tick 1: two new files of one office-month -> ONE run for that office and month
        sensor_tick(ctx, t0)
        runs = _runs(instance)
        assert len(runs) == 1
        run = runs[0]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["dagster/partition"] == "2024-03" and run.tags["inobhut/jugendaemter"] == "01062"
        selected = {k.to_user_string() for k in run.asset_selection}
        assert "validated/office_01062" in selected and "validated/office_08111" not in selected
        assert {(v.dataset, v.version) for v in list_versions(paths.archive)} == {("massnahmen", 1), ("uma", 1)}

        # tick 2 a minute later, nothing changed: skipped, no run
        sensor_tick(ctx, t0 + dt.timedelta(seconds=61))
        assert len(_runs(instance)) == 1

        # tick 3: a corrected file (same name, new content) -> one run, version 2 archived
        _put(paths, ROUND2, "01062_massnahmen_2024-03.csv")
        sensor_tick(ctx, t0 + dt.timedelta(seconds=122))
        runs = _runs(instance)
        assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert [v.version for v in list_versions(paths.archive, "01062", "massnahmen", "2024-03")] == [1, 2]

        # tick 4: a file that cannot be assigned, on its own -> a run of intake and Lieferstatus
        bad = paths.landing / "01062" / "massnahmen_maerz.csv"
        bad.write_text("Fallnummer;Beginn\n", encoding="utf-8")
        sensor_tick(ctx, t0 + dt.timedelta(seconds=183))
        runs = _runs(instance)
        assert len(runs) == 3
        newest = runs[0]
        assert newest.status == dg.DagsterRunStatus.SUCCESS
        assert newest.tags["inobhut/ausloeser"] == "nicht zuordenbare Datei"
        assert "01062/massnahmen_maerz.csv" in newest.tags["inobhut/dateien"]
        intake = instance.fetch_materializations(dg.AssetKey(["raw", "intake"]), limit=1).records[0]
        assert intake.run_id == newest.run_id
        assert intake.asset_materialization.metadata["nicht_zuordenbar"].value == 1
        assert bad.exists()  # never moved or deleted

        # tick 5 and 6: nothing new -> no further runs (exactly once per file version)
        sensor_tick(ctx, t0 + dt.timedelta(seconds=244))
        sensor_tick(ctx, t0 + dt.timedelta(seconds=305))
        assert len(_runs(instance)) == 3
        statuses = [t.status.value for t in ticks(instance, "landing_sensor", "sensor")]
        assert statuses == ["SUCCESS", "SKIPPED", "SUCCESS", "SUCCESS", "SKIPPED", "SKIPPED"]


@pytest.mark.slow
def test_nightly_schedule_ticks_and_overdue_deliveries(env, tmp_path):
    paths = env
    for name in ("08111_massnahmen_2024-05.csv", "08111_uma_2024-05.csv", "08111_plaetze_2024-05.csv",
                 "08111_personal_2024-05.csv", "01062_massnahmen_2024-05.csv"):
        _put(paths, ROUND1, name)
    night = dt.datetime(2024, 6, 15, 1, 59, tzinfo=BERLIN)
    with daemon_workspace(tmp_path) as (instance, ctx):
        schedule_tick(ctx, night)  # the daemon sees the schedule for the first time: nothing due yet
        assert _runs(instance) == []
        schedule_tick(ctx, night + dt.timedelta(minutes=1, seconds=30))  # 02:00:30 Berlin
        runs = _runs(instance)
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS, runs
        tags = runs[0].tags
        assert tags["dagster/schedule_name"] == "nightly"
        assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == ("2024-05", "2024-05")
        # overdue on 15.06.: 01062 lacks uma, plaetze, personal for May -> red; 08111 complete -> green
        late = _check(instance, "01062", "2024-05")
        assert late is not None and late.status.value == "FAILED"
        ev = late.event.dagster_event.event_specific_data
        assert ev.severity == dg.AssetCheckSeverity.ERROR and "uma" in ev.metadata["offen"].value
        assert _check(instance, "08111", "2024-05").status.value == "SUCCEEDED"
        # an office that delivered nothing at all is red too
        assert _check(instance, "08335043", "2024-05").status.value == "FAILED"
        # ... and the Lieferstatus says so
        page = next((paths.out / "berichte").rglob("lieferstatus_BW_2024-05.html"))
        text = page.read_text(encoding="utf-8")
        stamp = page.stat().st_mtime_ns
        assert "überfällig" in text and "Die Lieferfrist (10.06.2024) ist abgelaufen" in text

        # the next night nothing is new: intake, Lieferfristen and Lieferstatus still run
        schedule_tick(ctx, night + dt.timedelta(days=1, minutes=1, seconds=30))
        runs = _runs(instance)
        assert len(runs) == 2 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        assert runs[0].tags["dagster/partition"] == "2024-05"
        assert {k.to_user_string() for k in runs[0].asset_selection} == {"raw/intake", "reports/index_and_manifest"}
        again = _check(instance, "01062", "2024-05")
        assert again.run_id == runs[0].run_id and again.status.value == "FAILED"
        assert page.stat().st_mtime_ns == stamp  # nothing changed: the Lieferstatus is not rewritten
        assert [t.status.value for t in ticks(instance, "nightly", "schedule")] == ["SUCCESS", "SUCCESS"]


@pytest.mark.slow
def test_unchanged_deadline_evaluations_are_not_recorded_again(env, monkeypatch):
    """A nightly run records the check ``lieferfrist`` of its own months and of the window's other
    months only where the result changed: an office-month delivered in time keeps its evaluation
    of the first run; an overdue one is recorded anew (its text names the day), and so is a
    month that has become due since."""
    from pipelines.runner import open_instance, run_pipeline

    paths = env
    for ags in ("08111", "01062"):
        for src in sorted((ROUND1 / ags).glob("*.csv")):
            _put(paths, ROUND1, src.name)
    first = run_pipeline(paths, ["2024-03", "2024-04", "2024-05"])
    assert first.success, first.error
    monkeypatch.setenv("INOBHUT_STICHTAG", "2024-07-15")  # June is due now (10.07.) and nobody delivered it
    second = run_pipeline(paths, ["2024-05"])
    assert second.success, second.error
    with open_instance() as instance:
        kept = _check(instance, "08111", "2024-03")
        assert kept.run_id == first.run_id and kept.status.value == "SUCCEEDED"
        assert "fristgerecht" in kept.event.dagster_event.event_specific_data.description
        for month in ("2024-03", "2024-04"):  # overdue: recorded again, with the new day
            late = _check(instance, "01062", month)
            assert late.run_id == second.run_id and late.status.value == "FAILED"
            assert "Stand 15.07.2024" in late.event.dagster_event.event_specific_data.description
        assert _check(instance, "08111", "2024-05").run_id == second.run_id  # the run's own month
        june = _check(instance, "08111", "2024-06")
        assert june.run_id == second.run_id and june.status.value == "FAILED"


def test_recorded_deadline_results_follow_the_instance(tmp_path, monkeypatch):
    """What the check ``lieferfrist`` last recorded counts only while the recording run exists:
    a deleted run (its evaluations go with it) or a new instance records everything again."""
    import json

    from dagster._core.test_utils import create_run_for_test

    from assets.validated.freshness import RECORDED_KEY, recorded
    from pipelines.runner import open_instance, prepare_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    prepare_dagster_home(tmp_path / "dagster")
    with open_instance() as instance:
        assert recorded(instance) == {}
        run = create_run_for_test(instance, job_name="inobhut").run_id
        instance.run_storage.set_cursor_values({RECORDED_KEY: json.dumps({
            "validated/office_08111|2024-03": ["a", run], "validated/office_08111|2024-04": ["b", "verschwunden"]})})
        assert recorded(instance) == {"validated/office_08111|2024-03": ["a", run]}
        instance.delete_run(run)
        assert recorded(instance) == {}


def test_overdue_office_months_rules():
    import pandas as pd

    from inobhut.status import last_due_month, overdue_office_months

    assert last_due_month(dt.date(2024, 6, 10)) == "2024-04"  # due ON the 10th: not yet overdue
    assert last_due_month(dt.date(2024, 6, 11)) == "2024-05"
    assert last_due_month(dt.date(2024, 1, 11)) == "2023-12"
    status = pd.DataFrame([
        ("A", "massnahmen", "2024-05", "angenommen", 1), ("A", "uma", "2024-05", "abgelehnt", None),
        ("B", "massnahmen", "2024-05", "abgelehnt", 1), ("B", "uma", "2024-05", "angenommen", 1),
        ("C", "massnahmen", "2024-05", "fehlt", None), ("C", "massnahmen", "2024-06", "fehlt", None),
    ], columns=["ags", "dataset", "monat", "status", "in_kraft"])
    got = overdue_office_months(status, dt.date(2024, 6, 11))
    # A: rejected without a version in force is open; B: rejected correction, v1 in force: fine;
    # C: June not yet due
    assert [(r.ags, r.monat, r.offen) for r in got.itertuples()] == [("A", "2024-05", "uma"), ("C", "2024-05", "massnahmen")]
    assert overdue_office_months(status, dt.date(2024, 6, 10)).empty


@pytest.mark.slow
def test_failed_run_leaves_a_german_message(env, monkeypatch):
    from dagster._core.events import DagsterEventType

    from pipelines.run_failure import MESSAGE_TAG, OPERATOR_LOG, run_failure_notice
    from pipelines.runner import run_pipeline

    paths = env
    _put(paths, ROUND1, "01062_uma_2024-05.csv")
    monkeypatch.delenv("INOBHUT_PSEUDONYM_KEY")
    outcome = run_pipeline(paths, ["2024-05"])
    assert not outcome.success
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(outcome.run_id)
        failure = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)[0].dagster_event
        ctx = dg.build_run_status_sensor_context(sensor_name="run_failure_notice", dagster_instance=instance,
                                                 dagster_run=run, dagster_event=failure).for_run_failure()
        run_failure_notice(ctx)
        msg = instance.get_run_by_id(run.run_id).tags[MESSAGE_TAG]
        logged = [e.message for e in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)]
    assert f"Der Lauf {run.run_id}" in msg and "pruefung_sh_koop" in msg  # the step of 01062's network
    assert "MissingKeyError" in msg and "Pseudonymisierungsschlüssel" in msg and "Was tun:" in msg
    assert "Wiederholung 1 von 2" in msg  # dagster.yaml: run_retries max_retries 2
    assert msg in logged
    log = (paths.out / OPERATOR_LOG).read_text(encoding="utf-8")
    assert msg in log


def test_failure_message_remedies_and_last_retry():
    from pipelines.run_failure import DEFAULT_REMEDY, failure_message, remedy

    assert "Speicherplatz" in remedy("OSError: [Errno 28] No space left on device")
    assert "Berechtigung" in remedy("PermissionError: [Errno 13] Permission denied: '/data/archive'")
    assert remedy("ValueError: etwas anderes") == DEFAULT_REMEDY
    run = dg.DagsterRun(job_name="inobhut", run_id="abc", tags={"dagster/retry_number": "2",
                                                                "dagster/asset_partition_range_start": "2024-01",
                                                                "dagster/asset_partition_range_end": "2024-03",
                                                                "inobhut/ausloeser": "nächtlicher Lauf"})
    msg = failure_message(run, ["warehouse__monthly_load"], "OSError: [Errno 28] No space left on device",
                          retries_enabled=True, max_retries=2)
    assert "Monate 2024-01 bis 2024-03" in msg and "nächtlicher Lauf" in msg and "warehouse__monthly_load" in msg
    assert "keine automatische Wiederholung mehr" in msg


@pytest.mark.slow
def test_failed_run_is_retried_at_most_twice(env, tmp_path, monkeypatch):
    """The daemon's automatic re-execution on a real instance: a sensor run that fails (no key)
    is started again twice, then never again; each attempt gets a German message."""
    import logging

    from dagster._daemon.auto_run_reexecution.auto_run_reexecution import (
        consume_new_runs_for_automatic_reexecution,
    )

    from pipelines.run_failure import MESSAGE_TAG, run_failure_notice

    paths = env
    _put(paths, ROUND1, "01062_uma_2024-05.csv")
    monkeypatch.delenv("INOBHUT_PSEUDONYM_KEY")
    import yaml

    from tests.helpers_daemon import REPO

    shipped = yaml.safe_load((REPO / "dagster.yaml").read_text(encoding="utf-8"))["run_retries"]
    assert shipped == yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text(encoding="utf-8"))["run_retries"]
    overrides = {"run_retries": shipped}  # the limit as shipped (development and production alike)
    with daemon_workspace(tmp_path, overrides) as (instance, ctx):
        sensor_tick(ctx, dt.datetime(2024, 6, 15, 9, 0, tzinfo=BERLIN))
        for _ in range(4):  # the daemon's loop, more often than the limit
            list(consume_new_runs_for_automatic_reexecution(
                ctx, instance.get_run_records(), logging.getLogger("inobhut.test.retry")))
        runs = sorted(_runs(instance), key=lambda r: int(r.tags.get("dagster/retry_number", "0")))
        assert [r.status for r in runs] == [dg.DagsterRunStatus.FAILURE] * 3
        assert [r.tags.get("dagster/retry_number", "0") for r in runs] == ["0", "1", "2"]
        assert [r.tags.get("dagster/will_retry") for r in runs] == ["true", "true", "false"]
        messages = []
        for run in runs:
            failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
            run_failure_notice(dg.build_run_status_sensor_context(
                sensor_name="run_failure_notice", dagster_instance=instance, dagster_run=run,
                dagster_event=failure).for_run_failure())
            messages.append(instance.get_run_by_id(run.run_id).tags[MESSAGE_TAG])
    assert "Wiederholung 1 von 2" in messages[0] and "Wiederholung 2 von 2" in messages[1]
    assert "keine automatische Wiederholung mehr" in messages[2]
    assert all("Pseudonymisierungsschlüssel" in m for m in messages)


def test_cli_run_failure_says_what_to_do(env, monkeypatch):
    """`inobhut run` (in-process, no daemon) prints the same advice as the run-failure sensor."""
    from click.testing import CliRunner

    from pipelines.cli import main

    paths = env
    _put(paths, ROUND1, "01062_uma_2024-05.csv")
    # a file where the output directory belongs: writing the reports fails (a directory in place
    # of the warehouse file no longer does: the run's repair step puts it aside and rebuilds)
    paths.out.parent.mkdir(parents=True, exist_ok=True)
    paths.out.write_text("kein Verzeichnis", encoding="utf-8")
    monkeypatch.setenv("INOBHUT_OUT", str(paths.out))
    res = CliRunner().invoke(main, ["run", "--monat", "2024-05"])
    assert res.exit_code == 1, res.output
    assert "ist fehlgeschlagen" in res.output and "Was tun:" in res.output
