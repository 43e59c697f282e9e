"""Prüfbericht: HTML parsed back, Excel read back with openpyxl, determinism, large reports."""

from __future__ import annotations

import json

from html.parser import HTMLParser

import openpyxl

from inobhut.pruefbericht import HTML_LIMIT, write_pruefbericht
from inobhut.validation import make_finding, validate_delivery
from tests.bad_input.builders import AGS, KEY, MONTH, massnahme, write_csv

META = {
    "ags": AGS, "office_name": "Konstanz", "dataset": "massnahmen", "month": MONTH, "version": 3,
    "file_name": f"{AGS}_massnahmen_{MONTH}.csv", "sha256": "0f" * 32, "received_at": "2025-04-07T09:15:00",
}


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(path) -> Collector:
    c = Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def rejected_result(tmp_path):
    rows = [massnahme(Fallnummer="GEHEIM-1", Beginn="01.04.2025"), massnahme(Fallnummer="GEHEIM-1", Geschlecht="q"),
            massnahme(Fallnummer="GEHEIM-3", Anlaesse="08")]
    path = write_csv(tmp_path / META["file_name"], "massnahmen", rows)
    return validate_delivery(path, ags=AGS, dataset="massnahmen", month=MONTH, key=KEY)


def test_html_and_excel_contents(tmp_path):
    res = rejected_result(tmp_path)
    paths = write_pruefbericht(res, META, tmp_path / "out")
    assert [p.name for p in paths] == ["massnahmen_2025-03_v3.html", "massnahmen_2025-03_v3.xlsx", "massnahmen_2025-03_v3.json"]
    doc = json.loads(paths[2].read_text(encoding="utf-8"))
    assert doc["verdict"] == "abgelehnt" and doc["data_source"]["sha256"] == META["sha256"]
    s001 = [r for r in doc["results"] if r["rule_id"] == "S001"]
    assert s001 == [{"rule_id": "S001", "severity": "Fehler", "record": 3, "variable": "Fallnummer", "value": "***-1",
                     "result": "FALSE", "confirmed": False, "message": s001[0]["message"], "fix": s001[0]["fix"]}]
    assert "auch in Zeile 2" in s001[0]["message"]
    rule = next(r for r in doc["rules"] if r["rule_id"] == "S001")
    assert rule["violations"] == 1 and "ExpectCompoundColumnsToBeUnique" in rule["expression"]
    assert "GEHEIM" not in paths[2].read_text(encoding="utf-8")
    html = parse(paths[0])
    assert ("html", {"lang": "de"}) in html.tags
    assert any(t == "caption" for t, _ in html.tags)
    assert all("scope" in a for t, a in html.tags if t == "th")
    assert not any(t in ("script", "link", "img") for t, _ in html.tags)  # self-contained
    text = " ".join(html.text)
    assert "abgelehnt" in text and "Konstanz (08335)" in text and "07.04.2025 09:15:00" in text
    assert "GEHEIM" not in paths[0].read_text(encoding="utf-8")
    counts = html.tables[1]
    assert counts[0] == ["Regel", "Schwere", "Prüfung", "Anzahl"]
    assert ["S001", "Fehler", "Doppelter Schlüssel", "1"] in counts
    assert ["Z107", "Hinweis", "Anlass 08 ohne unbegleitete Einreise", "1"] in counts
    z007 = next(t for t in html.tables[2:] if t[1][0] == "Z007")
    assert z007[1][:5] == ["Z007", "Fehler", "2", "Beginn", "01.04.2025"]
    assert z007[1][5].startswith("„Beginn“ (01.04.2025) liegt nach dem Berichtsmonat 03/2025")

    wb = openpyxl.load_workbook(paths[1])
    assert wb.sheetnames == ["Übersicht", "Befunde"]
    ws = wb["Befunde"]
    assert ws.freeze_panes == "A2"
    table = ws.tables["Befunde"]
    assert table.ref == f"A1:G{len(res.findings) + 1}"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Regel", "Schwere", "Zeile", "Spalte", "Gelieferter Wert", "Meldung", "Korrekturhinweis")
    assert len(rows) == len(res.findings) + 1
    assert ("Z002", "Fehler", 3, "Geschlecht", "q") == rows[1:][[r[0] for r in rows[1:]].index("Z002")][:5]
    assert ws.column_dimensions["F"].width > ws.column_dimensions["C"].width
    overview = {r[0]: r[1] for r in wb["Übersicht"].iter_rows(values_only=True) if r and r[0]}
    assert overview["Urteil"] == "abgelehnt" and overview["Version"] == 3 and overview["Datenzeilen"] == 3
    for row in rows:
        assert not any("GEHEIM" in str(v) for v in row)


def test_html_is_deterministic(tmp_path):
    res = rejected_result(tmp_path)
    a = write_pruefbericht(res, META, tmp_path / "a")[0].read_bytes()
    b = write_pruefbericht(res, META, tmp_path / "b")[0].read_bytes()
    assert a == b


def test_accepted_and_fehlanzeige(tmp_path):
    path = write_csv(tmp_path / "f.csv", "massnahmen", [])
    res = validate_delivery(path, ags=AGS, dataset="massnahmen", month=MONTH, key=KEY)
    html_path, xlsx_path, _ = write_pruefbericht(res, dict(META, received_at=None), tmp_path / "out")
    text = " ".join(parse(html_path).text)
    assert "angenommen" in text and "Fehlanzeige" in text and "Keine Befunde." in text
    ws = openpyxl.load_workbook(xlsx_path)["Befunde"]
    assert ws.tables["Befunde"].ref == "A1:G2"


def test_ten_thousand_findings_stay_readable(tmp_path):
    res = rejected_result(tmp_path)
    res.findings = [make_finding("Z001", i + 2, "Beginn", None) for i in range(9_000)] + \
                   [make_finding("Z002", i + 2, "Geschlecht", "q") for i in range(1_000)]
    html_path, xlsx_path, _ = write_pruefbericht(res, META, tmp_path / "out")
    html = parse(html_path)
    detail_tables = html.tables[2:]
    assert [len(t) - 1 for t in detail_tables] == [HTML_LIMIT, HTML_LIMIT]
    assert "… und 8950 weitere Befunde dieser Regel (siehe Excel-Datei)." in " ".join(html.text)
    assert html_path.stat().st_size < 200_000
    ws = openpyxl.load_workbook(xlsx_path, read_only=True)["Befunde"]
    assert sum(1 for _ in ws.iter_rows(values_only=True)) == 10_001


def test_delivered_values_stay_text_in_the_workbook(tmp_path):
    """A delivered value that looks like a formula ("=HYPERLINK(…)", "=1+1", "+1", "@SUM(…)",
    "-2+3") appears in the Prüfbericht as the text the steward delivered: never as a live
    formula that a spreadsheet program would evaluate (or follow) on opening."""
    res = rejected_result(tmp_path)
    values = ['=HYPERLINK("http://example.invalid/x","klick")', "=1+1", "+1", "@SUM(A1:A2)", "-2+3"]
    res.findings = [make_finding("Z002", i + 2, "Geschlecht", v) for i, v in enumerate(values)]
    _, xlsx_path, _ = write_pruefbericht(res, META, tmp_path / "out")
    ws = openpyxl.load_workbook(xlsx_path)["Befunde"]
    cells = [ws.cell(row=i + 2, column=5) for i in range(len(values))]
    assert [c.value for c in cells] == values
    assert {c.data_type for c in cells} == {"s"}
    assert ws.cell(row=2, column=3).value == 2  # row numbers stay numbers
