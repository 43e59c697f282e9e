"""Loading several months (``inobhut.load.load_months``, the warehouse step of a backfill): one
connection for all of them, the same warehouse as loading them one by one, and each month still
its own transaction."""

from __future__ import annotations

import pytest

from inobhut import archive
from inobhut.calendar import month_range
from inobhut.config import Paths, office_keys
from inobhut.generate import generate
from inobhut.load import load_month, load_months
from inobhut.office_validation import validate_offices
from inobhut.warehouse import Warehouse
from tests.helpers_calls import count_calls
from tests.helpers_faults import warehouse_digests
from tests.helpers_fixtures import GENERATED_KEY

MONTHS = month_range("2025-01", "2025-03")


@pytest.fixture
def validated(tmp_path, monkeypatch):
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", "x" * 40)
    paths = Paths.from_env(tmp_path, landing=tmp_path / "landing", archive=tmp_path / "archive",
                           staging=tmp_path / "staging", warehouse=tmp_path / "a.duckdb", out=tmp_path / "out")
    generate(paths.landing, MONTHS[0], MONTHS[-1], seed=5, fehlerquote=0.3, jugendaemter=["08111", "08115"])
    archive.intake(paths.landing, paths.archive, set(office_keys()))
    validate_offices(paths, ["08111", "08115"], MONTHS, GENERATED_KEY)
    return paths


def test_the_months_are_loaded_on_one_connection_into_the_same_warehouse(validated, tmp_path, monkeypatch):
    one_by_one = Warehouse(tmp_path / "a.duckdb")
    for m in MONTHS:
        load_month(validated, one_by_one, m)

    opened = count_calls(monkeypatch, Warehouse, "connect")
    together = Warehouse(tmp_path / "b.duckdb")
    summaries = load_months(validated, together, MONTHS)
    assert len(opened) == 1
    assert [s.month for s in summaries] == MONTHS and all(s.versions for s in summaries)
    assert warehouse_digests(tmp_path / "b.duckdb") == warehouse_digests(tmp_path / "a.duckdb")
    # loading again changes nothing and still opens the warehouse once
    again = load_months(validated, together, MONTHS)
    assert len(opened) == 2 and all(s.replaced == 0 for s in again)


def test_a_failing_month_keeps_the_months_loaded_before_it(validated, tmp_path, monkeypatch):
    from inobhut import load

    real = load.replace_partitions_from_files

    def failing(con, dataset, month, parts):
        if month == MONTHS[1]:
            raise OSError("Datenträger voll")
        return real(con, dataset, month, parts)

    monkeypatch.setattr(load, "replace_partitions_from_files", failing)
    wh = Warehouse(tmp_path / "c.duckdb")
    with pytest.raises(OSError):
        load_months(validated, wh, MONTHS)
    with wh.connect() as con:
        assert [r[0] for r in con.execute("SELECT monat FROM load_state ORDER BY 1").fetchall()] == [MONTHS[0]]
        assert con.execute("SELECT count(*) FROM deliveries WHERE monat <> ?", [MONTHS[0]]).fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM massnahmen WHERE monat = ?", [MONTHS[0]]).fetchone()[0] > 0
