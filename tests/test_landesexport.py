"""Export for the Landesebene (``inobhut landesexport``): protected tables by office, written
only after the release check, read back from the CSV files."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from inobhut.landesexport import COLUMNS, ExportRefused, export_tables
from inobhut.tables import TABLE_DEFS, wide_tables
from tests.helpers_fixtures import fixture_statistics


@pytest.fixture(scope="module")
def fixture_wh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("landesexport")
    with fixture_statistics(tmp) as wh:
        yield tmp, wh


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_export_is_protected_and_matches_the_unprotected_tables(fixture_wh, tmp_path):
    tmp, wh = fixture_wh
    with wh.connect() as con:
        files = export_tables(con, "2024", "BW", tmp_path)
        expected = {name: wide_tables(name, TABLE_DEFS[name].data(con, "2024", verbund="BW"), "BW")
                    for name in TABLE_DEFS if TABLE_DEFS[name].personenbezogen}
    assert {f.name for f in files} == {f"{n}.csv" for n, blocks in expected.items() if blocks}
    assert all(f.parent == tmp_path / "landesebene" / "BW" / "2024" for f in files)
    secret = 0
    for f in files:
        df = _read(f)
        assert list(df.columns) == COLUMNS
        assert set(df["zeitraum"]) == {"2024"} and set(df["verbund"]) == {"BW"}
        assert set(df["jugendamt"]) <= {"08111", "08335043", "BW"}
        for w in expected[f.stem]:
            block = w.key.partition("/")[2]
            part = df[df["block"] == block]
            for c in w.value_cols:
                col = part[part["spalte"] == c].set_index("jugendamt")
                assert len(col) == len(w.frame)
                shown = col[col["zeichen"] == ""]["wert"]
                # never a count of 1 or 2; every shown count is the unprotected one
                assert not shown.isin(["1", "2"]).any(), (w.key, c)
                truth = dict(zip(w.frame["jugendamt"], w.frame[c]))
                assert all(int(v) == truth[ja] for ja, v in shown.items()), (w.key, c)
                secret += int((col["zeichen"] == ".").sum())
                if (col["zeichen"] == ".").sum() == 1:  # one secret in a line with its total shown
                    pytest.fail(f"{w.key}/{c}: ein einzelner gesperrter Wert in einer Spalte mit Summe")
    assert secret  # the fixture's small counts are protected


def test_cli_writes_both_networks_and_periods(fixture_wh, tmp_path, monkeypatch):
    from pipelines.cli import main

    _, wh = fixture_wh
    env = {"INOBHUT_WAREHOUSE": str(wh.path), "INOBHUT_OUT": str(tmp_path / "out"),
           "INOBHUT_CONFIG": os.environ["INOBHUT_CONFIG"]}  # the fixture's test settings
    res = CliRunner().invoke(main, ["landesexport", "--zeitraum", "2024", "--zeitraum", "2024-05"], env=env)
    assert res.exit_code == 0, res.output
    for v in ("BW", "SH-KOOP"):
        for z in ("2024", "2024-05"):
            assert (tmp_path / "out" / "landesebene" / v / z / "bewegung.csv").is_file(), (v, z)
    assert "Tabellen (sperrung)" in res.output
    bad = CliRunner().invoke(main, ["landesexport", "--zeitraum", "2024-13"], env=env)
    assert bad.exit_code == 2 and "ungültig" in bad.output


def test_refused_without_a_disclosure_method(fixture_wh, tmp_path, monkeypatch):
    from pipelines.cli import main
    from tests.helpers_fixtures import activate_test_settings

    _, wh = fixture_wh
    monkeypatch.setenv("INOBHUT_CONFIG", os.environ["INOBHUT_CONFIG"])  # restored after the test
    cfg = activate_test_settings(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[geheimhaltung]\nexport_landesebene = "keine"\n',
                   encoding="utf-8")
    with wh.connect() as con:
        with pytest.raises(ExportRefused, match="nicht zulässig"):
            export_tables(con, "2024", "BW", tmp_path / "direkt")
    env = {"INOBHUT_WAREHOUSE": str(wh.path), "INOBHUT_OUT": str(tmp_path / "out"), "INOBHUT_CONFIG": str(cfg)}
    res = CliRunner().invoke(main, ["landesexport", "--zeitraum", "2024", "--verbund", "BW"], env=env)
    assert res.exit_code == 1, res.output
    assert "verweigert" in res.output
    assert not (tmp_path / "out" / "landesebene").exists() and not (tmp_path / "direkt").exists()
