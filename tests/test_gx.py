"""Great Expectations at the dataset level: batched over many versions with exact findings per
version, agreement with the single-file path, the one Data Docs site, and the time per batch."""

from __future__ import annotations

import re

from inobhut.config import settings
from inobhut.validation import prepare, run_expectations, validate_delivery
from tests.bad_input.builders import massnahme, write_csv

KEY = b"k"


def _prep(tmp_path, name, rows):
    p = write_csv(tmp_path / name, "massnahmen", rows)
    return prepare(p, ags="08335", dataset="massnahmen", month="2025-03", key=KEY)


def test_batch_findings_per_version(tmp_path):
    a = _prep(tmp_path, "a.csv", [massnahme(Fallnummer="XA-11"), massnahme(Fallnummer="X2"), massnahme(Fallnummer="XA-11")])
    b = _prep(tmp_path, "b.csv", [massnahme(Fallnummer="XA-11"), massnahme(Fallnummer="X2", Geschlecht="o")])
    c = _prep(tmp_path, "c.csv", [massnahme(Fallnummer=f"Y{i}", Anlaesse="14" if i < 4 else "01") for i in range(10)])
    run = run_expectations([a.item, b.item, c.item], settings())
    assert run.validations == 2 and run.versions == 3
    assert [(f.rule_id, f.zeile, f.wert) for f in a.item.findings] == [("S001", 4, "***11")]
    assert "auch in Zeile 2" in a.item.findings[0].meldung
    assert [(f.rule_id, f.zeile) for f in b.item.findings] == [("S105", None)]  # 50 % o; X1 again is another version
    assert "50,0 %" in b.item.findings[0].meldung
    assert [(f.rule_id, f.zeile) for f in c.item.findings] == [("S106", None)]  # 40 % Anlass 14 > 30 %
    # the single-file path gives the same dataset-level findings
    single = validate_delivery(tmp_path / "a.csv", ags="08335", dataset="massnahmen", month="2025-03", key=KEY)
    assert [(f.rule_id, f.zeile) for f in single.findings if f.rule_id.startswith("S")] == [("S001", 4)]
    assert single.verdict == "abgelehnt"


def test_other_office_and_data_docs(tmp_path):
    d = _prep(tmp_path, "d.csv", [massnahme(Fallnummer="GEHEIM-1", Jugendamt="08111"), massnahme(Fallnummer="GEHEIM-1", Jugendamt="08111")])
    docs = tmp_path / "gx_data_docs"
    run = run_expectations([d.item], settings(), docs_dir=docs, run_name="08335 erster Lauf")
    assert sorted(f.rule_id for f in d.item.findings) == ["S001", "S002"]
    assert run.docs_index == docs / "index.html" and run.docs_index.exists()
    e = _prep(tmp_path, "e.csv", [massnahme(Fallnummer="Z2")])
    run_expectations([e.item], settings(), docs_dir=docs, run_name="08111 zweiter Lauf")
    results = sorted(p for p in (docs / ".ergebnisse").rglob("*.json"))
    assert len(results) == 4  # 2 runs x (zeilen, kennzahlen): one cumulative site
    index = run.docs_index.read_text(encoding="utf-8")
    assert "erster" in index and "zweiter" in index
    for p in docs.rglob("*"):  # unexpected values in the docs are pseudonyms, never case numbers
        if p.is_file():
            assert b"GEHEIM" not in p.read_bytes(), p


def test_same_run_name_replaces_its_earlier_results(tmp_path):
    """The pipeline names a run of the site by its month range; validating a range again (new
    versions in force, a later run time) replaces that range's results and pages instead of adding
    eight more with every nightly run, and leaves other ranges alone."""
    import datetime as dt

    docs = tmp_path / "gx_data_docs"
    t0 = dt.datetime(2026, 11, 5, 8, tzinfo=dt.timezone.utc)
    a = _prep(tmp_path, "a.csv", [massnahme(Fallnummer="A1")])
    run_expectations([a.item], settings(), docs_dir=docs, run_name="Verbünde 2026-10–2026-10", run_time=t0)
    b = _prep(tmp_path, "b.csv", [massnahme(Fallnummer="B1")])
    run_expectations([b.item], settings(), docs_dir=docs, run_name="Verbünde 2026-11–2026-11", run_time=t0)
    c = _prep(tmp_path, "c.csv", [massnahme(Fallnummer="C1"), massnahme(Fallnummer="C2")])
    run_expectations([c.item], settings(), docs_dir=docs, run_name="Verbünde 2026-11–2026-11",
                     run_time=t0 + dt.timedelta(days=1))

    def stamps(sub: str, suffix: str) -> list[str]:
        return sorted(f"{p.parent.parent.name}/{p.parent.name}" for p in (docs / sub).rglob(f"*{suffix}"))

    want = ["Verbünde 2026-10–2026-10/20261105T080000.000000Z"] * 2 + ["Verbünde 2026-11–2026-11/20261106T080000.000000Z"] * 2
    assert stamps(".ergebnisse", ".json") == want  # (zeilen, kennzahlen) per range, the newest of 2026-11
    assert stamps("validations", ".html") == want
    index = (docs / "index.html").read_text(encoding="utf-8")  # the rows of the site's index
    rows = re.findall(r"'run_name': '([^']*)'", index), re.findall(r"'run_time': '([^']*)'", index)
    assert sorted(zip(*rows)) == [("Verbünde 2026-10–2026-10", "2026-11-05 08:00:00 UTC")] * 2 + \
        [("Verbünde 2026-11–2026-11", "2026-11-06 08:00:00 UTC")] * 2


def test_batch_finds_the_same_as_one_run_per_file(tmp_path):
    """The pipeline validates many versions in ONE GX run; findings are the same as per file
    (timing of batch vs. per file: bench/bench_components.py)."""
    rows = [massnahme(Fallnummer=f"F{j}") for j in range(20)] + [massnahme(Fallnummer="F3")]
    batch = [_prep(tmp_path, f"b{i}.csv", rows) for i in range(3)]
    single = [_prep(tmp_path, f"s{i}.csv", rows) for i in range(3)]
    run_expectations([p.item for p in batch], settings())
    for p in single:
        run_expectations([p.item], settings())
    key = lambda it: sorted((f.rule_id, f.zeile, f.spalte) for f in it.findings)  # noqa: E731
    assert [key(p.item) for p in batch] == [key(p.item) for p in single]
    assert ("S001", 22, "Fallnummer") in key(batch[0].item)
