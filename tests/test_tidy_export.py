"""Tidy CSV exports from cached blocks (inobhut.tidy_export): byte-identical to a full export of
the same tables, and an export after a correction recomputes only the changed periods and years."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers_fixtures import generated_warehouse_copy

OFFICES = ("01053", "01056")
VON, BIS = "2023-11", "2024-02"  # two years: yearly rows of 2023 and 2024


@pytest.fixture
def wh_copy(tmp_path):
    return generated_warehouse_copy(tmp_path / "warehouse.duckdb", OFFICES, VON, BIS, seed=8)


def _full_export(con) -> dict[str, str]:
    """Every table as one frame (stored periods + the yearly rows of every year), sorted and
    formatted at once: what the exports were before they were cut into blocks."""
    from inobhut import statistics as st
    from inobhut import stat_store

    out = {}
    for name in st.TABLE_NAMES:
        df = stat_store.read_table(con, name)
        if name in st.FLOW_TABLES:
            years = [stat_store.PERIOD_FUNCTIONS[name](con, y) for y in stat_store._years_with_data(con)]
            df = st._finish(pd.concat([df[df["zeitraum"].str.len() != 4], *years], ignore_index=True), name)
        out[name] = stat_store.format_tidy(stat_store.sort_tidy(df, name), name).to_csv(index=False, lineterminator="\n")
    return out


def _files(d) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(d.glob("*.csv"))}


@pytest.fixture
def counting(monkeypatch):
    """Counts of sorted frames (one per table with changed blocks) and of yearly computations."""
    from inobhut import stat_store

    calls = {"sort": 0, "jahr": []}
    sort = stat_store.sort_tidy

    def counted_sort(df, name):
        calls["sort"] += 1
        return sort(df, name)

    monkeypatch.setattr(stat_store, "sort_tidy", counted_sort)
    for name, fn in list(stat_store.PERIOD_FUNCTIONS.items()):
        def counted(con, y, _fn=fn, _name=name):
            calls["jahr"].append((_name, y))
            return _fn(con, y)
        monkeypatch.setitem(stat_store.PERIOD_FUNCTIONS, name, counted)
    return calls


def test_blocks_equal_a_full_export_and_only_changes_are_recomputed(wh_copy, tmp_path, counting):
    from inobhut import statistics as st
    from inobhut import stat_store
    from inobhut.stat_refresh import refresh
    from inobhut.warehouse import replace_partition

    out = tmp_path / "tabellen"
    with wh_copy.connect() as con:
        refresh(con, [])
        stat_store.export_tidy(con, out)
        assert 0 < counting["sort"] <= len(st.TABLE_NAMES)  # the missing blocks of a table sorted at once
        assert {y for _, y in counting["jahr"]} == {"2023", "2024"}
        assert _files(out) == _full_export(con)

        # nothing changed: every block and year comes from the cache, and no table is read
        # (the periods' rows are digested in the warehouse)
        counting["sort"], counting["jahr"] = 0, []
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(stat_store, "read_table", lambda *a: pytest.fail("an unchanged export read a whole table"))
            mp.setattr(st, "_finish", lambda *a: pytest.fail("an unchanged export read rows"))
            stat_store.export_tidy(con, out)
        assert counting == {"sort": 0, "jahr": []}
        assert _files(out) == _full_export(con)

        # a correction of February 2024 (one office): its month and the year 2024 again, not 2023
        feb = con.execute("SELECT * FROM massnahmen WHERE jugendamt = '01056' AND monat = '2024-02' ORDER BY _zeile").df()
        # a case begun in 2024 (its signature touches no month of 2023), ended in February if any
        begun = feb[feb["beginn"] >= pd.Timestamp("2024-01-01")]
        ended = begun.index[begun["ende"].notna()]
        row = ended[0] if len(ended) else begun.index[0]
        feb.loc[row, "geschlecht"] = "w" if feb.loc[row, "geschlecht"] != "w" else "m"
        con.execute("BEGIN")
        replace_partition(con, "massnahmen", "01056", "2024-02", 9,
                          feb.drop(columns=[c for c in ("jugendamt", "monat", "version") if c in feb.columns]))
        con.execute("UPDATE load_state SET signatur = signatur || '+' WHERE monat = '2024-02'")
        con.execute("COMMIT")
        done = refresh(con, [])[0]
        assert "2024-02" in done and set(done) <= {"2024-01", "2024-02"}
        counting["sort"], counting["jahr"] = 0, []
        stat_store.export_tidy(con, out)
        assert {y for _, y in counting["jahr"]} == {"2024"}
        assert counting["sort"] <= len(st.TABLE_NAMES)
        assert _files(out) == _full_export(con)


def test_a_removed_period_leaves_the_export_and_the_cache(wh_copy, tmp_path):
    from inobhut import stat_store
    from inobhut.stat_refresh import refresh

    out = tmp_path / "tabellen"
    with wh_copy.connect() as con:
        refresh(con, [])
        stat_store.export_tidy(con, out)
        con.execute("DELETE FROM stat_bewegung WHERE monat = '2023-11'")
        stat_store.export_tidy(con, out)
        assert "2023-11" not in _files(out)["bewegung"]
        assert _files(out) == _full_export(con)
        left = con.execute("SELECT count(*) FROM stat_export_bloecke WHERE tabelle = 'bewegung' AND periode = '2023-11'")
        assert left.fetchone()[0] == 0


def test_one_changed_cell_of_any_table_renews_its_block(wh_copy, tmp_path):
    """The blocks' keys digest every cell of their period's rows: a single changed value (the
    first row of each table, one column at a time: a count, a text, a date) is exported."""
    from inobhut import statistics as st
    from inobhut import stat_store
    from inobhut.stat_refresh import refresh

    out = tmp_path / "tabellen"
    with wh_copy.connect() as con:
        refresh(con, [])
        stat_store.export_tidy(con, out)
        changed = 0
        for name in st.TABLE_NAMES:
            types = dict(st.TABLES[name])
            first = con.execute(f"SELECT min(rowid) FROM stat_{name}").fetchone()[0]
            if first is None:
                continue
            for col in (c for c in st.COLUMNS[name] if c != st.PERIOD_COL[name]):
                new = {"BIGINT": f"coalesce({col}, 0) + 7", "DOUBLE": f"coalesce({col}, 0) + 0.5",
                       "DATE": f"coalesce({col}, DATE '2000-01-01') + 1"}.get(types[col], f"coalesce({col}, '') || 'x'")
                con.execute(f"UPDATE stat_{name} SET {col} = {new} WHERE rowid = ?", [first])
                before = _files(out)[name]
                stat_store.export_tidy(con, out)
                assert _files(out)[name] != before, (name, col)
                changed += 1
        assert changed > 20
        assert _files(out) == _full_export(con)


def test_rows_in_another_order_renew_the_block(wh_copy, tmp_path):
    """``uma_struktur`` keeps the computed order of its rows within a Stichtag and office: the
    same rows stored in another order give another export, and the block key sees it."""
    from inobhut import stat_store
    from inobhut.stat_refresh import refresh

    out = tmp_path / "tabellen"
    with wh_copy.connect() as con:
        refresh(con, [])
        stat_store.export_tidy(con, out)
        month = con.execute("SELECT max(strftime(stichtag, '%Y-%m')) FROM stat_uma_struktur").fetchone()[0]
        where = f"strftime(stichtag, '%Y-%m') = '{month}'"
        con.execute(f"CREATE TEMP TABLE umgekehrt AS SELECT * FROM stat_uma_struktur WHERE {where} ORDER BY rowid DESC")
        con.execute(f"DELETE FROM stat_uma_struktur WHERE {where}")
        con.execute("INSERT INTO stat_uma_struktur SELECT * FROM umgekehrt")
        before = _files(out)["uma_struktur"]
        assert _full_export(con)["uma_struktur"] != before  # the new order shows in a full export
        stat_store.export_tidy(con, out)
        assert _files(out) == _full_export(con)
