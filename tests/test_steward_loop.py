"""The data steward's loop through the real pipeline (Dagster, archive, staging, DuckDB).

A synthetic delivery with injected mistakes (``generate(..., fehlerquote=0.05)``) is rejected;
the steward reads the Prüfbericht (Excel, sheet „Befunde“), fixes exactly the reported cells
(openpyxl for the XLSX delivery, a text edit for the CSV one), delivers again under the same
name and the correction is accepted and loaded. Then a hostile re-delivery of the same name
must not touch the accepted version in force.
"""

from __future__ import annotations

import shutil
import warnings

import openpyxl
import pytest

XLSX = ("08135", "massnahmen", "2024-01", 2, "2024-03")  # ags, dataset, month, seed, generated up to
CSV = ("01062", "massnahmen", "2024-02", 7, "2024-06")
MONTHS = ["2024-01", "2024-02"]


def _generate(landing, tmp_path):
    from inobhut.generate import generate

    injected = {}
    for ags, ds, month, seed, bis in (XLSX, CSV):
        tmp = tmp_path / f"gen_{ags}"
        s = generate(tmp, "2024-01", bis, seed=seed, fehlerquote=0.05, jugendaemter=[ags])
        for p in (tmp / ags).iterdir():
            if p.name.split("_")[-1][:7] in MONTHS:
                (landing / ags).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, landing / ags / p.name)
        injected[ags] = {(e["row"], e["column"]) for e in s["errors"] if f"_{ds}_{month}" in e["file"]}
    return injected


def _fehler_from_pruefbericht(path):
    """What the steward reads: the Fehler lines of the Excel Prüfbericht."""
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["Befunde"].iter_rows(values_only=True))
    head = rows[0]
    out = [dict(zip(head, r)) for r in rows[1:]]
    return [r for r in out if r["Schwere"] == "Fehler"]


def _fix(ags: str, f: dict, row: dict) -> tuple[str, object]:
    """The steward's correction of one Fehler: (column header, new value)."""
    rule, col = f["Regel"], f["Spalte"]
    if rule == "Z014":  # §42a field in a §42 case: empty it
        return col, None
    if rule == "Z009":  # another office's key: our own
        return col, ags
    if rule == "S001":  # duplicate case number: the second case gets its own number
        return col, f"{row[col]}-B"
    if rule == "Z002" and col == "Massnahme":
        m2 = str(row.get("Unbegleitet")) == "1" and row.get("Meldung_Landesstelle") not in (None, "")
        return col, "2" if m2 else "1"
    pytest.fail(f"no steward fix defined for {f}")


def _run(paths):
    from pipelines.runner import run_pipeline

    outcome = run_pipeline(paths, MONTHS)
    assert outcome.success, outcome.error


def _deliveries(paths):
    from inobhut.warehouse import Warehouse

    with Warehouse(paths.warehouse).connect() as con:
        return {(a, d, m, v): (x, f) for a, d, m, v, x, f in con.execute(
            "SELECT ags, dataset, monat, version, verdict, in_force FROM deliveries").fetchall()}


@pytest.mark.slow
def test_rejected_delivery_fixed_by_hand_is_accepted(inobhut_env, tmp_path, monkeypatch):
    warnings.filterwarnings("ignore")
    from inobhut.warehouse import Warehouse

    paths = inobhut_env
    injected = _generate(paths.landing, tmp_path)
    _run(paths)
    dv = _deliveries(paths)
    for ags, ds, month, *_ in (XLSX, CSV):
        assert dv[(ags, ds, month, 1)] == ("abgelehnt", False)
        pb = paths.out / "pruefberichte" / ags / f"{ds}_{month}_v1.xlsx"
        fehler = _fehler_from_pruefbericht(pb)
        # the Prüfbericht points at the rows and columns that were broken, as in the delivered file
        assert injected[ags] <= {(f["Zeile"], f["Spalte"]) for f in fehler}
        assert (paths.out / "pruefberichte" / ags / f"{ds}_{month}_v1.json").exists()
        target = paths.landing / ags / f"{ags}_{ds}_{month}.{'xlsx' if ags == XLSX[0] else 'csv'}"
        if target.suffix == ".xlsx":
            wb = openpyxl.load_workbook(target)
            ws = wb[ds] if ds in wb.sheetnames else wb.worksheets[0]
            header = [c.value for c in ws[1]]
            for f in fehler:
                values = dict(zip(header, (c.value for c in ws[f["Zeile"]])))
                col, new = _fix(ags, f, values)
                ws.cell(f["Zeile"], header.index(col) + 1).value = new
            wb.save(target)
        else:
            raw = target.read_bytes()
            text = raw.decode("cp1252")
            lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
            sep = ";" if lines[0].count(";") else ","
            header = lines[0].split(sep)
            for f in fehler:
                cells = lines[f["Zeile"] - 1].split(sep)
                col, new = _fix(ags, f, dict(zip(header, cells)))
                cells[header.index(col)] = "" if new is None else str(new)
                lines[f["Zeile"] - 1] = sep.join(cells)
            target.write_bytes(("\r\n" if "\r\n" in text else "\n").join(lines).encode("cp1252"))

    _run(paths)
    dv = _deliveries(paths)
    with Warehouse(paths.warehouse).connect() as con:
        for ags, ds, month, *_ in (XLSX, CSV):
            verdict, in_force = dv[(ags, ds, month, 2)]
            assert verdict in ("angenommen", "angenommen mit Hinweisen") and in_force
            assert not _fehler_from_pruefbericht(paths.out / "pruefberichte" / ags / f"{ds}_{month}_v2.xlsx")
            n = con.execute(f"SELECT count(*), min(version), max(version) FROM {ds} WHERE jugendamt = ? AND monat = ?",
                            [ags, month]).fetchone()
            n_rows = con.execute("SELECT n_rows FROM deliveries WHERE ags = ? AND dataset = ? AND monat = ? AND version = 2",
                                 [ags, ds, month]).fetchone()[0]
            assert n == (n_rows, 2, 2) and n_rows > 10

    # a hostile re-delivery under the same name: an .xlsx that would expand to 3 GB
    from tests.bad_input.corpus import build_zip_bomb

    ags, ds, month, *_ = XLSX
    bomb = build_zip_bomb(tmp_path)
    shutil.copyfile(bomb, paths.landing / ags / f"{ags}_{ds}_{month}.xlsx")

    _run(paths)
    dv2 = _deliveries(paths)
    assert dv2[(ags, ds, month, 3)] == ("abgelehnt", False)
    assert dv2[(ags, ds, month, 2)] == ("angenommen", True) or dv2[(ags, ds, month, 2)] == ("angenommen mit Hinweisen", True)
    with Warehouse(paths.warehouse).connect() as con:
        assert con.execute(f"SELECT DISTINCT version FROM {ds} WHERE jugendamt = ? AND monat = ?", [ags, month]).fetchall() == [(2,)]
