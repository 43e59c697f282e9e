"""Lateness in the delivery status (``inobhut.status.delivery_status``): days from the month's due
date to the calendar day of the first delivery, at least 0, empty without a delivery -- computed
column-wise, checked here against the rule taken row by row."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from inobhut.config import offices
from inobhut.status import delivery_status, due_date


def _row_by_row(month: str, first) -> object:
    if pd.isna(first):
        return pd.NA
    return max(0, (pd.Timestamp(first).date() - due_date(month)).days)


def test_days_late_follow_the_rule_for_every_office_dataset_and_month():
    con = duckdb.connect()
    con.execute("CREATE TABLE deliveries (ags VARCHAR, dataset VARCHAR, monat VARCHAR, verdict VARCHAR, version BIGINT, "
                "in_force BOOLEAN, received_at TIMESTAMP, n_fehler BIGINT, n_hinweise BIGINT)")
    keys = [o.ags for o in offices()][:4]
    rows = []
    for i, month in enumerate(("2024-01", "2024-02", "2024-12")):
        due = dt.datetime.combine(due_date(month), dt.time())
        # a day before, on the day just before midnight, just after midnight, weeks later; a second
        # version later still (only the first delivery counts); one office delivers nothing
        for j, offset in enumerate((dt.timedelta(days=-1), dt.timedelta(hours=23, minutes=59),
                                    dt.timedelta(days=1, seconds=1), dt.timedelta(days=40 + i))):
            rows.append((keys[j], "massnahmen", month, "angenommen", 1, True, due + offset, 0, 0))
            rows.append((keys[j], "massnahmen", month, "angenommen", 2, True, due + offset + dt.timedelta(days=9), 0, 0))
        rows.append((keys[0], "plaetze", month, "abgelehnt", 1, False, due + dt.timedelta(days=3), 2, 0))
    con.executemany("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    out = delivery_status(con, ["2024-01", "2024-02", "2024-12", "2025-03"])
    expected = [_row_by_row(m, f) for m, f in zip(out["monat"], out["erste_lieferung"])]
    assert str(out["tage_verspaetet"].dtype) == "Int64"
    assert [None if pd.isna(v) else int(v) for v in out["tage_verspaetet"]] == \
        [None if pd.isna(v) else int(v) for v in expected]
    got = out.set_index(["ags", "dataset", "monat"])["tage_verspaetet"]
    assert got[(keys[0], "massnahmen", "2024-01")] == 0  # a day early
    assert got[(keys[1], "massnahmen", "2024-01")] == 0  # on the due day, 23:59
    assert got[(keys[2], "massnahmen", "2024-01")] == 1  # 00:00:01 the day after
    assert got[(keys[3], "massnahmen", "2024-02")] == 41
    assert pd.isna(got[(keys[0], "massnahmen", "2025-03")])  # nothing delivered
    assert out["tage_verspaetet"].notna().sum() == 15


def test_no_months_give_an_empty_status():
    con = duckdb.connect()
    con.execute("CREATE TABLE deliveries (ags VARCHAR, dataset VARCHAR, monat VARCHAR, verdict VARCHAR, version BIGINT, "
                "in_force BOOLEAN, received_at TIMESTAMP, n_fehler BIGINT, n_hinweise BIGINT)")
    out = delivery_status(con, [])
    assert out.empty and "tage_verspaetet" in out.columns
