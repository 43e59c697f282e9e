"""Partitions: calendar months (``YYYY-MM``).

Per-office data is partitioned by month in one asset per office (see
``assets/validated/offices.py``) instead of a month × office ``MultiPartitionsDefinition``:
Dagster runs a time range of a single-dimension partitioned asset reliably in ONE run
(``BackfillPolicy.single_run``), which multi-partition backfills do not (dagster issues
#18852, #28861, #23996, #17404). The UI still shows each office's month: the office asset's
partitions and its per-partition ``pruefung`` check.
"""

from __future__ import annotations

import dagster as dg

from inobhut.config import settings

MONTHS = dg.MonthlyPartitionsDefinition(
    start_date=settings()["zeitraum"]["erster_monat"],
    fmt="%Y-%m",
    timezone="Europe/Berlin",
    end_offset=0,
)

SINGLE_RUN = dg.BackfillPolicy.single_run()
