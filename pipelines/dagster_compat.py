"""The one place where inobhut uses Dagster API that is private or marked *preview*.

Belongs here: every import from ``dagster._…`` and every use of a Dagster feature that its
documentation marks as preview, each with a comment saying what it is and why we need it. The
Dagster version is pinned exactly in ``pyproject.toml`` because of this module;
``tests/test_dagster_api.py`` fails loudly when an upgrade moves any of it, so an upgrade starts
there. Does not belong here: ordinary public Dagster API (``import dagster as dg``).
"""

from __future__ import annotations

import warnings

import dagster as dg

# PRIVATE: AssetCheckEvaluation is not part of Dagster's documented API. We need it because one
# run covers many months (BackfillPolicy.single_run) and a returned AssetCheckResult has no
# partition; logging one AssetCheckEvaluation(partition=month) per month keeps the office-month
# granularity (see assets/validated/offices.py).
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation

__all__ = ["AssetCheckEvaluation", "partitioned_check_spec"]


def partitioned_check_spec(name: str, asset: dg.AssetKey, partitions_def: dg.PartitionsDefinition,
                           description: str) -> dg.AssetCheckSpec:
    """An asset check spec with its own partitions (one result per month).

    PREVIEW: ``AssetCheckSpec(partitions_def=…)`` (partitioned asset checks) is a preview
    feature of Dagster 1.13; its signature or semantics may change in a minor release. Its
    PreviewWarning is silenced here, where the risk is taken knowingly, and nowhere else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec")
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=partitions_def, description=description)
