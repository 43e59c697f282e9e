"""The monthly reports read only the statistics rows they look up (``report_run.report_tables``):
their contents equal those built from the whole tables, for every month of a history longer than
the window."""

from __future__ import annotations

import pandas as pd

from tests.helpers_fixtures import generated_warehouse_copy

OFFICES = ("01053", "01056")
VON, BIS = "2023-11", "2024-02"


def test_reports_from_the_window_equal_reports_from_whole_tables(tmp_path, monkeypatch):
    from inobhut import config
    from inobhut.report_run import FIXED_TABLES, _delivery_statuses, make_protect, report_tables
    from inobhut.reports import builders, stats_index
    from inobhut.reports.html import render_html_text
    from inobhut.stat_refresh import refresh
    from inobhut.stat_store import read_table

    # two months of time series: the window leaves out the history's first months
    monkeypatch.setattr(stats_index, "HISTORY_MONTHS", 2)
    wh = generated_warehouse_copy(tmp_path / "warehouse.duckdb", OFFICES, VON, BIS, seed=8)
    protect = make_protect("sperrung")
    empty = pd.DataFrame(columns=["ags", "rule_id", "severity", "anzahl", "bestaetigt"])
    with wh.connect() as con:
        refresh(con, [])
        whole = {name: read_table(con, name) for name in (*FIXED_TABLES, "personal")}
        months = [r[0] for r in con.execute("SELECT DISTINCT monat FROM stat_bewegung ORDER BY 1").fetchall()]
        assert months == ["2023-11", "2023-12", "2024-01", "2024-02"]
        for month in months:
            window, present = report_tables(con, [month])
            statuses = _delivery_statuses(con, month)
            if month == "2024-02":  # the window is smaller than the tables
                assert len(window["bewegung"]) < len(whole["bewegung"])
                assert len(window["beendete"]) < len(whole["beendete"])
                assert len(window["uma_quote"]) < len(whole["uma_quote"])
            full_ix, window_ix = stats_index.StatsIndex(whole), stats_index.StatsIndex(window, present)
            assert (full_ix.bew_agss, full_ix.beendete_agss) == (window_ix.bew_agss, window_ix.beendete_agss)
            for verbund in config.networks():
                a, b = (render_html_text(builders.build_landesbericht(ix, verbund, month, statuses, protect, findings=empty))
                        for ix in (full_ix, window_ix))
                assert a == b, (verbund, month)
            for ags in OFFICES:
                a, b = (render_html_text(builders.build_jugendamtsbericht(ix, ags, month, statuses))
                        for ix in (full_ix, window_ix))
                assert a == b, (ags, month)
