"""Sensors: react to a new or corrected delivery file within a minute.

A corrected file re-runs only its own office-month (the office's asset for that month) plus the
network-level assets of that month and the unpartitioned outputs that depend on them.
The cursor remembers size and modification time of every landing file; the run itself decides
by sha256 whether the content is new.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from assets.raw.intake import RAW_INTAKE
from assets.reports.reports import INDEX_AND_MANIFEST, MONTHLY_REPORTS
from assets.statistics.tables import MONTHLY_TABLES, TIDY_TABLES
from assets.validated.data_docs import GX_DATA_DOCS
from assets.validated.offices import office_asset_key
from assets.warehouse.monthly_load import WAREHOUSE_LOAD
from inobhut.config import Paths, office_keys
from inobhut.naming import NameError_, parse_name
from pipelines.jobs import inobhut_job

NETWORK_ASSETS = [GX_DATA_DOCS, WAREHOUSE_LOAD, MONTHLY_TABLES, TIDY_TABLES, MONTHLY_REPORTS, INDEX_AND_MANIFEST]


def landing_state(landing) -> dict[str, list[int]]:
    state: dict[str, list[int]] = {}
    if not landing.exists():
        return state
    for office_dir in sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in office_dir.iterdir():
            if f.is_file() and not f.name.startswith("."):
                st = f.stat()
                state[f"{office_dir.name}/{f.name}"] = [st.st_size, st.st_mtime_ns]
    return state


def run_requests_for_changes(old: dict, new: dict, members: set[str]) -> list[dg.RunRequest]:
    from inobhut.landing import processable_months

    first, last = processable_months()  # a run for another month would not even start (no partition)
    by_month: dict[str, set[str]] = {}
    for rel, sig in new.items():
        if old.get(rel) == sig:
            continue
        try:
            dn = parse_name(rel.split("/", 1)[1])
        except NameError_:
            continue
        if dn.ags in members and first <= dn.month <= last:
            by_month.setdefault(dn.month, set()).add(dn.ags)
    out = []
    for month, offices in sorted(by_month.items()):
        sig = json.dumps({r: new[r] for r in sorted(new) if r.split("/", 1)[0] in offices and month in r})
        out.append(
            dg.RunRequest(
                # stable across processes (unlike hash()): a daemon restart does not re-run it
                run_key=f"{month}:{hashlib.sha256(sig.encode()).hexdigest()[:16]}",
                partition_key=month,
                asset_selection=[RAW_INTAKE, *[office_asset_key(a) for a in sorted(offices)], *NETWORK_ASSETS],
                tags={"inobhut/ausloeser": "neue Lieferung", "inobhut/jugendaemter": ",".join(sorted(offices))},
            )
        )
    return out


@dg.sensor(
    job=inobhut_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Startet bei einer neuen oder korrigierten Datei einen Lauf nur für deren Jugendamt und Monat.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    paths = Paths.from_env()
    new = landing_state(paths.landing)
    old = json.loads(context.cursor) if context.cursor else {}
    requests = run_requests_for_changes(old, new, set(office_keys()))
    context.update_cursor(json.dumps(new))
    if not requests:
        return dg.SkipReason("Keine neuen oder geänderten Dateien.")
    return requests


__all__ = ["landing_sensor", "landing_state", "run_requests_for_changes"]
