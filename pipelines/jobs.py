"""Jobs: the whole pipeline as one asset job, and how to run a range of months as ONE run."""

from __future__ import annotations

import dagster as dg

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
# set by `inobhut run` on its runs: the index page, manifest.json, the run's end in the audit trail
# and the Protokoll are written once after all runs of the invocation (main run and federal
# statistic), by the invocation itself (pipelines/runner.py), not by each run
OVERVIEW_BY_CALLER = "inobhut/uebersicht_durch_aufruf"

inobhut_job = dg.define_asset_job(
    "inobhut",
    # all but the yearly federal statistic (one job holds one partitions definition; it runs after, see
    # assets/statutory/bund.py)
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("bundesstatistik"),
    description="Eingang → Prüfung → Warehouse → Statistik → Berichte für einen Monat oder einen Monatsbereich (ein Lauf).",
    # One process per run, as `inobhut run` executes it: the steps parallelise inside (fork
    # pools in inobhut.processing / report_run), and a step process per asset would import the
    # code location ~60 times per run (measured: a one-office sensor run 50 s → see test_automation).
    executor_def=dg.in_process_executor,
)


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags that make one run cover every month from ``first`` to ``last``."""
    return {RANGE_START: first, RANGE_END: last}
