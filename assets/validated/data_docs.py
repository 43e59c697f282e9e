"""Validated layer, network level: ONE Great Expectations Data Docs site for analysts.

The office assets run GX per office (their dataset-level findings decide verdicts) without
building documentation: rendering Data Docs costs seconds per validation result, and 50 offices
would add hundreds of pages per run. This asset validates the versions in force of ALL offices
for the months of the run with the same suites (one validation per dataset and frame) and
updates the one site ``<out>/gx_data_docs/``.
"""

import dagster as dg

from assets.validated.offices import office_asset_key
from inobhut.config import office_keys
from inobhut.processing import build_network_data_docs
from pipelines.partitions import MONTHS, SINGLE_RUN
from pipelines.resources import InobhutResource

GX_DATA_DOCS = dg.AssetKey(["validated", "gx_data_docs"])


def build_gx_data_docs() -> dg.AssetsDefinition:
    return dg.asset(
        key=GX_DATA_DOCS,
        deps=[office_asset_key(a) for a in office_keys()],
        partitions_def=MONTHS,
        backfill_policy=SINGLE_RUN,
        group_name="validated",
        description="Great-Expectations-Prüfung aller angenommenen Lieferungen der Monate und eine "
        "gemeinsame Data-Docs-Seite unter <out>/gx_data_docs/ (für Analysen).",
        kinds={"python", "html"},
    )(gx_data_docs)


def gx_data_docs(context: dg.AssetExecutionContext, inobhut: InobhutResource) -> dg.MaterializeResult:
    from inobhut.validation import gx_helper

    try:
        run = build_network_data_docs(inobhut.paths(), sorted(context.partition_keys))
    finally:
        gx_helper.stop()  # the last use of Great Expectations in a run: the helper's memory is freed before the reports
    meta = {"validierungen": run.validations if run else 0, "lieferversionen": run.versions if run else 0}
    if run is not None and run.docs_index is not None:
        meta["data_docs"] = dg.MetadataValue.path(str(run.docs_index))
    return dg.MaterializeResult(metadata=meta)
