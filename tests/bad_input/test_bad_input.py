"""Runs the bad-input corpus: every case gets its verdict and rule, no exception escapes,
time and memory stay bounded."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from inobhut.config import settings
from inobhut.validation import ValidationContext, validate_delivery, validate_file
from tests.bad_input.builders import AGS, KEY, MONTH
from tests.bad_input.corpus import Case, cases, fname

MAX_SECONDS = 5.0
MAX_RSS_KB = 1_500_000  # peak resident memory of the test process


def _context(case: Case) -> ValidationContext | None:
    if not case.settings:
        return None
    st = {k: dict(v) if isinstance(v, dict) else v for k, v in settings().items()}
    st["pruefung"].update(case.settings)
    return ValidationContext(settings=st)


@pytest.fixture(scope="module", autouse=True)
def _gx_imported():
    """Great Expectations is imported once per process (seconds); that one-time cost is not
    part of the time a hostile file may take, so it is paid before the clock starts."""
    from inobhut.validation.expectations import _gx

    _gx()


def run_case(case: Case, tmp_path: Path):
    path = case.build(tmp_path)
    t0 = time.perf_counter()
    if case.by_name:
        result, _ = validate_file(path, key=KEY, context=_context(case))
    else:
        result = validate_delivery(path, ags=AGS, dataset=case.dataset, month=MONTH, key=KEY, context=_context(case))
    return result, time.perf_counter() - t0


def test_corpus_has_at_least_30_kinds():
    names = [c.name for c in cases()]
    assert len(names) >= 30
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_bad_input_case(case: Case, tmp_path):
    result, seconds = run_case(case, tmp_path)
    rules_found = {f.rule_id for f in result.findings}
    assert result.verdict == case.verdict, [(f.rule_id, f.zeile, f.spalte, f.meldung) for f in result.findings]
    if case.rule:
        assert case.rule in rules_found, rules_found
        if case.fragment:
            texts = " ".join(f"{f.meldung} {f.wert or ''}" for f in result.findings if f.rule_id == case.rule)
            assert case.fragment in texts
    else:
        assert not [f for f in result.findings if f.severity == "Fehler"]
    if result.verdict == "abgelehnt":
        assert result.frame is None
    for f in result.findings:  # every finding carries the catalogue's German texts
        assert f.meldung and f.hinweis and f.severity in ("Fehler", "Hinweis")
        assert "Traceback" not in f.meldung
    assert seconds < MAX_SECONDS
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < MAX_RSS_KB


def test_header_only_is_a_nil_return_not_a_missing_delivery(tmp_path):
    case = next(c for c in cases() if c.name.startswith("nur Kopfzeile"))
    result, _ = run_case(case, tmp_path)
    assert result.fehlanzeige is True
    assert result.n_rows == 0 and result.frame is not None and len(result.frame) == 0
    assert "fall_id" in result.frame.columns


def test_hundred_megabytes_of_random_bytes(tmp_path):
    """100 MB written lazily in 1 MB blocks; refused by the size limit without being read."""
    import os

    path = tmp_path / fname()
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as fh:
        for _ in range(100):
            fh.write(block)
    t0 = time.perf_counter()
    result = validate_delivery(path, ags=AGS, dataset="massnahmen", month=MONTH, key=KEY)
    assert time.perf_counter() - t0 < 2.0
    assert result.verdict == "abgelehnt"
    assert [f.rule_id for f in result.findings] == ["D001"]
    assert "50,0 MB" in result.findings[0].meldung


def test_unreadable_path_becomes_a_finding(tmp_path):
    result = validate_delivery(tmp_path / "fehlt.csv", ags=AGS, dataset="massnahmen", month=MONTH, key=KEY)
    assert result.verdict == "abgelehnt"
    assert [f.rule_id for f in result.findings] == ["D024"]
    assert "konnte nicht gelesen werden" in result.findings[0].meldung
