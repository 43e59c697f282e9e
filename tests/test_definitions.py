"""The Dagster code location loads (as `dagster dev` loads it) and has the designed shape."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import dagster as dg

from inobhut.config import office_keys


def test_definitions_shape():
    warnings.filterwarnings("ignore")
    from pipelines.definitions import build_definitions

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for ags in office_keys():
        assert f"validated/office_{ags}" in keys
    for k in ("raw/fetch", "raw/intake", "validated/gx_data_docs", "warehouse/monthly_load", "statistics/monthly_tables",
              "statistics/tidy_tables", "reports/monthly_reports", "reports/index_and_manifest", "statutory/bundesstatistik"):
        assert k in keys
    checks = {c.asset_key.to_user_string() for c in graph.asset_check_keys}
    assert checks == {f"validated/office_{a}" for a in office_keys()} | {"raw/fetch"}
    # every partitioned asset uses the same monthly partitions and runs a range as one run -- except
    # the federal statistic: yearly partitions, in its own job (one job holds one partitions definition)
    yearly = {"statutory/bundesstatistik"}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.partitions_def is not None:
            first = "2020" if key.to_user_string() in yearly else "2020-01"
            assert node.partitions_def.get_partition_keys()[0] == first, key
            assert node.backfill_policy == dg.BackfillPolicy.single_run()
    assert defs.resolve_job_def("inobhut") is not None
    assert {k.to_user_string() for k in defs.resolve_job_def("bundesstatistik").asset_layer.executable_asset_keys} == yearly
    assert not yearly & {k.to_user_string() for k in defs.resolve_job_def("inobhut").asset_layer.executable_asset_keys}
    assert {s.name for s in defs.schedules} == {"nightly", "abruf"}
    assert {s.name for s in defs.sensors} == {"landing_sensor", "protokoll_lauf_fehlgeschlagen", "protokoll_lauf_beendet",
                                              "bundesstatistik_nach_lauf",
                                              "run_failure_notice"}
    due = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys if c.name == "lieferfrist"}
    assert due == {(f"validated/office_{a}", "lieferfrist") for a in office_keys()}


def test_code_location_loads_like_dagster_dev(tmp_path):
    """`dagster definitions validate` loads the module named in pyproject's [tool.dagster]."""
    env = {"DAGSTER_HOME": str(tmp_path), "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin"}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sensor_requests_only_the_changed_office_month():
    from pipelines.sensors import run_requests_for_changes

    old = {"08111/08111_massnahmen_2024-03.csv": [10, 1], "08115/08115_massnahmen_2024-03.csv": [10, 1]}
    new = dict(old)
    new["08111/08111_massnahmen_2024-03.csv"] = [11, 2]
    new["08115/08115_uma_2024-04.csv"] = [5, 3]
    new["08115/unsinn.txt"] = [1, 1]
    reqs = run_requests_for_changes(old, new, set(office_keys()))
    # ONE run from the earliest changed month on, only the changed offices; the misnamed file
    # rides along (the run includes intake and the Lieferstatus)
    assert len(reqs) == 1 and reqs[0].partition_key is None
    assert (reqs[0].tags["dagster/asset_partition_range_start"], reqs[0].tags["dagster/asset_partition_range_end"]) == ("2024-03", "2024-04")
    sel = [k.to_user_string() for k in reqs[0].asset_selection]
    assert "validated/office_08111" in sel and "validated/office_08115" in sel and "validated/office_08116" not in sel
    assert "raw/intake" in sel and "warehouse/monthly_load" in sel
    assert run_requests_for_changes(new, new, set(office_keys())) == []
    # one office-month changed: only that office, that month (a single partition) ...
    one = dict(new)
    one["08111/08111_massnahmen_2024-03.csv"] = [12, 3]
    (req,) = run_requests_for_changes(new, one, set(office_keys()))
    assert req.partition_key == "2024-03" and req.tags["inobhut/jugendaemter"] == "08111"
    assert "validated/office_08115" not in [k.to_user_string() for k in req.asset_selection]
    # ... up to the newest month with data when it is a correction of an earlier month
    (req,) = run_requests_for_changes(new, one, set(office_keys()), "2024-06")
    assert req.partition_key is None and req.tags["dagster/asset_partition_range_end"] == "2024-06"
    # a misnamed or misplaced file on its own starts intake and the Lieferstatus, once per version
    alone = dict(new)
    alone["08115/unsinn.txt"] = [2, 9]
    alone["08111_massnahmen_2024-03.csv"] = [3, 9]  # not in an office folder
    reqs = run_requests_for_changes(new, alone, set(office_keys()))
    assert len(reqs) == 1 and reqs[0].partition_key is None
    assert [k.to_user_string() for k in reqs[0].asset_selection] == ["raw/intake", "reports/index_and_manifest"]
    assert "08115/unsinn.txt" in reqs[0].tags["inobhut/dateien"]
    assert run_requests_for_changes(alone, alone, set(office_keys())) == []
    json.dumps([r.run_key for r in reqs])
