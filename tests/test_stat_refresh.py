"""Monthly statistics tables recomputed only where their inputs changed (inobhut.stat_refresh):
after late and corrected deliveries the tables equal a full recomputation of every month, while
months nothing touched are left as they are."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from tests.helpers_fixtures import generated_warehouse_copy

OFFICES = ("01053", "01056")
VON, BIS = "2024-01", "2024-04"


@pytest.fixture
def wh_copy(tmp_path):
    return generated_warehouse_copy(tmp_path / "warehouse.duckdb", OFFICES, VON, BIS, seed=5)


def _stat_tables(con) -> dict[str, pd.DataFrame]:
    from inobhut.statistics import TABLES

    out = {}
    for name in TABLES:
        df = con.execute(f"SELECT * FROM stat_{name}").df()
        out[name] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def _full_recomputation(con, tmp_path) -> dict[str, pd.DataFrame]:
    """Every month computed afresh in a copy of the warehouse."""
    from inobhut.stat_refresh import months_with_data
    from inobhut.stat_store import compute_month, write_month

    copy = tmp_path / "voll.duckdb"
    con.execute("CHECKPOINT")
    shutil.copyfile(con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchone()[0], copy)
    with duckdb.connect(str(copy)) as c2:
        for m in months_with_data(c2):
            write_month(c2, m, compute_month(c2, m))
        return _stat_tables(c2)


def _assert_equal_to_full(con, tmp_path) -> None:
    got, want = _stat_tables(con), _full_recomputation(con, tmp_path)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_dtype=False, obj=name)


def _load(con, month: str, frame: pd.DataFrame, ags: str) -> None:
    """What the loader does for a new version of (ags, massnahmen, month): replace the partition
    and the month's load signature, in one transaction."""
    from inobhut.warehouse import replace_partition

    con.execute("BEGIN")
    replace_partition(con, "massnahmen", ags, month, 9, frame)
    con.execute("UPDATE load_state SET signatur = signatur || '+' WHERE monat = ?", [month])
    con.execute("COMMIT")


def _frame(con, ags: str, month: str) -> pd.DataFrame:
    df = con.execute("SELECT * FROM massnahmen WHERE jugendamt = ? AND monat = ? ORDER BY _zeile", [ags, month]).df()
    return df.drop(columns=[c for c in ("jugendamt", "monat", "version") if c in df.columns])


def test_only_changed_months_are_recomputed_and_equal_a_full_recomputation(wh_copy, tmp_path):
    from inobhut.stat_refresh import refresh

    months = [f"2024-{m:02d}" for m in range(1, 5)]
    with wh_copy.connect() as con:
        done, _ = refresh(con, [])
        assert done == months  # nothing recorded yet: every month
        assert refresh(con, [])[0] == []  # nothing changed: nothing recomputed
        _assert_equal_to_full(con, tmp_path)

        # 1. a late report: April's delivery of 01053 brings a §42a case that began in February
        apr = _frame(con, "01053", "2024-04")
        late = apr.iloc[[0]].assign(fall_id="spaet-gemeldet", massnahme="2", unbegleitet=True,
                                     beginn=pd.Timestamp("2024-02-10"), ende=pd.NaT,
                                     meldung_landesstelle=pd.Timestamp("2024-02-20"))
        _load(con, "2024-04", pd.concat([apr, late], ignore_index=True), "01053")
        done, _ = refresh(con, ["2024-04"])
        assert done == ["2024-02", "2024-04"]  # February's §42a deadlines changed, nothing else
        _assert_equal_to_full(con, tmp_path)
        fr = con.execute("SELECT begonnen FROM stat_fristen_42a WHERE monat = '2024-02' AND jugendamt = '01053'").fetchall()
        assert fr and fr[0][0] >= 1

        # 2. the Meldung of that case corrected in April's next version: February again
        apr2 = _frame(con, "01053", "2024-04")
        apr2.loc[apr2["fall_id"] == "spaet-gemeldet", "meldung_landesstelle"] = pd.Timestamp("2024-03-15")
        _load(con, "2024-04", apr2, "01053")
        assert refresh(con, ["2024-04"])[0] == ["2024-02", "2024-04"]
        _assert_equal_to_full(con, tmp_path)

        # 3. a correction of March (another office), not run for March: found by its signature
        april = _frame(con, "01056", "2024-03")
        april.loc[april.index[0], "geschlecht"] = "w" if april.loc[april.index[0], "geschlecht"] != "w" else "m"
        _load(con, "2024-03", april, "01056")
        done, _ = refresh(con, [])
        assert "2024-03" in done and "2024-01" not in done
        _assert_equal_to_full(con, tmp_path)


def test_a_changed_setting_recomputes_every_month(wh_copy, tmp_path, monkeypatch):
    from inobhut import config
    from inobhut.stat_refresh import refresh

    with wh_copy.connect() as con:
        refresh(con, [])
        settings = config.settings()
        changed = {**settings, "fristen": {**settings["fristen"], "meldefrist_werktage": 99}}
        monkeypatch.setattr(config, "settings", lambda: changed)
        assert len(refresh(con, [])[0]) == 4


def test_later_rows_of_open_cases_recompute_only_the_tables_that_read_them(wh_copy, tmp_path, monkeypatch):
    """The nightly case: a new month's delivery brings further rows of cases begun earlier. Only
    the tables reading a case's latest state (``fristen_42a``) are recomputed for the month the
    case began in; a change of a month's own rows still recomputes every table of that month."""
    from inobhut import stat_store
    from inobhut.stat_refresh import refresh

    calls: list[tuple[str, str]] = []
    for name, fn in list(stat_store.MONTHLY.items()):
        monkeypatch.setitem(stat_store.MONTHLY, name, lambda con, m, _n=name, _f=fn: (calls.append((_n, m)), _f(con, m))[1])
    with wh_copy.connect() as con:
        refresh(con, [])
        calls.clear()
        apr = _frame(con, "01053", "2024-04")
        late = apr.iloc[[0]].assign(fall_id="spaet-gemeldet", massnahme="2", unbegleitet=True,
                                     beginn=pd.Timestamp("2024-02-10"), ende=pd.NaT,
                                     meldung_landesstelle=pd.Timestamp("2024-02-20"))
        _load(con, "2024-04", pd.concat([apr, late], ignore_index=True), "01053")
        assert refresh(con, ["2024-04"])[0] == ["2024-02", "2024-04"]
        assert sorted(n for n, m in calls if m == "2024-02") == list(stat_store.LATEST_STATE_TABLES)
        assert sorted(n for n, m in calls if m == "2024-04") == sorted(stat_store.MONTHLY)
        _assert_equal_to_full(con, tmp_path)

        # February's own rows change (and the case's later rows again): every table of February
        calls.clear()
        feb = _frame(con, "01053", "2024-02")
        feb.loc[feb.index[0], "geschlecht"] = "w" if feb.loc[feb.index[0], "geschlecht"] != "w" else "m"
        _load(con, "2024-02", feb, "01053")
        assert refresh(con, [])[0] == ["2024-02"]
        assert sorted(n for n, m in calls) == sorted(stat_store.MONTHLY)
        _assert_equal_to_full(con, tmp_path)
        assert refresh(con, [])[0] == []
