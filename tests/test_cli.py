"""The command line: the demo on a reduced scope (a real Dagster run), exit codes of `run`."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import openpyxl
import pytest
from click.testing import CliRunner

from pipelines.cli import main


def test_run_without_key_refuses_to_start(inobhut_env, monkeypatch):
    monkeypatch.delenv("INOBHUT_PSEUDONYM_KEY")
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 2
    assert "INOBHUT_PSEUDONYM_KEY" in res.output


def test_run_rejects_months_outside_the_partitions(inobhut_env):
    (inobhut_env.landing / "08111").mkdir()
    res = CliRunner().invoke(main, ["run", "--monat", "2019-12"])
    assert res.exit_code == 2
    assert "außerhalb" in res.output
    res = CliRunner().invoke(main, ["run", "--monat", "2024-13"])
    assert res.exit_code == 2


def test_generate_rejects_unknown_office(tmp_path):
    res = CliRunner().invoke(main, ["generate", "--landing", str(tmp_path), "--jugendamt", "99999"])
    assert res.exit_code == 2 and "Kein Mitglieds-Jugendamt" in res.output


@pytest.mark.slow
def test_demo_reduced_scope(tmp_path):
    """`inobhut demo` for two offices (one per network) and three months, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INOBHUT_")}
    env.update(DAGSTER_HOME=str(tmp_path / ".dagster"), GX_ANALYTICS_ENABLED="false")
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "demo", "--jugendamt", "08221", "--jugendamt", "01062",
         "--monate", "3", "--out", "ausgabe"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = tmp_path / "ausgabe"
    assert "Demo: es wird ein fester" in proc.stdout
    assert str(out / "berichte" / "index.html") in proc.stdout.replace("\n", "")
    assert (tmp_path / "demo" / "landing" / "08221").is_dir()  # demo data kept apart from ./data
    assert not (tmp_path / "data").exists()
    assert (tmp_path / ".dagster" / "dagster.yaml").is_file()
    with open(out / "tabellen" / "bewegung.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["jugendamt"] for r in rows} >= {"08221", "01062", "BW", "SH-KOOP"}
    assert len({r["monat"] for r in rows}) == 3
    reports = sorted(p.name for p in (out / "jugendaemter" / "08221").rglob("jugendamtsbericht_08221_*.xlsx"))
    assert len(reports) == 3
    assert not list((out / "berichte").rglob("jugendamtsbericht_*"))  # office reports stay out of the Land folder
    wb = openpyxl.load_workbook(next((out / "berichte").rglob("landesbericht_SH-KOOP_*.xlsx")))
    assert "Deckblatt" in wb.sheetnames
    assert (out / "manifest.json").is_file()
    # the federal statistic of the demo's year(s) for each office, listed on the index page
    for ags in ("08221", "01062"):
        books = list((out / "jugendaemter" / ags / "bundesstatistik").glob(f"*/bundesstatistik_{ags}_*.xlsx"))
        assert books, ags
        assert books[0].name in (out / "berichte" / "index.html").read_text(encoding="utf-8")


def test_the_command_ends_without_the_interpreters_teardown(tmp_path):
    """The interpreter's last full garbage collection (1.3-1.7 s after a nightly run, measured)
    is skipped: an object left in a reference cycle is not collected at the end. The exit
    handlers still run and the exit code is kept."""
    from pathlib import Path

    collected, handler = tmp_path / "eingesammelt", tmp_path / "handler"
    code = (
        "import atexit, gc, os, sys\n"
        "import duckdb; duckdb.connect().execute('SELECT 1').fetchall()  # as a run has it loaded\n"
        "from pipelines.cli import entry\n"
        f"fd = os.open({str(collected)!r}, os.O_WRONLY | os.O_CREAT)\n"
        "class Cycle:  # at the end the builtins may be gone: what __del__ needs is bound now\n"
        "    def __del__(self, write=os.write, fd=fd): write(fd, b'x')\n"
        "gc.disable()  # only the collection at the end may find the cycle\n"
        "c = Cycle(); c.me = c; del c\n"
        f"atexit.register(lambda: open({str(handler)!r}, 'w').write('ja'))\n"
        "sys.argv = ['inobhut', *sys.argv[1:]]\n"
        "entry()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "INOBHUT_PSEUDONYM_KEY"}
    root = Path(__file__).resolve().parents[1]
    for args, rc in ((["generate", "--help"], 0), (["run", "--landing", str(tmp_path / "leer")], 2)):
        handler.unlink(missing_ok=True)
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=root, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == rc, done.stderr
        assert handler.read_text() == "ja"
        assert collected.read_bytes() == b""
        assert "leaked" not in done.stderr  # DuckDB's bindings complain about objects left at a teardown
    assert "--landing" in subprocess.run([sys.executable, "-c", code, "run", "--help"], cwd=root, env=env,
                                         capture_output=True, text=True, timeout=120).stdout


def test_no_display_thread_where_nothing_is_shown():
    """Without a terminal (a log file, the nightly schedule) the spinner of a long command is
    nothing at all: rich's display thread would wake 12.5 times a second for nothing."""
    import threading

    from pipelines import cli

    assert not cli.console.is_terminal  # pytest captures the output
    before = threading.active_count()
    with cli.status("Pipeline läuft …"):
        assert threading.active_count() == before
