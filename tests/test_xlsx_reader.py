"""The XLSX reader: calamine (fast) gives exactly openpyxl's values; sheets reaching far down
are streamed with openpyxl (bounded memory)."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from inobhut import ingest_xlsx
from inobhut.ingest import read_delivery
from inobhut.ingest_xlsx import _CalamineBook, _OpenpyxlBook, _sheet_paths
from tests.bad_input.builders import as_list, headers, massnahme, write_xlsx


def _typed_rows() -> list[list]:
    rows = []
    for i in range(30):
        row = as_list("massnahmen", massnahme(Fallnummer=f"F-{i}"))
        row[headers("massnahmen").index("Beginn")] = dt.datetime(2025, 3, 1 + i % 28)
        row[headers("massnahmen").index("Massnahme")] = 1 + i % 2          # int
        row[headers("massnahmen").index("Traeger")] = 2.5 if i == 3 else 1  # float and int
        row[headers("massnahmen").index("Ende")] = None if i % 3 else dt.datetime(2025, 4, 2)
        rows.append(row)
    return rows


def _rows(book, name: str) -> list[list]:
    return [list(r) for r in book.sheet(name).iter_rows(values_only=True, max_col=ingest_xlsx.MAX_XLSX_COLUMNS)]


def test_calamine_values_equal_openpyxl(tmp_path):
    path = write_xlsx(tmp_path / "08335_massnahmen_2025-03.xlsx", "massnahmen", _typed_rows(),
                      before=[["Lieferung März"], []], extra_sheets=("Hinweise",))
    with zipfile.ZipFile(path) as zf:
        parts = _sheet_paths(zf)
    fast, slow = _CalamineBook(path, parts), _OpenpyxlBook(path)
    try:
        assert fast.names == slow.names
        for name in fast.names:
            a, b = _rows(fast, name), _rows(slow, name)
            width = max((len(r) for r in a + b), default=0)
            assert [r + [None] * (width - len(r)) for r in a] == [r + [None] * (width - len(r)) for r in b]
            assert parts[name] == slow.part(name, slow.sheet(name))
    finally:
        fast.close()
        slow.close()


def test_reader_result_is_the_same_with_either_book(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "08335_massnahmen_2025-03.xlsx", "massnahmen", _typed_rows())
    kw = dict(max_bytes=50 << 20, max_rows=200_000)
    fast = read_delivery(path, "massnahmen", **kw)
    monkeypatch.setattr(ingest_xlsx, "_CalamineBook", lambda p, parts: _OpenpyxlBook(p))
    slow = read_delivery(path, "massnahmen", **kw)
    assert fast.frame is not None and len(fast.frame) == 30
    assert fast.frame.equals(slow.frame)
    assert [(f.rule_id, f.zeile, f.spalte, f.wert) for f in fast.findings] == \
           [(f.rule_id, f.zeile, f.spalte, f.wert) for f in slow.findings]


def test_a_cell_at_the_sheet_end_is_streamed_not_loaded(tmp_path, monkeypatch):
    """calamine would hold rows 1..1,048,576 × all columns densely in memory."""
    def edit(wb, ws):
        ws["A1048576"] = "x"
    path = write_xlsx(tmp_path / "08335_massnahmen_2025-03.xlsx", "massnahmen",
                      [as_list("massnahmen", massnahme())], edit=edit)

    def refuse(*_a, **_k):
        pytest.fail("calamine must not load a sheet that reaches row 1,048,576")
    monkeypatch.setattr(ingest_xlsx, "_CalamineBook", refuse)
    res = read_delivery(path, "massnahmen", max_bytes=50 << 20, max_rows=200_000)
    assert res.frame is not None and len(res.frame) == 1
    assert "D028" in {f.rule_id for f in res.findings}


def test_a_damaged_sheet_part_is_a_german_finding(tmp_path):
    """Found by the fuzzer: an empty worksheet XML part makes calamine raise its own XmlError; the
    finding must say in German what is wrong (not "unerwarteter Fehler")."""
    good = write_xlsx(tmp_path / "gut.xlsx", "massnahmen", [as_list("massnahmen", massnahme())])
    bad = tmp_path / "08335_massnahmen_2025-03.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = b"" if info.filename.startswith("xl/worksheets/") else zin.read(info.filename)
            zout.writestr(info.filename, data)
    res = read_delivery(bad, "massnahmen", max_bytes=50 << 20, max_rows=200_000)
    assert res.frame is None
    (f,) = res.findings
    assert f.rule_id == "D007" and "XML-Inhalt" in f.meldung and "unerwarteter Fehler" not in f.meldung, f.meldung
