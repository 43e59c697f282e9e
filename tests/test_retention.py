"""Retention (fast, without a pipeline run): what ``delete_office`` removes and what it keeps.
The end-to-end variant with real reports is in tests/test_security_e2e.py."""

from __future__ import annotations

import datetime as dt

from inobhut import archive, audit
from inobhut.config import Paths, office_keys
from inobhut.retention import cutoff_month, delete_office
from inobhut.warehouse import Warehouse
from tests.bad_input.builders import uma, write_csv


def test_cutoff_month():
    assert cutoff_month(1, dt.date(2026, 3, 15)) == "2025-03"
    assert cutoff_month(5, dt.date(2026, 1, 1)) == "2021-01"


def test_delete_office_removes_old_months_of_one_office_only(tmp_path):
    paths = Paths(tmp_path / "landing", tmp_path / "archive", tmp_path / "staging", tmp_path / "wh.duckdb", tmp_path / "out")
    for ags, month in (("08335", "2023-05"), ("08335", "2025-03"), ("01062", "2023-05")):
        (paths.landing / ags).mkdir(parents=True, exist_ok=True)
        write_csv(paths.landing / ags / f"{ags}_uma_{month}.csv", "uma", [uma(Jugendamt=ags)])
        (paths.staging / ags / "uma" / month).mkdir(parents=True)
        (paths.staging / ags / "uma" / month / "v0001.json").write_text("{}")
    archive.intake(paths.landing, paths.archive, set(office_keys()))
    with Warehouse(paths.warehouse).connect() as con:
        for ags, month in (("08335", "2023-05"), ("08335", "2025-03"), ("01062", "2023-05")):
            con.execute("INSERT INTO uma (jugendamt, monat, version, fall_id) VALUES (?, ?, 1, 'x')", [ags, month])
            con.execute("INSERT INTO deliveries (ags, dataset, monat, version) VALUES (?, 'uma', ?, 1)", [ags, month])
        con.execute("CREATE TABLE stat_demo (jugendamt VARCHAR, zeitraum VARCHAR, n INTEGER)")
        con.execute("INSERT INTO stat_demo VALUES ('08335', '2023', 1), ('08335', '2025', 2), ('08335', '2024-12..2025-04', 3),"
                    " ('08335', '2024-01..2024-12', 4), ('01062', '2023', 5), ('BW', '2023', 6)")
    office = paths.out / "jugendaemter" / "08335"
    files = {
        office / "bund" / "bund_08335_2023.csv": False, office / "jugendamtsbericht" / "jugendamtsbericht_08335_2023-05.html": False,
        office / "jugendamtsbericht" / "jugendamtsbericht_08335_2025-03.html": True, office / "bund" / "bund_08335_2025.csv": True,
        paths.out / "pruefberichte" / "08335" / "uma_2023-05_v1.html": False,
        paths.out / "pruefberichte" / "01062" / "uma_2023-05_v1.html": True,
        paths.out / "jugendaemter" / "01062" / "jugendamtsbericht" / "jugendamtsbericht_01062_2023-05.html": True,
        paths.out / "berichte" / "landesbericht" / "BW" / "2023-05" / "landesbericht_BW_2023-05.html": True,
    }
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f.name)

    dry = delete_office(paths, "08335", 1, today=dt.date(2026, 3, 15), dry_run=True)
    assert (dry.archive_versions, dry.staging_dirs, dry.output_files) == (1, 1, 3) and all(f.exists() for f in files)

    s = delete_office(paths, "08335", 1, today=dt.date(2026, 3, 15))
    assert s.cutoff == "2025-03" and s.months == ["2023-05"]
    assert {(v.ags, v.month) for v in archive.list_versions(paths.archive)} == {("08335", "2025-03"), ("01062", "2023-05")}
    assert not (paths.staging / "08335" / "uma" / "2023-05").exists() and (paths.staging / "01062" / "uma" / "2023-05").exists()
    for f, kept in files.items():
        assert f.exists() == kept, f
    with Warehouse(paths.warehouse).connect() as con:
        assert sorted(con.execute("SELECT jugendamt, monat FROM uma").fetchall()) == [("01062", "2023-05"), ("08335", "2025-03")]
        assert sorted(con.execute("SELECT ags, monat FROM deliveries").fetchall()) == [("01062", "2023-05"), ("08335", "2025-03")]
        # a yearly or ranged row goes only when its whole period is past; other offices and totals stay
        assert sorted(r[0] for r in con.execute("SELECT n FROM stat_demo").fetchall()) == [2, 3, 5, 6]
    ev = [e for e in audit.read(paths.archive) if e["ereignis"] == "loeschung"]
    assert len(ev) == 2 and ev[0]["monat"] == "2023-05" and ev[0]["sha256"] and "08335" in ev[1]["detail"]
