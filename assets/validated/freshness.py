"""Validated layer: is an office-month's delivery overdue? One check ``lieferfrist`` per office
and month (partitioned like the office assets), red (ERROR) in the UI once the due date has passed
(``[fristen] liefertag`` of the following month) and a dataset of the month has no version in force.

Evaluated in every run after the warehouse load (the nightly run always includes it), for the
months the run covers and the last 13 months up to the newest month that is due -- so a month
nobody delivered turns red too, and a late delivery turns it green again. The check reads only
the ``deliveries`` table (no case data). Severity ERROR with ``passed=False`` = overdue; passed =
delivered in time or not yet due; the metadata says which datasets are open and since when.

Recorded are the evaluations of the run's months and those of the other months whose result
differs from the last one recorded for that office-month (verdict, text or open datasets; an
overdue month's text names the day, so it is recorded anew every day): the window's other
months are mostly unchanged from night to night, and each recorded evaluation is a Dagster
event (14 months x 50 offices took 7 s of a nightly run on a ten-year history; x 560 at XL).
What was last recorded is kept in the instance's key-value store (``RECORDED_KEY``), with the
recording run: a deleted run or a new instance records everything again. The check runs in the
``warehouse`` pool, so two runs never update the store at the same time.
"""

import hashlib
import json

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation

from assets.validated.offices import office_asset_key
from assets.warehouse.monthly_load import WAREHOUSE_LOAD
from inobhut.calendar import add_months, month_range
from inobhut.config import office, office_keys
from inobhut.status import delivery_status, due_date, last_due_month, overdue_office_months, reference_date
from pipelines.partitions import MONTHS
from pipelines.resources import InobhutResource

CHECK_DUE = "lieferfrist"
WINDOW_MONTHS = 13  # besides the run's own months: the last year up to the newest due month


def freshness_check_keys() -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(office_asset_key(a), CHECK_DUE) for a in office_keys()]


def months_to_evaluate(selected: list[str], delivered: list[str], today) -> list[str]:
    """The run's months and the last ``WINDOW_MONTHS`` months up to the newest due month, never
    before the first delivered month (nothing is expected before a network starts delivering)."""
    if not delivered:
        return []
    newest_due = last_due_month(today)
    window = month_range(add_months(newest_due, -(WINDOW_MONTHS - 1)), newest_due)
    first = min(delivered)
    return sorted({m for m in [*selected, *window] if m >= first})


def evaluations(con, months: list[str], today) -> list[AssetCheckEvaluation]:
    status = delivery_status(con, months)
    late = {(r.ags, r.monat): r for r in overdue_office_months(status, today).itertuples()}
    out = []
    for ags in office_keys():
        for month in months:
            due = due_date(month)
            hit = late.get((ags, month))
            if hit is not None:
                text = (f"überfällig: {office(ags).label}, {month} – fällig am {due:%d.%m.%Y}, offen: {hit.offen} "
                        f"(Stand {today:%d.%m.%Y})")
                passed = False
            elif today <= due:
                text = f"noch nicht fällig (fällig am {due:%d.%m.%Y})"
                passed = True
            else:
                text = f"fristgerecht bzw. nachgeliefert (fällig am {due:%d.%m.%Y})"
                passed = True
            out.append(AssetCheckEvaluation(
                asset_key=office_asset_key(ags), check_name=CHECK_DUE, passed=passed,
                severity=dg.AssetCheckSeverity.ERROR, description=text, partition=month,
                metadata={"ergebnis": text, "faellig_am": f"{due:%Y-%m-%d}", "stand": f"{today:%Y-%m-%d}",
                          "offen": hit.offen if hit is not None else ""},
            ))
    return out


RECORDED_KEY = "inobhut/lieferfristen"  # the instance's key-value store: what was last recorded


def digest(ev: AssetCheckEvaluation) -> str:
    """What a user sees of an evaluation -- verdict, text, open datasets (not the day it was made)."""
    offen = ev.metadata.get("offen")
    text = json.dumps([ev.passed, ev.description, getattr(offen, "value", offen)], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _key(ev: AssetCheckEvaluation) -> str:
    return f"{ev.asset_key.to_user_string()}|{ev.partition}"


def recorded(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """``office-asset|month`` -> [:func:`digest`, run id] of the last recorded evaluations, kept
    in the instance's own key-value store (so a new instance starts empty), only those whose run
    still exists (deleting a run deletes its evaluations)."""
    raw = instance.run_storage.get_cursor_values({RECORDED_KEY}).get(RECORDED_KEY)
    data = json.loads(raw) if raw else {}
    runs = sorted({run for _, run in data.values()})
    alive = {r.dagster_run.run_id for r in instance.get_run_records(dg.RunsFilter(run_ids=runs))} if runs else set()
    return {k: v for k, v in data.items() if v[1] in alive}


def to_record(evs: list[AssetCheckEvaluation], selected: list[str], last: dict[str, list[str]],
              run_id: str) -> tuple[list[AssetCheckEvaluation], dict[str, list[str]]]:
    """The evaluations to record -- those of the run's months and those that differ from the last
    recorded one -- and the new contents of the store (entries of the evaluated months only)."""
    new, store = [], {}
    for ev in evs:
        k, d = _key(ev), digest(ev)
        if ev.partition in selected or last.get(k, [None])[0] != d:
            new.append(ev)
            store[k] = [d, run_id]
        else:
            store[k] = last[k]
    return new, store


def build_freshness_checks() -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            CHECK_DUE, asset=office_asset_key(a), partitions_def=MONTHS, additional_deps=[WAREHOUSE_LOAD],
            description="Lieferfrist: rot (ERROR), wenn die Lieferung des Monats nach dem Fälligkeitstag "
                        "(Einstellung fristen.liefertag des Folgemonats) noch nicht vollständig angenommen vorliegt.",
        )
        for a in office_keys()
    ]

    @dg.multi_asset_check(specs=specs, name="lieferfristen", can_subset=True, pool="warehouse",
                          description="Überfällige Lieferungen je Jugendamt und Monat.")
    def lieferfristen(context: dg.AssetCheckExecutionContext, inobhut: InobhutResource):
        op = context.op_execution_context
        selected = sorted(op.partition_keys) if op.has_partitions else []
        today = reference_date()
        with inobhut.warehouse_db().connect() as con:
            delivered = [r[0] for r in con.execute("SELECT DISTINCT monat FROM deliveries ORDER BY 1").fetchall()]
            months = months_to_evaluate(selected, delivered, today)
            evs = evaluations(con, months, today) if months else []
        new, store = to_record(evs, selected, recorded(context.instance), context.run.run_id)
        for ev in new:
            op.log_event(ev)
        context.instance.run_storage.set_cursor_values({RECORDED_KEY: json.dumps(store, sort_keys=True)})
        op.log.info(f"Lieferfristen zum {today:%d.%m.%Y}: {sum(not e.passed for e in evs)} überfällige "
                    f"Jugendamt-Monate von {len(evs)} geprüften ({len(evs) - len(new)} unverändert, nicht neu "
                    "verbucht).")
        yield from ()  # the results are the logged per-partition evaluations above

    return lieferfristen
