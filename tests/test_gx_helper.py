"""Great Expectations in the command's helper process (inobhut.validation.gx_helper): the same
findings as in the calling process, Great Expectations never imported by the caller, a helper
that died replaced by the caller itself, errors passed on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from inobhut.config import settings
from inobhut.validation import gx_helper, prepare, run_expectations
from tests.bad_input.builders import massnahme, write_csv

KEY = b"k"
ROOT = Path(__file__).resolve().parents[1]


def _items(tmp_path: Path):
    rows = {
        "a.csv": [massnahme(Fallnummer="XA-11"), massnahme(Fallnummer="X2"), massnahme(Fallnummer="XA-11")],
        "b.csv": [massnahme(Fallnummer="XA-11"), massnahme(Fallnummer="X2", Geschlecht="o")],
        "c.csv": [massnahme(Fallnummer=f"Y{i}", Anlaesse="14" if i < 4 else "01") for i in range(10)],
    }
    return [prepare(write_csv(tmp_path / name, "massnahmen", r), ags="08335", dataset="massnahmen", month="2025-03",
                    key=KEY).item for name, r in rows.items()]


def _findings(items) -> list:
    return [[(f.rule_id, f.zeile, f.spalte, f.wert, f.meldung) for f in it.findings] for it in items]


def test_the_helper_finds_the_same_and_the_caller_never_imports_great_expectations(tmp_path):
    code = f"""
import json, sys
from pathlib import Path
from inobhut.config import settings
from inobhut.validation import gx_helper, run_expectations
from tests.test_gx_helper import _findings, _items
assert gx_helper.start()
items = _items(Path({str(tmp_path / 'helper')!r}))
run = run_expectations(items, settings())
docs = run_expectations(_items(Path({str(tmp_path / 'docs')!r})), settings(), docs_dir=Path({str(tmp_path / 'site')!r}),
                        run_name="Lauf")
gx_helper.stop()
print(json.dumps({{"findings": _findings(items), "unexpected": run.unexpected, "validations": run.validations,
                  "index": str(docs.docs_index), "gx_here": "great_expectations" in sys.modules}}))
"""
    (tmp_path / "helper").mkdir()
    (tmp_path / "docs").mkdir()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["gx_here"] is False
    assert Path(got["index"]).is_file()

    here = _items(tmp_path)  # the same items validated in this process, without a helper
    run = run_expectations(here, settings())
    assert got["findings"] == json.loads(json.dumps(_findings(here)))
    assert [f[0] for f in got["findings"][0]] == ["S001"] and [f[0] for f in got["findings"][1]] == ["S105"]
    assert got["unexpected"] == run.unexpected and got["validations"] == run.validations == 2


def test_a_helper_that_died_is_replaced_by_the_caller(tmp_path):
    assert gx_helper.start()
    try:
        proc = gx_helper._HELPER[0]
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=10)
        items = _items(tmp_path)
        run_expectations(items, settings())
        assert [[f[0] for f in fs] for fs in _findings(items)] == [["S001"], ["S105"], ["S106"]]
        assert not gx_helper.running()
    finally:
        gx_helper.stop()


def _fails(text: str):
    raise ValueError(text)


def test_an_error_in_the_helper_reaches_the_caller():
    assert gx_helper.start()
    try:
        with pytest.raises(ValueError, match="kaputt"):
            gx_helper.call(_fails, "kaputt")
        assert gx_helper.call(len, [1, 2, 3]) == ("ok", 3)  # and the helper serves on
    finally:
        gx_helper.stop()
    assert gx_helper.call(len, [1]) is None  # no helper: the caller computes it itself


def test_a_helper_stuck_in_its_import_is_ended_and_the_caller_does_the_work(tmp_path, monkeypatch):
    """Forked from a process with threads, an import can hang; the caller waits for the helper's
    ready message only up to READY_TIMEOUT."""
    import time

    from inobhut.validation import expectations

    monkeypatch.setattr(expectations, "warm_up", lambda: time.sleep(120))  # inherited by the fork
    monkeypatch.setattr(gx_helper, "READY_TIMEOUT", 1.0)
    assert gx_helper.start()
    try:
        proc = gx_helper._HELPER[0]
        t0 = time.monotonic()
        items = _items(tmp_path)
        run_expectations(items, settings())
        assert time.monotonic() - t0 < 60
        assert [[f[0] for f in fs] for fs in _findings(items)] == [["S001"], ["S105"], ["S106"]]
        assert not gx_helper.running() and not proc.is_alive()
    finally:
        gx_helper.stop()


def test_ctrl_c_is_left_to_the_command():
    """Ctrl+C reaches the whole process group; the helper leaves it to the command (which ends
    it) instead of dying with a traceback of its own."""
    import time

    assert gx_helper.start()
    try:
        assert gx_helper.call(len, [1]) == ("ok", 1)  # ready
        os.kill(gx_helper._HELPER[0].pid, signal.SIGINT)
        time.sleep(0.5)
        assert gx_helper.call(len, [1, 2]) == ("ok", 2)
    finally:
        gx_helper.stop()


def test_a_command_that_ends_during_a_call_leaves_no_traceback():
    code = """
import os, time
from inobhut.validation import gx_helper
assert gx_helper.start()
assert gx_helper.call(len, [1]) == ("ok", 1)
gx_helper._HELPER[1].send((time.sleep, (2,), {}))  # the helper works ...
os._exit(0)                                         # ... and the command is gone (killed, aborted)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})  # waits for the helper's stderr to close
    assert done.returncode == 0
    assert "Traceback" not in done.stderr, done.stderr


def test_validating_with_the_helper_gives_the_same_verdicts_and_findings(tmp_path):
    """The validation step with the helper (one GX run per dataset, begun while the next dataset
    is read) stores exactly what it stores without one (one GX run over all datasets at the end)."""
    import shutil

    from inobhut import archive
    from inobhut.config import Paths, office_keys
    from inobhut.generate import generate
    from inobhut.office_validation import validate_offices

    def run(base: Path, helper: bool) -> dict:
        paths = Paths.from_env(base, landing=base / "landing", archive=base / "archive", staging=base / "staging",
                               warehouse=base / "warehouse.duckdb", out=base / "out")
        shutil.copytree(tmp_path / "vorlage", paths.landing)
        archive.intake(paths.landing, paths.archive, set(office_keys()))
        if helper:
            assert gx_helper.start()
        try:
            out = validate_offices(paths, ["08335", "01062"], ["2025-01", "2025-02"], KEY)
            assert gx_helper.running() == helper  # it served the whole step
        finally:
            gx_helper.stop()
        stored = {p.relative_to(paths.staging).as_posix(): p.read_bytes()
                  for p in sorted(paths.staging.rglob("*.json"))}
        reports = {p.relative_to(paths.out).as_posix(): p.read_bytes()
                   for p in sorted((paths.out / "pruefberichte").rglob("*.json"))}
        gx = {a: (r.validations, r.versions, r.unexpected) for a, (_, r) in out.items()}
        return {"staging": stored, "pruefberichte": reports, "gx": gx}

    generate(tmp_path / "vorlage", "2025-01", "2025-02", seed=11, fehlerquote=0.5, jugendaemter=["08335", "01062"])
    alone, helped = run(tmp_path / "allein", False), run(tmp_path / "mit", True)
    assert helped == alone
    assert len(alone["pruefberichte"]) >= 16 and any(u for _, _, u in alone["gx"].values())  # GX found something
