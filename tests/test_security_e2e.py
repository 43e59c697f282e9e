"""The whole pipeline as a hostile tester runs it: no network, hostile case numbers, then every
byte written outside the archive is searched for every raw case number; retention deletes one
office's old data and leaves the other office's reports byte for byte.

One `inobhut run` subprocess (2 offices, 2 months) in a network namespace without interfaces
(``unshare -n``, when the kernel allows it) and, in any case, with an audit hook that records and
refuses every socket connect or name lookup that is not loopback or a Unix socket.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.bad_input.builders import headers, massnahme, uma, write_csv
from tests.conftest import FIXTURES, TEST_ENV_KEY

REPO = Path(__file__).resolve().parent.parent
OFFICES = ["08111", "01062"]  # offices of the 4-office test settings (tests/fixtures)
HOSTILE = OFFICES[0]
MONTHS = ("2025-02", "2025-03")
HOSTILE_ACCEPTED = ["FN 77 123", "JA|2025|Fall;42", "  KN-4711  ", "Akte/2025/08335-0042"]
HOSTILE_REJECTED = ["AZ-" + "0815/2024-" * 5, "LEAK-IN-BEGINN-99", "LEAK-IN-EINRICHTUNG-7"]

GUARD = r'''
import os, socket, sys
_LOG = os.environ["INOBHUT_NETZ_PROTOKOLL"]
def _local(addr):
    if isinstance(addr, (str, bytes)):
        return True  # AF_UNIX
    host = str(addr[0]) if isinstance(addr, tuple) and addr else ""
    return host in ("127.0.0.1", "::1", "localhost", "") or host.startswith("127.")
def _hook(event, args):
    if event == "socket.connect" and not _local(args[1]) or event == "socket.getaddrinfo" and not _local((args[0],)):
        with open(_LOG, "a") as fh:
            fh.write(f"{event} {args[1] if event == 'socket.connect' else args[0]!r}\n")
        raise OSError("Netzwerkzugriff im Test verboten")
sys.addaudithook(_hook)
'''


def _unshare_available() -> bool:
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """(root, env, paths dict, raw case numbers) of one offline pipeline run."""
    from inobhut.generate import generate

    root = tmp_path_factory.mktemp("sicherheit")
    d = {k: root / k for k in ("landing", "archive", "staging", "out", "dagster_home", "guard")}
    d["warehouse"] = root / "warehouse.duckdb"
    os.environ["INOBHUT_CONFIG"] = str(FIXTURES / "settings_test.toml")  # 4 offices: a shorter Dagster run
    try:
        generate(d["landing"], MONTHS[0], MONTHS[1], seed=11, jugendaemter=OFFICES)
    finally:
        os.environ.pop("INOBHUT_CONFIG")
    lz = d["landing"] / HOSTILE
    for f in list(lz.glob(f"{HOSTILE}_*_2025-03.*")) + list(lz.glob(f"{HOSTILE}_uma_2025-02.*")):
        if f.name.split("_")[1] in ("massnahmen", "uma"):
            f.unlink()
    # accepted: hostile but valid case numbers (spaces, separators, the delimiter itself)
    write_csv(lz / f"{HOSTILE}_uma_2025-03.csv", "uma", [uma(Fallnummer=n, Jugendamt=HOSTILE) for n in HOSTILE_ACCEPTED])
    # rejected: a case number over 40 characters, case numbers in other columns
    rows = [massnahme(Fallnummer=HOSTILE_REJECTED[0]),
            massnahme(Fallnummer=HOSTILE_REJECTED[1]), massnahme(Fallnummer="IO-9", Beginn=HOSTILE_REJECTED[1]),
            massnahme(Fallnummer=HOSTILE_REJECTED[2]), massnahme(Fallnummer="IO-10", Einrichtung=HOSTILE_REJECTED[2])]
    write_csv(lz / f"{HOSTILE}_massnahmen_2025-03.csv", "massnahmen", [{**r, "Jugendamt": HOSTILE} for r in rows])
    # a file with identifying columns goes to the quarantine, the names must not appear anywhere else
    write_csv(lz / f"{HOSTILE}_uma_2025-02.csv", "uma", [uma(Fallnummer="QU-1234", Jugendamt=HOSTILE, Vorname="Zainab")],
              header=headers("uma") + ["Vorname"])
    # a confirmation that names a case by its raw number (the steward's file in the landing zone)
    from inobhut.confirmations import add_confirmation

    add_confirmation(d["landing"], HOSTILE, dataset="uma", month="2025-03", rule="S102", schluessel=HOSTILE_ACCEPTED[3],
                     grund="Fall wurde abgegeben")
    guard = d["guard"]
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INOBHUT_", "DAGSTER_", "GX_"))}
    env.update({
        "INOBHUT_LANDING": str(d["landing"]), "INOBHUT_ARCHIVE": str(d["archive"]), "INOBHUT_STAGING": str(d["staging"]),
        "INOBHUT_WAREHOUSE": str(d["warehouse"]), "INOBHUT_OUT": str(d["out"]), "DAGSTER_HOME": str(d["dagster_home"]),
        "INOBHUT_PSEUDONYM_KEY": TEST_ENV_KEY, "INOBHUT_NETZ_PROTOKOLL": str(root / "netz.log"),
        "PYTHONPATH": os.pathsep.join([str(guard), str(REPO)]), "INOBHUT_CONFIG": str(FIXTURES / "settings_test.toml"),
    })
    cmd = [sys.executable, "-m", "pipelines.cli", "run"]
    if _unshare_available():
        cmd = ["unshare", "-n", *cmd]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, d, env, proc, cmd


def _case_numbers(d) -> set[str]:
    """Every raw case number ever delivered (read back from the archive and the quarantine)."""
    from inobhut import ingest
    from inobhut.archive import list_versions

    out = {n.strip() for n in HOSTILE_ACCEPTED + HOSTILE_REJECTED} | {"QU-1234"}
    for v in list_versions(d["archive"]):
        if v.dataset in ("massnahmen", "uma"):
            rr = ingest.read_delivery(v.path(d["archive"]), v.dataset, max_bytes=1 << 30, max_rows=10**6)
            if rr.frame is not None:
                out |= {str(x).strip() for x in rr.frame["fallnummer"].dropna()}
    return {n for n in out if len(n) >= 4}


def _texts(path: Path):
    """(label, text) of everything readable in ``path``: plain bytes, every part of a zip
    (xlsx), every cell of a parquet file, every row of an SQLite database."""
    data = path.read_bytes()
    yield str(path), data.decode("utf-8", "replace")
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(path) as zf:
            for n in zf.namelist():
                yield f"{path}!{n}", zf.read(n).decode("utf-8", "replace")
    elif path.suffix == ".parquet":
        yield f"{path}[parquet]", pd.read_parquet(path).astype(str).to_csv()
    elif data[:16] == b"SQLite format 3\x00":
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                rows = con.execute(f'SELECT * FROM "{t}"').fetchall()
                yield f"{path}[{t}]", "\n".join(repr(r) for r in rows)
        finally:
            con.close()


@pytest.mark.slow
def test_offline_run_leaks_no_case_number_and_sends_nothing(hostile_run):
    root, d, env, proc, cmd = hostile_run
    # --- no network: nothing tried to connect or resolve a name, telemetry is off
    if os.geteuid() == 0 and sys.platform == "linux":
        assert cmd[0] == "unshare", "as root on Linux the run must be in a network namespace without interfaces"
    log = root / "netz.log"
    assert not log.exists() or log.read_text() == "", log.read_text()
    assert "GX_ANALYTICS_ENABLED" not in env  # the product switches GX analytics off itself
    assert "enabled: false" in (d["dagster_home"] / "dagster.yaml").read_text().split("telemetry:")[1][:40]
    assert not (d["dagster_home"] / "logs" / "event.log").exists()  # Dagster's telemetry log stays empty
    probe = subprocess.run([sys.executable, "-c", "import os, pipelines.cli as c; c.main.callback(); "
                            "import great_expectations as gx; print(os.environ['GX_ANALYTICS_ENABLED'])"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert probe.stdout.strip().endswith("false"), probe.stdout + probe.stderr

    # --- the quarantine got the file with the name, the archive did not
    from inobhut.quarantine import list_quarantined

    assert [(q.ags, q.dataset, q.month) for q in list_quarantined(d["archive"])] == [(HOSTILE, "uma", "2025-02")]
    assert list((d["out"] / "pruefberichte" / HOSTILE).glob("uma_2025-02_quarantaene_*.html"))
    assert "Quarantäne" in proc.stdout and f"{HOSTILE} uma 2025-02" in proc.stdout  # the operator is told

    # --- the leak scan: everything outside the archive (the audit journal beside it included)
    numbers = _case_numbers(d)
    assert len(numbers) > 100  # the generated ones plus the hostile ones
    needle = re.compile("|".join(re.escape(n) for n in sorted(numbers, key=len, reverse=True)))
    needle_names = re.compile(r"Zainab")
    scanned, hits = 0, []
    targets = [d["staging"], d["out"], d["dagster_home"], d["archive"] / "_audit"]
    files = [p for t in targets for p in t.rglob("*") if p.is_file()]
    files += [p for p in root.glob("warehouse.duckdb*") if p.is_file()]
    for f in files:
        for label, text in _texts(f):
            scanned += 1
            for rx in (needle, needle_names):
                m = rx.search(text)
                if m:
                    hits.append((label, m.group(0)))
    # the warehouse, table by table (DuckDB compresses its pages: read it back through DuckDB)
    import duckdb

    con = duckdb.connect(str(d["warehouse"]), read_only=True)
    try:
        for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            text = con.execute(f'SELECT * FROM "{t}"').df().astype(str).to_csv()
            scanned += 1
            for rx in (needle, needle_names):
                m = rx.search(text)
                if m:
                    hits.append((f"warehouse[{t}]", m.group(0)))
    finally:
        con.close()
    assert scanned > 200
    assert hits == [], hits[:20]
    # who sees what: the Land-level folder holds no office report and no pseudonym
    con = duckdb.connect(str(d["warehouse"]), read_only=True)
    try:
        ids = {r[0] for r in con.execute("SELECT fall_id FROM massnahmen UNION SELECT fall_id FROM uma").fetchall()}
    finally:
        con.close()
    assert len(ids) > 100
    land = [p for p in (d["out"] / "berichte").rglob("*") if p.is_file()]
    assert land and not [p for p in land if "jugendamtsbericht" in p.name or "pruefbericht" in p.name]
    pseudo = re.compile("|".join(sorted(ids)))
    assert not [label for p in land for label, text in _texts(p) if pseudo.search(text)]
    assert set(OFFICES) <= {p.name for p in (d["out"] / "jugendaemter").iterdir()}
    # ... and the hostile values really went through: accepted (pseudonymised) and rejected (masked)
    staged = pd.read_parquet(next((d["staging"] / HOSTILE / "uma" / "2025-03").glob("v0001.parquet")))
    assert len(staged) == len(HOSTILE_ACCEPTED)
    pb = (d["out"] / "pruefberichte" / HOSTILE / "massnahmen_2025-03_v1.json").read_text(encoding="utf-8")
    assert "***" in pb and "Z092" in pb


@pytest.mark.slow
def test_retention_deletes_one_office_and_leaves_the_other_untouched(hostile_run, tmp_path):
    """``inobhut loeschen``: the old months of one office go from archive, staging, warehouse and
    its own outputs, with an audit entry; the other office's outputs keep their bytes."""
    from click.testing import CliRunner

    from inobhut import audit
    from inobhut.archive import list_versions
    from pipelines.cli import main

    root, d0, env, proc, cmd = hostile_run
    work = tmp_path / "kopie"
    shutil.copytree(root, work, symlinks=True)
    d = {k: work / Path(v).relative_to(root) for k, v in d0.items()}
    other = d["out"] / "jugendaemter" / "01062"
    before = {p.relative_to(d["out"]): p.read_bytes() for p in d["out"].rglob("*") if p.is_file()
              and HOSTILE not in p.relative_to(d["out"]).as_posix().split("/")[1:2]}
    assert any(p.parts[:2] == ("jugendaemter", "01062") for p in before)
    assert any(p.parts[0] == "berichte" for p in before)
    env_cli = {k: v for k, v in env.items() if k.startswith("INOBHUT_") and k != "INOBHUT_NETZ_PROTOKOLL"}
    env_cli.update({k: str(d[k.split("_", 1)[1].lower()]) for k in
                    ("INOBHUT_LANDING", "INOBHUT_ARCHIVE", "INOBHUT_STAGING", "INOBHUT_WAREHOUSE", "INOBHUT_OUT")})
    # as of 15 March 2026, "older than one year" means reporting months before 2025-03
    res = CliRunner().invoke(main, ["loeschen", "--jugendamt", HOSTILE, "--aelter-als", "1", "--stichtag", "2026-03-15"],
                             env=env_cli)
    assert res.exit_code == 0, res.output
    assert {v.month for v in list_versions(d["archive"], HOSTILE)} == {"2025-03"}
    assert {v.month for v in list_versions(d["archive"], "01062")} == set(MONTHS)
    assert not (d["staging"] / HOSTILE / "massnahmen" / "2025-02").exists()
    assert (d["staging"] / "01062" / "massnahmen" / "2025-02").exists()
    import duckdb

    con = duckdb.connect(str(d["warehouse"]), read_only=True)
    try:
        for t in ("massnahmen", "uma", "plaetze", "personal"):
            assert con.execute(f"SELECT count(*) FROM {t} WHERE jugendamt = ? AND monat < '2025-03'", [HOSTILE]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM deliveries WHERE ags = ? AND monat < '2025-03'", [HOSTILE]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM massnahmen WHERE jugendamt = '01062' AND monat = '2025-02'").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM stat_bewegung WHERE jugendamt = ? AND monat < '2025-03'", [HOSTILE]).fetchone()[0] == 0
    finally:
        con.close()
    assert not list((d["out"] / "jugendaemter" / HOSTILE).rglob("*2025-02*"))
    assert not list((d["out"] / "pruefberichte" / HOSTILE).rglob("*2025-02*"))
    assert list((d["out"] / "jugendaemter" / HOSTILE).rglob("*2025-03*"))
    after = {p.relative_to(d["out"]): p.read_bytes() for p in d["out"].rglob("*") if p.is_file()
             and HOSTILE not in p.relative_to(d["out"]).as_posix().split("/")[1:2]}
    assert after == before  # other offices' reports and the Land-level reports: same bytes
    ev = [e for e in audit.read(d["archive"]) if e["ereignis"] == "loeschung"]
    assert ev and all(e["ags"] == HOSTILE for e in ev) and {e["monat"] for e in ev if e["monat"]} == {"2025-02"}
    assert other.exists()
