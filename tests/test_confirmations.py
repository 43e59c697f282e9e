"""Confirmations of Hinweise: the file in the landing zone, the command, re-validation through
processing, the Prüfbericht, the verdict counts and the warehouse ``findings.bestaetigt``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from inobhut.confirmations import ConfirmationError, add_confirmation, read_confirmations
from pipelines.cli import main
from tests.bad_input.builders import massnahme, write_csv


def test_file_and_command(tmp_path):
    landing = tmp_path / "landing"
    with pytest.raises(ConfirmationError, match="Fehler können nicht bestätigt"):
        add_confirmation(landing, "08335", dataset="massnahmen", month="2025-03", rule="Z006", schluessel="A", grund="x")
    with pytest.raises(ConfirmationError, match="Grund"):
        add_confirmation(landing, "08335", dataset="massnahmen", month="2025-03", rule="Z101", schluessel="A", grund=" ")
    res = CliRunner().invoke(main, ["bestaetigen", "--landing", str(landing), "--jugendamt", "08335", "--datensatz", "plaetze",
                                    "--monat", "2025-03", "--regel", "z104", "--schluessel", "E1", "--grund", "Notaufnahme, mit Aufsicht abgestimmt"])
    assert res.exit_code == 0, res.output
    CliRunner().invoke(main, ["bestaetigen", "--landing", str(landing), "--jugendamt", "08335", "--datensatz", "plaetze",
                              "--monat", "2025-03", "--regel", "Z104", "--schluessel", "E1", "--grund", "doppelt"])
    confs = read_confirmations(landing, "08335")
    assert [(c.dataset, c.month, c.rule, c.schluessel, c.grund) for c in confs] == [
        ("plaetze", "2025-03", "Z104", "E1", "Notaufnahme, mit Aufsicht abgestimmt")]
    text = (landing / "08335" / "bestaetigungen.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbfDatensatz;Monat;Regel;Schluessel;Grund")
    res = CliRunner().invoke(main, ["bestaetigen", "--landing", str(landing), "--jugendamt", "08335", "--datensatz", "plaetze",
                                    "--monat", "2025-03", "--regel", "S001", "--grund", "x"])
    assert res.exit_code == 2 and "nicht bestätigt" in res.output


def test_confirmed_hinweis_is_not_raised_again(inobhut_env):
    from inobhut import archive
    from inobhut.config import office_keys
    from inobhut.load import load_month
    from inobhut.processing import validate_office_months
    from inobhut.warehouse import Warehouse

    paths = inobhut_env
    (paths.landing / "08335").mkdir()
    rows = [massnahme(Fallnummer="LANG-1", Beginn="01.01.2024"), massnahme(Fallnummer="KURZ-2")]
    write_csv(paths.landing / "08335" / "08335_massnahmen_2025-03.csv", "massnahmen", rows)
    archive.intake(paths.landing, paths.archive, set(office_keys()))
    key = b"test-schluessel"
    st = validate_office_months(paths, "08335", ["2025-03"], key, data_docs=False)[0][0]
    ds = next(d for d in st.datasets if d.dataset == "massnahmen")
    assert ds.status == "angenommen mit Hinweisen" and ds.rules == {"Z101": 1} and ds.n_hinweise == 1

    add_confirmation(paths.landing, "08335", dataset="massnahmen", month="2025-03", rule="Z101",
                     schluessel="LANG-1", grund="Clearing dauert wegen Gutachten an")
    st = validate_office_months(paths, "08335", ["2025-03"], key, data_docs=False)[0][0]
    ds = next(d for d in st.datasets if d.dataset == "massnahmen")
    assert ds.validated_now and ds.status == "angenommen" and ds.n_hinweise == 0 and ds.n_bestaetigt == 1
    html = (paths.out / ds.pruefbericht).read_text(encoding="utf-8")
    assert "bestätigt" in html and "LANG-1" not in html
    wh = Warehouse(paths.warehouse)
    load_month(paths, wh, "2025-03")
    with wh.connect() as con:
        assert con.execute("SELECT rule_id, zeile, bestaetigt FROM findings").fetchall() == [("Z101", 2, True)]
        assert con.execute("SELECT verdict, n_hinweise FROM deliveries").fetchall() == [("angenommen", 0)]
    # unchanged rules and confirmations: nothing is validated again
    st = validate_office_months(paths, "08335", ["2025-03"], key, data_docs=False)[0][0]
    assert not any(d.validated_now for d in st.datasets)
