"""The warehouse's schema (``inobhut.warehouse``): created on first use, stamped with a digest of
the schema so that later connections skip the DDL, and brought up to date whenever the stamp is
missing or another one -- a warehouse of an older version, with a column the delivery format has
gained since, gets the column."""

from __future__ import annotations

import duckdb

from inobhut import warehouse as wh_mod
from inobhut.warehouse import SCHEMA_DIGEST, SCHEMA_TABLE, Warehouse
from tests.helpers_calls import count_calls


def _counting(monkeypatch) -> list[tuple]:
    return count_calls(monkeypatch, wh_mod, "_add_missing_columns")


def _older(path, *statements: str) -> None:
    """A warehouse as an older version left it: created, then changed by ``statements``."""
    with Warehouse(path).connect():
        pass
    con = duckdb.connect(str(path))
    for stmt in statements:
        con.execute(stmt)
    con.close()


def _tables(path) -> set[str]:
    con = duckdb.connect(str(path))
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def test_a_new_warehouse_gets_the_schema_and_the_stamp_and_later_connections_skip_the_ddl(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    wh = Warehouse(tmp_path / "w.duckdb")
    with wh.connect() as con:
        assert con.execute(f"SELECT digest FROM {SCHEMA_TABLE}").fetchall() == [(SCHEMA_DIGEST,)]
        con.execute("INSERT INTO load_state VALUES ('2025-01', 'x')")
    assert len(calls) == 1
    for _ in range(3):
        with wh.connect() as con:
            assert con.execute("SELECT * FROM load_state").fetchall() == [("2025-01", "x")]
    assert len(calls) == 1  # the stamp was there: no DDL, no catalogue query
    assert {"deliveries", "load_state", "findings", "massnahmen", SCHEMA_TABLE} <= _tables(tmp_path / "w.duckdb")


def test_an_older_warehouse_is_brought_up_to_date_and_stamped(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    col = wh_mod.data_columns(wh_mod.DATASETS["massnahmen"])[-1][0]
    # without the stamp, a table and a column missing
    _older(path, f"DROP TABLE {SCHEMA_TABLE}", "DROP TABLE findings", f"ALTER TABLE massnahmen DROP COLUMN {col}")
    calls = _counting(monkeypatch)
    with Warehouse(path).connect() as con:
        cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'massnahmen'").fetchall()}
        assert col in cols
        assert con.execute(f"SELECT digest FROM {SCHEMA_TABLE}").fetchall() == [(SCHEMA_DIGEST,)]
    assert "findings" in _tables(path)
    assert len(calls) == 1


def test_another_stamp_means_bringing_the_schema_up_to_date(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    _older(path, f"UPDATE {SCHEMA_TABLE} SET digest = 'ein-aelteres-schema'", "DROP TABLE load_state")
    calls = _counting(monkeypatch)
    with Warehouse(path).connect() as con:
        assert con.execute("SELECT count(*) FROM load_state").fetchone() == (0,)
        assert con.execute(f"SELECT digest FROM {SCHEMA_TABLE}").fetchall() == [(SCHEMA_DIGEST,)]
    assert len(calls) == 1
