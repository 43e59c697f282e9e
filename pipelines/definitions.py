"""The Dagster code location of inobhut (``dagster dev`` in the repository root loads this).

Assets by layer: raw → validated (one asset per office) → warehouse → statistics → reports.
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no telemetry may leave the machine

import dagster as dg  # noqa: E402

from pipelines import sqlite_tuning  # noqa: E402

sqlite_tuning.install()  # no fsync per Dagster event on the SQLite instance (see the module)

from assets.raw.fetch import fetch  # noqa: E402
from assets.raw.intake import intake  # noqa: E402
from assets.reports.reports import index_and_manifest, monthly_reports  # noqa: E402
from assets.statistics.tables import monthly_tables, tidy_tables  # noqa: E402
from assets.statutory import bund as statutory_bund  # noqa: E402
from assets.statutory.uma_fristen import fristenlisten, uma_tagesmeldung  # noqa: E402
from assets.validated.data_docs import build_gx_data_docs  # noqa: E402
from assets.validated.freshness import build_freshness_checks  # noqa: E402
from assets.validated.offices import build_office_assets  # noqa: E402
from assets.warehouse.monthly_load import build_monthly_load  # noqa: E402
from pipelines.audit_sensors import audit_run_failure, audit_run_success  # noqa: E402
from pipelines.jobs import inobhut_job  # noqa: E402
from pipelines.resources import InobhutResource  # noqa: E402
from pipelines.schedule_abruf import abruf, abruf_job  # noqa: E402
from pipelines.schedules import nightly  # noqa: E402
from pipelines.sensors import landing_sensor, run_failure_notice  # noqa: E402


def build_definitions() -> dg.Definitions:
    return dg.Definitions.merge(statutory_bund.definitions(), dg.Definitions(
        assets=[fetch, intake, *build_office_assets(), build_gx_data_docs(), build_monthly_load(), monthly_tables, tidy_tables,
                monthly_reports, index_and_manifest, uma_tagesmeldung, fristenlisten],
        asset_checks=[build_freshness_checks()],
        jobs=[inobhut_job, abruf_job],
        schedules=[nightly, abruf],
        sensors=[landing_sensor, audit_run_failure, audit_run_success, run_failure_notice],
        resources={"inobhut": InobhutResource.from_env()},
    ))


defs = build_definitions()
