"""Sensors: react to a new or corrected delivery file within a minute, and to failed runs.

A corrected file re-runs only its own office-month (the office's asset for that month) plus the
network-level assets of that month and the unpartitioned outputs that depend on them.
A file that cannot be assigned (wrong folder, wrong name, not a member office) starts a run of
intake and the network reports, so it is registered and shown in the Lieferstatus at once.
The cursor remembers size and modification time of every landing file, so each file version
triggers exactly once; the run key (a digest of the same signatures) keeps a daemon restart with
an old cursor from starting it twice. The run itself decides by sha256 whether the content is new.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from assets.raw.intake import RAW_INTAKE
from assets.reports.reports import INDEX_AND_MANIFEST, MONTHLY_REPORTS
from assets.statistics.tables import MONTHLY_TABLES, TIDY_TABLES
from assets.statutory.uma_fristen import FRISTENLISTEN, UMA_TAGESMELDUNG
from assets.validated.data_docs import GX_DATA_DOCS
from assets.validated.offices import office_asset_key
from assets.warehouse.monthly_load import WAREHOUSE_LOAD
from inobhut.archive import CONFIRMATIONS_FILE
from inobhut.config import Paths, office_keys
from inobhut.naming import NameError_, parse_name
from pipelines.jobs import inobhut_job, range_tags
from pipelines.run_failure import run_failure_notice  # noqa: F401  (re-exported for the definitions)

# everything downstream of an office-month that a correction can change: the statutory outputs
# too (the UMA working-day report, the deadline lists); the yearly federal statistic follows
# through its own sensor
NETWORK_ASSETS = [GX_DATA_DOCS, WAREHOUSE_LOAD, MONTHLY_TABLES, TIDY_TABLES, MONTHLY_REPORTS, UMA_TAGESMELDUNG,
                  FRISTENLISTEN, INDEX_AND_MANIFEST]
# what registers an unassignable file and shows it: intake (the finding) and the Lieferstatus
UNASSIGNABLE_ASSETS = [RAW_INTAKE, INDEX_AND_MANIFEST]
TRIGGER_TAG = "inobhut/ausloeser"


def _ignored(rel: str) -> bool:
    """Files the archive never takes either: hidden, still being written, confirmations."""
    parts = rel.split("/")
    name = parts[-1]
    if any(p.startswith(".") for p in parts) or name.endswith((".tmp", ".part", "~")):
        return True
    return name == CONFIRMATIONS_FILE and len(parts) == 2


def landing_state(landing: Path) -> dict[str, list[int]]:
    """``{path relative to the landing zone: [size, mtime_ns]}`` of every file a run would look at
    (the same walk as :func:`inobhut.archive.intake`, at any depth)."""
    state: dict[str, list[int]] = {}
    if not landing.exists():
        return state
    for root, dirs, files in os.walk(landing, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            p = Path(root) / name
            rel = p.relative_to(landing).as_posix()
            if _ignored(rel):
                continue
            try:
                st = p.lstat()
            except OSError:  # removed meanwhile
                continue
            state[rel] = [st.st_size, st.st_mtime_ns]
    return state


def assign(rel: str, members: set[str]):
    """The delivery a landing path belongs to, or None when it cannot be assigned (same rules as
    :func:`inobhut.archive.intake`: ``<ags>/<ags>_<dataset>_<YYYY-MM>.<ext>`` of a member)."""
    parts = rel.split("/")
    if len(parts) != 2:
        return None
    try:
        dn = parse_name(parts[1])
    except NameError_:
        return None
    if dn.ags not in members or parts[0] != dn.ags:
        return None
    return dn


def _digest(obj) -> str:
    # stable across processes (unlike hash()): a daemon restart does not re-run it
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def run_requests_for_changes(old: dict, new: dict, members: set[str], last_month: str | None = None) -> list[dg.RunRequest]:
    """ONE run for all new or changed assignable files: their offices, from the earliest changed
    month to ``last_month`` (the newest month with data), because a correction changes what
    depends on it later (the next month's cross-delivery checks, the year tables, the outlook,
    later reports; unchanged reports are not rewritten). When nothing else runs, one run for
    new or changed files that cannot be assigned."""
    from inobhut.landing import processable_months

    window = processable_months()  # a run for another month would not even start (no partition)
    months: set[str] = set()
    offices: set[str] = set()
    changed: dict[str, list[int]] = {}
    unassignable: list[str] = []
    for rel, sig in sorted(new.items()):
        if old.get(rel) == sig:
            continue
        dn = assign(rel, members)
        if dn is None or not (window[0] <= dn.month <= window[1]):  # misdated: intake reports it
            unassignable.append(rel)
        else:
            months.add(dn.month)
            offices.add(dn.ags)
            changed[rel] = sig
    out = []
    if months:
        first, last = min(months), max([*months, *([last_month] if last_month else [])])
        tags = {TRIGGER_TAG: "neue Lieferung", "inobhut/jugendaemter": ",".join(sorted(offices))}
        out.append(
            dg.RunRequest(
                run_key=f"{first}..{last}:{_digest(changed)}",
                asset_selection=[RAW_INTAKE, *[office_asset_key(a) for a in sorted(offices)], *NETWORK_ASSETS],
                partition_key=first if first == last else None,
                tags=tags if first == last else {**range_tags(first, last), **tags},
            )
        )
    if unassignable and not out:  # a monthly run takes intake and the Lieferstatus along anyway
        listed = ", ".join(unassignable)
        out.append(
            dg.RunRequest(
                run_key=f"nicht-zuordenbar:{_digest({r: new[r] for r in unassignable})}",
                asset_selection=UNASSIGNABLE_ASSETS,
                tags={TRIGGER_TAG: "nicht zuordenbare Datei",
                      "inobhut/dateien": listed if len(listed) <= 200 else listed[:197] + "…"},
            )
        )
    return out


def newest_month(paths: Paths) -> str | None:
    """The newest month with an archived version (any office)."""
    from inobhut.archive import list_versions

    months = [v.month for v in list_versions(paths.archive)]
    return max(months) if months else None


@dg.sensor(
    job=inobhut_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Startet bei einer neuen oder korrigierten Datei einen Lauf nur für deren Jugendamt und Monat; "
    "eine nicht zuordenbare Datei wird sofort registriert und im Lieferstatus gezeigt.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    paths = Paths.from_env()
    new = landing_state(paths.landing)
    old = json.loads(context.cursor) if context.cursor else {}
    requests = run_requests_for_changes(old, new, set(office_keys()), newest_month(paths))
    context.update_cursor(json.dumps(new, sort_keys=True))
    if not requests:
        return dg.SkipReason("Keine neuen oder geänderten Dateien.")
    return requests


__all__ = ["assign", "landing_sensor", "landing_state", "run_requests_for_changes", "run_failure_notice"]
