"""The Dagster API inobhut relies on beyond the documented surface (pipelines/dagster_compat.py).

These tests fail loudly when a Dagster upgrade moves a private module or changes the preview
feature 'partitioned asset checks': upgrade Dagster only together with this file."""

import re
import tomllib
from pathlib import Path

import dagster as dg

from pipelines.dagster_compat import AssetCheckEvaluation, partitioned_check_spec

ROOT = Path(__file__).resolve().parents[1]


def test_dagster_pinned_exactly_to_the_installed_version():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = {m[1]: m[2] for d in deps if (m := re.fullmatch(r"(dagster[a-z-]*)==([\d.]+)", d))}
    assert pins.get("dagster") == dg.__version__, (pins, dg.__version__)
    assert pins.get("dagster-webserver") == dg.__version__
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert f"dagster=={dg.__version__}\n" in lock


def test_partitioned_check_evaluation_is_recorded_per_partition():
    months = dg.MonthlyPartitionsDefinition(start_date="2025-01-01", end_offset=0)
    key = dg.AssetKey("probe")
    spec = partitioned_check_spec("probe_check", key, months, "Probe")
    assert spec.partitions_def == months

    @dg.multi_asset(specs=[dg.AssetSpec(key, partitions_def=months)], check_specs=[spec],
                    backfill_policy=dg.BackfillPolicy.single_run(), can_subset=True)
    def probe(context: dg.AssetExecutionContext):
        for pk in context.partition_keys:  # one evaluation per month, as assets/validated/offices.py does
            context.log_event(AssetCheckEvaluation(asset_key=key, check_name="probe_check", passed=pk.endswith("02-01"),
                                                   severity=dg.AssetCheckSeverity.WARN, description=pk, partition=pk))
        yield dg.MaterializeResult(asset_key=key)

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([probe], instance=instance, tags={"dagster/asset_partition_range_start": "2025-01-01",
                                                              "dagster/asset_partition_range_end": "2025-02-01"})
    assert result.success
    evals = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    by_partition = {e.partition: e.passed for e in evals if e.partition}
    assert by_partition == {"2025-01-01": False, "2025-02-01": True}, evals
